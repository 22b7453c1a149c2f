"""Content capture for Cohere: off by default (nothing of the messages, the tool plan, the tool
definitions, the calls or their results leaves the process, nor the API key, in any span, log or
metric); on, Cohere's messages become the conventions' messages on the span and/or in the
``gen_ai.client.inference.operation.details`` event."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from cohere_helpers import API_KEY, MODEL, QUESTION, REPLY, SPAN_NAME, async_client, sync_client
from helpers import instrumented, resolve

from agentotel.instrumentation.cohere import CohereInstrumentor
from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture
from agentotel.testing._fake.cohere_v2 import TOOL_PLAN

ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
EVENT = "gen_ai.client.inference.operation.details"
CONTENT = (
    "gen_ai.system_instructions",
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "gen_ai.tool.definitions",
)


def exported(cap: TelemetryCapture) -> str:
    """Everything recorded: spans (attributes, events), logs, metric points' attributes."""
    out: list[Any] = []
    for span in cap.spans():
        out += [
            span.name,
            dict(span.attributes or {}),
            [(e.name, dict(e.attributes or {})) for e in span.events],
        ]
    for record in cap.logs():
        out += [record.event_name, record.body, dict(record.attributes or {})]
    for name in ("gen_ai.client.token.usage", "gen_ai.client.operation.duration"):
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


async def tool_loop(client: Any, marker: str) -> None:
    """System + user, a tool call, its result sent back."""
    messages: list[Any] = [
        {"role": "system", "content": f"Be brief. {marker}"},
        {"role": "user", "content": f"{QUESTION} {marker}"},
    ]
    first = await resolve(client.chat(model=MODEL, messages=messages, tools=[tool(marker)]))
    messages.append(first.message)
    messages.append(
        {"role": "tool", "tool_call_id": first.message.tool_calls[0].id, "content": f"sunny {marker}"}
    )
    await resolve(client.chat(model=MODEL, messages=messages, tools=[tool(marker)]))


@pytest.mark.parametrize("setting", [None, "NO_CONTENT", "false"])
async def test_content_off_records_no_content(
    cap: TelemetryCapture, monkeypatch: pytest.MonkeyPatch, client: Any, setting: str | None
) -> None:
    if setting is None:
        monkeypatch.delenv(ENV, raising=False)
    else:
        monkeypatch.setenv(ENV, setting)
    marker = uuid.uuid4().hex
    with instrumented(cap, CohereInstrumentor):
        await tool_loop(client, marker)

    assert [s.name for s in cap.spans()] == [SPAN_NAME, "execute_tool get_weather", SPAN_NAME]
    text = exported(cap)
    assert marker not in text
    assert TOOL_PLAN not in text
    assert API_KEY not in text
    assert cap.logs() == []
    for span in cap.spans():
        assert not set(CONTENT) & set(span.attributes or {})


async def test_content_on_span(cap: TelemetryCapture, monkeypatch: pytest.MonkeyPatch, client: Any) -> None:
    monkeypatch.setenv(ENV, "SPAN_ONLY")
    marker = "m4rk3r"
    with instrumented(cap, CohereInstrumentor):
        await tool_loop(client, marker)

    first, _, second = cap.spans()
    call = {
        "type": "tool_call",
        "id": "get_weather_1",
        "name": "get_weather",
        "arguments": {"city": f"city-{marker}"},
    }
    plan = {"type": "reasoning", "content": TOOL_PLAN}
    inputs = [
        {"role": "system", "parts": [{"type": "text", "content": f"Be brief. {marker}"}]},
        {"role": "user", "parts": [{"type": "text", "content": f"{QUESTION} {marker}"}]},
    ]
    assert json.loads(first.attributes["gen_ai.tool.definitions"]) == [
        {"type": "function", "name": "get_weather", "description": f"The weather. {marker}"}
    ]
    assert json.loads(first.attributes["gen_ai.input.messages"]) == inputs
    assert json.loads(first.attributes["gen_ai.output.messages"]) == [
        {"role": "assistant", "parts": [plan, call], "finish_reason": "tool_call"}
    ]
    assert json.loads(second.attributes["gen_ai.input.messages"]) == [
        *inputs,
        {"role": "assistant", "parts": [plan, call]},
        {
            "role": "tool",
            "parts": [{"type": "tool_call_response", "id": "get_weather_1", "response": f"sunny {marker}"}],
        },
    ]
    assert json.loads(second.attributes["gen_ai.output.messages"]) == [
        {"role": "assistant", "parts": [{"type": "text", "content": REPLY}], "finish_reason": "complete"}
    ]
    assert cap.logs() == []
    assert API_KEY not in exported(cap)


async def test_content_in_event_only(
    cap: TelemetryCapture, monkeypatch: pytest.MonkeyPatch, client: Any
) -> None:
    monkeypatch.setenv(ENV, "EVENT_ONLY")
    with instrumented(cap, CohereInstrumentor):
        await resolve(
            client.chat(
                model=MODEL, messages=[{"role": "user", "content": [{"type": "text", "text": QUESTION}]}]
            )
        )

    [span] = cap.spans()
    assert not set(CONTENT) & set(span.attributes)
    [record] = cap.logs()
    assert record.event_name == EVENT
    assert json.loads(record.attributes["gen_ai.input.messages"]) == [
        {"role": "user", "parts": [{"type": "text", "content": QUESTION}]}
    ]
    assert json.loads(record.attributes["gen_ai.output.messages"]) == [
        {"role": "assistant", "parts": [{"type": "text", "content": REPLY}], "finish_reason": "complete"}
    ]
    assert record.attributes["gen_ai.provider.name"] == "cohere"


async def test_stream_output_captured(
    cap: TelemetryCapture, monkeypatch: pytest.MonkeyPatch, client: Any
) -> None:
    monkeypatch.setenv(ENV, "SPAN_ONLY")
    with instrumented(cap, CohereInstrumentor):
        events = client.chat_stream(
            model=MODEL, messages=[{"role": "user", "content": f"{QUESTION} [[scenario:reasoning:2]]"}]
        )
        got = [e async for e in events] if hasattr(events, "__aiter__") else list(events)

    assert len(got) == 1 + (1 + 3 + 1) + (1 + 6 + 1) + 1  # start, thinking (3 pieces), text (6), end
    [span] = cap.spans()
    assert json.loads(span.attributes["gen_ai.output.messages"]) == [
        {
            "role": "assistant",
            "parts": [{"type": "reasoning", "content": "Let me think."}, {"type": "text", "content": REPLY}],
            "finish_reason": "complete",
        }
    ]


async def test_stream_tool_call_captured(
    cap: TelemetryCapture, monkeypatch: pytest.MonkeyPatch, client: Any
) -> None:
    monkeypatch.setenv(ENV, "SPAN_ONLY")
    with instrumented(cap, CohereInstrumentor):
        events = client.chat_stream(
            model=MODEL, messages=[{"role": "user", "content": QUESTION}], tools=[tool("x")]
        )
        [e async for e in events] if hasattr(events, "__aiter__") else list(events)

    [span] = cap.spans()
    assert json.loads(span.attributes["gen_ai.output.messages"]) == [
        {
            "role": "assistant",
            "parts": [
                {"type": "reasoning", "content": TOOL_PLAN},
                {
                    "type": "tool_call",
                    "id": "get_weather_1",
                    "name": "get_weather",
                    "arguments": {"city": "city-x"},
                },
            ],
            "finish_reason": "tool_call",
        }
    ]


async def test_embed_and_rerank_inputs(
    cap: TelemetryCapture, monkeypatch: pytest.MonkeyPatch, client: Any
) -> None:
    monkeypatch.setenv(ENV, "SPAN_ONLY")
    with instrumented(cap, CohereInstrumentor):
        await resolve(client.embed(model="embed-v4.0", texts=["a b", "c"], input_type="search_document"))
        await resolve(client.rerank(model="rerank-v3.5", query="q", documents=["d1", "d2"]))

    embed, rerank = cap.spans()
    assert json.loads(embed.attributes["gen_ai.input.messages"]) == [
        {"role": "user", "parts": [{"type": "text", "content": "a b"}, {"type": "text", "content": "c"}]}
    ]
    assert json.loads(rerank.attributes["gen_ai.input.messages"]) == [
        {"role": "user", "parts": [{"type": "text", "content": t} for t in ("q", "d1", "d2")]}
    ]
    assert "gen_ai.output.messages" not in embed.attributes
    assert "gen_ai.output.messages" not in rerank.attributes


@pytest.mark.parametrize("make", [sync_client, async_client], ids=["sync", "async"])
async def test_the_key_is_nowhere_even_in_an_error(
    cap: TelemetryCapture, monkeypatch: pytest.MonkeyPatch, fresh_fake_llm: FakeLLMServer, make: Any
) -> None:
    """Capture on, the key in the prompt and an error: the key is redacted from all of it."""
    monkeypatch.setenv(ENV, "SPAN_AND_EVENT")
    client = make(fresh_fake_llm)
    with instrumented(cap, CohereInstrumentor):
        await resolve(
            client.chat(model=MODEL, messages=[{"role": "user", "content": f"my key is {API_KEY}"}])
        )
        with pytest.raises(Exception):  # noqa: B017 - cohere.BadRequestError
            await resolve(
                client.chat(
                    model=MODEL, messages=[{"role": "user", "content": f"{API_KEY} [[scenario:bad_request]]"}]
                )
            )

    assert len(cap.spans()) == 2
    assert API_KEY not in exported(cap)
