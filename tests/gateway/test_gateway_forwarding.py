"""What the gateway passes through, and what it answers itself.

Exact pass-through (status, body bytes, headers minus hop-by-hop ones), SSE chunks forwarded as
they arrive, the caller's trace continued, upstream failures (down, slow, 429, 500) and client
disconnects recorded, oversize and malformed bodies handled, credentials never recorded.
"""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from gateway_helpers import fake_upstreams
from helpers import GPT, LocalHTTPServer, QuietHandler, closed_port, serve_in_background, stop_serving
from opentelemetry.trace import SpanKind, StatusCode

from agentotel import semconv
from agentotel.gateway import Upstream
from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture

KEY = "sk-gateway-secret-0123456789abcdef"
SAY = [{"role": "user", "content": "Say hello [[words:6]]"}]
CHAT = {"model": GPT, "messages": SAY}


def client(gw: Any, **options: Any) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{gw.url}/openai/v1", api_key=KEY, max_retries=0, **options)


def _headers(response: httpx.Response) -> list[tuple[str, str]]:
    skip = {"connection", "keep-alive", "transfer-encoding", "date", "server"}
    return sorted((k.lower(), v) for k, v in response.headers.multi_items() if k.lower() not in skip)


# --- pass-through ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("route", "path", "body"),
    [
        ("openai", "/v1/chat/completions", CHAT),
        ("openai", "/v1/chat/completions", {**CHAT, "stream": True}),
        ("anthropic", "/v1/messages", {"model": "claude-haiku-4-5", "max_tokens": 20, "messages": SAY}),
        (
            "openai",
            "/v1/chat/completions",
            {**CHAT, "messages": [{"role": "user", "content": "[[scenario:rate_limit]]"}]},
        ),
        ("openai", "/v1/models", None),
    ],
    ids=["chat", "chat-stream", "messages", "429", "get-models"],
)
def test_status_body_and_headers_pass_through(
    route: str, path: str, body: Any, fresh_fake_llm: FakeLLMServer, gateway: Any
) -> None:
    method = "GET" if body is None else "POST"
    direct_base = fresh_fake_llm.base_url
    fresh_fake_llm.state.reset()
    direct = httpx.request(method, direct_base + path, json=body, headers={"authorization": f"Bearer {KEY}"})
    fresh_fake_llm.state.reset()
    through = httpx.request(
        method, f"{gateway.url}/{route}{path}", json=body, headers={"authorization": f"Bearer {KEY}"}
    )
    assert through.status_code == direct.status_code
    assert through.content == direct.content
    assert _headers(through) == _headers(direct)
    # The upstream got the client's request: its body and its credentials.
    seen = fresh_fake_llm.requests[-1]
    assert seen.path == path
    assert seen.headers["authorization"] == "<redacted>"  # sent on (the fake server redacts what it records)


class _Drip(QuietHandler):
    """An OpenAI-format SSE stream of three chunks; the second is sent only when the test says."""

    release = threading.Event()
    closed = threading.Event()

    def do_POST(self) -> None:
        self.read_body()
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunks = [
            {
                "id": "c1",
                "object": "chat.completion.chunk",
                "model": GPT,
                "choices": [{"index": 0, "delta": {"content": "one"}}],
            },
            {
                "id": "c1",
                "object": "chat.completion.chunk",
                "model": GPT,
                "choices": [{"index": 0, "delta": {"content": " two"}, "finish_reason": "stop"}],
            },
        ]
        try:
            self._chunk(f"data: {json.dumps(chunks[0])}\n\n".encode())
            if not type(self).release.wait(10):
                return
            # The last chunk, repeated for a second: long enough to see the gateway drop this
            # connection when its client left (the write then fails here).
            for _ in range(50):
                self._chunk(f"data: {json.dumps(chunks[1])}\n\n".encode())
                time.sleep(0.02)
            self._chunk(b"data: [DONE]\n\n")
            self._chunk(b"")
        except OSError:
            type(self).closed.set()

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()


@pytest.fixture
def drip() -> Iterator[str]:
    _Drip.release = threading.Event()
    _Drip.closed = threading.Event()
    httpd = LocalHTTPServer(_Drip)
    thread = serve_in_background(httpd)
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    _Drip.release.set()
    stop_serving(httpd, thread)


def test_stream_chunks_reach_the_client_before_the_upstream_sends_the_next(
    drip: str, fresh_fake_llm: FakeLLMServer, gateway_factory: Any, cap: TelemetryCapture
) -> None:
    gw = gateway_factory(
        upstreams=fake_upstreams(fresh_fake_llm, drip=Upstream("drip", drip, "openai", "openai"))
    )
    with httpx.stream(
        "POST", f"{gw.url}/drip/v1/chat/completions", json={**CHAT, "stream": True}
    ) as response:
        lines = response.iter_lines()
        first = next(line for line in lines if line)
        # The upstream holds the rest back until released: the first event arrived on its own.
        assert json.loads(first.removeprefix("data: "))["choices"][0]["delta"]["content"] == "one"
        _Drip.release.set()
        rest = [line for line in lines if line]
    assert rest[-1] == "data: [DONE]"
    gw.stop()
    (span,) = cap.spans()
    assert span.attributes[semconv.AGENTOTEL_STREAM_END] == semconv.STREAM_EXHAUSTED
    assert span.attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    assert span.status.status_code is StatusCode.UNSET


def test_a_stream_is_read_by_the_telemetry_after_its_end_at_the_times_its_chunks_came(
    monkeypatch: pytest.MonkeyPatch,
    drip: str,
    fresh_fake_llm: FakeLLMServer,
    gateway_factory: Any,
    cap: TelemetryCapture,
) -> None:
    """No event of a stream is parsed while the client still waits for the rest (the chunks are
    read after the answer's end), and the chunk timing is the chunks' arrival: the first came at
    once, the rest after the upstream was released 0.5 s later."""
    from agentotel.gateway import _call

    released_at_first_read: list[bool] = []
    feed = _call.Call.feed

    def watched_feed(self: Any, chunk: bytes, at: int | None = None) -> None:
        if not released_at_first_read:
            released_at_first_read.append(_Drip.release.is_set())
        feed(self, chunk, at)

    monkeypatch.setattr(_call.Call, "feed", watched_feed)
    gw = gateway_factory(
        upstreams=fake_upstreams(fresh_fake_llm, drip=Upstream("drip", drip, "openai", "openai"))
    )
    with httpx.stream(
        "POST", f"{gw.url}/drip/v1/chat/completions", json={**CHAT, "stream": True}
    ) as response:
        lines = response.iter_lines()
        next(line for line in lines if line)
        time.sleep(0.5)
        _Drip.release.set()
        rest = [line for line in lines if line]
    assert rest[-1] == "data: [DONE]"
    gw.stop()
    assert released_at_first_read == [True]
    (span,) = cap.spans()
    assert span.attributes[semconv.AGENTOTEL_STREAM_END] == semconv.STREAM_EXHAUSTED
    assert span.attributes[semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] < 0.4


def test_a_client_that_leaves_mid_stream_cancels_the_upstream_request(
    drip: str, fresh_fake_llm: FakeLLMServer, gateway_factory: Any, cap: TelemetryCapture
) -> None:
    gw = gateway_factory(
        upstreams=fake_upstreams(fresh_fake_llm, drip=Upstream("drip", drip, "openai", "openai"))
    )
    with httpx.stream(
        "POST", f"{gw.url}/drip/v1/chat/completions", json={**CHAT, "stream": True}
    ) as response:
        next(line for line in response.iter_lines() if line)
    # The client closed its connection after the first event: the gateway drops the upstream's.
    _Drip.release.set()
    assert _Drip.closed.wait(10)
    gw.stop()
    (span,) = cap.spans()
    assert span.attributes[semconv.AGENTOTEL_STREAM_END] == semconv.STREAM_CLOSED
    assert span.status.status_code is StatusCode.UNSET
    points = cap.matching_points(semconv.GATEWAY_REQUESTS, {semconv.AGENTOTEL_GATEWAY_ROUTE: "drip"})
    assert [(p.attributes[semconv.AGENTOTEL_GATEWAY_STATUS_CLASS], p.value) for p in points] == [("none", 1)]


def test_the_gateway_counts_requests_bytes_and_what_is_in_flight(
    drip: str, fresh_fake_llm: FakeLLMServer, gateway_factory: Any, cap: TelemetryCapture
) -> None:
    """The counts of ``agentotel.gateway.*``: one request in flight while its stream is held, none
    after; every request counted once by status class; the body bytes each way, exactly."""
    gw = gateway_factory(
        upstreams=fake_upstreams(fresh_fake_llm, drip=Upstream("drip", drip, "openai", "openai"))
    )
    drip_route = {semconv.AGENTOTEL_GATEWAY_ROUTE: "drip"}
    openai_route = {semconv.AGENTOTEL_GATEWAY_ROUTE: "openai"}
    sent = [json.dumps(CHAT).encode(), json.dumps({**CHAT, "stream": True}).encode()]
    received = [
        httpx.post(f"{gw.url}/openai/v1/chat/completions", content=body, timeout=10).content for body in sent
    ]
    drip_body = json.dumps({**CHAT, "stream": True}).encode()
    with httpx.stream("POST", f"{gw.url}/drip/v1/chat/completions", content=drip_body) as response:
        raw = response.iter_raw()
        got = [next(raw)]
        while b"one" not in b"".join(got):
            got.append(next(raw))
        in_flight = cap.metric_sum(semconv.GATEWAY_ACTIVE_REQUESTS, drip_route)
        _Drip.release.set()
        got.extend(raw)
    gw.stop()
    assert in_flight == 1
    assert cap.metric_sum(semconv.GATEWAY_ACTIVE_REQUESTS, drip_route) == 0
    assert cap.metric_sum(semconv.GATEWAY_ACTIVE_REQUESTS, openai_route) == 0
    route, status_class = semconv.AGENTOTEL_GATEWAY_ROUTE, semconv.AGENTOTEL_GATEWAY_STATUS_CLASS
    points = cap.matching_points(semconv.GATEWAY_REQUESTS)
    assert sorted((p.attributes[route], p.attributes[status_class], p.value) for p in points) == [
        ("drip", "2xx", 1),
        ("openai", "2xx", 2),
    ]
    assert cap.metric_sum(semconv.GATEWAY_REQUEST_BYTES, openai_route) == sum(len(b) for b in sent)
    assert cap.metric_sum(semconv.GATEWAY_REQUEST_BYTES, drip_route) == len(drip_body)
    assert cap.metric_sum(semconv.GATEWAY_RESPONSE_BYTES, openai_route) == sum(len(b) for b in received)
    assert cap.metric_sum(semconv.GATEWAY_RESPONSE_BYTES, drip_route) == sum(len(b) for b in got)


@pytest.mark.parametrize(("count", "retry"), [("1", True), ("0", None), (None, None)])
def test_a_retried_request_is_marked_on_its_span(
    count: str | None, retry: bool | None, gateway: Any, cap: TelemetryCapture
) -> None:
    headers = {"authorization": f"Bearer {KEY}"}
    if count is not None:
        headers["x-stainless-retry-count"] = count
    answer = httpx.post(f"{gateway.url}/openai/v1/chat/completions", json=CHAT, headers=headers)
    assert answer.status_code == 200
    gateway.stop()
    (span,) = cap.spans()
    assert span.attributes.get(semconv.AGENTOTEL_GATEWAY_RETRY) is retry


# --- trace context ---------------------------------------------------------------------------------
def test_an_incoming_traceparent_is_continued_and_the_upstream_gets_the_gateway_span(
    fresh_fake_llm: FakeLLMServer, gateway: Any, cap: TelemetryCapture
) -> None:
    trace_id, parent_id = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"
    client(gateway).chat.completions.create(
        model=GPT, messages=SAY, extra_headers={"traceparent": f"00-{trace_id}-{parent_id}-01"}
    )
    gateway.stop()
    (span,) = cap.spans()
    assert span.kind is SpanKind.CLIENT
    assert format(span.context.trace_id, "032x") == trace_id
    assert span.parent is not None and format(span.parent.span_id, "016x") == parent_id
    sent = fresh_fake_llm.requests[-1].headers["traceparent"]
    assert sent == f"00-{trace_id}-{format(span.context.span_id, '016x')}-01"


# --- failures --------------------------------------------------------------------------------------
def test_an_upstream_error_reaches_the_client_as_the_upstream_gave_it(
    gateway: Any, cap: TelemetryCapture
) -> None:
    with pytest.raises(openai.RateLimitError) as info:
        client(gateway).chat.completions.create(
            model=GPT, messages=[{"role": "user", "content": "[[scenario:rate_limit]]"}]
        )
    assert info.value.status_code == 429
    gateway.stop()
    (span,) = cap.spans()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes[semconv.ERROR_TYPE] == "429"
    assert span.attributes[semconv.HTTP_RESPONSE_STATUS_CODE] == 429
    (point,) = cap.metric_points(semconv.GEN_AI_CLIENT_OPERATION_DURATION)
    assert point.attributes[semconv.ERROR_TYPE] == "429"
    assert cap.metric_points(semconv.GEN_AI_CLIENT_TOKEN_USAGE) == []


def test_an_unreachable_upstream_is_a_502_in_the_provider_format(
    fresh_fake_llm: FakeLLMServer, gateway_factory: Any, cap: TelemetryCapture
) -> None:
    down = Upstream("openai", f"http://127.0.0.1:{closed_port()}", "openai", "openai")
    gw = gateway_factory(upstreams=fake_upstreams(fresh_fake_llm, openai=down))
    with pytest.raises(openai.APIStatusError) as info:
        client(gw).chat.completions.create(model=GPT, messages=SAY)
    assert info.value.status_code == 502
    assert info.value.body["type"] == "api_error"  # type: ignore[index]
    gw.stop()
    (span,) = cap.spans()
    assert span.attributes[semconv.ERROR_TYPE] == "upstream_unreachable"
    assert cap.metric_sum(semconv.GATEWAY_REQUESTS, {semconv.AGENTOTEL_GATEWAY_STATUS_CLASS: "5xx"}) == 1


def test_a_slow_upstream_is_a_504_and_a_timeout(gateway_factory: Any, cap: TelemetryCapture) -> None:
    gw = gateway_factory(read_timeout=0.3)
    with pytest.raises(openai.APIStatusError) as info:
        client(gw).chat.completions.create(
            model=GPT, messages=[{"role": "user", "content": "[[scenario:slow:2]]"}]
        )
    assert info.value.status_code == 504
    gw.stop()
    (span,) = cap.spans()
    assert span.attributes[semconv.ERROR_TYPE] == "timeout"
    (point,) = cap.metric_points(semconv.GATEWAY_UPSTREAM_DURATION)
    assert point.attributes[semconv.AGENTOTEL_GATEWAY_TIMEOUT] is True


def test_an_oversize_body_is_a_413_and_goes_nowhere(
    fresh_fake_llm: FakeLLMServer, gateway_factory: Any, cap: TelemetryCapture
) -> None:
    fresh_fake_llm.clear()
    gw = gateway_factory(max_body_bytes=100)
    with pytest.raises(openai.APIStatusError) as info:
        client(gw).chat.completions.create(model=GPT, messages=[{"role": "user", "content": "x" * 200}])
    assert info.value.status_code == 413
    gw.stop()
    assert fresh_fake_llm.requests == []
    assert cap.spans() == []
    assert cap.metric_sum(semconv.GATEWAY_REQUESTS, {semconv.AGENTOTEL_GATEWAY_STATUS_CLASS: "4xx"}) == 1


def test_a_malformed_body_is_forwarded_untouched_and_recorded_unparsed(
    fresh_fake_llm: FakeLLMServer, gateway: Any, cap: TelemetryCapture
) -> None:
    fresh_fake_llm.clear()
    body = b'{"model": "gpt-4o", "messages": [ oops'
    direct = httpx.post(f"{fresh_fake_llm.openai_base_url}/chat/completions", content=body)
    through = httpx.post(f"{gateway.url}/openai/v1/chat/completions", content=body)
    assert (through.status_code, through.content) == (direct.status_code, direct.content)
    assert [(r.path, r.body) for r in fresh_fake_llm.requests] == [("/v1/chat/completions", None)] * 2
    gateway.stop()
    (span,) = cap.spans()
    assert span.name == "chat"
    assert span.attributes[semconv.AGENTOTEL_GATEWAY_UNPARSED] is True


# --- the gateway's own answers -----------------------------------------------------------------
@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_health(path: str, gateway: Any) -> None:
    response = httpx.get(gateway.url + path)
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_an_unknown_route_is_a_404_naming_the_routes(gateway: Any) -> None:
    response = httpx.post(f"{gateway.url}/nowhere/v1/chat/completions", json=CHAT)
    assert response.status_code == 404
    assert response.json()["error"]["message"] == (
        "no route for /nowhere/v1/chat/completions; routes: /openai, /anthropic, /gemini"
    )


class _OneWriteStream(QuietHandler):
    """An OpenAI-format SSE stream whose events and end come in one write (one read upstream)."""

    def do_POST(self) -> None:
        self.read_body()
        chunk = {
            "id": "c1",
            "object": "chat.completion.chunk",
            "model": GPT,
            "choices": [{"index": 0, "delta": {"content": "hi"}, "finish_reason": "stop"}],
        }
        events = f"data: {json.dumps(chunk)}\n\ndata: [DONE]\n\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.write(f"{len(events):x}\r\n".encode() + events + b"\r\n0\r\n\r\n")


def test_the_client_has_the_whole_answer_before_the_telemetry_reads_its_last_chunk(
    monkeypatch: pytest.MonkeyPatch,
    fresh_fake_llm: FakeLLMServer,
    gateway_factory: Any,
    cap: TelemetryCapture,
) -> None:
    """The stream's end goes to the client with its last chunk; the telemetry reads that chunk after
    (here it waits until the client has read everything: before, the client waited for it)."""
    from agentotel.gateway import _call

    client_done = threading.Event()
    waited: list[bool] = []
    feed = _call.Call.feed

    def slow_feed(self: Any, chunk: bytes, at: int | None = None) -> None:
        if b"[DONE]" in chunk:
            waited.append(client_done.wait(3))
        feed(self, chunk, at)

    monkeypatch.setattr(_call.Call, "feed", slow_feed)
    httpd = LocalHTTPServer(_OneWriteStream)
    thread = serve_in_background(httpd)
    try:
        one = Upstream("one", f"http://127.0.0.1:{httpd.server_address[1]}", "openai", "openai")
        gw = gateway_factory(upstreams=fake_upstreams(fresh_fake_llm, one=one))
        answer = httpx.post(f"{gw.url}/one/v1/chat/completions", json={**CHAT, "stream": True}, timeout=10)
        client_done.set()
        gw.stop()
    finally:
        stop_serving(httpd, thread)
    assert answer.content.endswith(b"data: [DONE]\n\n")
    assert waited == [True]
    (span,) = cap.spans()
    assert span.attributes[semconv.AGENTOTEL_STREAM_END] == semconv.STREAM_EXHAUSTED
    assert span.attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)


# --- span events ------------------------------------------------------------------------------
def _events(span: Any) -> list[tuple[str, dict[str, Any]]]:
    return [(e.name, dict(e.attributes or {})) for e in span.events]


@pytest.mark.parametrize("stream", [False, True], ids=["chat", "chat-stream"])
def test_the_span_events_come_in_order_at_the_times_they_happened(
    stream: bool, gateway: Any, cap: TelemetryCapture
) -> None:
    """The request's attributes and its received / first-byte events are put on the span after the
    request went upstream and the answer went to the client (nothing of ours delays them): the
    span still has them all, in the order they happened, each at its own time."""
    body = json.dumps({**CHAT, "stream": True} if stream else CHAT).encode()
    before = time.time_ns()
    answer = httpx.post(
        f"{gateway.url}/openai/v1/chat/completions",
        content=body,
        headers={"authorization": f"Bearer {KEY}", "content-type": "application/json"},
    )
    assert answer.status_code == 200
    gateway.stop()
    (span,) = cap.spans()
    assert span.attributes[semconv.AGENTOTEL_GATEWAY_ROUTE] == "openai"
    assert _events(span) == [
        (semconv.EVENT_GATEWAY_RECEIVED, {"http.request.body.size": len(body)}),
        (semconv.EVENT_GATEWAY_FIRST_BYTE, {semconv.HTTP_RESPONSE_STATUS_CODE: 200}),
        (semconv.EVENT_GATEWAY_COMPLETED, {}),
    ]
    times = [e.timestamp for e in span.events]
    assert before <= span.start_time <= times[0] <= times[1] <= times[2] <= span.end_time


def test_an_unreachable_upstream_span_has_its_received_and_failed_events(
    fresh_fake_llm: FakeLLMServer, gateway_factory: Any, cap: TelemetryCapture
) -> None:
    down = Upstream("openai", f"http://127.0.0.1:{closed_port()}", "openai", "openai")
    gw = gateway_factory(upstreams=fake_upstreams(fresh_fake_llm, openai=down))
    body = json.dumps(CHAT).encode()
    answer = httpx.post(f"{gw.url}/openai/v1/chat/completions", content=body)
    assert answer.status_code == 502
    gw.stop()
    (span,) = cap.spans()
    assert span.attributes[semconv.AGENTOTEL_GATEWAY_ROUTE] == "openai"
    assert [name for name, _ in _events(span)] == [
        semconv.EVENT_GATEWAY_RECEIVED,
        semconv.EVENT_GATEWAY_FAILED,
        "exception",
    ]
    assert _events(span)[0][1] == {"http.request.body.size": len(body)}
    times = [e.timestamp for e in span.events]
    assert span.start_time <= times[0] <= times[1] <= times[2] <= span.end_time


def test_credentials_are_never_recorded(
    monkeypatch: pytest.MonkeyPatch,
    fresh_fake_llm: FakeLLMServer,
    gateway_factory: Any,
    cap: TelemetryCapture,
) -> None:
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "SPAN_AND_EVENT")
    gw = gateway_factory()
    c = client(gw)
    c.chat.completions.create(model=GPT, messages=[{"role": "user", "content": f"my key is {KEY}"}])
    with pytest.raises(openai.RateLimitError):
        c.chat.completions.create(
            model=GPT, messages=[{"role": "user", "content": f"{KEY} [[scenario:rate_limit]]"}]
        )
    gw.stop()
    recorded = repr(
        [(s.name, dict(s.attributes or {}), [e.attributes for e in s.events]) for s in cap.spans()]
    )
    recorded += repr([(log.body, log.attributes) for log in cap.logs()])
    recorded += repr(cap.metric_reader.get_metrics_data())
    assert "my key is" in recorded  # content capture is on: the prompt is there, the key is not
    assert KEY not in recorded
    assert KEY[8:20] not in recorded


class _Gzip(QuietHandler):
    """A chat completion answered gzip-compressed, as api.openai.com answers."""

    def do_POST(self) -> None:
        self.read_body()
        body = gzip.compress(
            json.dumps(
                {
                    "id": "chatcmpl-gz",
                    "object": "chat.completion",
                    "model": "gpt-4o-2024-08-06",
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": "hi"},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {"prompt_tokens": 7, "completion_tokens": 1, "total_tokens": 8},
                }
            ).encode()
        )
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_a_compressed_answer_passes_compressed_and_is_read(
    fresh_fake_llm: FakeLLMServer, gateway_factory: Any, cap: TelemetryCapture
) -> None:
    httpd = LocalHTTPServer(_Gzip)
    thread = serve_in_background(httpd)
    try:
        gz = Upstream("gz", f"http://127.0.0.1:{httpd.server_address[1]}", "openai", "openai")
        gw = gateway_factory(upstreams=fake_upstreams(fresh_fake_llm, gz=gz))
        raw = httpx.post(f"{gw.url}/gz/v1/chat/completions", json=CHAT, headers={"accept-encoding": "gzip"})
        assert raw.headers["content-encoding"] == "gzip"
        assert int(raw.headers["content-length"]) < len(raw.content)  # httpx decoded what came compressed
        reply = openai.OpenAI(base_url=f"{gw.url}/gz/v1", api_key=KEY, max_retries=0).chat.completions.create(
            model=GPT, messages=SAY
        )
        assert reply.choices[0].message.content == "hi"
        gw.stop()
    finally:
        stop_serving(httpd, thread)
    spans = cap.spans()
    assert [s.attributes[semconv.GEN_AI_RESPONSE_ID] for s in spans] == ["chatcmpl-gz", "chatcmpl-gz"]
    assert [s.attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] for s in spans] == [7, 7]
