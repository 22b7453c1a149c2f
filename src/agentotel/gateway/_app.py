"""The gateway's ASGI application: forward each request, record it from the wire.

Pass-through is exact: the upstream's status, headers (minus hop-by-hop ones) and body bytes, sent
on as they arrive (``aiohttp`` with ``auto_decompress=False``: still compressed if the upstream
compressed them), so
a Server-Sent Events stream reaches the client event by event. The request goes upstream with the
client's headers (its credentials included: they are never recorded) and the gateway span's trace
context instead of the caller's.

Telemetry never decides what the client gets: every step of it
(:class:`~agentotel.gateway._call.Call`) runs inside the gateway's boundary, and a failure there
leaves the exchange as it would have been without it.
"""

from __future__ import annotations

import asyncio
import time

import aiohttp
from multidict import CIMultiDict
from opentelemetry import metrics, trace
from opentelemetry._logs import get_logger_provider
from yarl import URL

from agentotel import semconv
from agentotel._safe import Boundary
from agentotel._telemetry import Telemetry, telemetry_for
from agentotel.gateway._call import (
    TRACE_HEADERS,
    Call,
    UpstreamUnreachable,
    inject,
    open_call,
    server_attributes,
)
from agentotel.gateway._config import GatewayConfig, Upstream
from agentotel.gateway._http import (
    HOP_BY_HOP,
    NOT_FORWARDED,
    ClientLeft,
    CutOff,
    Left,
    Receive,
    Scope,
    Send,
    answer,
    error_body,
    read_body,
    status_class,
    watch_client,
)
from agentotel.gateway._instruments import GatewayInstruments, gateway_instruments
from agentotel.instrumentation._operation import Operation


class Gateway:
    """The ASGI application (``uvicorn`` runs it; see :func:`agentotel.gateway.serve`)."""

    def __init__(self, config: GatewayConfig, telemetry: Telemetry | None = None) -> None:
        self.config = config
        self._telemetry = telemetry
        self._client: aiohttp.ClientSession | None = None
        self._ops: dict[str, Operation] = {}
        self._servers = {name: server_attributes(u) for name, u in config.upstreams.items()}
        # The metric attributes of each route, and of each (route, status class): made once.
        self._labels = {
            name: {semconv.AGENTOTEL_GATEWAY_ROUTE: name, semconv.AGENTOTEL_GATEWAY_UPSTREAM: u.host}
            for name, u in config.upstreams.items()
        }
        self._status_labels: dict[tuple[str, str], dict[str, str]] = {}
        self._boundary: Boundary | None = None
        self._instruments: GatewayInstruments | None = None

    # --- set-up --------------------------------------------------------------------------------
    @property
    def telemetry(self) -> Telemetry:
        if self._telemetry is None:
            self._telemetry = telemetry_for(None, None, None)
        return self._telemetry

    @property
    def boundary(self) -> Boundary:
        if self._boundary is None:
            self._boundary = self.telemetry.boundary("gateway")
        return self._boundary

    @property
    def instruments(self) -> GatewayInstruments:
        if self._instruments is None:
            self._instruments = gateway_instruments(self.telemetry.meter)
        return self._instruments

    def client(self) -> aiohttp.ClientSession:
        """The upstream connection pool (made in the running event loop, at start-up)."""
        if self._client is None:
            c = self.config
            self._client = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=c.max_concurrent, limit_per_host=0),
                timeout=aiohttp.ClientTimeout(
                    total=None, connect=c.connect_timeout, sock_read=c.read_timeout
                ),
                auto_decompress=False,  # the client gets the bytes as the upstream sent them
                cookie_jar=aiohttp.DummyCookieJar(),
                trust_env=False,
                skip_auto_headers=_NO_AUTO_HEADERS,
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    def _timed(self, labels: dict[str, str], status: int | None) -> dict[str, str]:
        """``labels`` with the status class of ``status``."""
        cls = status_class(status)
        key = (labels[semconv.AGENTOTEL_GATEWAY_ROUTE], cls)
        found = self._status_labels.get(key)
        if found is None:
            found = self._status_labels[key] = {**labels, semconv.AGENTOTEL_GATEWAY_STATUS_CLASS: cls}
        return found

    def _flush(self) -> None:
        """Export what the providers still hold: a ``--workers`` process ends with ``os._exit``
        (multiprocessing's), which runs no exit handler, so the SDK's own flush at exit would not."""
        t = self.telemetry
        providers = (
            t.tracer_provider or trace.get_tracer_provider(),
            t.meter_provider or metrics.get_meter_provider(),
            t.logger_provider or get_logger_provider(),
        )
        for provider in providers:
            flush = getattr(provider, "force_flush", None)
            if flush is not None:
                flush()

    # --- ASGI ----------------------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await self._lifespan(receive, send)
        elif kind == "http":
            await self._http(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.client()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.aclose()
                self.boundary.call(None, self._flush)
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        if path in ("/healthz", "/readyz"):
            await answer(send, 200, b'{"status":"ok"}')
            return
        name, _, rest = path[1:].partition("/")
        upstream = self.config.upstreams.get(name)
        if upstream is None:
            known = ", ".join(f"/{n}" for n in self.config.upstreams)
            await answer(send, 404, error_body("openai", 404, f"no route for {path}; routes: {known}"))
            return
        labels = self._labels[name]
        ins = self.instruments
        ins.active.add(1, labels)
        status: int | None = None
        try:
            status = await self._forward(scope, receive, send, upstream, "/" + rest, labels)
        finally:
            ins.active.add(-1, labels)
            ins.requests.add(1, self._timed(labels, status))

    async def _forward(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        upstream: Upstream,
        rest: str,
        labels: dict[str, str],
    ) -> int | None:
        """Forward one request; returns the status sent to the client (None: none was)."""
        try:
            body, too_big = await read_body(receive, self.config.max_body_bytes)
        except ClientLeft:
            return None
        try:
            return await self._send_on(scope, receive, send, upstream, rest, labels, body, too_big)
        finally:
            # Counted once the answer went out: nothing waits on it.
            self.instruments.request_bytes.add(len(body), labels)

    async def _send_on(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        upstream: Upstream,
        rest: str,
        labels: dict[str, str],
        body: bytes,
        too_big: bool,
    ) -> int | None:
        if too_big:
            limit = self.config.max_body_bytes
            await answer(send, 413, error_body(upstream.wire, 413, f"request body over {limit} bytes"))
            return 413
        method: str = scope["method"]
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        query: bytes = scope.get("query_string", b"")
        server = self._servers[upstream.name]
        call = self.boundary.call(
            None,
            open_call,
            self._ops,
            self.telemetry,
            self.boundary,
            server,
            upstream,
            method,
            rest,
            headers,
            query,
            body,
        )
        carrier: dict[str, str] = {}
        if call is not None:
            self.boundary.call(None, inject, call.inv, carrier)
        # The client's headers in one pass (the trace headers replaced when the span's went in).
        skip = _NOT_FORWARDED_TRACED if carrier else NOT_FORWARDED
        out = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers if k.lower() not in skip]
        if carrier:
            out.extend(carrier.items())
        url = upstream.url + rest + ("?" + query.decode("latin-1") if query else "")
        request = (method, URL(url, encoded=True), CIMultiDict(out), body)
        # The exchange runs in this task; one more task watches the client and cancels this one
        # if the client leaves first (one task per request fewer than a task each and a wait).
        this = asyncio.current_task()
        assert this is not None
        left = Left()
        watch = asyncio.get_running_loop().create_task(watch_client(receive, this, left))
        try:
            return await self._exchange(request, send, upstream, call, labels)
        except asyncio.CancelledError:
            if not left.now:
                raise  # cancelled from outside (the server's shutdown): not the client leaving
            uncancel = getattr(this, "uncancel", None)  # Python 3.11+: the request is served
            if uncancel is not None:
                uncancel()
        finally:
            watch.cancel()
        if call is not None:
            self.boundary.call(None, call.closed)
        return None

    async def _exchange(
        self,
        request: tuple[str, URL, CIMultiDict[str], bytes],
        send: Send,
        upstream: Upstream,
        call: Call | None,
        labels: dict[str, str],
    ) -> int:
        """Send ``request`` upstream and its answer to the client; returns the status sent."""
        ins = self.instruments
        boundary = self.boundary
        method, url, headers, body = request
        sent_at = time.perf_counter()
        try:
            response = await self.client().request(
                method, url, headers=headers, data=body, allow_redirects=False
            )
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            timeout = isinstance(exc, asyncio.TimeoutError)
            return await self._unreachable(
                send, upstream, call, exc, 504 if timeout else 502, labels, sent_at
            )
        # The head and each chunk go to the client first, the telemetry of them after: the
        # client's answer waits on nothing of ours (the span events keep the times they happened).
        first_byte = time.perf_counter() - sent_at
        first_byte_at = time.time_ns()
        try:
            status = response.status
            head = [(k, v) for k, v in response.raw_headers if k.lower() not in HOP_BY_HOP]
            await send({"type": "http.response.start", "status": status, "headers": head})
            timed = self._timed(labels, status)

            # The telemetry reads the answer after its last byte went to the client: the chunks
            # are kept (with the time each arrived at, for the chunk timing) and read then, so a
            # stream's events are parsed off the client's path. Past _PENDING_MAX bytes they are
            # read as they come (the memory a copy may take stays bounded).
            pending: list[tuple[bytes, int]] = []
            pending_size = 0
            head_done = False

            def read_pending() -> None:
                nonlocal head_done, pending_size
                if not head_done:
                    head_done = True
                    ins.time_to_first_byte.record(first_byte, timed)
                    if call is not None:
                        boundary.call(None, call.started, status, response.headers, first_byte_at)
                if call is not None:
                    for chunk, at in pending:
                        boundary.call(None, call.feed, chunk, at)
                pending.clear()
                pending_size = 0

            ended = False
            size = 0
            content = response.content
            try:
                async for chunk in content.iter_any():
                    # The upstream's answer ended with this chunk: the client's ends with it too.
                    ended = content.at_eof()
                    await send({"type": "http.response.body", "body": chunk, "more_body": not ended})
                    size += len(chunk)
                    if call is not None:
                        pending.append((chunk, time.perf_counter_ns()))
                        pending_size += len(chunk)
                        if pending_size > _PENDING_MAX:
                            read_pending()
            except asyncio.CancelledError:  # the client left (see _forward)
                read_pending()
                raise
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                read_pending()
                if call is not None:
                    boundary.call(None, call.failed, exc)
                ins.response_bytes.add(size, labels)
                ins.upstream_duration.record(
                    time.perf_counter() - sent_at,
                    {**timed, semconv.AGENTOTEL_GATEWAY_TIMEOUT: isinstance(exc, asyncio.TimeoutError)},
                )
                raise CutOff from exc  # the client sees the connection cut, as from the upstream
            if not ended:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            duration = time.perf_counter() - sent_at
            read_pending()
            ins.response_bytes.add(size, labels)
            ins.upstream_duration.record(duration, timed)
            if call is not None:
                boundary.call(None, call.completed)
            return status
        finally:
            response.release()

    async def _unreachable(
        self,
        send: Send,
        upstream: Upstream,
        call: Call | None,
        exc: BaseException,
        status: int,
        labels: dict[str, str],
        sent_at: float,
    ) -> int:
        timeout = isinstance(exc, asyncio.TimeoutError)
        what = "did not answer in time" if timeout else "could not be reached"
        self.instruments.upstream_duration.record(
            time.perf_counter() - sent_at,
            {**self._timed(labels, status), semconv.AGENTOTEL_GATEWAY_TIMEOUT: timeout},
        )
        if call is not None:
            self.boundary.call(None, call.failed, UpstreamUnreachable(exc, status))
        await answer(send, status, error_body(upstream.wire, status, f"the upstream {upstream.name} {what}"))
        return status


_NOT_FORWARDED_TRACED = NOT_FORWARDED | TRACE_HEADERS
_PENDING_MAX = 1024 * 1024
"""Bytes of an answer kept for the telemetry to read after the answer's end; more are read as they come."""

# aiohttp adds these when the request lacks them; the upstream must get the client's headers only.
_NO_AUTO_HEADERS = ("User-Agent", "Accept", "Accept-Encoding", "Content-Type")
