"""OpenAI chat completion streams: one span per stream, however the stream is left.

The fake server streams ``user(Q)`` on gpt-4o as: a role chunk, one chunk per word of the
6-word reply, a finish chunk and, with ``include_usage``, a usage chunk (9 chunks), then
``[DONE]``. ``[[scenario:disconnect]]`` drops the connection after 2 chunks.
"""

from __future__ import annotations

import gc
import json
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx2
import openai
import pytest
from openai.types.chat import ChatCompletionChunk
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from opentelemetry.trace import SpanKind, StatusCode

from agentotel.instrumentation.openai import OpenAIInstrumentor
from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture

Q = "What is the weather in Paris?"  # 6 tokens
REPLY = "Hello from the fake LLM server."  # 6 tokens
USAGE = {"include_usage": True}
TOKENS = "gen_ai.client.token.usage"
DURATION = "gen_ai.client.operation.duration"
TIME_TO_FIRST_CHUNK = "gen_ai.client.operation.time_to_first_chunk"
TIME_PER_OUTPUT_CHUNK = "gen_ai.client.operation.time_per_output_chunk"
TELEMETRY_ERRORS = "agentotel.telemetry.errors"

TOOLS: Any = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]

# Known from the first chunk on.
FIRST_CHUNK: dict[str, Any] = {
    "gen_ai.response.id": "chatcmpl-1",
    "gen_ai.response.model": "gpt-4o-2024-08-06",
    "openai.response.service_tier": "default",
    "openai.response.system_fingerprint": "fp_fake",
}
# Known once the finish and usage chunks have been read.
FINISHED: dict[str, Any] = {
    **FIRST_CHUNK,
    "gen_ai.response.finish_reasons": ("stop",),
    "gen_ai.usage.input_tokens": 6,
    "gen_ai.usage.output_tokens": 6,
    "gen_ai.usage.cache_read.input_tokens": 0,
    "gen_ai.usage.reasoning.output_tokens": 0,
}


# --------------------------------------------------------------------------- helpers


def user(text: str) -> Any:
    return [{"role": "user", "content": text}]


def one_span(cap: TelemetryCapture) -> ReadableSpan:
    """The single finished span (and agentotel swallowed no error of its own)."""
    spans = cap.spans()
    assert len(spans) == 1, [s.name for s in spans]
    assert cap.metric_points(TELEMETRY_ERRORS) == []
    span = spans[0]
    assert span.name == "chat gpt-4o"
    assert span.kind is SpanKind.CLIENT
    return span


def attributes(span: ReadableSpan) -> dict[str, Any]:
    """The span's attributes without ``gen_ai.response.time_to_first_chunk``, which is checked
    here: a positive number of seconds no longer than the span."""
    attrs = dict(span.attributes or {})
    ttfc = attrs.pop("gen_ai.response.time_to_first_chunk", None)
    if ttfc is not None:
        assert span.start_time is not None and span.end_time is not None
        assert 0 < ttfc <= (span.end_time - span.start_time) / 1e9
    return attrs


def has_time_to_first_chunk(span: ReadableSpan) -> bool:
    return "gen_ai.response.time_to_first_chunk" in (span.attributes or {})


def points(cap: TelemetryCapture, name: str) -> list[tuple[dict[str, Any], int]]:
    """(attributes, count) of each point of histogram ``name``, input tokens before output."""
    found = [(dict(p.attributes), p.count) for p in cap.metric_points(name)]
    return sorted(found, key=lambda p: str(p[0].get("gen_ai.token.type")))


def token_sums(cap: TelemetryCapture) -> dict[str, float]:
    return {p.attributes["gen_ai.token.type"]: p.sum for p in cap.metric_points(TOKENS)}


def chunk_metric_counts(cap: TelemetryCapture) -> tuple[int, int]:
    """Measurements of (time_to_first_chunk, time_per_output_chunk)."""
    return cap.metric_count(TIME_TO_FIRST_CHUNK), cap.metric_count(TIME_PER_OUTPUT_CHUNK)


@contextmanager
def instrumented(cap: TelemetryCapture) -> Iterator[TelemetryCapture]:
    """The instrumentor active on ``cap`` for the block only (for before/after comparisons)."""
    instrumentor = OpenAIInstrumentor()
    instrumentor.instrument(**cap.providers)
    try:
        yield cap
    finally:
        instrumentor.uninstrument()


def read_all(stream: Any) -> BaseException:
    """Iterate ``stream`` until it raises; the exception."""
    with pytest.raises(BaseException) as info:
        for _ in stream:
            pass
    return info.value


async def aread_all(stream: Any) -> BaseException:
    with pytest.raises(BaseException) as info:
        async for _ in stream:
            pass
    return info.value


def assert_raised_by_sdk(exc: BaseException) -> None:
    """``exc`` is the SDK's own exception object: its traceback starts where it was raised."""
    assert exc.__traceback__ is not None
    frames = traceback.extract_tb(exc.__traceback__)
    assert any("/openai/" in f.filename for f in frames)
    assert "agentotel" not in frames[-1].filename


@pytest.fixture(autouse=True)
def _fresh_ids(fake_llm: FakeLLMServer) -> None:
    fake_llm.state.reset()


@pytest.fixture
def base(fake_llm: FakeLLMServer) -> dict[str, Any]:
    """Request-side attributes of a streamed ``chat gpt-4o`` span against the fake server."""
    return {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "gpt-4o",
        "openai.api.type": "chat_completions",
        "gen_ai.request.stream": True,
        "gen_ai.provider.name": "openai",
        "server.address": "127.0.0.1",
        "server.port": fake_llm.port,
    }


@pytest.fixture
def metric_base(fake_llm: FakeLLMServer) -> dict[str, Any]:
    return {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o",
        "server.address": "127.0.0.1",
        "server.port": fake_llm.port,
    }


# --------------------------------------------------------------------------- sync: exhausted


def test_exhausted_stream_span(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI, base: dict[str, Any]
) -> None:
    stream = openai_client.chat.completions.create(
        model="gpt-4o", messages=user(Q), stream=True, stream_options=USAGE
    )
    for _ in stream:
        pass

    span = one_span(openai_instrumented)
    assert span.status.status_code is StatusCode.UNSET
    assert has_time_to_first_chunk(span)
    assert attributes(span) == {**base, **FINISHED, "agentotel.stream.end": "exhausted"}


def test_exhausted_stream_metrics(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI, metric_base: dict[str, Any]
) -> None:
    stream = openai_client.chat.completions.create(
        model="gpt-4o", messages=user(Q), stream=True, stream_options=USAGE
    )
    for _ in stream:
        pass

    cap = openai_instrumented
    attrs = {**metric_base, "gen_ai.response.model": "gpt-4o-2024-08-06"}
    assert points(cap, TOKENS) == [
        ({**attrs, "gen_ai.token.type": "input"}, 1),
        ({**attrs, "gen_ai.token.type": "output"}, 1),
    ]
    assert token_sums(cap) == {"input": 6, "output": 6}
    assert points(cap, DURATION) == [(attrs, 1)]
    assert points(cap, TIME_TO_FIRST_CHUNK) == [(attrs, 1)]
    assert points(cap, TIME_PER_OUTPUT_CHUNK) == [(attrs, 1)]


def test_stream_proxy_behaves_like_the_sdk_stream(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI
) -> None:
    stream = openai_client.chat.completions.create(
        model="gpt-4o", messages=user(Q), stream=True, stream_options=USAGE
    )

    assert isinstance(stream, openai.Stream)
    assert isinstance(stream.response, httpx2.Response)
    assert stream.response.status_code == 200
    assert stream.response.headers["x-request-id"] == "req_1"
    chunks = list(stream)
    assert len(chunks) == 9
    assert all(type(c) is ChatCompletionChunk for c in chunks)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == REPLY


def test_span_stays_open_while_the_stream_is_read(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI
) -> None:
    stream = openai_client.chat.completions.create(model="gpt-4o", messages=user(Q), stream=True)
    assert openai_instrumented.spans() == []
    next(stream)
    next(stream)
    assert openai_instrumented.spans() == []
    for _ in stream:
        pass
    one_span(openai_instrumented)


def test_close_after_exhaustion_keeps_one_span(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI
) -> None:
    stream = openai_client.chat.completions.create(model="gpt-4o", messages=user(Q), stream=True)
    for _ in stream:
        pass
    stream.close()
    del stream
    gc.collect()

    assert (one_span(openai_instrumented).attributes or {})["agentotel.stream.end"] == "exhausted"
    assert openai_instrumented.metric_count(DURATION) == 1


def test_stream_without_include_usage_has_no_usage(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI, base: dict[str, Any]
) -> None:
    for _ in openai_client.chat.completions.create(model="gpt-4o", messages=user(Q), stream=True):
        pass

    span = one_span(openai_instrumented)
    assert attributes(span) == {
        **base,
        **FIRST_CHUNK,
        "gen_ai.response.finish_reasons": ("stop",),
        "agentotel.stream.end": "exhausted",
    }
    assert openai_instrumented.metric_points(TOKENS) == []
    assert openai_instrumented.metric_count(DURATION) == 1


def test_stream_cached_and_reasoning_tokens(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI, base: dict[str, Any]
) -> None:
    prompt = f"{Q} [[scenario:cached:4]] [[scenario:reasoning:3]]"  # 8 tokens
    for _ in openai_client.chat.completions.create(
        model="gpt-4o", messages=user(prompt), stream=True, stream_options=USAGE
    ):
        pass

    assert attributes(one_span(openai_instrumented)) == {
        **base,
        **FINISHED,
        "gen_ai.usage.input_tokens": 8,
        "gen_ai.usage.output_tokens": 9,
        "gen_ai.usage.cache_read.input_tokens": 4,
        "gen_ai.usage.reasoning.output_tokens": 3,
        "agentotel.stream.end": "exhausted",
    }
    assert token_sums(openai_instrumented) == {"input": 8, "output": 9}


def test_stream_n2_finish_reasons_per_choice(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI, base: dict[str, Any]
) -> None:
    for _ in openai_client.chat.completions.create(
        model="gpt-4o", messages=user(Q), n=2, stream=True, stream_options=USAGE
    ):
        pass

    assert attributes(one_span(openai_instrumented)) == {
        **base,
        "gen_ai.request.choice.count": 2,
        **FINISHED,
        "gen_ai.response.finish_reasons": ("stop", "stop"),
        "gen_ai.usage.output_tokens": 12,
        "agentotel.stream.end": "exhausted",
    }


def test_stream_tool_call(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI, base: dict[str, Any]
) -> None:
    for _ in openai_client.chat.completions.create(
        model="gpt-4o", messages=user(Q), tools=TOOLS, stream=True, stream_options=USAGE
    ):
        pass

    assert attributes(one_span(openai_instrumented)) == {
        **base,
        **FINISHED,
        "gen_ai.response.finish_reasons": ("tool_calls",),
        "agentotel.response.tool_calls.names": ("get_weather",),
        "agentotel.response.tool_calls.ids": ("call_1",),
        "gen_ai.usage.output_tokens": 2,
        "agentotel.stream.end": "exhausted",
    }


def test_stream_tool_calls_for_each_choice(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI
) -> None:
    for _ in openai_client.chat.completions.create(
        model="gpt-4o", messages=user(Q), tools=TOOLS, n=2, stream=True
    ):
        pass

    attrs = one_span(openai_instrumented).attributes or {}
    assert attrs["gen_ai.response.finish_reasons"] == ("tool_calls", "tool_calls")
    assert attrs["agentotel.response.tool_calls.names"] == ("get_weather", "get_weather")
    assert attrs["agentotel.response.tool_calls.ids"] == ("call_1", "call_2")


# --------------------------------------------------------------------------- sync: cut short


def test_break_then_close_ends_closed(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI, base: dict[str, Any]
) -> None:
    stream = openai_client.chat.completions.create(
        model="gpt-4o", messages=user(Q), stream=True, stream_options=USAGE
    )
    for _ in stream:
        break
    assert openai_instrumented.spans() == []
    stream.close()

    span = one_span(openai_instrumented)
    assert span.status.status_code is StatusCode.UNSET
    assert has_time_to_first_chunk(span)
    assert attributes(span) == {**base, **FIRST_CHUNK, "agentotel.stream.end": "closed"}


def test_break_then_close_metrics(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI, metric_base: dict[str, Any]
) -> None:
    stream = openai_client.chat.completions.create(
        model="gpt-4o", messages=user(Q), stream=True, stream_options=USAGE
    )
    for _ in stream:
        break
    stream.close()

    cap = openai_instrumented
    attrs = {**metric_base, "gen_ai.response.model": "gpt-4o-2024-08-06"}
    assert points(cap, DURATION) == [(attrs, 1)]
    assert points(cap, TIME_TO_FIRST_CHUNK) == [(attrs, 1)]
    assert cap.metric_points(TIME_PER_OUTPUT_CHUNK) == []  # a single chunk was read
    assert cap.metric_points(TOKENS) == []  # the usage chunk was never read


def test_close_before_reading_ends_closed(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI, base: dict[str, Any]
) -> None:
    stream = openai_client.chat.completions.create(model="gpt-4o", messages=user(Q), stream=True)
    stream.close()

    span = one_span(openai_instrumented)
    assert span.status.status_code is StatusCode.UNSET
    assert dict(span.attributes or {}) == {**base, "agentotel.stream.end": "closed"}
    assert openai_instrumented.metric_count(DURATION) == 1
    assert chunk_metric_counts(openai_instrumented) == (0, 0)


def test_with_block_exit_ends_closed(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI, base: dict[str, Any]
) -> None:
    stream = openai_client.chat.completions.create(model="gpt-4o", messages=user(Q), stream=True)
    with stream as entered:
        assert entered is stream
        next(stream)
        next(stream)
        assert openai_instrumented.spans() == []

    span = one_span(openai_instrumented)
    assert span.status.status_code is StatusCode.UNSET
    assert attributes(span) == {**base, **FIRST_CHUNK, "agentotel.stream.end": "closed"}
    assert chunk_metric_counts(openai_instrumented) == (1, 1)


def test_abandoned_stream_ends_on_collection(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI, base: dict[str, Any]
) -> None:
    stream = openai_client.chat.completions.create(model="gpt-4o", messages=user(Q), stream=True)
    next(stream)
    assert openai_instrumented.spans() == []
    del stream
    gc.collect()

    span = one_span(openai_instrumented)
    assert span.status.status_code is StatusCode.UNSET
    assert attributes(span) == {**base, **FIRST_CHUNK, "agentotel.stream.end": "abandoned"}
    assert openai_instrumented.metric_count(DURATION) == 1


def test_break_close_and_collect_end_once(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI
) -> None:
    stream = openai_client.chat.completions.create(model="gpt-4o", messages=user(Q), stream=True)
    for _ in stream:
        break
    stream.close()
    stream.close()
    del stream
    gc.collect()

    assert (one_span(openai_instrumented).attributes or {})["agentotel.stream.end"] == "closed"
    assert openai_instrumented.metric_count(DURATION) == 1


# --------------------------------------------------------------------------- sync: errors


def test_disconnect_mid_stream(
    openai_instrumented: TelemetryCapture,
    openai_client: openai.OpenAI,
    base: dict[str, Any],
    metric_base: dict[str, Any],
) -> None:
    stream = openai_client.chat.completions.create(
        model="gpt-4o", messages=user(f"{Q} [[scenario:disconnect]]"), stream=True
    )
    received = []
    with pytest.raises(openai.APIConnectionError) as info:
        for chunk in stream:
            received.append(chunk)

    assert len(received) == 2
    assert type(info.value) is openai.APIConnectionError
    span = one_span(openai_instrumented)
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "openai.APIConnectionError: Connection error."
    assert attributes(span) == {
        **base,
        **FIRST_CHUNK,
        "agentotel.stream.end": "error",
        "error.type": "openai.APIConnectionError",
    }
    (event,) = span.events
    assert event.name == "exception"
    assert (event.attributes or {})["exception.type"] == "openai.APIConnectionError"
    assert points(openai_instrumented, DURATION) == [
        ({**metric_base, "error.type": "openai.APIConnectionError"}, 1)
    ]
    assert openai_instrumented.metric_points(TOKENS) == []


def test_error_then_close_keeps_one_span(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI
) -> None:
    stream = openai_client.chat.completions.create(
        model="gpt-4o", messages=user(f"{Q} [[scenario:disconnect]]"), stream=True
    )
    with pytest.raises(openai.APIConnectionError):
        for _ in stream:
            pass
    stream.close()
    del stream
    gc.collect()

    span = one_span(openai_instrumented)
    assert span.status.status_code is StatusCode.ERROR
    assert (span.attributes or {})["agentotel.stream.end"] == "error"


def test_malformed_chunk_mid_stream(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI, base: dict[str, Any]
) -> None:
    stream = openai_client.chat.completions.create(
        model="gpt-4o", messages=user(f"{Q} [[scenario:malformed]]"), stream=True
    )
    with pytest.raises(json.JSONDecodeError):
        for _ in stream:
            pass

    span = one_span(openai_instrumented)
    assert span.status.status_code is StatusCode.ERROR
    assert attributes(span) == {
        **base,
        **FIRST_CHUNK,
        "agentotel.stream.end": "error",
        "error.type": "json.JSONDecodeError",
    }


REQUEST_FAILURES = [
    pytest.param("[[scenario:rate_limit]]", openai.RateLimitError, "openai.RateLimitError", None, id="429"),
    pytest.param(
        "[[scenario:server_error]]", openai.InternalServerError, "openai.InternalServerError", None, id="500"
    ),
    pytest.param(
        "[[scenario:bad_request]]", openai.BadRequestError, "openai.BadRequestError", None, id="400"
    ),
    pytest.param("[[scenario:slow:1]]", openai.APITimeoutError, "openai.APITimeoutError", 0.2, id="timeout"),
]
MID_STREAM_FAILURES = [
    pytest.param("[[scenario:disconnect]]", openai.APIConnectionError, id="disconnect"),
    pytest.param("[[scenario:malformed]]", json.JSONDecodeError, id="malformed"),
]


@pytest.mark.parametrize(("marker", "error", "error_type", "timeout"), REQUEST_FAILURES)
def test_failed_stream_request(
    openai_instrumented: TelemetryCapture,
    openai_client: openai.OpenAI,
    base: dict[str, Any],
    metric_base: dict[str, Any],
    marker: str,
    error: type[Exception],
    error_type: str,
    timeout: float | None,
) -> None:
    options: Any = {"timeout": timeout} if timeout is not None else {}
    with pytest.raises(error) as info:
        openai_client.chat.completions.create(
            model="gpt-4o", messages=user(f"{Q} {marker}"), stream=True, **options
        )

    assert type(info.value) is error
    assert_raised_by_sdk(info.value)
    span = one_span(openai_instrumented)
    assert span.status.status_code is StatusCode.ERROR
    assert dict(span.attributes or {}) == {**base, "error.type": error_type}  # no stream.end: no stream
    assert [e.name for e in span.events] == ["exception"]
    assert points(openai_instrumented, DURATION) == [({**metric_base, "error.type": error_type}, 1)]
    assert chunk_metric_counts(openai_instrumented) == (0, 0)


@pytest.mark.parametrize(("marker", "error"), MID_STREAM_FAILURES)
def test_mid_stream_error_reaches_caller_unchanged(
    cap: TelemetryCapture, openai_client: openai.OpenAI, marker: str, error: type[Exception]
) -> None:
    request: Any = {"model": "gpt-4o", "messages": user(f"{Q} {marker}"), "stream": True}
    baseline = read_all(openai_client.chat.completions.create(**request))
    with instrumented(cap):
        exc = read_all(openai_client.chat.completions.create(**request))

    assert type(exc) is type(baseline) is error
    assert str(exc) == str(baseline)
    assert_raised_by_sdk(exc)
    assert (one_span(cap).attributes or {})["agentotel.stream.end"] == "error"


# --------------------------------------------------------------------------- async


async def test_async_exhausted_stream(
    openai_instrumented: TelemetryCapture,
    async_openai_client: openai.AsyncOpenAI,
    base: dict[str, Any],
    metric_base: dict[str, Any],
) -> None:
    stream = await async_openai_client.chat.completions.create(
        model="gpt-4o", messages=user(Q), stream=True, stream_options=USAGE
    )
    chunks = [chunk async for chunk in stream]

    assert len(chunks) == 9
    assert all(type(c) is ChatCompletionChunk for c in chunks)
    span = one_span(openai_instrumented)
    assert span.status.status_code is StatusCode.UNSET
    assert has_time_to_first_chunk(span)
    assert attributes(span) == {**base, **FINISHED, "agentotel.stream.end": "exhausted"}
    attrs = {**metric_base, "gen_ai.response.model": "gpt-4o-2024-08-06"}
    assert token_sums(openai_instrumented) == {"input": 6, "output": 6}
    assert points(openai_instrumented, DURATION) == [(attrs, 1)]
    assert points(openai_instrumented, TIME_TO_FIRST_CHUNK) == [(attrs, 1)]
    assert points(openai_instrumented, TIME_PER_OUTPUT_CHUNK) == [(attrs, 1)]


async def test_async_stream_proxy_behaves_like_the_sdk_stream(
    openai_instrumented: TelemetryCapture, async_openai_client: openai.AsyncOpenAI
) -> None:
    stream = await async_openai_client.chat.completions.create(model="gpt-4o", messages=user(Q), stream=True)

    assert isinstance(stream, openai.AsyncStream)
    assert isinstance(stream.response, httpx2.Response)
    assert stream.response.status_code == 200
    first = await stream.__anext__()
    assert type(first) is ChatCompletionChunk
    await stream.close()


async def test_async_stream_without_include_usage_has_no_usage(
    openai_instrumented: TelemetryCapture, async_openai_client: openai.AsyncOpenAI, base: dict[str, Any]
) -> None:
    stream = await async_openai_client.chat.completions.create(model="gpt-4o", messages=user(Q), stream=True)
    async for _ in stream:
        pass

    assert attributes(one_span(openai_instrumented)) == {
        **base,
        **FIRST_CHUNK,
        "gen_ai.response.finish_reasons": ("stop",),
        "agentotel.stream.end": "exhausted",
    }
    assert openai_instrumented.metric_points(TOKENS) == []


async def test_async_break_then_close_ends_closed(
    openai_instrumented: TelemetryCapture, async_openai_client: openai.AsyncOpenAI, base: dict[str, Any]
) -> None:
    stream = await async_openai_client.chat.completions.create(
        model="gpt-4o", messages=user(Q), stream=True, stream_options=USAGE
    )
    async for _ in stream:
        break
    assert openai_instrumented.spans() == []
    await stream.close()

    span = one_span(openai_instrumented)
    assert span.status.status_code is StatusCode.UNSET
    assert attributes(span) == {**base, **FIRST_CHUNK, "agentotel.stream.end": "closed"}
    assert chunk_metric_counts(openai_instrumented) == (1, 0)
    assert openai_instrumented.metric_points(TOKENS) == []


async def test_async_close_before_reading_ends_closed(
    openai_instrumented: TelemetryCapture, async_openai_client: openai.AsyncOpenAI, base: dict[str, Any]
) -> None:
    stream = await async_openai_client.chat.completions.create(model="gpt-4o", messages=user(Q), stream=True)
    await stream.close()

    span = one_span(openai_instrumented)
    assert span.status.status_code is StatusCode.UNSET
    assert dict(span.attributes or {}) == {**base, "agentotel.stream.end": "closed"}
    assert chunk_metric_counts(openai_instrumented) == (0, 0)


async def test_async_with_block_exit_ends_closed(
    openai_instrumented: TelemetryCapture, async_openai_client: openai.AsyncOpenAI, base: dict[str, Any]
) -> None:
    stream = await async_openai_client.chat.completions.create(model="gpt-4o", messages=user(Q), stream=True)
    async with stream as entered:
        assert entered is stream
        await stream.__anext__()
        assert openai_instrumented.spans() == []

    span = one_span(openai_instrumented)
    assert span.status.status_code is StatusCode.UNSET
    assert attributes(span) == {**base, **FIRST_CHUNK, "agentotel.stream.end": "closed"}


async def test_async_abandoned_stream_ends_on_collection(
    openai_instrumented: TelemetryCapture, async_openai_client: openai.AsyncOpenAI, base: dict[str, Any]
) -> None:
    stream = await async_openai_client.chat.completions.create(model="gpt-4o", messages=user(Q), stream=True)
    await stream.__anext__()
    assert openai_instrumented.spans() == []
    del stream
    gc.collect()

    span = one_span(openai_instrumented)
    assert span.status.status_code is StatusCode.UNSET
    assert attributes(span) == {**base, **FIRST_CHUNK, "agentotel.stream.end": "abandoned"}


async def test_async_disconnect_mid_stream(
    openai_instrumented: TelemetryCapture, async_openai_client: openai.AsyncOpenAI, base: dict[str, Any]
) -> None:
    stream = await async_openai_client.chat.completions.create(
        model="gpt-4o", messages=user(f"{Q} [[scenario:disconnect]]"), stream=True
    )
    received = []
    with pytest.raises(openai.APIConnectionError) as info:
        async for chunk in stream:
            received.append(chunk)

    assert len(received) == 2
    assert type(info.value) is openai.APIConnectionError
    span = one_span(openai_instrumented)
    assert span.status.status_code is StatusCode.ERROR
    assert attributes(span) == {
        **base,
        **FIRST_CHUNK,
        "agentotel.stream.end": "error",
        "error.type": "openai.APIConnectionError",
    }
    assert [e.name for e in span.events] == ["exception"]


async def test_async_malformed_chunk_mid_stream(
    openai_instrumented: TelemetryCapture, async_openai_client: openai.AsyncOpenAI
) -> None:
    stream = await async_openai_client.chat.completions.create(
        model="gpt-4o", messages=user(f"{Q} [[scenario:malformed]]"), stream=True
    )
    with pytest.raises(json.JSONDecodeError):
        async for _ in stream:
            pass

    span = one_span(openai_instrumented)
    assert span.status.status_code is StatusCode.ERROR
    assert (span.attributes or {})["agentotel.stream.end"] == "error"
    assert (span.attributes or {})["error.type"] == "json.JSONDecodeError"


@pytest.mark.parametrize(("marker", "error", "error_type", "timeout"), REQUEST_FAILURES)
async def test_async_failed_stream_request(
    openai_instrumented: TelemetryCapture,
    async_openai_client: openai.AsyncOpenAI,
    base: dict[str, Any],
    metric_base: dict[str, Any],
    marker: str,
    error: type[Exception],
    error_type: str,
    timeout: float | None,
) -> None:
    options: Any = {"timeout": timeout} if timeout is not None else {}
    with pytest.raises(error) as info:
        await async_openai_client.chat.completions.create(
            model="gpt-4o", messages=user(f"{Q} {marker}"), stream=True, **options
        )

    assert type(info.value) is error
    assert_raised_by_sdk(info.value)
    span = one_span(openai_instrumented)
    assert span.status.status_code is StatusCode.ERROR
    assert dict(span.attributes or {}) == {**base, "error.type": error_type}
    assert points(openai_instrumented, DURATION) == [({**metric_base, "error.type": error_type}, 1)]


@pytest.mark.parametrize(("marker", "error"), MID_STREAM_FAILURES)
async def test_async_mid_stream_error_reaches_caller_unchanged(
    cap: TelemetryCapture, async_openai_client: openai.AsyncOpenAI, marker: str, error: type[Exception]
) -> None:
    request: Any = {"model": "gpt-4o", "messages": user(f"{Q} {marker}"), "stream": True}
    baseline = await aread_all(await async_openai_client.chat.completions.create(**request))
    with instrumented(cap):
        exc = await aread_all(await async_openai_client.chat.completions.create(**request))

    assert type(exc) is type(baseline) is error
    assert str(exc) == str(baseline)
    assert_raised_by_sdk(exc)
    assert (one_span(cap).attributes or {})["agentotel.stream.end"] == "error"


# --------------------------------------------------------------------------- raw-response streams


def test_raw_response_stream(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI, base: dict[str, Any]
) -> None:
    raw = openai_client.chat.completions.with_raw_response.create(
        model="gpt-4o", messages=user(Q), stream=True, stream_options=USAGE
    )
    assert raw.headers["x-request-id"] == "req_1"
    stream = raw.parse()
    assert isinstance(stream, openai.Stream)
    chunks = list(stream)

    assert all(type(c) is ChatCompletionChunk for c in chunks)
    assert attributes(one_span(openai_instrumented)) == {
        **base,
        **FINISHED,
        "agentotel.stream.end": "exhausted",
    }


async def test_async_raw_response_stream(
    openai_instrumented: TelemetryCapture, async_openai_client: openai.AsyncOpenAI, base: dict[str, Any]
) -> None:
    raw = await async_openai_client.chat.completions.with_raw_response.create(
        model="gpt-4o", messages=user(Q), stream=True, stream_options=USAGE
    )
    stream = raw.parse()
    assert isinstance(stream, openai.AsyncStream)
    async for _ in stream:
        pass

    assert attributes(one_span(openai_instrumented)) == {
        **base,
        **FINISHED,
        "agentotel.stream.end": "exhausted",
    }


def test_streaming_response_stream(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI, base: dict[str, Any]
) -> None:
    with openai_client.chat.completions.with_streaming_response.create(
        model="gpt-4o", messages=user(Q), stream=True, stream_options=USAGE
    ) as resp:
        assert resp.headers["x-request-id"] == "req_1"
        for _ in resp.parse():
            pass

    assert attributes(one_span(openai_instrumented)) == {
        **base,
        **FINISHED,
        "agentotel.stream.end": "exhausted",
    }


async def test_async_streaming_response_stream(
    openai_instrumented: TelemetryCapture, async_openai_client: openai.AsyncOpenAI, base: dict[str, Any]
) -> None:
    async with async_openai_client.chat.completions.with_streaming_response.create(
        model="gpt-4o", messages=user(Q), stream=True, stream_options=USAGE
    ) as resp:
        stream = await resp.parse()
        async for _ in stream:
            pass

    assert attributes(one_span(openai_instrumented)) == {
        **base,
        **FINISHED,
        "agentotel.stream.end": "exhausted",
    }


# --------------------------------------------------------------------------- .stream() helper


def test_stream_helper_goes_through_create(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI, base: dict[str, Any]
) -> None:
    with openai_client.chat.completions.stream(
        model="gpt-4o", messages=user(Q), stream_options=USAGE
    ) as stream:
        final = stream.get_final_completion()

    assert final.choices[0].message.content == REPLY
    assert attributes(one_span(openai_instrumented)) == {
        **base,
        **FINISHED,
        "agentotel.stream.end": "exhausted",
    }
    assert token_sums(openai_instrumented) == {"input": 6, "output": 6}


async def test_async_stream_helper_goes_through_create(
    openai_instrumented: TelemetryCapture, async_openai_client: openai.AsyncOpenAI, base: dict[str, Any]
) -> None:
    async with async_openai_client.chat.completions.stream(
        model="gpt-4o", messages=user(Q), stream_options=USAGE
    ) as stream:
        final = await stream.get_final_completion()

    assert final.choices[0].message.content == REPLY
    assert attributes(one_span(openai_instrumented)) == {
        **base,
        **FINISHED,
        "agentotel.stream.end": "exhausted",
    }


def test_stream_helper_left_early_ends_closed_at_block_exit(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI, base: dict[str, Any]
) -> None:
    with openai_client.chat.completions.stream(model="gpt-4o", messages=user(Q)) as stream:
        for _ in stream:
            break

    # The helper's block exit closed the HTTP response: the call is over, the span must be too.
    span = one_span(openai_instrumented)
    assert span.status.status_code is StatusCode.UNSET
    assert attributes(span) == {**base, **FIRST_CHUNK, "agentotel.stream.end": "closed"}


async def test_async_stream_helper_left_early_ends_closed_at_block_exit(
    openai_instrumented: TelemetryCapture, async_openai_client: openai.AsyncOpenAI, base: dict[str, Any]
) -> None:
    async with async_openai_client.chat.completions.stream(model="gpt-4o", messages=user(Q)) as stream:
        async for _ in stream:
            break

    span = one_span(openai_instrumented)
    assert attributes(span) == {**base, **FIRST_CHUNK, "agentotel.stream.end": "closed"}


# --------------------------------------------------------------------------- suppression / sampling


def test_suppressed_stream_is_the_plain_sdk_stream(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI
) -> None:
    with suppress_instrumentation():
        stream = openai_client.chat.completions.create(model="gpt-4o", messages=user(Q), stream=True)
    chunks = list(stream)

    assert type(stream) is openai.Stream
    assert len(chunks) == 8
    assert openai_instrumented.spans() == []
    assert openai_instrumented.metric_points(DURATION) == []


@pytest.fixture
def unsampled(cap: TelemetryCapture) -> Iterator[InMemorySpanExporter]:
    """The instrumentor on a tracer provider that samples nothing (metrics still go to ``cap``)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=ALWAYS_OFF)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    instrumentor = OpenAIInstrumentor()
    instrumentor.instrument(tracer_provider=provider, meter_provider=cap.meter_provider)
    yield exporter
    instrumentor.uninstrument()
    provider.shutdown()


def test_unsampled_stream_records_metrics_only(
    unsampled: InMemorySpanExporter, cap: TelemetryCapture, openai_client: openai.OpenAI
) -> None:
    stream = openai_client.chat.completions.create(
        model="gpt-4o", messages=user(Q), stream=True, stream_options=USAGE
    )
    chunks = list(stream)

    assert len(chunks) == 9
    assert unsampled.get_finished_spans() == ()
    assert token_sums(cap) == {"input": 6, "output": 6}
    assert cap.metric_count(DURATION) == 1
    assert chunk_metric_counts(cap) == (1, 1)
    assert cap.metric_points(TELEMETRY_ERRORS) == []
