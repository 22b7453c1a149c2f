"""The gateway's ASGI application: forward each request, record it from the wire.

Pass-through is exact: the upstream's status, headers (minus hop-by-hop ones) and body bytes, sent
on as they arrive (``httpx``'s ``aiter_raw``: still compressed if the upstream compressed them), so
a Server-Sent Events stream reaches the client event by event. The request goes upstream with the
client's headers (its credentials included: they are never recorded) and the gateway span's trace
context instead of the caller's.

Telemetry never decides what the client gets: every step of it (:class:`_Call`) runs inside the
gateway's boundary, and a failure there leaves the exchange as it would have been without it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import zlib
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

import httpx
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.metrics import get_meter

from agentotel import semconv
from agentotel._safe import Boundary
from agentotel._telemetry import Telemetry, telemetry_for
from agentotel._version import __version__
from agentotel.gateway._config import GatewayConfig, Upstream
from agentotel.gateway._instruments import GatewayInstruments, gateway_instruments
from agentotel.gateway._sse import EventReader
from agentotel.gateway._wire import CallKind, classify
from agentotel.instrumentation._invocation import Invocation
from agentotel.instrumentation._operation import Operation
from agentotel.instrumentation._streams import OpenStream
from agentotel.instrumentation.openai.extract import provider_for_host

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

# RFC 9110 7.6.1, plus what the HTTP client sets itself (Host, the body's length).
_HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)
_NOT_FORWARDED = _HOP_BY_HOP | {b"host", b"content-length"}
_TRACE_HEADERS = frozenset({b"traceparent", b"tracestate", b"baggage"})
_CREDENTIAL_HEADERS = frozenset({b"authorization", b"x-api-key", b"x-goog-api-key", b"api-key"})
_COPY_MAX = 64 * 1024 * 1024
"""Bytes of a non-stream response kept for its telemetry; a longer one is recorded as unparsed."""


class UpstreamStatusError(Exception):
    """The upstream answered with an error status; ``error.type`` is the status code."""

    def __init__(self, status: int) -> None:
        super().__init__(f"the upstream answered HTTP {status}")
        self.status = status
        self.otel_error_type = str(status)


class UpstreamUnreachable(Exception):
    """The upstream could not be reached in time (connect failure or timeout)."""

    def __init__(self, cause: httpx.HTTPError, status: int) -> None:
        super().__init__(f"{type(cause).__name__}: {cause}")
        self.otel_error_type = type(cause).__name__
        self.status = status


def status_class(status: int | None) -> str:
    return f"{status // 100}xx" if status else semconv.GATEWAY_STATUS_NONE


def error_body(wire: str, status: int, message: str) -> bytes:
    """An error the gateway itself answers, in the route's provider's format."""
    if wire == "anthropic":
        kind = {413: "request_too_large", 404: "not_found_error", 504: "timeout_error"}.get(
            status, "api_error"
        )
        payload: dict[str, Any] = {"type": "error", "error": {"type": kind, "message": message}}
    elif wire == "gemini":
        reason = {413: "INVALID_ARGUMENT", 404: "NOT_FOUND", 504: "DEADLINE_EXCEEDED"}.get(
            status, "UNAVAILABLE"
        )
        payload = {"error": {"code": status, "message": message, "status": reason}}
    else:
        kind = {413: "invalid_request_error", 404: "invalid_request_error"}.get(status, "api_error")
        payload = {"error": {"message": message, "type": kind, "param": None, "code": None}}
    return json.dumps(payload).encode()


def _secrets(headers: list[tuple[bytes, bytes]], query: bytes) -> tuple[str, ...]:
    """The credentials a request carries (header values, Gemini's ``key`` parameter)."""
    found: list[str] = []
    for name, value in headers:
        if name.lower() in _CREDENTIAL_HEADERS:
            text = value.decode("latin-1").strip()
            found.append(text)
            scheme, _, token = text.partition(" ")
            if token and scheme.lower() in ("bearer", "basic"):
                found.append(token.strip())
    if query:
        found.extend(v for k, v in parse_qsl(query.decode("latin-1")) if k == "key" and v)
    return tuple(found)


def _server(upstream: Upstream) -> tuple[tuple[str, Any], ...]:
    provider = upstream.provider
    if provider is None:
        provider = {
            "anthropic": semconv.PROVIDER_ANTHROPIC,
            "gemini": semconv.PROVIDER_GEMINI,
        }.get(upstream.wire) or provider_for_host(upstream.host)
    return (
        (semconv.GEN_AI_PROVIDER_NAME, provider),
        (semconv.SERVER_ADDRESS, upstream.host),
        (semconv.SERVER_PORT, upstream.port),
    )


class _Decoder:
    """The response bytes as the upstream meant them (gzip / deflate undone), for the copy only."""

    def __init__(self, encoding: str) -> None:
        encoding = encoding.strip().lower()
        if encoding in ("", "identity"):
            self._z = None
        elif encoding in ("gzip", "x-gzip"):
            self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._z = zlib.decompressobj()
        else:
            raise ValueError(
                f"content-encoding {encoding!r} is not read (the response is recorded as unparsed)"
            )

    def __call__(self, chunk: bytes) -> bytes:
        return chunk if self._z is None else self._z.decompress(chunk)


class _Call:
    """The telemetry of one forwarded LLM call: its span, and what it reads of the answer.

    Every method may raise: :class:`Gateway` calls them through the boundary."""

    def __init__(self, op: Operation, kind: CallKind, inv: Invocation, boundary: Boundary) -> None:
        self.op = op
        self.kind = kind
        self.inv = inv
        self.boundary = boundary
        self.status = 0
        self.stream: OpenStream | None = None
        self.events: EventReader | None = None
        self.copy: bytearray | None = None
        self.decode: _Decoder | None = None

    def started(self, status: int, headers: httpx.Headers) -> None:
        """The upstream's status and headers arrived: choose how its body is read."""
        self.status = status
        self.inv.span.add_event(semconv.EVENT_GATEWAY_FIRST_BYTE, {semconv.HTTP_RESPONSE_STATUS_CODE: status})
        if status >= 400:
            return
        self.decode = _Decoder(headers.get("content-encoding", ""))
        streamed = headers.get("content-type", "").startswith("text/event-stream")
        if streamed and self.op.accumulator is not None:
            self.stream = OpenStream(self.op.accumulator(self.inv.secrets is not None), self.inv)
            self.events = EventReader()
        else:
            self.copy = bytearray()

    def feed(self, chunk: bytes) -> None:
        """One chunk of the body, as sent to the client."""
        if self.decode is None:
            return
        data = self.decode(chunk)
        if self.events is not None and self.stream is not None:
            view = self.kind.view
            for event in self.events.feed(data):
                if event.data != "[DONE]":
                    self.stream.took(view(json.loads(event.data)))
        elif self.copy is not None:
            if len(self.copy) + len(data) > _COPY_MAX:
                self.copy = None
                self.decode = None
            else:
                self.copy.extend(data)

    def completed(self) -> None:
        """The whole answer went to the client."""
        inv = self.inv
        inv.span.add_event(semconv.EVENT_GATEWAY_COMPLETED)
        if self.status >= 400:
            inv.fail(UpstreamStatusError(self.status), {semconv.HTTP_RESPONSE_STATUS_CODE: self.status})
        elif self.stream is not None:
            self.stream.end(semconv.STREAM_EXHAUSTED)
        elif self.copy is not None:
            try:
                answer = self.kind.view(json.loads(bytes(self.copy)))
            except ValueError:
                inv.end({semconv.AGENTOTEL_GATEWAY_UNPARSED: True})
            else:
                self.op.result(inv, answer)
        else:
            inv.end({semconv.AGENTOTEL_GATEWAY_UNPARSED: True})

    def closed(self) -> None:
        """The client left before the end: the span ends with what was read, no error."""
        if self.stream is not None:
            self.stream.end(semconv.STREAM_CLOSED)
        else:
            self.inv.end({semconv.AGENTOTEL_STREAM_END: semconv.STREAM_CLOSED})

    def failed(self, exc: BaseException) -> None:
        """The exchange with the upstream failed (unreachable, timed out, cut off)."""
        self.inv.span.add_event(semconv.EVENT_GATEWAY_FAILED, {"exception.type": type(exc).__name__})
        if self.stream is not None:
            self.stream.fail(exc)
        else:
            self.inv.fail(exc)


class Gateway:
    """The ASGI application (``uvicorn`` runs it; see :func:`agentotel.gateway.serve`)."""

    def __init__(self, config: GatewayConfig, telemetry: Telemetry | None = None) -> None:
        self.config = config
        self._telemetry = telemetry
        self._client: httpx.AsyncClient | None = None
        self._slots: asyncio.Semaphore | None = None
        self._ops: dict[str, Operation] = {}
        self._servers = {name: _server(u) for name, u in config.upstreams.items()}
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
            provider = self.telemetry.meter_provider
            meter = get_meter("agentotel", __version__, meter_provider=provider)
            self._instruments = gateway_instruments(meter)
        return self._instruments

    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            c = self.config
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(c.read_timeout, connect=c.connect_timeout),
                limits=httpx.Limits(
                    max_connections=c.max_concurrent, max_keepalive_connections=c.max_concurrent
                ),
                follow_redirects=False,
                trust_env=False,
            )
            self._slots = asyncio.Semaphore(c.max_concurrent)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

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
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        if path in ("/healthz", "/readyz"):
            await _answer(send, 200, b'{"status":"ok"}')
            return
        name, _, rest = path[1:].partition("/")
        upstream = self.config.upstreams.get(name)
        if upstream is None:
            known = ", ".join(f"/{n}" for n in self.config.upstreams)
            await _answer(send, 404, error_body("openai", 404, f"no route for {path}; routes: {known}"))
            return
        labels = {semconv.AGENTOTEL_GATEWAY_ROUTE: name, semconv.AGENTOTEL_GATEWAY_UPSTREAM: upstream.host}
        ins = self.instruments
        ins.active.add(1, labels)
        status: int | None = None
        try:
            status = await self._forward(scope, receive, send, upstream, "/" + rest, labels)
        finally:
            ins.active.add(-1, labels)
            ins.requests.add(1, {**labels, semconv.AGENTOTEL_GATEWAY_STATUS_CLASS: status_class(status)})

    async def _read_body(self, receive: Receive) -> tuple[bytes, bool]:
        """The request body, and whether it was cut at the size limit (the rest is drained)."""
        parts: list[bytes] = []
        size = 0
        limit = self.config.max_body_bytes
        too_big = False
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _ClientLeft
            chunk = message.get("body", b"")
            more = message.get("more_body", False)
            size += len(chunk)
            if size > limit:
                too_big = True
                parts = []
            elif not too_big:
                parts.append(chunk)
        return b"".join(parts), too_big

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
        ins = self.instruments
        try:
            body, too_big = await self._read_body(receive)
        except _ClientLeft:
            return None
        ins.request_bytes.add(len(body), labels)
        if too_big:
            limit = self.config.max_body_bytes
            await _answer(send, 413, error_body(upstream.wire, 413, f"request body over {limit} bytes"))
            return 413
        method: str = scope["method"]
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        query: bytes = scope.get("query_string", b"")
        call = self.boundary.call(None, self._start, upstream, method, rest, headers, query, body)
        out = [(k, v) for k, v in headers if k.lower() not in _NOT_FORWARDED]
        if call is not None:
            carrier: dict[str, str] = {}
            self.boundary.call(None, _inject, call.inv, carrier)
            if carrier:
                out = [(k, v) for k, v in out if k.lower() not in _TRACE_HEADERS]
                out.extend((k.encode("latin-1"), v.encode("latin-1")) for k, v in carrier.items())
        url = upstream.url + rest + ("?" + query.decode("latin-1") if query else "")
        client = self.client()
        request = client.build_request(method, url, headers=out, content=body)
        exchange = asyncio.ensure_future(self._exchange(client, request, send, upstream, call, labels))
        watch = asyncio.ensure_future(_disconnected(receive))
        done, _ = await asyncio.wait({exchange, watch}, return_when=asyncio.FIRST_COMPLETED)
        if exchange in done:
            watch.cancel()
            return exchange.result()
        exchange.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await exchange
        if call is not None:
            self.boundary.call(None, call.closed)
        return None

    def _start(
        self,
        upstream: Upstream,
        method: str,
        rest: str,
        headers: list[tuple[bytes, bytes]],
        query: bytes,
        body: bytes,
    ) -> _Call | None:
        """The LLM span of a request the route's wire format knows (None for any other request)."""
        found = classify(upstream.wire, method, rest)
        if found is None:
            return None
        kind, model = found
        key = f"{upstream.wire}:{kind.name}"
        op = self._ops.get(key)
        if op is None:
            op = self._ops[key] = kind.operation(self.telemetry, self.boundary)
        unparsed = False
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            parsed, unparsed = {}, True
        carrier = {
            k.decode("latin-1"): v.decode("latin-1") for k, v in headers if k.lower() in _TRACE_HEADERS
        }
        ctx = propagate.extract(carrier) if carrier else otel_context.Context()
        secrets = _secrets(headers, query)
        server = self._servers[upstream.name]
        token = otel_context.attach(ctx)
        try:
            inv = op.open(kind.kwargs(parsed, model), lambda _: server, secrets, lambda s: s, ctx)
        finally:
            otel_context.detach(token)
        span = inv.span
        received: dict[str, Any] = {semconv.AGENTOTEL_GATEWAY_ROUTE: upstream.name}
        if unparsed:
            received[semconv.AGENTOTEL_GATEWAY_UNPARSED] = True
        retry = next((v for k, v in headers if k.lower() == b"x-stainless-retry-count"), b"0")
        if retry.strip() not in (b"", b"0"):
            received[semconv.AGENTOTEL_GATEWAY_RETRY] = True
        span.set_attributes(received)
        span.add_event(semconv.EVENT_GATEWAY_RECEIVED, {"http.request.body.size": len(body)})
        return _Call(op, kind, inv, self.boundary)

    async def _exchange(
        self,
        client: httpx.AsyncClient,
        request: httpx.Request,
        send: Send,
        upstream: Upstream,
        call: _Call | None,
        labels: dict[str, str],
    ) -> int:
        """Send ``request`` upstream and its answer to the client; returns the status sent."""
        ins = self.instruments
        boundary = self.boundary
        assert self._slots is not None
        async with self._slots:
            sent_at = time.perf_counter()
            try:
                response = await client.send(request, stream=True)
            except httpx.TimeoutException as exc:
                return await self._unreachable(send, upstream, call, exc, 504, labels, sent_at)
            except httpx.HTTPError as exc:
                return await self._unreachable(send, upstream, call, exc, 502, labels, sent_at)
            try:
                status = response.status_code
                timed = {**labels, semconv.AGENTOTEL_GATEWAY_STATUS_CLASS: status_class(status)}
                ins.time_to_first_byte.record(time.perf_counter() - sent_at, timed)
                if call is not None:
                    boundary.call(None, call.started, status, response.headers)
                head = [(k, v) for k, v in response.headers.raw if k.lower() not in _HOP_BY_HOP]
                await send({"type": "http.response.start", "status": status, "headers": head})
                size = 0
                try:
                    async for chunk in response.aiter_raw():
                        await send({"type": "http.response.body", "body": chunk, "more_body": True})
                        size += len(chunk)
                        if call is not None:
                            boundary.call(None, call.feed, chunk)
                except httpx.HTTPError as exc:
                    if call is not None:
                        boundary.call(None, call.failed, exc)
                    ins.response_bytes.add(size, labels)
                    ins.upstream_duration.record(
                        time.perf_counter() - sent_at,
                        {**timed, semconv.AGENTOTEL_GATEWAY_TIMEOUT: isinstance(exc, httpx.TimeoutException)},
                    )
                    raise _CutOff from exc  # the client sees the connection cut, as from the upstream
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                ins.response_bytes.add(size, labels)
                ins.upstream_duration.record(time.perf_counter() - sent_at, timed)
                if call is not None:
                    boundary.call(None, call.completed)
                return status
            finally:
                await response.aclose()

    async def _unreachable(
        self,
        send: Send,
        upstream: Upstream,
        call: _Call | None,
        exc: httpx.HTTPError,
        status: int,
        labels: dict[str, str],
        sent_at: float,
    ) -> int:
        timeout = isinstance(exc, httpx.TimeoutException)
        what = "did not answer in time" if timeout else "could not be reached"
        self.instruments.upstream_duration.record(
            time.perf_counter() - sent_at,
            {
                **labels,
                semconv.AGENTOTEL_GATEWAY_STATUS_CLASS: status_class(status),
                semconv.AGENTOTEL_GATEWAY_TIMEOUT: timeout,
            },
        )
        if call is not None:
            self.boundary.call(None, call.failed, UpstreamUnreachable(exc, status))
        await _answer(send, status, error_body(upstream.wire, status, f"the upstream {upstream.name} {what}"))
        return status


class _ClientLeft(Exception):
    """The client disconnected while sending its request."""


class _CutOff(Exception):
    """The upstream's answer broke off after its head was sent on: the client connection is cut."""


def _inject(inv: Invocation, carrier: dict[str, str]) -> None:
    propagate.inject(carrier, context=trace.set_span_in_context(inv.span))


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _answer(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})


__all__ = ["Gateway", "UpstreamStatusError", "UpstreamUnreachable", "error_body", "status_class"]
_ = Mapping  # re-exported type names are used in annotations only
