"""Zero-code tool spans: tool executions inferred from the LLM requests that carry their results.

The plain tool loops of the example agent (``agentotel.cli._demo_agent``) run unchanged against the fake
server; the instrumentors alone produce the ``execute_tool`` spans.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from helpers import RESPONSES_API, attrs_of, instrumented
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode

import agentotel
from agentotel._telemetry import telemetry_for
from agentotel._toolcalls import PendingToolCalls
from agentotel.cli._demo_agent import CLAUDE_TOOLS, TOOLS, get_weather, run_anthropic, run_openai
from agentotel.instrumentation.anthropic import AnthropicInstrumentor
from agentotel.instrumentation.openai import OpenAIInstrumentor
from agentotel.testing._capture import TelemetryCapture

pytestmark = pytest.mark.usefixtures("fresh_fake_llm")

TOOL = "agentotel.tool.duration"


@pytest.fixture
def both(agent_layer: TelemetryCapture, monkeypatch: pytest.MonkeyPatch) -> Iterator[TelemetryCapture]:
    monkeypatch.setenv("ANTHROPIC_OPEN_TELEMETRY", "false")
    with instrumented(agent_layer, OpenAIInstrumentor, AnthropicInstrumentor):
        yield agent_layer


def pending_of(cap: TelemetryCapture) -> PendingToolCalls:
    """The pending tool calls of the telemetry holder the instrumentors on ``cap`` record through."""
    return telemetry_for(**cap.providers).pending


def _named(cap: TelemetryCapture, prefix: str) -> list[ReadableSpan]:
    return [s for s in cap.spans() if s.name.startswith(prefix)]


def _quiet(*_: Any) -> None:
    pass


def _inferred(call_id: str) -> dict[str, Any]:
    return {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "get_weather",
        "gen_ai.tool.call.id": call_id,
        "gen_ai.tool.type": "function",
        "agentotel.tool.inferred": True,
    }


@pytest.mark.parametrize(
    ("run", "client_fixture", "model", "call_id"),
    [
        pytest.param(run_openai, "openai_client", "gpt-4o-mini", "call_1", id="openai"),
        pytest.param(run_anthropic, "anthropic_client", "claude-opus-5", "toolu_1", id="anthropic"),
    ],
)
def test_example_loop_gets_one_inferred_tool_span(
    both: TelemetryCapture,
    request: pytest.FixtureRequest,
    run: Callable[..., Any],
    client_fixture: str,
    model: str,
    call_id: str,
) -> None:
    run(request.getfixturevalue(client_fixture), model, offline=True, say=_quiet)

    [tool] = _named(both, "execute_tool")
    first, second = _named(both, "chat")[:2]
    assert tool.name == "execute_tool get_weather"
    assert attrs_of(tool) == _inferred(call_id)
    assert tool.status.status_code is StatusCode.UNSET
    # From the end of the response that asked for the tool to the start of the request with its result.
    assert tool.start_time == first.end_time
    assert first.end_time <= tool.end_time <= second.start_time
    # Parented like that request (no enclosing span here: both are roots).
    assert tool.parent is None and second.parent is None
    assert both.metric_count(TOOL) == 1
    assert both.metric_count(TOOL, {"gen_ai.tool.name": "get_weather", "gen_ai.tool.type": "function"}) == 1
    assert len(pending_of(both)) == 0


def test_inferred_span_is_parented_like_the_request(both: TelemetryCapture, openai_client: Any) -> None:
    tracer = both.tracer_provider.get_tracer("app")
    with tracer.start_as_current_span("round") as root:
        run_openai(openai_client, "gpt-4o-mini", offline=True, say=_quiet)

    [tool] = _named(both, "execute_tool")
    second = _named(both, "chat")[1]
    assert tool.parent is not None and second.parent is not None
    assert tool.parent.span_id == second.parent.span_id == root.get_span_context().span_id
    assert tool.context.trace_id == root.get_span_context().trace_id


def _openai_tool_loop(client: Any, execute: Any) -> None:
    messages: list[dict[str, Any]] = [{"role": "user", "content": "Weather in Paris?"}]
    reply = client.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=TOOLS)
    message = reply.choices[0].message
    messages.append(message.model_dump(exclude_none=True))
    for call in message.tool_calls:
        content = execute(call)
        messages.append({"role": "tool", "tool_call_id": call.id, "content": content})
    client.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=TOOLS)


def test_explicit_tool_span_claims_the_call_and_suppresses_the_inferred_one(
    both: TelemetryCapture, openai_client: Any
) -> None:
    def execute(call: Any) -> str:
        with agentotel.tool("get_weather"):
            return get_weather(**json.loads(call.function.arguments))

    _openai_tool_loop(openai_client, execute)

    [tool] = _named(both, "execute_tool")
    assert attrs_of(tool) == {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "get_weather",
        "gen_ai.tool.type": "function",
        "gen_ai.tool.call.id": "call_1",
    }
    assert both.metric_count(TOOL) == 1


def test_explicit_call_id_suppresses_the_inferred_span(both: TelemetryCapture, openai_client: Any) -> None:
    def execute(call: Any) -> str:
        with agentotel.tool("weather lookup", call_id=call.id):
            return get_weather(**json.loads(call.function.arguments))

    _openai_tool_loop(openai_client, execute)

    [tool] = _named(both, "execute_tool")
    assert tool.name == "execute_tool weather lookup"
    assert attrs_of(tool)["gen_ai.tool.call.id"] == "call_1"
    assert "agentotel.tool.inferred" not in attrs_of(tool)


def test_streamed_tool_call_is_remembered(both: TelemetryCapture, openai_client: Any) -> None:
    messages: list[dict[str, Any]] = [{"role": "user", "content": "Weather in Paris?"}]
    stream = openai_client.chat.completions.create(
        model="gpt-4o-mini", messages=messages, tools=TOOLS, stream=True
    )
    calls: dict[int, dict[str, Any]] = {}
    for chunk in stream:
        for delta in chunk.choices[0].delta.tool_calls or () if chunk.choices else ():
            entry = calls.setdefault(delta.index, {"id": None, "name": "", "arguments": ""})
            entry["id"] = delta.id or entry["id"]
            if delta.function is not None:
                entry["name"] += delta.function.name or ""
                entry["arguments"] += delta.function.arguments or ""
    [call] = calls.values()
    messages.append(
        {
            "role": "assistant",
            "tool_calls": [
                {
                    "id": call["id"],
                    "type": "function",
                    "function": {"name": call["name"], "arguments": call["arguments"]},
                }
            ],
        }
    )
    messages.append({"role": "tool", "tool_call_id": call["id"], "content": "sunny"})
    openai_client.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=TOOLS)

    [tool] = _named(both, "execute_tool")
    assert attrs_of(tool) == _inferred(call["id"])


@RESPONSES_API
def test_responses_function_call_output_gets_an_inferred_span(
    both: TelemetryCapture, openai_client: Any
) -> None:
    tools = [{"type": "function", "name": "get_weather", "parameters": TOOLS[0]["function"]["parameters"]}]
    first = openai_client.responses.create(model="gpt-4o-mini", input="Weather in Oslo?", tools=tools)
    [call] = [item for item in first.output if item.type == "function_call"]
    openai_client.responses.create(
        model="gpt-4o-mini",
        previous_response_id=first.id,
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": "sunny"}],
        tools=tools,
    )

    [tool] = _named(both, "execute_tool")
    assert attrs_of(tool) == _inferred(call.call_id)


def test_anthropic_error_result_marks_the_inferred_span_failed(
    both: TelemetryCapture, anthropic_client: Any
) -> None:
    messages: list[dict[str, Any]] = [{"role": "user", "content": "Weather in Lyon?"}]
    reply = anthropic_client.messages.create(
        model="claude-opus-5", max_tokens=64, messages=messages, tools=CLAUDE_TOOLS
    )
    [use] = [b for b in reply.content if b.type == "tool_use"]
    messages.append(
        {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in reply.content]}
    )
    messages.append(
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "boom", "is_error": True}],
        }
    )
    anthropic_client.messages.create(
        model="claude-opus-5", max_tokens=64, messages=messages, tools=CLAUDE_TOOLS
    )

    [tool] = _named(both, "execute_tool")
    assert attrs_of(tool) == {**_inferred(use.id), "error.type": "tool_error"}
    assert tool.status.status_code is StatusCode.ERROR
    assert both.metric_count(TOOL, {"gen_ai.tool.name": "get_weather", "error.type": "tool_error"}) == 1


def test_result_for_an_unknown_call_gets_no_span(both: TelemetryCapture, openai_client: Any) -> None:
    messages = [
        {"role": "user", "content": "hi"},
        {
            "role": "assistant",
            "tool_calls": [
                {"id": "call_elsewhere", "type": "function", "function": {"name": "x", "arguments": "{}"}}
            ],
        },
        {"role": "tool", "tool_call_id": "call_elsewhere", "content": "done"},
    ]
    openai_client.chat.completions.create(model="gpt-4o-mini", messages=messages)

    assert _named(both, "execute_tool") == []
    assert both.metric_count(TOOL) == 0


def test_a_result_sent_twice_gets_one_span(both: TelemetryCapture, openai_client: Any) -> None:
    def execute(call: Any) -> str:
        return "sunny"

    _openai_tool_loop(openai_client, execute)
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
    ]
    openai_client.chat.completions.create(model="gpt-4o-mini", messages=messages)

    assert len(_named(both, "execute_tool")) == 1


def test_pending_calls_are_bounded_by_count(monkeypatch: pytest.MonkeyPatch) -> None:
    pending = PendingToolCalls(max_count=2, ttl=600)
    pending.add(["a", "b", "c"], ["t", "t", "t"], 1, 7)

    assert len(pending) == 2
    assert [c.call_id for c in pending.take(["a", "b", "c"])] == ["b", "c"]


def test_pending_calls_expire() -> None:
    pending = PendingToolCalls(max_count=10, ttl=0.05)
    pending.add(["a"], ["t"], 1, 7)
    time.sleep(0.1)

    assert pending.take(["a"]) == []
    assert len(pending) == 0


def test_claim_takes_the_oldest_call_of_the_name_in_the_trace() -> None:
    pending = PendingToolCalls()
    pending.add(["a", "b"], ["search", "search"], 1, 7)
    pending.add(["c"], ["search"], 2, 8)

    assert pending.claim("search", 8) == "c"
    assert pending.claim("search", 7) == "a"
    assert pending.claim("search", 0) == "b"  # outside any span: any trace
    assert pending.claim("search", 7) is None


def test_pending_limit_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, agent_layer: TelemetryCapture, openai_client: Any
) -> None:
    monkeypatch.setenv("AGENTOTEL_TOOL_PENDING_MAX", "1")
    with instrumented(agent_layer, OpenAIInstrumentor):
        tools = TOOLS
        ids = []
        for _ in range(2):
            reply = openai_client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "Weather?"}], tools=tools
            )
            ids.append(reply.choices[0].message.tool_calls[0].id)
        assert len(pending_of(agent_layer)) == 1
        assert pending_of(agent_layer).take(ids)[0].call_id == ids[1]
