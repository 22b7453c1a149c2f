"""LiteLLM streams (``stream=True``): every way to leave one ends its span exactly once.

LiteLLM returns a ``CustomStreamWrapper`` for ``completion`` and ``acompletion`` alike; usage is
in the stream only when the provider sends it (``stream_options={"include_usage": True}``).
"""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import pytest
from helpers import DURATION, QUESTION, TIME_TO_FIRST_CHUNK, attrs_of, only_span, user
from litellm.exceptions import MidStreamFallbackError
from litellm_helpers import CLAUDE, GPT, anthropic_kw, complete, openai_kw, route_attrs, tokens
from opentelemetry.trace import StatusCode

from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture

pytestmark = pytest.mark.usefixtures("fresh_server")

USAGE = {"stream_options": {"include_usage": True}}
STREAM_END = "agentotel.stream.end"


async def open_stream(flavour: str, kw: dict[str, Any], text: str = QUESTION) -> Any:
    return await complete(flavour, messages=user(text), stream=True, **kw)


async def drain(stream: Any, flavour: str) -> list[Any]:
    if flavour == "async":
        return [chunk async for chunk in stream]
    return list(stream)


async def next_chunk(stream: Any, flavour: str) -> Any:
    if flavour == "async":
        return await stream.__anext__()
    return next(stream)


async def collect_garbage() -> None:
    for _ in range(2):
        gc.collect()
        await asyncio.sleep(0)


def stream_attrs(cap: TelemetryCapture, end: str) -> dict[str, Any]:
    """The one span's attributes, without the timing one (checked apart)."""
    span = only_span(cap)
    attrs = attrs_of(span)
    assert attrs.pop(STREAM_END) == end
    attrs.pop("gen_ai.response.time_to_first_chunk", None)
    attrs.pop("agentotel.usage.cost_usd", None)
    return attrs


async def test_openai_stream_exhausted(
    litellm_instrumented: TelemetryCapture, flavour: str, fake_llm: FakeLLMServer
) -> None:
    chunks = await drain(await open_stream(flavour, openai_kw(fake_llm, **USAGE)), flavour)

    last_usage = chunks[-1].usage
    assert stream_attrs(litellm_instrumented, "exhausted") == {
        **route_attrs(fake_llm, "openai", GPT),
        "gen_ai.request.stream": True,
        "gen_ai.response.id": "chatcmpl-1",
        "gen_ai.response.model": chunks[0].model,
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": last_usage.prompt_tokens,
        "gen_ai.usage.output_tokens": last_usage.completion_tokens,
    }
    assert (last_usage.prompt_tokens, last_usage.completion_tokens) == (6, 6)
    assert tokens(litellm_instrumented) == {"input": 6, "output": 6}
    assert litellm_instrumented.metric_count(DURATION) == 1
    assert litellm_instrumented.metric_count(TIME_TO_FIRST_CHUNK) == 1


async def test_anthropic_stream_exhausted(
    litellm_instrumented: TelemetryCapture, flavour: str, fake_llm: FakeLLMServer
) -> None:
    chunks = await drain(await open_stream(flavour, anthropic_kw(fake_llm, **USAGE)), flavour)

    usage = chunks[-1].usage
    attrs = stream_attrs(litellm_instrumented, "exhausted")
    assert attrs["gen_ai.provider.name"] == "anthropic"
    assert attrs["gen_ai.request.model"] == CLAUDE
    # Exactly what LiteLLM reported to the app, never an estimate. The fake server sends two
    # cumulative message_delta events (output_tokens 3, then 6); LiteLLM 1.110.2 reports the
    # first, and the span can only carry what LiteLLM hands over (real Anthropic streams send one).
    assert (usage.prompt_tokens, usage.completion_tokens) == (6, 3)
    assert attrs["gen_ai.usage.input_tokens"] == 6
    assert attrs["gen_ai.usage.output_tokens"] == 3
    assert tokens(litellm_instrumented) == {"input": 6, "output": 3}


async def test_no_usage_reported_none_recorded(
    litellm_instrumented: TelemetryCapture, flavour: str, fake_llm: FakeLLMServer
) -> None:
    chunks = await drain(await open_stream(flavour, openai_kw(fake_llm)), flavour)

    assert all(getattr(c, "usage", None) is None for c in chunks)
    attrs = stream_attrs(litellm_instrumented, "exhausted")
    assert "gen_ai.usage.input_tokens" not in attrs
    assert "gen_ai.usage.output_tokens" not in attrs
    assert tokens(litellm_instrumented) == {}


async def test_break_then_close(
    litellm_instrumented: TelemetryCapture, flavour: str, fake_llm: FakeLLMServer
) -> None:
    stream = await open_stream(flavour, openai_kw(fake_llm, **USAGE))
    await next_chunk(stream, flavour)
    assert litellm_instrumented.spans() == []

    if flavour == "async":
        await stream.aclose()
    else:
        stream.close()

    attrs = stream_attrs(litellm_instrumented, "closed")
    assert attrs["gen_ai.response.id"] == "chatcmpl-1"
    assert litellm_instrumented.spans()[0].status.status_code is StatusCode.UNSET


async def test_abandoned_after_the_first_chunk(
    litellm_instrumented: TelemetryCapture, flavour: str, fake_llm: FakeLLMServer
) -> None:
    stream = await open_stream(flavour, openai_kw(fake_llm, **USAGE))
    await next_chunk(stream, flavour)
    del stream
    await collect_garbage()

    attrs = stream_attrs(litellm_instrumented, "abandoned")
    assert attrs["gen_ai.response.id"] == "chatcmpl-1"


async def test_abandoned_unread(
    litellm_instrumented: TelemetryCapture, flavour: str, fake_llm: FakeLLMServer
) -> None:
    stream = await open_stream(flavour, openai_kw(fake_llm, **USAGE))
    del stream
    await collect_garbage()

    assert stream_attrs(litellm_instrumented, "abandoned") == {
        **route_attrs(fake_llm, "openai", GPT),
        "gen_ai.request.stream": True,
    }


async def test_ends_once(
    litellm_instrumented: TelemetryCapture, flavour: str, fake_llm: FakeLLMServer
) -> None:
    stream = await open_stream(flavour, openai_kw(fake_llm, **USAGE))
    await drain(stream, flavour)
    if flavour == "async":
        await stream.aclose()
    else:
        stream.close()
    del stream
    await collect_garbage()

    stream_attrs(litellm_instrumented, "exhausted")
    assert litellm_instrumented.metric_count(DURATION) == 1


async def test_tool_call_stream(
    litellm_instrumented: TelemetryCapture, flavour: str, fake_llm: FakeLLMServer
) -> None:
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]
    chunks = await drain(await open_stream(flavour, openai_kw(fake_llm, tools=tools, **USAGE)), flavour)

    ids = [c.choices[0].delta.tool_calls[0].id for c in chunks if c.choices and c.choices[0].delta.tool_calls]
    attrs = stream_attrs(litellm_instrumented, "exhausted")
    assert attrs["gen_ai.response.finish_reasons"] == ("tool_calls",)
    assert attrs["agentotel.response.tool_calls.names"] == ("get_weather",)
    assert attrs["agentotel.response.tool_calls.ids"] == (ids[0],)


async def test_disconnect_mid_stream(
    litellm_instrumented: TelemetryCapture, flavour: str, fake_llm: FakeLLMServer
) -> None:
    stream = await open_stream(flavour, openai_kw(fake_llm, **USAGE), f"{QUESTION} [[scenario:disconnect]]")
    with pytest.raises(Exception) as raised:
        await drain(stream, flavour)

    span = only_span(litellm_instrumented)
    attrs = attrs_of(span)
    assert span.status.status_code is StatusCode.ERROR
    assert attrs[STREAM_END] == "error"
    # What LiteLLM raises for a stream that breaks off (litellm does not re-export the class at
    # its top level, so error.type names its module).
    assert type(raised.value) is MidStreamFallbackError
    assert attrs["error.type"] == "litellm.exceptions.MidStreamFallbackError"
