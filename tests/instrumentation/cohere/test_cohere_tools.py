"""The tool loop on Cohere: a ``tool`` message sent back after the model's tool call gives one
inferred ``execute_tool`` span between the two chat spans, under the same trace."""

from __future__ import annotations

from typing import Any

from cohere_helpers import MODEL, QUESTION, SPAN_NAME, WEATHER_TOOL
from helpers import resolve

from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture


async def tool_loop(client: Any, *, stream: bool = False) -> list[Any]:
    """Ask, get the call, send its result back; returns the messages of the second request."""
    messages: list[Any] = [{"role": "user", "content": QUESTION}]
    if stream:
        events = client.chat_stream(model=MODEL, messages=messages, tools=[WEATHER_TOOL])
        got = [e async for e in events] if hasattr(events, "__aiter__") else list(events)
        [start] = [e for e in got if e.type == "tool-call-start"]
        call_id = start.delta.message.tool_calls.id
        plan = "".join(e.delta.message.tool_plan for e in got if e.type == "tool-plan-delta")
        calls = [
            {
                "id": call_id,
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
            }
        ]
        messages.append({"role": "assistant", "tool_plan": plan, "tool_calls": calls})
    else:
        first = await resolve(client.chat(model=MODEL, messages=messages, tools=[WEATHER_TOOL]))
        call_id = first.message.tool_calls[0].id
        messages.append(first.message)
    messages.append({"role": "tool", "tool_call_id": call_id, "content": [{"type": "text", "text": "sunny"}]})
    await resolve(client.chat(model=MODEL, messages=messages, tools=[WEATHER_TOOL]))
    return messages


async def test_tool_result_gives_an_inferred_tool_span(
    co_instrumented: TelemetryCapture, client: Any, fresh_fake_llm: FakeLLMServer
) -> None:
    await tool_loop(client)

    assert len(fresh_fake_llm.requests) == 2
    first, tool, second = co_instrumented.spans()
    assert [first.name, tool.name, second.name] == [SPAN_NAME, "execute_tool get_weather", SPAN_NAME]
    assert dict(tool.attributes) == {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "get_weather",
        "gen_ai.tool.call.id": "get_weather_1",
        "gen_ai.tool.type": "function",
        "agentotel.tool.inferred": True,
    }
    assert first.end_time <= tool.start_time <= tool.end_time <= second.start_time
    assert second.attributes["gen_ai.response.finish_reasons"] == ("complete",)


async def test_after_a_stream(co_instrumented: TelemetryCapture, client: Any) -> None:
    await tool_loop(client, stream=True)

    assert [s.name for s in co_instrumented.spans()] == [SPAN_NAME, "execute_tool get_weather", SPAN_NAME]
