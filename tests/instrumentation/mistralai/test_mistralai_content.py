"""Content capture for Mistral: off by default (nothing of the prompt, the tools, the tool calls or
their results leaves the process, nor the API key); on, Mistral's messages (dicts or the SDK's
models, content strings or chunk lists) become the conventions' messages on the span and/or in the
``gen_ai.client.inference.operation.details`` event. The tool loop gives an inferred
``execute_tool`` span between the model calls, capture on or off."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from helpers import instrumented
from mistralai.client import models
from mistralai_helpers import API_KEY, MODEL, QUESTION, REPLY, SPAN_NAME, complete, stream_all
from opentelemetry.trace import SpanKind

from agentotel.instrumentation.mistralai import MistralInstrumentor
from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture

ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
EVENT = "gen_ai.client.inference.operation.details"
CONTENT = (
    "gen_ai.system_instructions",
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "gen_ai.tool.definitions",
)


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


async def tool_loop(client: Any, mode: str, marker: str) -> Any:
    """A model call that asks for ``get_weather``, then the app sends its result back."""
    messages: list[Any] = [
        {"role": "system", "content": f"Be brief. {marker}"},
        {"role": "user", "content": f"{QUESTION} {marker}"},
    ]
    first = await complete(client, mode, model=MODEL, messages=messages, tools=[tool(marker)])
    message = first.choices[0].message
    [call] = message.tool_calls
    messages += [
        message,
        {"role": "tool", "tool_call_id": call.id, "name": "get_weather", "content": f"sunny {marker}"},
    ]
    return await complete(client, mode, model=MODEL, messages=messages, tools=[tool(marker)])


@pytest.mark.parametrize("setting", [None, "NO_CONTENT", "false"])
async def test_content_off_records_no_content(
    cap: TelemetryCapture, monkeypatch: pytest.MonkeyPatch, client: Any, mode: str, setting: str | None
) -> None:
    if setting is None:
        monkeypatch.delenv(ENV, raising=False)
    else:
        monkeypatch.setenv(ENV, setting)
    marker = uuid.uuid4().hex
    with instrumented(cap, MistralInstrumentor):
        await tool_loop(client, mode, marker)

    assert [s.name for s in cap.spans()] == [SPAN_NAME, "execute_tool get_weather", SPAN_NAME]
    text = exported(cap)
    assert marker not in text
    assert API_KEY not in text
    assert cap.logs() == []
    for span in cap.spans():
        assert not set(CONTENT) & set(span.attributes or {})


async def test_tool_loop_infers_one_tool_span(
    cap: TelemetryCapture, client: Any, mode: str, fake: FakeLLMServer
) -> None:
    with instrumented(cap, MistralInstrumentor):
        final = await tool_loop(client, mode, "x")

    assert final.choices[0].message.content == REPLY
    assert len(fake.requests) == 2
    first, tool_span, second = cap.spans()
    assert tool_span.kind is SpanKind.INTERNAL
    assert dict(tool_span.attributes or {})["gen_ai.tool.call.id"] == "fakecall1"
    assert dict(tool_span.attributes or {})["gen_ai.tool.name"] == "get_weather"
    assert tool_span.parent is None or tool_span.parent.span_id != first.context.span_id
    assert first.attributes is not None and first.attributes["agentotel.response.tool_calls.ids"] == (
        "fakecall1",
    )
    assert second.attributes is not None and "agentotel.response.tool_calls.ids" not in second.attributes


async def test_content_on_span(
    cap: TelemetryCapture, monkeypatch: pytest.MonkeyPatch, client: Any, mode: str
) -> None:
    monkeypatch.setenv(ENV, "SPAN_ONLY")
    marker = "m4rk3r"
    with instrumented(cap, MistralInstrumentor):
        await tool_loop(client, mode, marker)

    first, _, second = cap.spans()
    assert first.attributes is not None and second.attributes is not None
    call = {
        "type": "tool_call",
        "id": "fakecall1",
        "name": "get_weather",
        "arguments": f'{{"city": "city-{marker}"}}',
    }
    system = {"role": "system", "parts": [{"type": "text", "content": f"Be brief. {marker}"}]}
    question = {"role": "user", "parts": [{"type": "text", "content": f"{QUESTION} {marker}"}]}
    assert json.loads(str(first.attributes["gen_ai.input.messages"])) == [system, question]
    assert json.loads(str(first.attributes["gen_ai.output.messages"])) == [
        {"role": "assistant", "parts": [call], "finish_reason": "tool_calls"}
    ]
    assert json.loads(str(first.attributes["gen_ai.tool.definitions"])) == [tool(marker)]
    assert json.loads(str(second.attributes["gen_ai.input.messages"])) == [
        system,
        question,
        {"role": "assistant", "parts": [call]},
        {
            "role": "tool",
            "parts": [{"type": "tool_call_response", "id": "fakecall1", "response": f"sunny {marker}"}],
        },
    ]
    assert json.loads(str(second.attributes["gen_ai.output.messages"])) == [
        {"role": "assistant", "parts": [{"type": "text", "content": REPLY}], "finish_reason": "stop"}
    ]
    assert cap.logs() == []
    assert API_KEY not in exported(cap)


async def test_content_in_event_only(
    cap: TelemetryCapture, monkeypatch: pytest.MonkeyPatch, client: Any, mode: str
) -> None:
    monkeypatch.setenv(ENV, "EVENT_ONLY")
    with instrumented(cap, MistralInstrumentor):
        await complete(client, mode, model=MODEL, messages=[{"role": "user", "content": QUESTION}])

    [span] = cap.spans()
    assert not set(CONTENT) & set(span.attributes or {})
    [record] = cap.logs()
    assert record.event_name == EVENT
    attrs = dict(record.attributes or {})
    assert json.loads(str(attrs["gen_ai.input.messages"])) == [
        {"role": "user", "parts": [{"type": "text", "content": QUESTION}]}
    ]
    assert json.loads(str(attrs["gen_ai.output.messages"])) == [
        {"role": "assistant", "parts": [{"type": "text", "content": REPLY}], "finish_reason": "stop"}
    ]
    assert attrs["gen_ai.provider.name"] == "mistral_ai"


async def test_content_on_span_and_event(
    cap: TelemetryCapture, monkeypatch: pytest.MonkeyPatch, client: Any, mode: str
) -> None:
    monkeypatch.setenv(ENV, "SPAN_AND_EVENT")
    with instrumented(cap, MistralInstrumentor):
        await complete(client, mode, model=MODEL, messages=[{"role": "user", "content": QUESTION}])

    [span] = cap.spans()
    [record] = cap.logs()
    for attrs in (dict(span.attributes or {}), dict(record.attributes or {})):
        assert json.loads(str(attrs["gen_ai.output.messages"]))[0]["parts"] == [
            {"type": "text", "content": REPLY}
        ]


async def test_sdk_models_and_chunk_lists(
    cap: TelemetryCapture, monkeypatch: pytest.MonkeyPatch, client: Any, mode: str
) -> None:
    """Messages as the SDK's models, content as a list of chunks: the same semconv messages."""
    monkeypatch.setenv(ENV, "SPAN_ONLY")
    messages = [
        models.SystemMessage(content="Be brief."),
        models.UserMessage(content=[models.TextChunk(text="first"), models.TextChunk(text="second")]),
    ]
    with instrumented(cap, MistralInstrumentor):
        await complete(client, mode, model=MODEL, messages=messages)

    [span] = cap.spans()
    assert json.loads(str(dict(span.attributes or {})["gen_ai.input.messages"])) == [
        {"role": "system", "parts": [{"type": "text", "content": "Be brief."}]},
        {
            "role": "user",
            "parts": [{"type": "text", "content": "first"}, {"type": "text", "content": "second"}],
        },
    ]


async def test_stream_output_captured(
    cap: TelemetryCapture, monkeypatch: pytest.MonkeyPatch, client: Any, mode: str
) -> None:
    monkeypatch.setenv(ENV, "SPAN_ONLY")
    with instrumented(cap, MistralInstrumentor):
        await stream_all(client, mode, model=MODEL, messages=[{"role": "user", "content": QUESTION}])
        await stream_all(
            client, mode, model=MODEL, messages=[{"role": "user", "content": QUESTION}], tools=[tool("t")]
        )

    text_span, tool_span = cap.spans()
    assert json.loads(str(dict(text_span.attributes or {})["gen_ai.output.messages"])) == [
        {"role": "assistant", "parts": [{"type": "text", "content": REPLY}], "finish_reason": "stop"}
    ]
    assert json.loads(str(dict(tool_span.attributes or {})["gen_ai.output.messages"])) == [
        {
            "role": "assistant",
            "parts": [
                {
                    "type": "tool_call",
                    "id": "fakecall1",
                    "name": "get_weather",
                    "arguments": '{"city": "city-t"}',
                },
            ],
            "finish_reason": "tool_calls",
        }
    ]
