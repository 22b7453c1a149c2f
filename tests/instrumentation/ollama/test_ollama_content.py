"""Content capture for Ollama: off by default (nothing of the prompt, the tools, the tool calls or
their results leaves the process, nor the key); on, Ollama's messages become the conventions'
messages on the span and/or in the ``gen_ai.client.inference.operation.details`` event. Also the
inferred ``execute_tool`` spans of the tool loop, whatever the capture setting."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from helpers import instrumented, resolve
from ollama_helpers import API_KEY, EMBED_MODEL, MODEL, QUESTION, REPLY, THINKING, get_weather
from opentelemetry.trace import SpanKind

from agentotel.instrumentation.ollama import OllamaInstrumentor
from agentotel.testing import FakeLLMServer, Reply, ToolCall
from agentotel.testing._capture import TelemetryCapture

ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
EVENT = "gen_ai.client.inference.operation.details"
CONTENT = (
    "gen_ai.system_instructions",
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "gen_ai.tool.definitions",
)
CHAT = f"chat {MODEL}"


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
    for name in ("gen_ai.client.operation.duration", "gen_ai.client.token.usage"):
        out += [dict(p.attributes) for p in cap.metric_points(name)]
    return json.dumps(out, default=repr)


def tool(marker: str) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": f"The weather. {marker}",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string", "enum": [f"city-{marker}"]}},
                "required": ["city"],
            },
        },
    }


async def tool_loop(oclient: Any, marker: str) -> list[Any]:
    """A model call that asks for ``get_weather``, then the app sends its result back."""
    messages: list[Any] = [
        {"role": "system", "content": f"Be brief. {marker}"},
        {"role": "user", "content": f"{QUESTION} {marker}"},
    ]
    first = await resolve(oclient.chat(model=MODEL, messages=messages, tools=[tool(marker)]))
    [call] = first.message.tool_calls
    messages += [
        first.message,
        {"role": "tool", "content": f"sunny {marker}", "tool_name": call.function.name},
    ]
    await resolve(oclient.chat(model=MODEL, messages=messages, tools=[tool(marker)]))
    return messages


@pytest.mark.parametrize("setting", [None, "NO_CONTENT", "false"])
async def test_content_off_records_no_content(
    cap: TelemetryCapture, monkeypatch: pytest.MonkeyPatch, oclient: Any, setting: str | None
) -> None:
    if setting is None:
        monkeypatch.delenv(ENV, raising=False)
    else:
        monkeypatch.setenv(ENV, setting)
    monkeypatch.setenv("OLLAMA_API_KEY", API_KEY)
    marker = uuid.uuid4().hex
    with instrumented(cap, OllamaInstrumentor):
        await tool_loop(oclient, marker)
        await resolve(oclient.generate(model=MODEL, prompt=marker, system=marker))
        await resolve(oclient.embed(model=EMBED_MODEL, input=marker))

    assert [s.name for s in cap.spans()] == [
        CHAT,
        "execute_tool get_weather",
        CHAT,
        f"text_completion {MODEL}",
        f"embeddings {EMBED_MODEL}",
    ]
    text = exported(cap)
    assert marker not in text
    assert API_KEY not in text
    assert cap.logs() == []
    for span in cap.spans():
        assert not set(CONTENT) & set(span.attributes or {})


async def test_tool_loop_gives_an_inferred_tool_span(cap: TelemetryCapture, oclient: Any) -> None:
    with instrumented(cap, OllamaInstrumentor):
        await tool_loop(oclient, "m")

    first, tool_span, second = cap.spans()
    [call_id] = first.attributes["agentotel.response.tool_calls.ids"]
    assert tool_span.kind is SpanKind.INTERNAL
    assert dict(tool_span.attributes) == {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "get_weather",
        "gen_ai.tool.call.id": call_id,
        "gen_ai.tool.type": "function",
        "agentotel.tool.inferred": True,
    }
    assert "agentotel.response.tool_calls.ids" not in second.attributes
    assert second.attributes["gen_ai.usage.output_tokens"] == 6


async def test_two_calls_of_one_tool_are_told_apart(
    cap: TelemetryCapture, oclient: Any, fake_llm: FakeLLMServer
) -> None:
    """Ollama's tool calls have no ids: two calls of the same tool in one turn get ``:0`` and
    ``:1``, and the ``tool`` messages answer them in order."""
    paris = ToolCall("get_weather", {"city": "Paris"})
    fake_llm.script([Reply.tool_calls(paris, paris)])
    messages: list[Any] = [{"role": "user", "content": QUESTION}]
    with instrumented(cap, OllamaInstrumentor):
        first = await resolve(oclient.chat(model=MODEL, messages=messages, tools=[get_weather]))
        answers = [{"role": "tool", "content": "sunny", "tool_name": "get_weather"}] * 2
        await resolve(oclient.chat(model=MODEL, messages=[*messages, first.message, *answers]))

    first_span, one, two, _ = cap.spans()
    ids = list(first_span.attributes["agentotel.response.tool_calls.ids"])
    assert [i.rsplit(":", 1)[1] for i in ids] == ["0", "1"]
    assert [one.attributes["gen_ai.tool.call.id"], two.attributes["gen_ai.tool.call.id"]] == ids


async def test_content_on_span(
    cap: TelemetryCapture, monkeypatch: pytest.MonkeyPatch, oclient: Any, fake_llm: FakeLLMServer
) -> None:
    monkeypatch.setenv(ENV, "SPAN_ONLY")
    marker = "m4rk3r"
    with instrumented(cap, OllamaInstrumentor):
        await tool_loop(oclient, marker)

    first, _, second = cap.spans()
    [call_id] = first.attributes["agentotel.response.tool_calls.ids"]
    sent = fake_llm.requests[0].body["tools"]  # the schema as the SDK sends it (no enum before 0.4.8)
    arguments = fake_llm.requests[1].body["messages"][2]["tool_calls"][0]["function"]["arguments"]
    call = {"type": "tool_call", "id": call_id, "name": "get_weather", "arguments": arguments}
    asked = [
        {"role": "system", "parts": [{"type": "text", "content": f"Be brief. {marker}"}]},
        {"role": "user", "parts": [{"type": "text", "content": f"{QUESTION} {marker}"}]},
    ]
    assert "gen_ai.system_instructions" not in first.attributes  # Ollama's system turn stays a message
    assert json.loads(first.attributes["gen_ai.tool.definitions"]) == sent
    assert json.loads(first.attributes["gen_ai.input.messages"]) == asked
    assert json.loads(first.attributes["gen_ai.output.messages"]) == [
        {"role": "assistant", "parts": [call], "finish_reason": "stop"}
    ]
    assert json.loads(second.attributes["gen_ai.input.messages"]) == [
        *asked,
        {"role": "assistant", "parts": [call]},
        {
            "role": "tool",
            "parts": [{"type": "tool_call_response", "id": call_id, "response": f"sunny {marker}"}],
        },
    ]
    assert json.loads(second.attributes["gen_ai.output.messages"]) == [
        {"role": "assistant", "parts": [{"type": "text", "content": REPLY}], "finish_reason": "stop"}
    ]
    assert cap.logs() == []


async def test_generate_content(cap: TelemetryCapture, monkeypatch: pytest.MonkeyPatch, oclient: Any) -> None:
    monkeypatch.setenv(ENV, "SPAN_ONLY")
    with instrumented(cap, OllamaInstrumentor):
        await resolve(oclient.generate(model=MODEL, prompt=QUESTION, system="Be brief.", images=[b"\x89PNG"]))

    [span] = cap.spans()
    assert json.loads(span.attributes["gen_ai.system_instructions"]) == [
        {"type": "text", "content": "Be brief."}
    ]
    assert json.loads(span.attributes["gen_ai.input.messages"]) == [
        {
            "role": "user",
            "parts": [{"type": "text", "content": QUESTION}, {"type": "blob", "modality": "image"}],
        }
    ]
    assert json.loads(span.attributes["gen_ai.output.messages"]) == [
        {"role": "assistant", "parts": [{"type": "text", "content": REPLY}], "finish_reason": "stop"}
    ]


async def test_embed_content(cap: TelemetryCapture, monkeypatch: pytest.MonkeyPatch, oclient: Any) -> None:
    monkeypatch.setenv(ENV, "SPAN_ONLY")
    with instrumented(cap, OllamaInstrumentor):
        await resolve(oclient.embed(model=EMBED_MODEL, input=["one", "two"]))

    [span] = cap.spans()
    assert json.loads(span.attributes["gen_ai.input.messages"]) == [
        {"role": "user", "parts": [{"type": "text", "content": "one"}]},
        {"role": "user", "parts": [{"type": "text", "content": "two"}]},
    ]
    assert "gen_ai.output.messages" not in span.attributes


async def test_content_in_event_only(
    cap: TelemetryCapture, monkeypatch: pytest.MonkeyPatch, oclient: Any
) -> None:
    monkeypatch.setenv(ENV, "EVENT_ONLY")
    with instrumented(cap, OllamaInstrumentor):
        await resolve(oclient.chat(model=MODEL, messages=[{"role": "user", "content": QUESTION}]))

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
    assert record.attributes["gen_ai.provider.name"] == "ollama"


@THINKING
@pytest.mark.parametrize("operation", ["chat", "generate"])
async def test_stream_output_captured(
    cap: TelemetryCapture, monkeypatch: pytest.MonkeyPatch, oclient: Any, operation: str
) -> None:
    monkeypatch.setenv(ENV, "SPAN_ONLY")
    text = f"{QUESTION} [[scenario:reasoning:2]]"
    with instrumented(cap, OllamaInstrumentor):
        if operation == "chat":
            call = oclient.chat(
                model=MODEL, messages=[{"role": "user", "content": text}], stream=True, think=True
            )
        else:
            call = oclient.generate(model=MODEL, prompt=text, stream=True, think=True)
        stream = await resolve(call)
        chunks = [c async for c in stream] if hasattr(stream, "__aiter__") else list(stream)

    assert len(chunks) == 3 + 6 + 1  # "Let me think." in three pieces, the six words, the done line
    [span] = cap.spans()
    assert json.loads(span.attributes["gen_ai.output.messages"]) == [
        {
            "role": "assistant",
            "parts": [{"type": "reasoning", "content": "Let me think."}, {"type": "text", "content": REPLY}],
            "finish_reason": "stop",
        }
    ]
    assert span.attributes["gen_ai.usage.output_tokens"] == 8


async def test_stream_tool_call_captured(
    cap: TelemetryCapture, monkeypatch: pytest.MonkeyPatch, oclient: Any
) -> None:
    monkeypatch.setenv(ENV, "SPAN_ONLY")
    with instrumented(cap, OllamaInstrumentor):
        stream = await resolve(
            oclient.chat(
                model=MODEL, messages=[{"role": "user", "content": QUESTION}], tools=[tool("x")], stream=True
            )
        )
        chunks = [c async for c in stream] if hasattr(stream, "__aiter__") else list(stream)

    [arguments] = [c.function.arguments for chunk in chunks for c in chunk.message.tool_calls or ()]
    [span] = cap.spans()
    [call_id] = span.attributes["agentotel.response.tool_calls.ids"]
    assert json.loads(span.attributes["gen_ai.output.messages"]) == [
        {
            "role": "assistant",
            "parts": [{"type": "tool_call", "id": call_id, "name": "get_weather", "arguments": arguments}],
            "finish_reason": "stop",
        }
    ]
