"""``chat.completions.create(stream=True)`` (``Groq`` and ``AsyncGroq``): the span ends exactly once
however the stream is left, with the usage Groq sends in the last chunk's ``x_groq.usage``."""

from __future__ import annotations

import contextlib
import gc
import json
from collections.abc import AsyncIterator
from typing import Any

import groq
import httpx
import pytest
from groq_helpers import (
    DURATION,
    MODEL,
    REPLY,
    SPAN_NAME,
    STREAM_END,
    TOKENS,
    WEATHER_TOOLS,
    cost,
    groq_client,
    is_async,
    metric_attrs,
    reply_attrs,
    request_attrs,
    user,
)
from helpers import calls_into, instrumented, resolve
from opentelemetry.trace import StatusCode

from agentotel.instrumentation.groq import GroqInstrumentor
from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture

FIRST_CHUNK = {  # what the first chunk tells: the head and Groq's request id
    "gen_ai.response.id": "chatcmpl-1",
    "gen_ai.response.model": MODEL,
    "groq.request.id": "req_1",
}
TTFC = "gen_ai.response.time_to_first_chunk"


async def open_stream(client: Any, text: str = "What is the weather in Paris?", **options: Any) -> Any:
    return await resolve(
        client.chat.completions.create(model=MODEL, messages=user(text), stream=True, **options)
    )


async def drain(stream: Any, into: list[Any] | None = None) -> list[Any]:
    items = [] if into is None else into
    if hasattr(stream, "__aiter__"):
        async for item in stream:
            items.append(item)
    else:
        items.extend(stream)
    return items


async def next_chunk(stream: Any) -> Any:
    return await stream.__anext__() if hasattr(stream, "__anext__") else next(stream)


@contextlib.asynccontextmanager
async def entered(stream: Any, client: Any) -> AsyncIterator[Any]:
    if is_async(client):
        async with stream as value:
            yield value
    else:
        with stream as value:
            yield value


def the_span(cap: TelemetryCapture) -> tuple[Any, dict[str, Any]]:
    """The one span, its attributes without the first-chunk timing (checked present when a chunk was read)."""
    [span] = cap.spans()
    assert span.name == SPAN_NAME
    attrs = dict(span.attributes)
    attrs.pop(TTFC, None)
    return span, attrs


async def test_exhausted(groq_instrumented: TelemetryCapture, client: Any, fake: FakeLLMServer) -> None:
    chunks = await drain(await open_stream(client))

    assert "".join(c.choices[0].delta.content or "" for c in chunks) == REPLY
    assert chunks[-1].x_groq.usage.prompt_tokens == 6  # Groq's place for a stream's usage
    assert chunks[-1].usage is None
    span, attrs = the_span(groq_instrumented)
    assert span.status.status_code is StatusCode.UNSET
    assert TTFC in span.attributes
    assert attrs == {**request_attrs(fake, stream=True), **reply_attrs(), STREAM_END: "exhausted"}
    base = metric_attrs(fake)
    assert [(dict(p.attributes), p.sum) for p in groq_instrumented.metric_points(TOKENS)] == [
        ({**base, "gen_ai.token.type": "input"}, 6),
        ({**base, "gen_ai.token.type": "output"}, 6),
    ]
    assert groq_instrumented.metric_count(DURATION) == 1


async def test_include_usage_is_read_once(
    groq_instrumented: TelemetryCapture, client: Any, fake: FakeLLMServer
) -> None:
    # ``create`` has no ``stream_options`` parameter (groq 1.7): the API takes it in the body.
    chunks = await drain(await open_stream(client, extra_body={"stream_options": {"include_usage": True}}))

    assert chunks[-1].usage.completion_tokens == 6
    _, attrs = the_span(groq_instrumented)
    assert attrs == {**request_attrs(fake, stream=True), **reply_attrs(), STREAM_END: "exhausted"}
    sums = {dict(p.attributes)["gen_ai.token.type"]: p.sum for p in groq_instrumented.metric_points(TOKENS)}
    assert sums == {"input": 6, "output": 6}


async def test_cached_and_reasoning_tokens(
    groq_instrumented: TelemetryCapture, client: Any, fake: FakeLLMServer
) -> None:
    await drain(await open_stream(client, "[[scenario:cached:4]] [[scenario:reasoning:3]] hi"))

    _, attrs = the_span(groq_instrumented)
    assert attrs == {
        **request_attrs(fake, stream=True),
        **reply_attrs(input_tokens=3, output_tokens=9),
        "gen_ai.usage.cache_read.input_tokens": 4,
        # The 4 cached tokens at the input price (no cache price): none left uncached of the 3.
        "agentotel.usage.cost_usd": cost(4, 9),
        "gen_ai.usage.reasoning.output_tokens": 3,
        STREAM_END: "exhausted",
    }


async def test_tool_call(groq_instrumented: TelemetryCapture, client: Any, fake: FakeLLMServer) -> None:
    chunks = await drain(await open_stream(client, tools=WEATHER_TOOLS))

    assert any(c.choices and c.choices[0].delta.tool_calls for c in chunks)
    _, attrs = the_span(groq_instrumented)
    assert attrs["gen_ai.response.finish_reasons"] == ("tool_calls",)
    assert attrs["agentotel.response.tool_calls.names"] == ("get_weather",)
    assert attrs["agentotel.response.tool_calls.ids"] == ("call_1",)
    assert attrs["gen_ai.usage.output_tokens"] == chunks[-1].x_groq.usage.completion_tokens


async def test_break_then_close(
    groq_instrumented: TelemetryCapture, client: Any, fake: FakeLLMServer
) -> None:
    stream = await open_stream(client)
    await next_chunk(stream)
    assert groq_instrumented.spans() == []
    await resolve(stream.close())
    await resolve(stream.close())

    span, attrs = the_span(groq_instrumented)
    assert span.status.status_code is StatusCode.UNSET
    assert attrs == {**request_attrs(fake, stream=True), **FIRST_CHUNK, STREAM_END: "closed"}
    assert groq_instrumented.metric_count(DURATION) == 1
    assert groq_instrumented.metric_points(TOKENS) == []  # the usage chunk was never read


async def test_close_before_reading(
    groq_instrumented: TelemetryCapture, client: Any, fake: FakeLLMServer
) -> None:
    stream = await open_stream(client)
    await resolve(stream.close())

    _, attrs = the_span(groq_instrumented)
    assert attrs == {**request_attrs(fake, stream=True), STREAM_END: "closed"}


async def test_with_block(groq_instrumented: TelemetryCapture, client: Any, fake: FakeLLMServer) -> None:
    stream = await open_stream(client)
    async with entered(stream, client) as value:
        assert value is stream
        await next_chunk(stream)
        await next_chunk(stream)
        assert groq_instrumented.spans() == []

    _, attrs = the_span(groq_instrumented)
    assert attrs == {**request_attrs(fake, stream=True), **FIRST_CHUNK, STREAM_END: "closed"}


async def test_abandoned_then_collected(
    groq_instrumented: TelemetryCapture, client: Any, fake: FakeLLMServer
) -> None:
    stream = await open_stream(client)
    await next_chunk(stream)
    del stream
    gc.collect()

    span, attrs = the_span(groq_instrumented)
    assert span.status.status_code is StatusCode.UNSET
    assert attrs == {**request_attrs(fake, stream=True), **FIRST_CHUNK, STREAM_END: "abandoned"}
    assert groq_instrumented.metric_count(DURATION) == 1


def disconnect_error(client: Any) -> type[BaseException]:
    """What the SDK raises when the connection drops mid-stream: the HTTP library's error, unwrapped."""
    del client
    return httpx.RemoteProtocolError


async def test_disconnect_mid_stream(
    groq_instrumented: TelemetryCapture, client: Any, fake: FakeLLMServer
) -> None:
    error = disconnect_error(client)
    received: list[Any] = []
    with pytest.raises(error) as info:
        await drain(await open_stream(client, "hi [[scenario:disconnect]]"), received)

    assert len(received) == 2
    error_type = f"{error.__module__}.{error.__qualname__}"
    span, attrs = the_span(groq_instrumented)
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == f"{error_type}: {info.value}"
    assert attrs == {
        **request_attrs(fake, stream=True),
        **FIRST_CHUNK,
        STREAM_END: "error",
        "error.type": error_type,
    }
    base = {k: v for k, v in metric_attrs(fake).items() if k != "gen_ai.response.model"}
    assert [(dict(p.attributes), p.count) for p in groq_instrumented.metric_points(DURATION)] == [
        ({**base, "error.type": error_type}, 1)
    ]
    assert groq_instrumented.metric_points(TOKENS) == []


async def test_malformed_chunk(groq_instrumented: TelemetryCapture, client: Any, fake: FakeLLMServer) -> None:
    with pytest.raises(json.JSONDecodeError):
        await drain(await open_stream(client, "hi [[scenario:malformed]]"))

    span, attrs = the_span(groq_instrumented)
    assert span.status.status_code is StatusCode.ERROR
    assert attrs == {
        **request_attrs(fake, stream=True),
        **FIRST_CHUNK,
        STREAM_END: "error",
        "error.type": "json.JSONDecodeError",
    }


async def test_rate_limited_stream(
    groq_instrumented: TelemetryCapture, client: Any, fake: FakeLLMServer
) -> None:
    with pytest.raises(groq.RateLimitError):
        await open_stream(client, "hi [[scenario:rate_limit]]")

    span, attrs = the_span(groq_instrumented)
    assert span.status.status_code is StatusCode.ERROR
    assert attrs == {**request_attrs(fake, stream=True), "error.type": "groq.RateLimitError"}


async def test_raw_response_stream(
    groq_instrumented: TelemetryCapture, client: Any, fake: FakeLLMServer
) -> None:
    raw = await resolve(
        client.chat.completions.with_raw_response.create(model=MODEL, messages=user(), stream=True)
    )
    stream = await resolve(raw.parse())
    await drain(stream)

    _, attrs = the_span(groq_instrumented)
    assert attrs == {**request_attrs(fake, stream=True), **reply_attrs(), STREAM_END: "exhausted"}
    assert is_async(client) == hasattr(stream, "__aiter__")


GROQ_PACKAGE = "agentotel/instrumentation/groq/"
CHUNKS = 8  # the fake server's stream of the default reply: an opening chunk, six words, the end


def test_a_plain_stream_runs_no_groq_code_per_chunk_after_the_first(
    groq_instrumented: TelemetryCapture, fake: FakeLLMServer
) -> None:
    """One choice, no tools, content capture off: the first chunk is kept, each later one only
    put in a window of the last two (a C ``append``), all read when the stream ends: no function
    of the Groq package runs while the app reads the chunks after the first, before the last."""
    client = groq_client(fake)
    chunks = iter(client.chat.completions.create(model=MODEL, messages=user(), stream=True))
    next(chunks)

    assert calls_into(GROQ_PACKAGE, lambda: [next(chunks) for _ in range(CHUNKS - 2)]) == 0
    rest = list(chunks)
    assert len(rest) == 1
    _, attrs = the_span(groq_instrumented)
    assert attrs == {**request_attrs(fake, stream=True), **reply_attrs(), STREAM_END: "exhausted"}


@pytest.mark.parametrize(
    ("options", "capture"),
    [
        pytest.param({"tools": WEATHER_TOOLS, "tool_choice": "none"}, False, id="tools_offered"),
        pytest.param({}, True, id="content_capture_on"),
    ],
)
def test_a_stream_that_could_call_a_tool_or_is_captured_is_read_chunk_by_chunk(
    monkeypatch: pytest.MonkeyPatch, cap: TelemetryCapture, fake: FakeLLMServer, options: Any, capture: bool
) -> None:
    if capture:
        monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "SPAN_ONLY")
    with instrumented(cap, GroqInstrumentor):
        client = groq_client(fake)
        chunks = iter(client.chat.completions.create(model=MODEL, messages=user(), stream=True, **options))
        next(chunks)
        # ChatStreamAccumulator.process on each chunk read
        assert calls_into(GROQ_PACKAGE, lambda: [next(chunks) for _ in range(CHUNKS - 2)]) >= CHUNKS - 2
        list(chunks)
    [span] = cap.spans()
    assert span.attributes["gen_ai.response.finish_reasons"] == ("stop",)
    assert span.attributes[STREAM_END] == "exhausted"
