"""OpenAI chat completion streams: one span per stream, however the stream is left.

The fake server streams ``user(QUESTION)`` on gpt-4o as: a role chunk, one chunk per word of the
6-word reply, a finish chunk and, with ``include_usage``, a usage chunk (9 chunks), then
``[DONE]``. ``[[scenario:disconnect]]`` drops the connection after 2 chunks.
"""

from __future__ import annotations

import gc
import json
from typing import Any

import openai
import pytest
from helpers import (
    CHAT_TOOLS,
    DURATION,
    QUESTION,
    REPLY,
    TELEMETRY_ERRORS,
    TIME_PER_OUTPUT_CHUNK,
    TIME_TO_FIRST_CHUNK,
    TOKENS,
    Failure,
    instrumented,
    priced,
    resolve,
    token_sums,
    user,
)
from openai.types.chat import ChatCompletionChunk
from openai_helpers import (
    CHAT_FIRST_CHUNK,
    CHAT_REPLY_ATTRS,
    CHAT_TOOL_CALL_ATTRS,
    DISCONNECT,
    DISCONNECT_TYPE,
    HTTP,
    REQUEST_FAILURES,
    assert_both_choices_called_get_weather,
    assert_raised_by_sdk,
    assert_usage_and_duration,
    attributes,
    chat_stream,
    drain,
    entered,
    failing_request,
    is_async,
    one_span,
    points,
    span_base,
)
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from agentotel.instrumentation.openai import OpenAIInstrumentor
from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture

pytestmark = pytest.mark.usefixtures("fresh_fake_llm")

USAGE = {"include_usage": True}
# The span of the standard reply, once its stream was read to the end ...
EXHAUSTED: dict[str, Any] = {**CHAT_REPLY_ATTRS, "agentotel.stream.end": "exhausted"}
# ... and without ``include_usage``: no usage chunk, no token counts.
EXHAUSTED_WITHOUT_USAGE: dict[str, Any] = {
    **CHAT_FIRST_CHUNK,
    "gen_ai.response.finish_reasons": ("stop",),
    "agentotel.stream.end": "exhausted",
}


# --------------------------------------------------------------------------- helpers


def create_stream(client: Any, text: str = QUESTION, **options: Any) -> Any:
    """A chat completion stream from gpt-4o (to be awaited for the async client)."""
    return client.chat.completions.create(model="gpt-4o", messages=user(text), stream=True, **options)


def chat_span(cap: TelemetryCapture) -> ReadableSpan:
    """The single finished span, a ``chat gpt-4o`` client span (and agentotel swallowed no error)."""
    span = one_span(cap)
    assert span.name == "chat gpt-4o"
    assert span.kind is SpanKind.CLIENT
    return span


def has_time_to_first_chunk(span: ReadableSpan) -> bool:
    return "gen_ai.response.time_to_first_chunk" in (span.attributes or {})


def chunk_metric_counts(cap: TelemetryCapture) -> tuple[int, int]:
    """Measurements of (time_to_first_chunk, time_per_output_chunk)."""
    return cap.metric_count(TIME_TO_FIRST_CHUNK), cap.metric_count(TIME_PER_OUTPUT_CHUNK)


async def break_after_first(stream: Any, client: Any) -> None:
    """``for _ in stream: break`` (``async for`` for the async client)."""
    if is_async(client):
        async for _ in stream:
            break
    else:
        for _ in stream:
            break


async def next_chunk(stream: Any, client: Any) -> Any:
    return await stream.__anext__() if is_async(client) else next(stream)


async def read_error(stream: Any, client: Any) -> BaseException:
    """Iterate ``stream`` until it raises; the exception."""
    with pytest.raises(BaseException) as info:
        await drain(stream, client)
    return info.value


@pytest.fixture
def base(fake_llm: FakeLLMServer) -> dict[str, Any]:
    """Request-side attributes of a streamed ``chat gpt-4o`` span against the fake server."""
    return span_base(fake_llm, "chat_completions", stream=True)


# --------------------------------------------------------------------------- exhausted


async def test_exhausted_stream_span(
    openai_instrumented: TelemetryCapture, client: Any, base: dict[str, Any]
) -> None:
    await drain(await resolve(create_stream(client, stream_options=USAGE)), client)

    span = chat_span(openai_instrumented)
    assert span.status.status_code is StatusCode.UNSET
    assert has_time_to_first_chunk(span)
    assert attributes(span) == priced({**base, **EXHAUSTED})


async def test_exhausted_stream_metrics(
    openai_instrumented: TelemetryCapture, client: Any, metric_base: dict[str, Any]
) -> None:
    await drain(await resolve(create_stream(client, stream_options=USAGE)), client)

    cap = openai_instrumented
    attrs = assert_usage_and_duration(cap, metric_base)
    assert points(cap, TIME_TO_FIRST_CHUNK) == [(attrs, 1)]
    assert points(cap, TIME_PER_OUTPUT_CHUNK) == [(attrs, 1)]


async def test_stream_proxy_behaves_like_the_sdk_stream(
    openai_instrumented: TelemetryCapture, client: Any
) -> None:
    stream = await resolve(create_stream(client, stream_options=USAGE))

    assert isinstance(stream, openai.AsyncStream if is_async(client) else openai.Stream)
    assert isinstance(stream.response, HTTP.Response)
    assert stream.response.status_code == 200
    assert stream.response.headers["x-request-id"] == "req_1"
    chunks = await drain(stream, client)
    assert len(chunks) == 9
    assert all(type(c) is ChatCompletionChunk for c in chunks)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == REPLY


def test_span_stays_open_while_the_stream_is_read(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI
) -> None:
    stream = create_stream(openai_client)
    assert openai_instrumented.spans() == []
    next(stream)
    next(stream)
    assert openai_instrumented.spans() == []
    for _ in stream:
        pass
    chat_span(openai_instrumented)


def test_close_after_exhaustion_keeps_one_span(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI
) -> None:
    stream = create_stream(openai_client)
    for _ in stream:
        pass
    stream.close()
    del stream
    gc.collect()

    assert (chat_span(openai_instrumented).attributes or {})["agentotel.stream.end"] == "exhausted"
    assert openai_instrumented.metric_count(DURATION) == 1


async def test_stream_without_include_usage_has_no_usage(
    openai_instrumented: TelemetryCapture, client: Any, base: dict[str, Any]
) -> None:
    await drain(await resolve(create_stream(client)), client)

    span = chat_span(openai_instrumented)
    assert attributes(span) == priced({**base, **EXHAUSTED_WITHOUT_USAGE})
    assert openai_instrumented.metric_points(TOKENS) == []
    assert openai_instrumented.metric_count(DURATION) == 1


def test_stream_cached_and_reasoning_tokens(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI, base: dict[str, Any]
) -> None:
    prompt = f"{QUESTION} [[scenario:cached:4]] [[scenario:reasoning:3]]"  # 8 tokens
    for _ in create_stream(openai_client, prompt, stream_options=USAGE):
        pass

    assert attributes(chat_span(openai_instrumented)) == priced(
        {
            **base,
            **EXHAUSTED,
            "gen_ai.usage.input_tokens": 8,
            "gen_ai.usage.output_tokens": 9,
            "gen_ai.usage.cache_read.input_tokens": 4,
            "gen_ai.usage.reasoning.output_tokens": 3,
        }
    )
    assert token_sums(openai_instrumented) == {"input": 8, "output": 9}


def test_stream_n2_finish_reasons_per_choice(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI, base: dict[str, Any]
) -> None:
    for _ in create_stream(openai_client, n=2, stream_options=USAGE):
        pass

    assert attributes(chat_span(openai_instrumented)) == priced(
        {
            **base,
            "gen_ai.request.choice.count": 2,
            **EXHAUSTED,
            "gen_ai.response.finish_reasons": ("stop", "stop"),
            "gen_ai.usage.output_tokens": 12,
        }
    )


def test_stream_tool_call(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI, base: dict[str, Any]
) -> None:
    for _ in create_stream(openai_client, tools=CHAT_TOOLS, stream_options=USAGE):
        pass

    assert attributes(chat_span(openai_instrumented)) == priced(
        {
            **base,
            **CHAT_TOOL_CALL_ATTRS,
            "agentotel.stream.end": "exhausted",
        }
    )


def test_stream_tool_calls_for_each_choice(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI
) -> None:
    for _ in create_stream(openai_client, tools=CHAT_TOOLS, n=2):
        pass

    assert_both_choices_called_get_weather(chat_span(openai_instrumented))


# --------------------------------------------------------------------------- cut short


async def test_break_then_close_ends_closed(
    openai_instrumented: TelemetryCapture, client: Any, base: dict[str, Any]
) -> None:
    stream = await resolve(create_stream(client, stream_options=USAGE))
    await break_after_first(stream, client)
    assert openai_instrumented.spans() == []
    await resolve(stream.close())

    span = chat_span(openai_instrumented)
    assert span.status.status_code is StatusCode.UNSET
    assert has_time_to_first_chunk(span)
    assert attributes(span) == priced({**base, **CHAT_FIRST_CHUNK, "agentotel.stream.end": "closed"})
    assert chunk_metric_counts(openai_instrumented) == (1, 0)
    assert openai_instrumented.metric_points(TOKENS) == []


def test_break_then_close_metrics(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI, metric_base: dict[str, Any]
) -> None:
    stream = create_stream(openai_client, stream_options=USAGE)
    for _ in stream:
        break
    stream.close()

    cap = openai_instrumented
    attrs = {**metric_base, "gen_ai.response.model": "gpt-4o-2024-08-06"}
    assert points(cap, DURATION) == [(attrs, 1)]
    assert points(cap, TIME_TO_FIRST_CHUNK) == [(attrs, 1)]
    assert cap.metric_points(TIME_PER_OUTPUT_CHUNK) == []  # a single chunk was read
    assert cap.metric_points(TOKENS) == []  # the usage chunk was never read


async def test_close_before_reading_ends_closed(
    openai_instrumented: TelemetryCapture, client: Any, base: dict[str, Any]
) -> None:
    stream = await resolve(create_stream(client))
    await resolve(stream.close())

    span = chat_span(openai_instrumented)
    assert span.status.status_code is StatusCode.UNSET
    assert dict(span.attributes or {}) == priced({**base, "agentotel.stream.end": "closed"})
    assert openai_instrumented.metric_count(DURATION) == 1
    assert chunk_metric_counts(openai_instrumented) == (0, 0)


async def test_with_block_exit_ends_closed(
    openai_instrumented: TelemetryCapture, client: Any, base: dict[str, Any]
) -> None:
    stream = await resolve(create_stream(client))
    async with entered(stream, client) as value:
        assert value is stream
        await next_chunk(stream, client)
        await next_chunk(stream, client)
        assert openai_instrumented.spans() == []

    span = chat_span(openai_instrumented)
    assert span.status.status_code is StatusCode.UNSET
    assert attributes(span) == priced({**base, **CHAT_FIRST_CHUNK, "agentotel.stream.end": "closed"})
    assert chunk_metric_counts(openai_instrumented) == (1, 1)


async def test_abandoned_stream_ends_on_collection(
    openai_instrumented: TelemetryCapture, client: Any, base: dict[str, Any]
) -> None:
    stream = await resolve(create_stream(client))
    await next_chunk(stream, client)
    assert openai_instrumented.spans() == []
    del stream
    gc.collect()

    span = chat_span(openai_instrumented)
    assert span.status.status_code is StatusCode.UNSET
    assert attributes(span) == priced({**base, **CHAT_FIRST_CHUNK, "agentotel.stream.end": "abandoned"})
    assert openai_instrumented.metric_count(DURATION) == 1


def test_break_close_and_collect_end_once(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI
) -> None:
    stream = create_stream(openai_client)
    for _ in stream:
        break
    stream.close()
    stream.close()
    del stream
    gc.collect()

    assert (chat_span(openai_instrumented).attributes or {})["agentotel.stream.end"] == "closed"
    assert openai_instrumented.metric_count(DURATION) == 1


# --------------------------------------------------------------------------- errors


async def test_disconnect_mid_stream(
    openai_instrumented: TelemetryCapture,
    client: Any,
    base: dict[str, Any],
    metric_base: dict[str, Any],
) -> None:
    stream = await resolve(create_stream(client, f"{QUESTION} [[scenario:disconnect]]"))
    received: list[Any] = []
    with pytest.raises(DISCONNECT) as info:
        await drain(stream, client, received)

    assert len(received) == 2
    assert type(info.value) is DISCONNECT
    span = chat_span(openai_instrumented)
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == f"{DISCONNECT_TYPE}: {info.value}"
    assert attributes(span) == priced(
        {
            **base,
            **CHAT_FIRST_CHUNK,
            "agentotel.stream.end": "error",
            "error.type": DISCONNECT_TYPE,
        }
    )
    (event,) = span.events
    assert event.name == "exception"
    assert (event.attributes or {})["exception.type"] == DISCONNECT_TYPE
    assert points(openai_instrumented, DURATION) == [({**metric_base, "error.type": DISCONNECT_TYPE}, 1)]
    assert openai_instrumented.metric_points(TOKENS) == []


def test_error_then_close_keeps_one_span(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI
) -> None:
    stream = create_stream(openai_client, f"{QUESTION} [[scenario:disconnect]]")
    with pytest.raises(DISCONNECT):
        for _ in stream:
            pass
    stream.close()
    del stream
    gc.collect()

    span = chat_span(openai_instrumented)
    assert span.status.status_code is StatusCode.ERROR
    assert (span.attributes or {})["agentotel.stream.end"] == "error"


async def test_malformed_chunk_mid_stream(
    openai_instrumented: TelemetryCapture, client: Any, base: dict[str, Any]
) -> None:
    stream = await resolve(create_stream(client, f"{QUESTION} [[scenario:malformed]]"))
    with pytest.raises(json.JSONDecodeError):
        await drain(stream, client)

    span = chat_span(openai_instrumented)
    assert span.status.status_code is StatusCode.ERROR
    assert attributes(span) == priced(
        {
            **base,
            **CHAT_FIRST_CHUNK,
            "agentotel.stream.end": "error",
            "error.type": "json.JSONDecodeError",
        }
    )


MID_STREAM_FAILURES = [
    pytest.param("[[scenario:disconnect]]", DISCONNECT, id="disconnect"),
    pytest.param("[[scenario:malformed]]", json.JSONDecodeError, id="malformed"),
]


@pytest.mark.parametrize("failure", REQUEST_FAILURES)
async def test_failed_stream_request(
    openai_instrumented: TelemetryCapture,
    client: Any,
    base: dict[str, Any],
    metric_base: dict[str, Any],
    failure: Failure,
) -> None:
    with pytest.raises(failure.error) as info:
        await resolve(client.chat.completions.create(**failing_request(failure), stream=True))

    assert type(info.value) is failure.error
    assert_raised_by_sdk(info.value)
    span = chat_span(openai_instrumented)
    assert span.status.status_code is StatusCode.ERROR
    # no stream.end: no stream
    assert dict(span.attributes or {}) == priced({**base, "error.type": failure.error_type})
    assert [e.name for e in span.events] == ["exception"]
    assert points(openai_instrumented, DURATION) == [({**metric_base, "error.type": failure.error_type}, 1)]
    assert chunk_metric_counts(openai_instrumented) == (0, 0)


@pytest.mark.parametrize(("marker", "error"), MID_STREAM_FAILURES)
async def test_mid_stream_error_reaches_caller_unchanged(
    cap: TelemetryCapture, client: Any, marker: str, error: type[Exception]
) -> None:
    baseline = await read_error(await resolve(create_stream(client, f"{QUESTION} {marker}")), client)
    with instrumented(cap, OpenAIInstrumentor):
        exc = await read_error(await resolve(create_stream(client, f"{QUESTION} {marker}")), client)

    assert type(exc) is type(baseline) is error
    assert str(exc) == str(baseline)
    assert_raised_by_sdk(exc)
    assert (chat_span(cap).attributes or {})["agentotel.stream.end"] == "error"


# --------------------------------------------------------------------------- raw-response streams


async def test_raw_response_stream(
    openai_instrumented: TelemetryCapture, client: Any, base: dict[str, Any]
) -> None:
    raw = await resolve(
        client.chat.completions.with_raw_response.create(
            model="gpt-4o", messages=user(QUESTION), stream=True, stream_options=USAGE
        )
    )
    assert raw.headers["x-request-id"] == "req_1"
    stream = raw.parse()
    assert isinstance(stream, openai.AsyncStream if is_async(client) else openai.Stream)
    chunks = await drain(stream, client)

    assert all(type(c) is ChatCompletionChunk for c in chunks)
    assert attributes(chat_span(openai_instrumented)) == priced({**base, **EXHAUSTED})


async def test_streaming_response_stream(
    openai_instrumented: TelemetryCapture, client: Any, base: dict[str, Any]
) -> None:
    manager = client.chat.completions.with_streaming_response.create(
        model="gpt-4o", messages=user(QUESTION), stream=True, stream_options=USAGE
    )
    async with entered(manager, client) as resp:
        assert resp.headers["x-request-id"] == "req_1"
        await drain(await resolve(resp.parse()), client)

    assert attributes(chat_span(openai_instrumented)) == priced({**base, **EXHAUSTED})


# --------------------------------------------------------------------------- .stream() helper


async def test_stream_helper_goes_through_create(
    openai_instrumented: TelemetryCapture, client: Any, base: dict[str, Any]
) -> None:
    manager = chat_stream(client)(model="gpt-4o", messages=user(QUESTION), stream_options=USAGE)
    async with entered(manager, client) as stream:
        final = await resolve(stream.get_final_completion())

    assert final.choices[0].message.content == REPLY
    assert attributes(chat_span(openai_instrumented)) == priced({**base, **EXHAUSTED})
    assert token_sums(openai_instrumented) == {"input": 6, "output": 6}


async def test_stream_helper_left_early_ends_closed_at_block_exit(
    openai_instrumented: TelemetryCapture, client: Any, base: dict[str, Any]
) -> None:
    async with entered(chat_stream(client)(model="gpt-4o", messages=user(QUESTION)), client) as stream:
        await break_after_first(stream, client)

    # The helper's block exit closed the HTTP response: the call is over, the span must be too.
    span = chat_span(openai_instrumented)
    assert span.status.status_code is StatusCode.UNSET
    assert attributes(span) == priced({**base, **CHAT_FIRST_CHUNK, "agentotel.stream.end": "closed"})


# --------------------------------------------------------------------------- suppression / sampling


def test_suppressed_stream_is_the_plain_sdk_stream(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI
) -> None:
    with suppress_instrumentation():
        stream = create_stream(openai_client)
    chunks = list(stream)

    assert type(stream) is openai.Stream
    assert len(chunks) == 8
    assert openai_instrumented.spans() == []
    assert openai_instrumented.metric_points(DURATION) == []


def test_unsampled_stream_records_metrics_only(
    openai_unsampled: InMemorySpanExporter, cap: TelemetryCapture, openai_client: openai.OpenAI
) -> None:
    stream = create_stream(openai_client, stream_options=USAGE)
    chunks = list(stream)

    assert len(chunks) == 9
    assert openai_unsampled.get_finished_spans() == ()
    assert token_sums(cap) == {"input": 6, "output": 6}
    assert cap.metric_count(DURATION) == 1
    assert chunk_metric_counts(cap) == (1, 1)
    assert cap.metric_points(TELEMETRY_ERRORS) == []
