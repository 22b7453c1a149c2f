"""``generate_content_stream`` (sync and ``client.aio``) and ``send_message_stream``: the span
ends exactly once however the stream is left, with the usage, finish reason and tool calls seen.

The SDK's streams are generators that the SDK itself iterates inside the public generator (for
automatic continuation and function calling): when the app closes that generator or leaves it,
the SDK drops its inner stream, our proxy is collected, and the span ends as ``abandoned`` with
what was read (at once on the sync client; on the async client when the event loop finalizes
the SDK's async generators).
"""

from __future__ import annotations

import asyncio
import gc
import json
from typing import Any

import pytest
from google.genai import errors, types
from google_genai_helpers import (
    MODEL,
    MODEL_VERSION,
    QUESTION,
    REPLY,
    SPAN_NAME,
    STREAM_END,
    WEATHER_TOOL,
    error_name,
    gemini_cost,
    get_weather,
    is_async,
    request_attrs,
    response_ids,
)
from helpers import resolve
from opentelemetry.trace import StatusCode

from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture

CHUNKS = 6  # the fake server streams the six words of REPLY one per event


async def collect_garbage() -> None:
    # An abandoned async generator is closed by a task the event loop schedules, and the SDK's
    # generators nest three deep (public, continuation, request): let each run.
    for _ in range(6):
        gc.collect()
        await asyncio.sleep(0)


async def open_stream(models: Any, text: str = QUESTION, **kwargs: Any) -> Any:
    return await resolve(models.generate_content_stream(model=MODEL, contents=text, **kwargs))


async def chunks_of(stream: Any) -> list[Any]:
    if hasattr(stream, "__aiter__"):
        return [chunk async for chunk in stream]
    return list(stream)


async def first_chunk(stream: Any) -> Any:
    return await stream.__anext__() if hasattr(stream, "__anext__") else next(stream)


def stream_attrs(
    server: FakeLLMServer, end: str, *, usage: bool = True, priced: bool = True
) -> dict[str, Any]:
    """The attributes of a stream span of REPLY (the timing attribute left out); a failed call is
    not priced."""
    [response_id] = response_ids(1)
    attrs: dict[str, Any] = {
        **request_attrs(server, stream=True),
        **({"gen_ai.response.id": response_id} if response_id else {}),
        "gen_ai.response.model": MODEL_VERSION,
        "gen_ai.usage.input_tokens": 6,
        STREAM_END: end,
    }
    if usage:
        attrs["gen_ai.usage.output_tokens"] = 6
        attrs["gen_ai.response.finish_reasons"] = ("stop",)
    # Gemini 2.5 Flash's shipped price: the tokens known when the span ends (an abandoned stream:
    # the prompt's, from its first chunk).
    if priced:
        attrs["agentotel.usage.cost_usd"] = gemini_cost(6, 6 if usage else 0)
    return attrs


def the_span(cap: TelemetryCapture) -> dict[str, Any]:
    [span] = cap.spans()
    assert span.name == SPAN_NAME
    attrs = dict(span.attributes)
    assert attrs.pop("gen_ai.response.time_to_first_chunk") > 0
    return attrs


async def test_exhausted(genai_instrumented: TelemetryCapture, models: Any, fake_llm: FakeLLMServer) -> None:
    chunks = await chunks_of(await open_stream(models))

    assert "".join(c.text for c in chunks) == REPLY
    assert len(chunks) == CHUNKS
    assert len(fake_llm.requests) == 1
    assert the_span(genai_instrumented) == stream_attrs(fake_llm, "exhausted")
    [span] = genai_instrumented.spans()
    assert span.status.status_code is StatusCode.UNSET
    metric = {"gen_ai.operation.name": "generate_content"}
    assert genai_instrumented.metric_count("gen_ai.client.operation.time_to_first_chunk", metric) == 1
    assert genai_instrumented.metric_count("gen_ai.client.operation.time_per_output_chunk", metric) == 1
    assert genai_instrumented.metric_sum("gen_ai.client.token.usage", {"gen_ai.token.type": "output"}) == 6


async def test_closed_after_the_first_chunk(
    genai_instrumented: TelemetryCapture, models: Any, fake_llm: FakeLLMServer
) -> None:
    stream = await open_stream(models)
    await first_chunk(stream)
    assert genai_instrumented.spans() == []
    if is_async(models):
        await stream.aclose()
        await collect_garbage()
    else:
        stream.close()

    assert the_span(genai_instrumented) == stream_attrs(fake_llm, "abandoned", usage=False)
    stream = None
    await collect_garbage()
    assert len(genai_instrumented.spans()) == 1  # ended once


async def test_break_then_dropped(
    genai_instrumented: TelemetryCapture, models: Any, fake_llm: FakeLLMServer
) -> None:
    stream = await open_stream(models)
    if is_async(models):
        async for _ in stream:
            break
    else:
        for _ in stream:
            break
    assert genai_instrumented.spans() == []  # the app may still read on
    del stream
    await collect_garbage()

    assert the_span(genai_instrumented) == stream_attrs(fake_llm, "abandoned", usage=False)


async def test_never_iterated_sends_nothing(
    genai_instrumented: TelemetryCapture, models: Any, fake_llm: FakeLLMServer
) -> None:
    """The SDK sends the request on the first read: a stream never read has no request, no span."""
    stream = await open_stream(models)
    del stream
    await collect_garbage()
    assert fake_llm.requests == []
    assert genai_instrumented.spans() == []


async def test_rate_limited(
    genai_instrumented: TelemetryCapture, models: Any, fake_llm: FakeLLMServer
) -> None:
    stream = await open_stream(models, f"{QUESTION} [[scenario:rate_limit]]")
    with pytest.raises(errors.ClientError) as raised:
        await chunks_of(stream)

    assert raised.value.code == 429
    assert len(fake_llm.requests) == 1
    [span] = genai_instrumented.spans()
    assert span.status.status_code is StatusCode.ERROR
    assert dict(span.attributes) == {
        **request_attrs(fake_llm, stream=True),
        "error.type": "google.genai.errors.ClientError",
    } | ({} if is_async(models) else {STREAM_END: "error"})


def disconnect_error(client: Any, models: Any) -> type[BaseException]:
    """What a dropped connection raises mid-stream: the HTTP library the SDK client uses (aiohttp
    for ``client.aio`` when it is installed, else httpx or httpx2)."""
    api = client._api_client
    if is_async(models):
        from google.genai import _api_client

        if getattr(_api_client, "has_aiohttp", False):  # the SDK's aiohttp support came in 1.x
            import aiohttp

            return aiohttp.ClientPayloadError
        library = type(api._async_httpx_client).__mro__[1].__module__.partition(".")[0]
    else:
        library = type(api._httpx_client).__mro__[1].__module__.partition(".")[0]
    return __import__(library).RemoteProtocolError  # type: ignore[no-any-return]


async def test_disconnect_mid_stream(
    genai_instrumented: TelemetryCapture, gclient: Any, models: Any, fake_llm: FakeLLMServer
) -> None:
    error = disconnect_error(gclient, models)
    stream = await open_stream(models, f"{QUESTION} [[scenario:disconnect]]")
    seen: list[Any] = []
    with pytest.raises(error):
        if is_async(models):
            async for chunk in stream:
                seen.append(chunk)
        else:
            for chunk in stream:
                seen.append(chunk)

    assert len(seen) == 2
    await collect_garbage()
    [span] = genai_instrumented.spans()
    assert span.status.status_code is StatusCode.ERROR
    attrs = dict(span.attributes)
    del attrs["gen_ai.response.time_to_first_chunk"]
    assert attrs == {
        **stream_attrs(fake_llm, "error", usage=False, priced=False),
        "gen_ai.usage.input_tokens": 7,  # the marker is a word
        "error.type": f"{error.__module__.partition('.')[0]}.{error.__name__}",
    }


# What an unreadable event raises: UnknownApiResponseError in newer SDKs, the JSON decoder's error before.
MALFORMED = getattr(errors, "UnknownApiResponseError", json.JSONDecodeError)


async def test_malformed_event(genai_instrumented: TelemetryCapture, models: Any) -> None:
    stream = await open_stream(models, f"{QUESTION} [[scenario:malformed]]")
    with pytest.raises(MALFORMED):
        await chunks_of(stream)

    [span] = genai_instrumented.spans()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == error_name(MALFORMED)
    assert span.attributes[STREAM_END] == "error"


async def test_function_call_in_a_stream(genai_instrumented: TelemetryCapture, models: Any) -> None:
    config = types.GenerateContentConfig(
        tools=[WEATHER_TOOL], automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True)
    )
    chunks = await chunks_of(await open_stream(models, config=config))

    [call] = [c for chunk in chunks for c in chunk.function_calls or ()]
    assert (call.name, call.args) == ("get_weather", {"city": "Paris"})
    [span] = genai_instrumented.spans()
    [call_id] = span.attributes["agentotel.response.tool_calls.ids"]
    assert span.attributes["agentotel.response.tool_calls.names"] == ("get_weather",)
    assert call_id.startswith("get_weather:") and call_id.endswith(":0")
    assert span.attributes["gen_ai.response.finish_reasons"] == ("stop",)


async def test_automatic_function_calling_stream(
    genai_instrumented: TelemetryCapture, models: Any, fake_llm: FakeLLMServer
) -> None:
    config = types.GenerateContentConfig(tools=[get_weather])
    chunks = await chunks_of(await open_stream(models, config=config))

    assert "".join(c.text or "" for c in chunks) == REPLY
    assert len(fake_llm.requests) == 2
    first, tool, second = genai_instrumented.spans()
    assert first.attributes[STREAM_END] == second.attributes[STREAM_END] == "exhausted"
    assert tool.attributes["gen_ai.tool.call.id"] == first.attributes["agentotel.response.tool_calls.ids"][0]
    assert tool.attributes["agentotel.tool.inferred"] is True


async def test_chat_send_message_stream_is_one_span(
    genai_instrumented: TelemetryCapture, gclient: Any, fake_llm: FakeLLMServer
) -> None:
    chat = gclient.chats.create(model=MODEL)
    assert "".join(c.text for c in chat.send_message_stream(QUESTION)) == REPLY
    achat = gclient.aio.chats.create(model=MODEL)
    assert "".join([c.text async for c in await achat.send_message_stream(QUESTION)]) == REPLY

    assert len(fake_llm.requests) == 2
    spans = genai_instrumented.spans()
    assert [s.attributes[STREAM_END] for s in spans] == ["exhausted", "exhausted"]
    assert [s.attributes.get("gen_ai.response.id") for s in spans] == response_ids(1, 2)
