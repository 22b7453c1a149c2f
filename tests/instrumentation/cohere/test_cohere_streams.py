"""``chat_stream`` (``ClientV2`` and ``AsyncClientV2``): the span ends exactly once however the
stream is left, with the id, finish reason, billed usage and tool calls seen.

The SDK's ``chat_stream`` is a generator that sends the request when first read (its raw client's
``chat_stream`` context manager, entered then): the span starts there, so a stream never read
makes no request and no span. Leaving the stream early (``close()``, a ``break`` followed by the
generator's collection, or the collection of an abandoned stream) closes that generator, which
drops the SDK's event stream inside it without closing it (the SDK's own ``with`` then closes the
HTTP response): the span ends as ``abandoned`` with what was read, at once on the sync client, on
the async client when the event loop finalizes the generator.
"""

from __future__ import annotations

from typing import Any

import cohere
import httpx
import pytest
from cohere.core import pydantic_utilities
from cohere_helpers import (
    MODEL,
    QUESTION,
    REPLY,
    STREAM_END,
    TTFC,
    WEATHER_TOOL,
    close,
    collect_garbage,
    events_of,
    first_event,
    reply_attrs,
    request_attrs,
    tool_call_attrs,
    user,
)
from opentelemetry.trace import StatusCode

from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture

# message-start, content-start, the six words' content-delta, content-end, message-end
EVENTS = ["message-start", "content-start", *["content-delta"] * 6, "content-end", "message-end"]


def attributes(span: Any) -> dict[str, Any]:
    """The span's attributes, the timing one checked and left out."""
    attrs = dict(span.attributes)
    assert attrs.pop(TTFC) >= 0
    return attrs


def head(server: FakeLLMServer, end: str) -> dict[str, Any]:
    """The attributes of a stream left before ``message-end``: its id only."""
    return {**request_attrs(server, stream=True), "gen_ai.response.id": "chat_1", STREAM_END: end}


async def test_exhausted(
    co_instrumented: TelemetryCapture, client: Any, fresh_fake_llm: FakeLLMServer
) -> None:
    events = await events_of(client.chat_stream(model=MODEL, messages=user()))

    assert [e.type for e in events] == EVENTS
    assert "".join(e.delta.message.content.text for e in events if e.type == "content-delta") == REPLY
    assert len(fresh_fake_llm.requests) == 1
    [span] = co_instrumented.spans()
    assert span.status.status_code is StatusCode.UNSET
    assert attributes(span) == {
        **request_attrs(fresh_fake_llm, stream=True),
        **reply_attrs("chat_1"),
        STREAM_END: "exhausted",
    }
    metric = {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "cohere"}
    assert (
        co_instrumented.metric_sum("gen_ai.client.token.usage", {**metric, "gen_ai.token.type": "input"}) == 6
    )
    assert (
        co_instrumented.metric_sum("gen_ai.client.token.usage", {**metric, "gen_ai.token.type": "output"})
        == 6
    )
    assert co_instrumented.metric_count("gen_ai.client.operation.duration", metric) == 1


async def test_tool_calls(
    co_instrumented: TelemetryCapture, client: Any, fresh_fake_llm: FakeLLMServer
) -> None:
    events = await events_of(client.chat_stream(model=MODEL, messages=user(), tools=[WEATHER_TOOL]))

    kinds = [e.type for e in events]
    assert kinds[0] == "message-start" and kinds[-1] == "message-end"
    assert kinds.count("tool-plan-delta") == 5 and kinds.count("tool-call-start") == 1
    [span] = co_instrumented.spans()
    assert attributes(span) == {
        **request_attrs(fresh_fake_llm, stream=True),
        **reply_attrs("chat_1", output_tokens=7, reason="tool_call"),
        **tool_call_attrs("get_weather_1"),
        STREAM_END: "exhausted",
    }


async def test_closed_after_the_first_event(
    co_instrumented: TelemetryCapture, client: Any, fresh_fake_llm: FakeLLMServer
) -> None:
    stream = client.chat_stream(model=MODEL, messages=user())
    assert (await first_event(stream)).type == "message-start"
    await close(stream)

    [span] = co_instrumented.spans()
    assert span.status.status_code is StatusCode.UNSET
    assert attributes(span) == head(fresh_fake_llm, "abandoned")


async def test_break_then_collected(
    co_instrumented: TelemetryCapture, client: Any, fresh_fake_llm: FakeLLMServer
) -> None:
    stream = client.chat_stream(model=MODEL, messages=user())
    seen = []
    if hasattr(stream, "__aiter__"):
        async for event in stream:
            seen.append(event.type)
            if event.type == "content-start":
                break
    else:
        for event in stream:
            seen.append(event.type)
            if event.type == "content-start":
                break
    assert seen == ["message-start", "content-start"]
    del stream, event
    await collect_garbage()

    [span] = co_instrumented.spans()
    assert attributes(span) == head(fresh_fake_llm, "abandoned")


async def test_abandoned(
    co_instrumented: TelemetryCapture, client: Any, fresh_fake_llm: FakeLLMServer
) -> None:
    stream = client.chat_stream(model=MODEL, messages=user())
    await first_event(stream)
    del stream
    await collect_garbage()

    [span] = co_instrumented.spans()
    assert attributes(span) == head(fresh_fake_llm, "abandoned")


async def test_a_stream_never_read_sends_nothing(
    co_instrumented: TelemetryCapture, client: Any, fresh_fake_llm: FakeLLMServer
) -> None:
    stream = client.chat_stream(model=MODEL, messages=user())
    del stream
    await collect_garbage()

    assert fresh_fake_llm.requests == []
    assert co_instrumented.spans() == []


async def test_disconnect_mid_stream(
    co_instrumented: TelemetryCapture, client: Any, fresh_fake_llm: FakeLLMServer
) -> None:
    stream = client.chat_stream(model=MODEL, messages=user(f"{QUESTION} [[scenario:disconnect]]"))
    with pytest.raises(httpx.RemoteProtocolError):
        await events_of(stream)

    [span] = co_instrumented.spans()
    assert span.status.status_code is StatusCode.ERROR
    assert attributes(span) == {
        **head(fresh_fake_llm, "error"),
        "error.type": "httpx.RemoteProtocolError",
    }


async def test_a_torn_event_is_skipped_by_the_sdk(
    co_instrumented: TelemetryCapture, client: Any, fresh_fake_llm: FakeLLMServer
) -> None:
    """An event whose JSON is torn: SDKs with ``parse_sse_obj`` read it as an empty
    ``message-start`` (their fallback parses the SSE fields themselves), older ones skip it; the
    stream ends with what came, the first event's id kept."""
    events = await events_of(
        client.chat_stream(model=MODEL, messages=user(f"{QUESTION} [[scenario:malformed]]"))
    )

    torn = [("message-start", "")] if hasattr(pydantic_utilities, "parse_sse_obj") else []
    assert [(e.type, e.id) for e in events] == [("message-start", "chat_1"), *torn]
    [span] = co_instrumented.spans()
    assert attributes(span) == head(fresh_fake_llm, "exhausted")


async def test_an_error_status_raises_on_the_first_read(
    co_instrumented: TelemetryCapture, client: Any, fresh_fake_llm: FakeLLMServer
) -> None:
    stream = client.chat_stream(model=MODEL, messages=user(f"{QUESTION} [[scenario:rate_limit]]"))
    with pytest.raises(cohere.TooManyRequestsError):
        await first_event(stream)

    assert len(fresh_fake_llm.requests) == 1
    [span] = co_instrumented.spans()
    assert span.status.status_code is StatusCode.ERROR
    assert dict(span.attributes) == {
        **request_attrs(fresh_fake_llm, stream=True),
        "error.type": "cohere.TooManyRequestsError",
    }
    assert co_instrumented.metric_count("gen_ai.client.token.usage") == 0


async def test_raw_response_stream(co_instrumented: TelemetryCapture, fresh_fake_llm: FakeLLMServer) -> None:
    """``with_raw_response.chat_stream``: the context manager the SDK's own ``chat_stream`` uses."""
    from cohere_helpers import sync_client

    fresh_fake_llm.clear()
    with sync_client(fresh_fake_llm).with_raw_response.chat_stream(model=MODEL, messages=user()) as raw:
        events = list(raw.data)

    assert len(events) == len(EVENTS)
    [span] = co_instrumented.spans()
    assert attributes(span)[STREAM_END] == "exhausted"
    assert span.attributes["gen_ai.usage.output_tokens"] == 6
