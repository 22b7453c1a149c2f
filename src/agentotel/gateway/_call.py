"""The telemetry of one forwarded LLM call: its span, from the request, and what it reads of the answer.

The span is opened with the provider's functions through :meth:`Operation.start`, given a
:class:`~agentotel.gateway._wire.WireClient` in place of an SDK client (the same path as
the SDK instrumentors' calls); the answer's copy is read as the SDK would read it: Server-Sent
Events through :class:`~agentotel.gateway._sse.EventReader` into the provider's accumulator (the
engine's :class:`OpenStream` ends the span once), a JSON body through the provider's response
extractor. Every method may raise: the gateway calls them through its boundary.
"""

from __future__ import annotations

import json
import time
import zlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace

from agentotel import semconv
from agentotel._redact import remember
from agentotel._safe import Boundary
from agentotel._telemetry import Telemetry
from agentotel.gateway._config import Upstream
from agentotel.gateway._sse import EventReader
from agentotel.gateway._wire import CallKind, WireClient, classify
from agentotel.instrumentation._invocation import Invocation
from agentotel.instrumentation._operation import Operation
from agentotel.instrumentation._streams import OpenStream
from agentotel.instrumentation.openai.extract import provider_for_host

TRACE_HEADERS = frozenset({b"traceparent", b"tracestate", b"baggage"})
CREDENTIAL_HEADERS = frozenset({b"authorization", b"x-api-key", b"x-goog-api-key", b"api-key"})
COPY_MAX = 64 * 1024 * 1024
"""Bytes of a non-stream response kept for its telemetry; a longer one is recorded as unparsed."""


class UpstreamStatusError(Exception):
    """The upstream answered with an error status; ``error.type`` is the status code."""

    def __init__(self, status: int) -> None:
        super().__init__(f"the upstream answered HTTP {status}")
        self.status = status
        self.otel_error_type = str(status)


class UpstreamUnreachable(Exception):
    """The upstream could not be reached (502: ``error.type`` ``upstream_unreachable``) or did not
    answer in time (504: ``timeout``, as the HTTP conventions name it)."""

    def __init__(self, cause: BaseException, status: int) -> None:
        super().__init__(f"{type(cause).__name__}: {cause}")
        self.otel_error_type = "timeout" if status == 504 else "upstream_unreachable"
        self.status = status


_RETRY_HEADER = b"x-stainless-retry-count"
_READ_HEADERS = TRACE_HEADERS | CREDENTIAL_HEADERS | {_RETRY_HEADER}


class RequestHeaders:
    """What the telemetry reads of a request's headers, in one pass: the trace context, the
    credentials (to redact) and the SDK's retry count (the first one)."""

    __slots__ = ("carrier", "retry", "secrets")

    def __init__(self, headers: list[tuple[bytes, bytes]], query: bytes) -> None:
        self.carrier: dict[str, str] = {}
        found: list[str] = []
        retry: bytes | None = None
        for name, value in headers:
            low = name.lower()
            if low not in _READ_HEADERS:
                continue
            if low in TRACE_HEADERS:
                self.carrier[name.decode("latin-1")] = value.decode("latin-1")
            elif low in CREDENTIAL_HEADERS:
                text = value.decode("latin-1").strip()
                found.append(text)
                scheme, _, token = text.partition(" ")
                if token and scheme.lower() in ("bearer", "basic"):
                    found.append(token.strip())
            elif retry is None:
                retry = value
        if query:
            found.extend(v for k, v in parse_qsl(query.decode("latin-1")) if k == "key" and v)
        self.secrets = tuple(found)
        self.retry = retry is not None and retry.strip() not in (b"", b"0")


def secrets_of(headers: list[tuple[bytes, bytes]], query: bytes) -> tuple[str, ...]:
    """The credentials a request carries (header values, Gemini's ``key`` parameter)."""
    return RequestHeaders(headers, query).secrets


def server_attributes(upstream: Upstream) -> tuple[tuple[str, Any], ...]:
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


class Call:
    """The telemetry of one forwarded LLM call: its span, and what it reads of the answer.

    Every method may raise: :class:`Gateway` calls them through the boundary."""

    def __init__(
        self,
        op: Operation,
        kind: CallKind,
        inv: Invocation,
        boundary: Boundary,
        received: Mapping[str, Any] | None = None,
        received_at: int | None = None,
        body_size: int = 0,
    ) -> None:
        self.op = op
        self.kind = kind
        self.inv = inv
        self.boundary = boundary
        self.status = 0
        self.stream: OpenStream | None = None
        self.events: EventReader | None = None
        self.copy: bytearray | None = None
        self.decode: _Decoder | None = None
        # What the request told (its attributes, its "received" event) is put on the span after
        # the request went upstream, not before: the forwarding waits for nothing but the span's
        # start (its trace context goes upstream). The event keeps the time it happened at.
        self._received = received
        self._received_at = received_at
        self._body_size = body_size

    def noted(self) -> None:
        """Put the request's attributes and its ``received`` event on the span (once)."""
        received = self._received
        if received is None:
            return
        self._received = None
        span = self.inv.span
        span.set_attributes(received)
        span.add_event(
            semconv.EVENT_GATEWAY_RECEIVED,
            {"http.request.body.size": self._body_size},
            timestamp=self._received_at,
        )

    def started(self, status: int, headers: Mapping[str, str], at: int | None = None) -> None:
        """The upstream's status and headers arrived (at ``at``, ``time.time_ns()``; now when
        None): choose how its body is read."""
        self.noted()
        self.status = status
        self.inv.span.add_event(
            semconv.EVENT_GATEWAY_FIRST_BYTE, {semconv.HTTP_RESPONSE_STATUS_CODE: status}, timestamp=at
        )
        if status >= 400:
            return
        self.decode = _Decoder(headers.get("content-encoding", ""))
        streamed = headers.get("content-type", "").startswith("text/event-stream")
        if streamed and self.op.accumulator is not None:
            self.stream = OpenStream(self.op.accumulator(self.inv.secrets is not None), self.inv)
            self.events = EventReader()
        else:
            self.copy = bytearray()

    def feed(self, chunk: bytes, at: int | None = None) -> None:
        """One chunk of the body, as sent to the client; ``at``: when it arrived
        (``time.perf_counter_ns()``; now when None), the time its events are counted at."""
        if self.decode is None:
            return
        data = self.decode(chunk)
        stream = self.stream
        if self.events is not None and stream is not None:
            view = self.kind.view
            for event in self.events.feed(data):
                if event.data != "[DONE]":
                    stream.took(view(json.loads(event.data)))
                    if at is not None:  # the chunk timing of the time it arrived, not of now
                        stream.last_ns = at
                        if stream.chunks == 1:
                            stream.first_ns = at
        elif self.copy is not None:
            if len(self.copy) + len(data) > COPY_MAX:
                self.copy = None
                self.decode = None
            else:
                self.copy.extend(data)

    def completed(self) -> None:
        """The whole answer went to the client."""
        self.noted()
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
        self.noted()
        if self.stream is not None:
            self.stream.end(semconv.STREAM_CLOSED)
        else:
            self.inv.end({semconv.AGENTOTEL_STREAM_END: semconv.STREAM_CLOSED})

    def failed(self, exc: BaseException) -> None:
        """The exchange with the upstream failed (unreachable, timed out, cut off)."""
        self.noted()
        self.inv.span.add_event(semconv.EVENT_GATEWAY_FAILED, {"exception.type": type(exc).__name__})
        if self.stream is not None:
            self.stream.fail(exc)
        else:
            self.inv.fail(exc)


def open_call(
    ops: dict[str, Operation],
    telemetry: Telemetry,
    boundary: Boundary,
    server: tuple[tuple[str, Any], ...],
    upstream: Upstream,
    method: str,
    rest: str,
    headers: list[tuple[bytes, bytes]],
    query: bytes,
    body: bytes,
) -> Call | None:
    """The LLM span of a request the route's wire format knows (None for any other request)."""
    found = classify(upstream.wire, method, rest)
    if found is None:
        return None
    kind, model = found
    key = f"{upstream.wire}:{kind.name}"
    op = ops.get(key)
    if op is None:
        op = ops[key] = kind.operation(telemetry, boundary)
    unparsed = False
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        parsed, unparsed = {}, True
    read = RequestHeaders(headers, query)
    carrier = read.carrier
    ctx = propagate.extract(carrier) if carrier else otel_context.Context()
    secrets = read.secrets
    token = otel_context.attach(ctx)
    try:
        # Operation.start reads two credentials of a client; any more are redacted from here on.
        remember(secrets[2:])
        wire = WireClient(server, secrets[0] if secrets else None, secrets[1] if len(secrets) > 1 else None)
        inv = op.start(wire, (), kind.kwargs(parsed, model))
    finally:
        otel_context.detach(token)
    if inv is None:  # inside another LLM call of ours: that one is the span
        return None
    received: dict[str, Any] = {semconv.AGENTOTEL_GATEWAY_ROUTE: upstream.name}
    if unparsed:
        received[semconv.AGENTOTEL_GATEWAY_UNPARSED] = True
    if read.retry:
        received[semconv.AGENTOTEL_GATEWAY_RETRY] = True
    return Call(op, kind, inv, boundary, received, time.time_ns(), len(body))


def inject(inv: Invocation, carrier: dict[str, str]) -> None:
    propagate.inject(carrier, context=trace.set_span_in_context(inv.span))
