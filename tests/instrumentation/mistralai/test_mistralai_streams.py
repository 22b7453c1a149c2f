"""``chat.stream`` / ``stream_async``: the span ends exactly once however the stream is left
(exhausted, closed, ``with``, ``break``, abandoned and collected, an error mid-stream), with the
id, finish reason, tool calls and the usage of the last chunk."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import pytest
from helpers import TIME_PER_OUTPUT_CHUNK, TIME_TO_FIRST_CHUNK, TOKENS, calls_into
from mistralai.client import errors
from mistralai.client.utils import eventstreaming
from mistralai_helpers import (
    MESSAGES,
    MODEL,
    REPLY,
    SPAN_NAME,
    STREAM_END,
    WEATHER_TOOL,
    cost,
    request_attrs,
)
from opentelemetry.trace import StatusCode

from agentotel._safe import error_type
from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture

httpx: Any = eventstreaming.httpx  # the SDK's HTTP library (httpx2 from mistralai 3.x)
EVENTS = 8  # the opening chunk, six words, the last chunk (finish reason and usage)


async def collect_garbage() -> None:
    for _ in range(3):
        gc.collect()
        await asyncio.sleep(0)


async def open_stream(client: Any, mode: str, messages: Any = MESSAGES, **kwargs: Any) -> Any:
    if mode == "sync":
        return client.chat.stream(model=MODEL, messages=messages, **kwargs)
    return await client.chat.stream_async(model=MODEL, messages=messages, **kwargs)


async def read_all(stream: Any) -> list[Any]:
    if hasattr(stream, "__aiter__"):
        return [event async for event in stream]
    return list(stream)


async def first(stream: Any) -> Any:
    return await stream.__anext__() if hasattr(stream, "__anext__") else next(stream)


# ``EventStream.close()`` came in 2.10.0; before, the app closes the stream's HTTP response.
HAS_CLOSE = hasattr(eventstreaming.EventStream, "close")


async def close(stream: Any) -> None:
    if HAS_CLOSE:
        result = stream.close()
    else:
        response = stream.response
        result = response.aclose() if hasattr(stream, "__anext__") else response.close()
    if asyncio.iscoroutine(result):
        await result


def the_span(cap: TelemetryCapture) -> dict[str, Any]:
    [span] = cap.spans()
    assert span.name == SPAN_NAME
    attrs = dict(span.attributes or {})
    assert attrs.pop("gen_ai.response.time_to_first_chunk") > 0
    return attrs


def stream_attrs(server: FakeLLMServer, end: str, *, finished: bool = True) -> dict[str, Any]:
    """A stream span of REPLY: the head from the first chunk; finish reason and usage from the last."""
    attrs: dict[str, Any] = {
        **request_attrs(server, stream=True),
        "gen_ai.response.id": "cmpl-fake1",
        "gen_ai.response.model": MODEL,
        STREAM_END: end,
    }
    if finished:
        attrs["gen_ai.response.finish_reasons"] = ("stop",)
        attrs["gen_ai.usage.input_tokens"] = 6
        attrs["gen_ai.usage.output_tokens"] = 6
        attrs["agentotel.usage.cost_usd"] = cost(6, 6)
    return attrs


async def test_exhausted(
    mistral_instrumented: TelemetryCapture, client: Any, mode: str, fake: FakeLLMServer
) -> None:
    events = await read_all(await open_stream(client, mode))

    assert len(events) == EVENTS
    assert "".join(e.data.choices[0].delta.content for e in events) == REPLY
    assert len(fake.requests) == 1
    assert the_span(mistral_instrumented) == stream_attrs(fake, "exhausted")
    [span] = mistral_instrumented.spans()
    assert span.status.status_code is StatusCode.UNSET
    assert mistral_instrumented.metric_count(TIME_TO_FIRST_CHUNK) == 1
    assert mistral_instrumented.metric_count(TIME_PER_OUTPUT_CHUNK) == 1
    assert {
        dict(p.attributes)["gen_ai.token.type"]: p.sum for p in mistral_instrumented.metric_points(TOKENS)
    } == {
        "input": 6,
        "output": 6,
    }


async def test_closed_after_the_first_event(
    mistral_instrumented: TelemetryCapture, client: Any, mode: str, fake: FakeLLMServer
) -> None:
    stream = await open_stream(client, mode)
    await first(stream)
    assert mistral_instrumented.spans() == []
    await close(stream)

    assert the_span(mistral_instrumented) == stream_attrs(fake, "closed", finished=False)
    del stream
    await collect_garbage()
    assert len(mistral_instrumented.spans()) == 1  # ended once


async def test_with_block(
    mistral_instrumented: TelemetryCapture, client: Any, mode: str, fake: FakeLLMServer
) -> None:
    stream = await open_stream(client, mode)
    if mode == "sync":
        with stream as events:
            next(events)
    else:
        async with stream as events:
            await events.__anext__()

    assert the_span(mistral_instrumented) == stream_attrs(fake, "closed", finished=False)


async def test_with_block_read_to_the_end(
    mistral_instrumented: TelemetryCapture, client: Any, mode: str, fake: FakeLLMServer
) -> None:
    """Exhausted inside ``with``: it ends at the last event (the exit ends nothing more)."""
    stream = await open_stream(client, mode)
    if mode == "sync":
        with stream as events:
            assert len(list(events)) == EVENTS
    else:
        async with stream as events:
            assert len([e async for e in events]) == EVENTS

    assert the_span(mistral_instrumented) == stream_attrs(fake, "exhausted")


async def test_break_then_dropped(
    mistral_instrumented: TelemetryCapture, client: Any, mode: str, fake: FakeLLMServer
) -> None:
    stream = await open_stream(client, mode)
    if mode == "sync":
        for _ in stream:
            break
    else:
        async for _ in stream:
            break
    assert mistral_instrumented.spans() == []  # the app may still read on
    del stream
    await collect_garbage()

    assert the_span(mistral_instrumented) == stream_attrs(fake, "abandoned", finished=False)


async def test_abandoned_unread(
    mistral_instrumented: TelemetryCapture, client: Any, mode: str, fake: FakeLLMServer
) -> None:
    """The SDK sent the request when the stream was opened: a stream never read still ends (no
    chunk, no timing)."""
    stream = await open_stream(client, mode)
    del stream
    await collect_garbage()

    assert len(fake.requests) == 1
    [span] = mistral_instrumented.spans()
    assert dict(span.attributes or {}) == {**request_attrs(fake, stream=True), STREAM_END: "abandoned"}


async def test_tool_call_in_a_stream(
    mistral_instrumented: TelemetryCapture, client: Any, mode: str, fake: FakeLLMServer
) -> None:
    events = await read_all(await open_stream(client, mode, tools=[WEATHER_TOOL]))

    [call] = [c for e in events for ch in e.data.choices for c in (ch.delta.tool_calls or [])]
    assert call.id == "fakecall1"
    attrs = the_span(mistral_instrumented)
    assert attrs["gen_ai.response.finish_reasons"] == ("tool_calls",)
    assert attrs["agentotel.response.tool_calls.names"] == ("get_weather",)
    assert attrs["agentotel.response.tool_calls.ids"] == ("fakecall1",)
    assert (attrs["gen_ai.usage.input_tokens"], attrs["gen_ai.usage.output_tokens"]) == (6, 2)


async def test_rate_limited(
    mistral_instrumented: TelemetryCapture, client: Any, mode: str, fake: FakeLLMServer
) -> None:
    """An error status: the SDK raises when it opens the stream; the span fails at once."""
    with pytest.raises(errors.SDKError) as raised:
        await open_stream(client, mode, [{"role": "user", "content": "[[scenario:rate_limit]]"}])

    assert raised.value.status_code == 429
    [span] = mistral_instrumented.spans()
    assert span.status.status_code is StatusCode.ERROR
    assert dict(span.attributes or {}) == {
        **request_attrs(fake, stream=True),
        "error.type": error_type(raised.value),
    }


async def test_disconnect_mid_stream(
    mistral_instrumented: TelemetryCapture, client: Any, mode: str, fake: FakeLLMServer
) -> None:
    stream = await open_stream(client, mode, [{"role": "user", "content": "[[scenario:disconnect]]"}])
    seen: list[Any] = []
    with pytest.raises(httpx.RemoteProtocolError):
        if mode == "sync":
            for event in stream:
                seen.append(event)
        else:
            async for event in stream:
                seen.append(event)

    assert len(seen) == 2
    [span] = mistral_instrumented.spans()
    assert span.status.status_code is StatusCode.ERROR
    attrs = dict(span.attributes or {})
    del attrs["gen_ai.response.time_to_first_chunk"]
    assert attrs == {
        **stream_attrs(fake, "error", finished=False),
        "error.type": error_type(httpx.RemoteProtocolError.__new__(httpx.RemoteProtocolError)),
    }
    del stream
    await collect_garbage()
    assert len(mistral_instrumented.spans()) == 1


async def test_malformed_event(mistral_instrumented: TelemetryCapture, client: Any, mode: str) -> None:
    stream = await open_stream(client, mode, [{"role": "user", "content": "[[scenario:malformed]]"}])
    with pytest.raises(Exception) as raised:
        await read_all(stream)

    [span] = mistral_instrumented.spans()
    assert span.status.status_code is StatusCode.ERROR
    attrs = dict(span.attributes or {})
    assert attrs["error.type"] == error_type(raised.value)
    assert attrs[STREAM_END] == "error"


def test_a_plain_stream_runs_no_mistral_code_per_event(
    mistral_instrumented: TelemetryCapture, client: Any, fake: FakeLLMServer
) -> None:
    """One choice, no tools, content capture off: each event is only kept (a C ``append`` into a
    window of the last two), and read when the stream ends: no function of the Mistral package
    runs while the app reads the events before the last."""
    stream = client.chat.stream(model=MODEL, messages=MESSAGES)
    events = iter(stream)

    assert (
        calls_into("agentotel/instrumentation/mistralai/", lambda: [next(events) for _ in range(EVENTS - 1)])
        == 0
    )
    assert len(list(events)) == 1
    assert the_span(mistral_instrumented) == stream_attrs(fake, "exhausted")


async def test_three_choices_in_a_stream(
    mistral_instrumented: TelemetryCapture, client: Any, mode: str, fake: FakeLLMServer
) -> None:
    """``n=3``: each choice's finish reason comes in its own event (the first of them four events
    before the end), so every event is read."""
    events = await read_all(await open_stream(client, mode, n=3))

    assert len(events) == 3 * EVENTS
    attrs = the_span(mistral_instrumented)
    assert attrs["gen_ai.request.choice.count"] == 3
    assert attrs["gen_ai.response.finish_reasons"] == ("stop", "stop", "stop")
    assert (attrs["gen_ai.usage.input_tokens"], attrs["gen_ai.usage.output_tokens"]) == (6, 18)


async def test_tools_offered_but_answered_in_text(
    mistral_instrumented: TelemetryCapture, client: Any, mode: str, fake: FakeLLMServer
) -> None:
    """Tools in the request (every event is read): a text answer records no tool call."""
    events = await read_all(await open_stream(client, mode, tools=[WEATHER_TOOL], tool_choice="none"))

    assert len(events) == EVENTS
    attrs = the_span(mistral_instrumented)
    assert attrs["gen_ai.response.finish_reasons"] == ("stop",)
    assert "agentotel.response.tool_calls.names" not in attrs


async def test_concurrent_streams_each_read_as_their_request_says(
    mistral_instrumented: TelemetryCapture, client: Any, fake: FakeLLMServer
) -> None:
    """Two streams opened at once (one offers tools, one does not): what ``start`` found for one
    call is never used for the other, and each span gets its own outcome."""
    tools, plain = await asyncio.gather(
        client.chat.stream_async(model=MODEL, messages=MESSAGES, tools=[WEATHER_TOOL]),
        client.chat.stream_async(model=MODEL, messages=MESSAGES),
    )
    await read_all(tools)
    await read_all(plain)

    by_reason = {
        dict(s.attributes or {})["gen_ai.response.finish_reasons"]: dict(s.attributes or {})
        for s in mistral_instrumented.spans()
    }
    assert set(by_reason) == {("tool_calls",), ("stop",)}
    assert by_reason[("tool_calls",)]["agentotel.response.tool_calls.names"] == ("get_weather",)
    assert (
        by_reason[("stop",)]["gen_ai.usage.input_tokens"],
        by_reason[("stop",)]["gen_ai.usage.output_tokens"],
    ) == (6, 6)
    assert "agentotel.response.tool_calls.names" not in by_reason[("stop",)]
