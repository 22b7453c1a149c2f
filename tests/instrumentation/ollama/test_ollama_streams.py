"""Streamed ``chat`` / ``generate`` (``Client`` and ``AsyncClient``): the span opens when the
stream is first read (the SDK sends the request then) and ends exactly once however the stream is
left, with the usage, timings, finish reason and tool calls of the ``done`` line."""

from __future__ import annotations

import asyncio
import gc
import json
from typing import Any

import httpx
import ollama
import pytest
from helpers import resolve
from ollama_helpers import (
    MODEL,
    QUESTION,
    REPLY,
    STREAM_END,
    WEATHER_TOOL,
    error_name,
    reply_attrs,
    request_attrs,
    user,
)
from opentelemetry.trace import StatusCode

from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture

CHUNKS = 7  # the six words of REPLY, one per line, then the ``done`` line


async def collect_garbage() -> None:
    for _ in range(4):
        gc.collect()
        await asyncio.sleep(0)


def is_async(oclient: Any) -> bool:
    return isinstance(oclient, ollama.AsyncClient)


async def open_stream(oclient: Any, text: str = QUESTION, **kwargs: Any) -> Any:
    kwargs.setdefault("model", MODEL)
    return await resolve(oclient.chat(messages=user(text), stream=True, **kwargs))


async def chunks_of(stream: Any) -> list[Any]:
    if hasattr(stream, "__aiter__"):
        return [chunk async for chunk in stream]
    return list(stream)


async def first_chunk(stream: Any) -> Any:
    return await stream.__anext__() if hasattr(stream, "__anext__") else next(stream)


async def close(stream: Any) -> None:
    await resolve(stream.aclose() if hasattr(stream, "aclose") else stream.close())


def stream_attrs(server: FakeLLMServer, end: str, *, done: bool = True) -> dict[str, Any]:
    """The attributes of a chat stream span of REPLY (the timing attribute left out): the counts,
    timings and finish reason come with the ``done`` line only."""
    attrs: dict[str, Any] = {
        **request_attrs(server, stream=True),
        "gen_ai.response.model": MODEL,
        STREAM_END: end,
    }
    if done:
        attrs.update(reply_attrs())
    return attrs


def the_span(cap: TelemetryCapture) -> dict[str, Any]:
    [span] = cap.spans()
    assert span.name == "chat llama3.2"
    attrs = dict(span.attributes)
    assert attrs.pop("gen_ai.response.time_to_first_chunk") > 0
    return attrs


async def test_exhausted(
    ollama_instrumented: TelemetryCapture, oclient: Any, fake_llm: FakeLLMServer
) -> None:
    chunks = await chunks_of(await open_stream(oclient))

    assert "".join(c.message.content for c in chunks) == REPLY
    assert len(chunks) == CHUNKS
    assert len(fake_llm.requests) == 1
    assert the_span(ollama_instrumented) == stream_attrs(fake_llm, "exhausted")
    [span] = ollama_instrumented.spans()
    assert span.status.status_code is StatusCode.UNSET
    metric = {"gen_ai.operation.name": "chat"}
    assert ollama_instrumented.metric_count("gen_ai.client.operation.time_to_first_chunk", metric) == 1
    assert ollama_instrumented.metric_count("gen_ai.client.operation.time_per_output_chunk", metric) == 1
    assert ollama_instrumented.metric_sum("gen_ai.client.token.usage", {"gen_ai.token.type": "output"}) == 6
    assert ollama_instrumented.metric_sum("gen_ai.client.token.usage", {"gen_ai.token.type": "input"}) == 6


async def test_generate_stream(
    ollama_instrumented: TelemetryCapture, oclient: Any, fake_llm: FakeLLMServer
) -> None:
    stream = await resolve(oclient.generate(model=MODEL, prompt=QUESTION, stream=True))
    chunks = await chunks_of(stream)

    assert "".join(c.response for c in chunks) == REPLY
    [span] = ollama_instrumented.spans()
    assert span.name == "text_completion llama3.2"
    attrs = dict(span.attributes)
    del attrs["gen_ai.response.time_to_first_chunk"]
    assert attrs == {
        **request_attrs(fake_llm, "text_completion", stream=True),
        **reply_attrs(),
        STREAM_END: "exhausted",
    }


async def test_never_read_sends_nothing(
    ollama_instrumented: TelemetryCapture, oclient: Any, fake_llm: FakeLLMServer
) -> None:
    """The SDK sends the request on the first read: a stream never read has no request, no span."""
    stream = await open_stream(oclient)
    del stream
    await collect_garbage()

    assert fake_llm.requests == []
    assert ollama_instrumented.spans() == []


async def test_closed_unread_sends_nothing(
    ollama_instrumented: TelemetryCapture, oclient: Any, fake_llm: FakeLLMServer
) -> None:
    stream = await open_stream(oclient)
    await close(stream)
    assert await chunks_of(stream) == []

    assert fake_llm.requests == []
    assert ollama_instrumented.spans() == []


async def test_closed_after_the_first_chunk(
    ollama_instrumented: TelemetryCapture, oclient: Any, fake_llm: FakeLLMServer
) -> None:
    stream = await open_stream(oclient)
    await first_chunk(stream)
    assert ollama_instrumented.spans() == []
    await close(stream)

    assert the_span(ollama_instrumented) == stream_attrs(fake_llm, "closed", done=False)
    del stream
    await collect_garbage()
    assert len(ollama_instrumented.spans()) == 1  # ended once


async def test_break_then_dropped(
    ollama_instrumented: TelemetryCapture, oclient: Any, fake_llm: FakeLLMServer
) -> None:
    stream = await open_stream(oclient)
    if is_async(oclient):
        async for _ in stream:
            break
    else:
        for _ in stream:
            break
    assert ollama_instrumented.spans() == []  # the app may still read on
    del stream
    await collect_garbage()

    assert the_span(ollama_instrumented) == stream_attrs(fake_llm, "abandoned", done=False)


async def test_break_then_read_on(
    ollama_instrumented: TelemetryCapture, oclient: Any, fake_llm: FakeLLMServer
) -> None:
    stream = await open_stream(oclient)
    first = await first_chunk(stream)
    rest = await chunks_of(stream)

    assert first.message.content + "".join(c.message.content for c in rest) == REPLY
    assert the_span(ollama_instrumented) == stream_attrs(fake_llm, "exhausted")


async def test_model_not_found(
    ollama_instrumented: TelemetryCapture, oclient: Any, fake_llm: FakeLLMServer
) -> None:
    stream = await open_stream(oclient, model="not-found-model")
    with pytest.raises(ollama.ResponseError) as raised:
        await chunks_of(stream)

    assert raised.value.status_code == 404
    [span] = ollama_instrumented.spans()
    assert span.status.status_code is StatusCode.ERROR
    assert dict(span.attributes) == {
        **request_attrs(fake_llm, stream=True),
        "gen_ai.request.model": "not-found-model",
        "error.type": "ollama.ResponseError",
        STREAM_END: "error",
    }


async def test_error_line_mid_stream(
    ollama_instrumented: TelemetryCapture, oclient: Any, fake_llm: FakeLLMServer
) -> None:
    """An ``{"error": ...}`` line in a 200 stream: the SDK raises ``ResponseError`` there."""
    stream = await open_stream(oclient, model="stream-error-model")
    seen: list[Any] = []
    with pytest.raises(ollama.ResponseError) as raised:
        if is_async(oclient):
            async for chunk in stream:
                seen.append(chunk)
        else:
            for chunk in stream:
                seen.append(chunk)

    assert raised.value.error == "an error was encountered while running the model"
    assert len(seen) == 2
    [span] = ollama_instrumented.spans()
    assert span.status.status_code is StatusCode.ERROR
    attrs = dict(span.attributes)
    del attrs["gen_ai.response.time_to_first_chunk"]
    assert attrs == {
        **request_attrs(fake_llm, stream=True),
        "gen_ai.request.model": "stream-error-model",
        "gen_ai.response.model": "stream-error-model",
        "error.type": "ollama.ResponseError",
        STREAM_END: "error",
    }


async def test_disconnect_mid_stream(
    ollama_instrumented: TelemetryCapture, oclient: Any, fake_llm: FakeLLMServer
) -> None:
    error = httpx.RemoteProtocolError  # the SDK is built on httpx
    stream = await open_stream(oclient, f"{QUESTION} [[scenario:disconnect]]")
    seen: list[Any] = []
    with pytest.raises(error):
        if is_async(oclient):
            async for chunk in stream:
                seen.append(chunk)
        else:
            for chunk in stream:
                seen.append(chunk)

    assert len(seen) == 2
    [span] = ollama_instrumented.spans()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == "httpx.RemoteProtocolError"
    assert span.attributes[STREAM_END] == "error"


async def test_malformed_line(ollama_instrumented: TelemetryCapture, oclient: Any) -> None:
    stream = await open_stream(oclient, f"{QUESTION} [[scenario:malformed]]")
    with pytest.raises(json.JSONDecodeError):
        await chunks_of(stream)

    [span] = ollama_instrumented.spans()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == error_name(json.JSONDecodeError) == "json.JSONDecodeError"
    assert span.attributes[STREAM_END] == "error"


async def test_tool_call_in_a_stream(ollama_instrumented: TelemetryCapture, oclient: Any) -> None:
    chunks = await chunks_of(await open_stream(oclient, tools=[WEATHER_TOOL]))

    [call] = [c for chunk in chunks for c in chunk.message.tool_calls or ()]
    assert (call.function.name, call.function.arguments) == ("get_weather", {"city": "Paris"})
    [span] = ollama_instrumented.spans()
    [call_id] = span.attributes["agentotel.response.tool_calls.ids"]
    assert span.attributes["agentotel.response.tool_calls.names"] == ("get_weather",)
    assert call_id.startswith("get_weather:") and call_id.endswith(":0")
    assert span.attributes["gen_ai.response.finish_reasons"] == ("stop",)
