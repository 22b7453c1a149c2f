"""Content capture for Google GenAI: off by default (nothing of the prompt, the system
instruction, the tools, the function calls or their results leaves the process, nor the API key);
on, Gemini ``contents`` / ``parts`` become the conventions' messages on the span and/or in the
``gen_ai.client.inference.operation.details`` event."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from google.genai import types
from google_genai_helpers import API_KEY, MODEL, QUESTION, REPLY
from helpers import instrumented, resolve

from agentotel.instrumentation.google_genai import GoogleGenAIInstrumentor
from agentotel.testing._capture import TelemetryCapture

ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
EVENT = "gen_ai.client.inference.operation.details"
CONTENT = (
    "gen_ai.system_instructions",
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "gen_ai.tool.definitions",
)
NO_AFC = types.AutomaticFunctionCallingConfig(disable=True)


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


def tool(marker: str) -> Any:
    return types.Tool(
        function_declarations=[
            types.FunctionDeclaration(
                name="get_weather",
                description=f"The weather. {marker}",
                parameters={
                    "type": "OBJECT",
                    "properties": {"city": {"type": "STRING", "enum": [f"city-{marker}"]}},
                    "required": ["city"],
                },
            )
        ]
    )


async def tool_loop(models: Any, marker: str) -> None:
    """A model call that asks for ``get_weather``, then the app sends its result back."""
    config = types.GenerateContentConfig(
        system_instruction=f"Be brief. {marker}", tools=[tool(marker)], automatic_function_calling=NO_AFC
    )
    first = await resolve(
        models.generate_content(model=MODEL, contents=f"{QUESTION} {marker}", config=config)
    )
    result = types.Part.from_function_response(name="get_weather", response={"output": f"sunny {marker}"})
    history = [
        types.Content(role="user", parts=[types.Part.from_text(text=f"{QUESTION} {marker}")]),
        first.candidates[0].content,
        types.Content(role="user", parts=[result]),
    ]
    await resolve(models.generate_content(model=MODEL, contents=history, config=config))


@pytest.mark.parametrize("setting", [None, "NO_CONTENT", "false"])
async def test_content_off_records_no_content(
    cap: TelemetryCapture, monkeypatch: pytest.MonkeyPatch, models: Any, setting: str | None
) -> None:
    if setting is None:
        monkeypatch.delenv(ENV, raising=False)
    else:
        monkeypatch.setenv(ENV, setting)
    marker = uuid.uuid4().hex
    with instrumented(cap, GoogleGenAIInstrumentor):
        await tool_loop(models, marker)

    assert [s.name for s in cap.spans()] == [
        f"generate_content {MODEL}",
        "execute_tool get_weather",
        f"generate_content {MODEL}",
    ]
    text = exported(cap)
    assert marker not in text
    assert API_KEY not in text
    assert cap.logs() == []
    for span in cap.spans():
        assert not set(CONTENT) & set(span.attributes or {})


async def test_content_on_span(cap: TelemetryCapture, monkeypatch: pytest.MonkeyPatch, models: Any) -> None:
    monkeypatch.setenv(ENV, "SPAN_ONLY")
    marker = "m4rk3r"
    with instrumented(cap, GoogleGenAIInstrumentor):
        await tool_loop(models, marker)

    first, _, second = cap.spans()
    [call_id] = first.attributes["agentotel.response.tool_calls.ids"]
    call = {
        "type": "tool_call",
        "id": call_id,
        "name": "get_weather",
        "arguments": {"city": f"city-{marker}"},
    }
    question = {"role": "user", "parts": [{"type": "text", "content": f"{QUESTION} {marker}"}]}
    assert json.loads(first.attributes["gen_ai.system_instructions"]) == [
        {"type": "text", "content": f"Be brief. {marker}"}
    ]
    assert json.loads(first.attributes["gen_ai.tool.definitions"]) == [
        {"type": "function", "name": "get_weather", "description": f"The weather. {marker}"}
    ]
    assert json.loads(first.attributes["gen_ai.input.messages"]) == [question]
    assert json.loads(first.attributes["gen_ai.output.messages"]) == [
        {"role": "assistant", "parts": [call], "finish_reason": "stop"}
    ]
    assert json.loads(second.attributes["gen_ai.input.messages"]) == [
        question,
        {"role": "assistant", "parts": [call]},
        {
            "role": "tool",
            "parts": [{"type": "tool_call_response", "id": None, "response": {"output": f"sunny {marker}"}}],
        },
    ]
    assert json.loads(second.attributes["gen_ai.output.messages"]) == [
        {"role": "assistant", "parts": [{"type": "text", "content": REPLY}], "finish_reason": "stop"}
    ]
    assert cap.logs() == []
    assert API_KEY not in exported(cap)  # the client's key, never, capture on or off


async def test_content_in_event_only(
    cap: TelemetryCapture, monkeypatch: pytest.MonkeyPatch, models: Any
) -> None:
    monkeypatch.setenv(ENV, "EVENT_ONLY")
    with instrumented(cap, GoogleGenAIInstrumentor):
        await resolve(models.generate_content(model=MODEL, contents=QUESTION))

    [span] = cap.spans()
    assert not set(CONTENT) & set(span.attributes)
    [record] = cap.logs()
    assert record.event_name == EVENT
    assert json.loads(record.attributes["gen_ai.input.messages"]) == [
        {"role": "user", "parts": [{"type": "text", "content": QUESTION}]}
    ]
    assert json.loads(record.attributes["gen_ai.output.messages"]) == [
        {"role": "assistant", "parts": [{"type": "text", "content": REPLY}], "finish_reason": "stop"}
    ]
    assert record.attributes["gen_ai.provider.name"] == "gcp.gemini"


async def test_stream_output_captured(
    cap: TelemetryCapture, monkeypatch: pytest.MonkeyPatch, models: Any
) -> None:
    monkeypatch.setenv(ENV, "SPAN_ONLY")
    text = f"{QUESTION} [[scenario:reasoning:2]]"
    with instrumented(cap, GoogleGenAIInstrumentor):
        stream = await resolve(models.generate_content_stream(model=MODEL, contents=text))
        chunks = [c async for c in stream] if hasattr(stream, "__aiter__") else list(stream)

    assert len(chunks) == 3 + 6  # "Let me think." in three pieces, then the six words
    [span] = cap.spans()
    assert json.loads(span.attributes["gen_ai.output.messages"]) == [
        {
            "role": "assistant",
            "parts": [{"type": "reasoning", "content": "Let me think."}, {"type": "text", "content": REPLY}],
            "finish_reason": "stop",
        }
    ]
    assert span.attributes["gen_ai.usage.reasoning.output_tokens"] == 2


async def test_contents_shapes(cap: TelemetryCapture, monkeypatch: pytest.MonkeyPatch, models: Any) -> None:
    """Strings and parts given loose make one user turn, as the SDK groups them; dicts are read
    with snake_case keys."""
    monkeypatch.setenv(ENV, "SPAN_ONLY")
    contents = [
        "one",
        types.Part.from_text(text="two"),
        {"role": "model", "parts": [{"text": "three"}]},
        "four",
    ]
    with instrumented(cap, GoogleGenAIInstrumentor):
        await resolve(models.generate_content(model=MODEL, contents=contents))

    [span] = cap.spans()
    assert json.loads(span.attributes["gen_ai.input.messages"]) == [
        {"role": "user", "parts": [{"type": "text", "content": "one"}, {"type": "text", "content": "two"}]},
        {"role": "assistant", "parts": [{"type": "text", "content": "three"}]},
        {"role": "user", "parts": [{"type": "text", "content": "four"}]},
    ]
