"""Content capture for Groq: off by default (nothing of the messages, the tools, the tool calls or
their results leaves the process); on, Groq's messages (OpenAI's chat shape) become the
conventions' messages on the span and/or in the ``gen_ai.client.inference.operation.details``
event, streams included."""

from __future__ import annotations

import json
from typing import Any

import pytest
from groq_helpers import API_KEY, MODEL, REPLY, user
from helpers import instrumented, resolve

from agentotel.instrumentation.groq import GroqInstrumentor
from agentotel.testing._capture import TelemetryCapture

ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
EVENT = "gen_ai.client.inference.operation.details"
CONTENT = (
    "gen_ai.system_instructions",
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "gen_ai.tool.definitions",
)
MARKER = "m4rk3r"


def tools() -> Any:
    return [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": f"The weather. {MARKER}",
                "parameters": {
                    "type": "object",
                    "properties": {"city": {"type": "string", "enum": [MARKER]}},
                },
            },
        }
    ]


def exported(cap: TelemetryCapture) -> str:
    out: list[Any] = []
    for span in cap.spans():
        out += [
            span.name,
            dict(span.attributes or {}),
            [(e.name, dict(e.attributes or {})) for e in span.events],
        ]
    for record in cap.logs():
        out += [record.event_name, record.body, dict(record.attributes or {})]
    return json.dumps(out, default=repr)


async def tool_loop(client: Any) -> None:
    """A system message, a question, a tool call, its result sent back, the answer."""
    messages: list[Any] = [{"role": "system", "content": f"Be brief. {MARKER}"}, *user(f"Weather? {MARKER}")]
    first = await resolve(client.chat.completions.create(model=MODEL, messages=messages, tools=tools()))
    [call] = first.choices[0].message.tool_calls
    messages += [
        first.choices[0].message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": f"sunny {MARKER}"},
    ]
    await resolve(client.chat.completions.create(model=MODEL, messages=messages, tools=tools()))


async def test_content_off_by_default(
    cap: TelemetryCapture, monkeypatch: pytest.MonkeyPatch, client: Any
) -> None:
    monkeypatch.delenv(ENV, raising=False)
    with instrumented(cap, GroqInstrumentor):
        await tool_loop(client)

    assert [s.name for s in cap.spans()] == [f"chat {MODEL}", "execute_tool get_weather", f"chat {MODEL}"]
    for span in cap.spans():
        assert not set(CONTENT) & set(span.attributes or {})
    assert cap.logs() == []
    assert MARKER not in exported(cap)
    assert API_KEY not in exported(cap)


async def test_content_on_span(cap: TelemetryCapture, monkeypatch: pytest.MonkeyPatch, client: Any) -> None:
    monkeypatch.setenv(ENV, "SPAN_ONLY")
    with instrumented(cap, GroqInstrumentor):
        await tool_loop(client)

    first, _, second = cap.spans()
    # The arguments as Groq sends them, a JSON string (as the OpenAI instrumentor records them).
    call = {"type": "tool_call", "id": "call_1", "name": "get_weather", "arguments": '{"city": "Paris"}'}
    asked = [
        {"role": "system", "parts": [{"type": "text", "content": f"Be brief. {MARKER}"}]},
        {"role": "user", "parts": [{"type": "text", "content": f"Weather? {MARKER}"}]},
    ]
    assert json.loads(first.attributes["gen_ai.input.messages"]) == asked
    assert json.loads(first.attributes["gen_ai.output.messages"]) == [
        {"role": "assistant", "parts": [call], "finish_reason": "tool_calls"}
    ]
    # The tools as the app sent them (OpenAI's shape, as the OpenAI instrumentor records them).
    assert json.loads(first.attributes["gen_ai.tool.definitions"]) == tools()
    assert json.loads(second.attributes["gen_ai.input.messages"]) == [
        *asked,
        {"role": "assistant", "parts": [call]},
        {
            "role": "tool",
            "parts": [{"type": "tool_call_response", "id": "call_1", "response": f"sunny {MARKER}"}],
        },
    ]
    assert json.loads(second.attributes["gen_ai.output.messages"]) == [
        {"role": "assistant", "parts": [{"type": "text", "content": REPLY}], "finish_reason": "stop"}
    ]
    assert cap.logs() == []
    assert API_KEY not in exported(cap)


async def test_content_in_event_only(
    cap: TelemetryCapture, monkeypatch: pytest.MonkeyPatch, client: Any
) -> None:
    monkeypatch.setenv(ENV, "EVENT_ONLY")
    with instrumented(cap, GroqInstrumentor):
        await resolve(client.chat.completions.create(model=MODEL, messages=user("hi")))

    [span] = cap.spans()
    assert not set(CONTENT) & set(span.attributes)
    [record] = cap.logs()
    assert record.event_name == EVENT
    assert json.loads(record.attributes["gen_ai.input.messages"]) == [
        {"role": "user", "parts": [{"type": "text", "content": "hi"}]}
    ]
    assert json.loads(record.attributes["gen_ai.output.messages"]) == [
        {"role": "assistant", "parts": [{"type": "text", "content": REPLY}], "finish_reason": "stop"}
    ]
    assert record.attributes["gen_ai.provider.name"] == "groq"


async def test_stream_output_captured(
    cap: TelemetryCapture, monkeypatch: pytest.MonkeyPatch, client: Any
) -> None:
    monkeypatch.setenv(ENV, "SPAN_AND_EVENT")
    with instrumented(cap, GroqInstrumentor):
        stream = await resolve(client.chat.completions.create(model=MODEL, messages=user("hi"), stream=True))
        _ = [c async for c in stream] if hasattr(stream, "__aiter__") else list(stream)

    [span] = cap.spans()
    output = [{"role": "assistant", "parts": [{"type": "text", "content": REPLY}], "finish_reason": "stop"}]
    assert json.loads(span.attributes["gen_ai.output.messages"]) == output
    [record] = cap.logs()
    assert json.loads(record.attributes["gen_ai.output.messages"]) == output


@pytest.mark.parametrize("stream", [False, True], ids=["call", "stream"])
async def test_reasoning_captured_ahead_of_the_text(
    cap: TelemetryCapture, monkeypatch: pytest.MonkeyPatch, client: Any, stream: bool
) -> None:
    """A reasoning model's ``reasoning`` (``reasoning_format="parsed"``) is a ``reasoning`` part."""
    monkeypatch.setenv(ENV, "SPAN_ONLY")
    # ``extra_body``: groq 0.9's ``create`` has no ``reasoning_format`` parameter.
    options: dict[str, Any] = {"extra_body": {"reasoning_format": "parsed"}, "stream": stream}
    with instrumented(cap, GroqInstrumentor):
        reply = await resolve(
            client.chat.completions.create(
                model=MODEL, messages=user("[[scenario:reasoning:2]] hi"), **options
            )
        )
        if stream:
            chunks = [c async for c in reply] if hasattr(reply, "__aiter__") else list(reply)
            said = "".join(getattr(c.choices[0].delta, "reasoning", None) or "" for c in chunks if c.choices)
        else:
            said = reply.choices[0].message.reasoning

    assert said == "Let me think."
    [span] = cap.spans()
    assert json.loads(span.attributes["gen_ai.output.messages"]) == [
        {
            "role": "assistant",
            "parts": [{"type": "reasoning", "content": "Let me think."}, {"type": "text", "content": REPLY}],
            "finish_reason": "stop",
        }
    ]
    assert span.attributes["gen_ai.usage.reasoning.output_tokens"] == 2
