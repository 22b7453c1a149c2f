"""Privacy: message content is recorded only when asked for, only where asked for, and never a secret.

``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`` (read at instrument() time):

* unset / NO_CONTENT / legacy ``false`` / an unknown value: a unique marker placed in the prompt, the
  system prompt, a tool definition, a tool-call argument and a tool result appears NOWHERE in what
  is exported (span names, attributes, events, statuses, log records, metric attributes);
* SPAN_ONLY / legacy ``true``: on the span as semconv JSON (gen_ai.input.messages, gen_ai.output.messages,
  gen_ai.system_instructions, gen_ai.tool.definitions), no log record;
* EVENT_ONLY: only in the ``gen_ai.client.inference.operation.details`` log record, not on the span;
* SPAN_AND_EVENT: both.

The client's API key never appears anywhere, capture on or off, even when the prompt contains it;
key-shaped strings and bearer tokens in captured content become ``[REDACTED]``.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anthropic
import openai
import pytest
from helpers import (
    CLAUDE,
    EMBEDDING_MODEL,
    FAKE_ANTHROPIC_KEY,
    FAKE_OPENAI_KEY,
    GPT,
    INSTRUMENTORS,
    REPLY,
    RESPONSES_API,
    instrumented,
    stream_disconnect_error,
)
from opentelemetry._logs import SeverityNumber

from agentotel import config
from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture

ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
MAX_LENGTH_ENV = "AGENTOTEL_CONTENT_MAX_LENGTH"
EVENT = "gen_ai.client.inference.operation.details"
CONTENT_ATTRIBUTES = (
    "gen_ai.system_instructions",
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "gen_ai.tool.definitions",
)
BEARER = "tok_Zx9Yw8Vu7Ts6Rq5Po4"  # a bearer token that looks like nothing else


# --- everything exported, as one searchable string ----------------------------------------------
def _flat(value: Any) -> str:
    return json.dumps(value, default=repr, ensure_ascii=False, sort_keys=True)


def exported_text(cap: TelemetryCapture, caplog: pytest.LogCaptureFixture | None = None) -> str:
    """Span names/attributes/events/links/statuses, log bodies/attributes, metric names/attributes,
    and agentotel's own Python log records, in one string."""
    out: list[str] = []
    for span in cap.spans():
        out += [span.name, _flat(dict(span.attributes or {})), span.status.description or ""]
        for event in span.events:
            out += [event.name, _flat(dict(event.attributes or {}))]
        for link in span.links:
            out.append(_flat(dict(link.attributes or {})))
        out.append(_flat(dict(span.resource.attributes)))
    for record in cap.logs():
        out += [str(record.event_name), _flat(record.body), _flat(dict(record.attributes or {}))]
    data = cap.metric_reader.get_metrics_data()
    for rm in data.resource_metrics if data else ():
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                out += [metric.name, metric.description or ""]
                for point in metric.data.data_points:
                    out.append(_flat(dict(point.attributes or {})))
                    for exemplar in getattr(point, "exemplars", None) or ():
                        out.append(_flat(dict(exemplar.filtered_attributes or {})))
    if caplog is not None:
        for rec in caplog.records:
            if rec.name.startswith("agentotel"):
                out.append(rec.getMessage())
                if rec.exc_text:
                    out.append(rec.exc_text)
    return "\n".join(out)


def content_on_spans(cap: TelemetryCapture) -> list[dict[str, Any]]:
    """The captured-content attributes of each span, JSON-decoded."""
    return [
        {k: json.loads(v) for k, v in (s.attributes or {}).items() if k in CONTENT_ATTRIBUTES}
        for s in cap.spans()
    ]


def detail_events(cap: TelemetryCapture) -> list[Any]:
    return [r for r in cap.logs() if r.event_name == EVENT]


def content_in_event(record: Any) -> dict[str, Any]:
    return {k: json.loads(v) for k, v in dict(record.attributes).items() if k in CONTENT_ATTRIBUTES}


# --- semconv message structure -------------------------------------------------------------------
_PART_FIELDS = {
    "text": {"type", "content"},
    "tool_call": {"type", "id", "name", "arguments"},
    "tool_call_response": {"type", "id", "response"},
    "reasoning": {"type", "content"},
}


def _check_parts(parts: Any) -> None:
    assert isinstance(parts, list)
    for part in parts:
        assert isinstance(part, dict) and isinstance(part.get("type"), str), part
        if part["type"] in _PART_FIELDS:
            assert set(part) == _PART_FIELDS[part["type"]], part
        if part["type"] in ("text", "reasoning"):
            assert isinstance(part["content"], str)


def assert_semconv_input(messages: Any) -> None:
    assert isinstance(messages, list) and messages
    for message in messages:
        assert set(message) == {"role", "parts"}, message
        assert message["role"] in ("system", "user", "assistant", "tool")
        _check_parts(message["parts"])


def assert_semconv_output(messages: Any) -> None:
    """OutputMessage: role, parts and finish_reason are all required by the GenAI conventions."""
    assert isinstance(messages, list) and messages
    for message in messages:
        assert set(message) == {"role", "parts", "finish_reason"}, message
        assert message["role"] == "assistant"
        assert isinstance(message["finish_reason"], str), message
        _check_parts(message["parts"])


def assert_semconv_system(parts: Any) -> None:
    _check_parts(parts)
    assert parts


def assert_semconv_content(content: dict[str, Any]) -> None:
    if "gen_ai.input.messages" in content:
        assert_semconv_input(content["gen_ai.input.messages"])
    if "gen_ai.output.messages" in content:
        assert_semconv_output(content["gen_ai.output.messages"])
    if "gen_ai.system_instructions" in content:
        assert_semconv_system(content["gen_ai.system_instructions"])
    if "gen_ai.tool.definitions" in content:
        assert isinstance(content["gen_ai.tool.definitions"], list)


# --- workloads -----------------------------------------------------------------------------------
@dataclass
class Clients:
    oai: openai.OpenAI
    claude: anthropic.Anthropic


def chat_tools(m: str) -> list[dict[str, Any]]:
    return [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": f"Weather for a city {m}",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
            },
        }
    ]


def chat_messages(m: str, prompt: str | None = None) -> list[dict[str, Any]]:
    return [
        {"role": "system", "content": f"You are terse. {m}"},
        {"role": "user", "content": prompt if prompt is not None else f"Weather in Paris? {m}"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_77",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": json.dumps({"city": m})},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_77", "content": f"sunny {m}"},
    ]


def tool_round_trip_expected(call_id: str, m: str) -> list[dict[str, Any]]:
    """An OpenAI tool call (chat or Responses API) and the tool's answer, as semconv input messages."""
    return [
        {
            "role": "assistant",
            "parts": [
                {
                    "type": "tool_call",
                    "id": call_id,
                    "name": "get_weather",
                    "arguments": json.dumps({"city": m}),
                }
            ],
        },
        {
            "role": "tool",
            "parts": [{"type": "tool_call_response", "id": call_id, "response": f"sunny {m}"}],
        },
    ]


def chat_input_expected(m: str, prompt: str | None = None) -> list[dict[str, Any]]:
    return [
        {"role": "system", "parts": [{"type": "text", "content": f"You are terse. {m}"}]},
        {
            "role": "user",
            "parts": [
                {"type": "text", "content": prompt if prompt is not None else f"Weather in Paris? {m}"}
            ],
        },
        *tool_round_trip_expected("call_77", m),
    ]


def responses_tools(m: str) -> list[dict[str, Any]]:
    return [
        {
            "type": "function",
            "name": "get_weather",
            "description": f"Weather for a city {m}",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        }
    ]


def responses_input(m: str) -> list[dict[str, Any]]:
    return [
        {"role": "user", "content": f"Weather in Paris? {m}"},
        {
            "type": "function_call",
            "call_id": "call_88",
            "name": "get_weather",
            "arguments": json.dumps({"city": m}),
        },
        {"type": "function_call_output", "call_id": "call_88", "output": f"sunny {m}"},
    ]


def claude_tools(m: str) -> list[dict[str, Any]]:
    return [
        {
            "name": "get_weather",
            "description": f"Weather for a city {m}",
            "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
        }
    ]


def claude_messages(m: str, prompt: str | None = None) -> list[dict[str, Any]]:
    return [
        {"role": "user", "content": prompt if prompt is not None else f"Weather in Paris? {m}"},
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "toolu_77", "name": "get_weather", "input": {"city": m}}],
        },
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "toolu_77", "content": f"sunny {m}"}],
        },
    ]


def claude_input_expected(m: str, prompt: str | None = None) -> list[dict[str, Any]]:
    return [
        {
            "role": "user",
            "parts": [
                {"type": "text", "content": prompt if prompt is not None else f"Weather in Paris? {m}"}
            ],
        },
        {
            "role": "assistant",
            "parts": [
                {"type": "tool_call", "id": "toolu_77", "name": "get_weather", "arguments": {"city": m}}
            ],
        },
        {
            "role": "user",
            "parts": [{"type": "tool_call_response", "id": "toolu_77", "response": f"sunny {m}"}],
        },
    ]


CHAT_OUTPUT = [{"role": "assistant", "parts": [{"type": "text", "content": REPLY}], "finish_reason": "stop"}]
CLAUDE_OUTPUT = [
    {"role": "assistant", "parts": [{"type": "text", "content": REPLY}], "finish_reason": "end_turn"}
]


# Requests whose system prompt, tool definition, tool call and tool result all carry the marker ``m``.
def chat_request(m: str) -> dict[str, Any]:
    return {"model": GPT, "messages": chat_messages(m), "tools": chat_tools(m)}


def responses_request(m: str) -> dict[str, Any]:
    return {
        "model": GPT,
        "instructions": f"Be brief. {m}",
        "input": responses_input(m),
        "tools": responses_tools(m),
    }


def claude_request(m: str, **overrides: Any) -> dict[str, Any]:
    return {
        "model": CLAUDE,
        "max_tokens": 64,
        "system": f"You are terse. {m}",
        "tools": claude_tools(m),
        "messages": claude_messages(m),
        **overrides,
    }


def _chat(c: Clients, m: str) -> Any:
    reply = c.oai.chat.completions.create(**chat_request(m))
    assert reply.choices[0].message.content == REPLY


def _chat_stream(c: Clients, m: str) -> Any:
    stream = c.oai.chat.completions.create(
        **chat_request(m), stream=True, stream_options={"include_usage": True}
    )
    assert "".join(ch.choices[0].delta.content or "" for ch in stream if ch.choices) == REPLY


def _responses(c: Clients, m: str) -> Any:
    response = c.oai.responses.create(**responses_request(m))
    assert response.output_text == REPLY


def _responses_stream(c: Clients, m: str) -> Any:
    events = list(c.oai.responses.create(**responses_request(m), stream=True))
    assert events[-1].type == "response.completed"


def _embeddings(c: Clients, m: str) -> Any:
    result = c.oai.embeddings.create(model=EMBEDDING_MODEL, input=f"embed this {m}")
    assert len(result.data) == 1


def _claude(c: Clients, m: str) -> Any:
    message = c.claude.messages.create(**claude_request(m))
    assert message.content[0].text == REPLY


def _claude_stream(c: Clients, m: str) -> Any:
    stream = c.claude.messages.create(**claude_request(m), stream=True)
    assert [e.type for e in stream][-1] == "message_stop"


def _claude_stream_helper(c: Clients, m: str) -> Any:
    system = [{"type": "text", "text": f"You are terse. {m}"}]
    with c.claude.messages.stream(**claude_request(m, system=system)) as stream:
        assert "".join(stream.text_stream) == REPLY


RESPONSES_OUTPUT = [
    {"role": "assistant", "parts": [{"type": "text", "content": REPLY}], "finish_reason": "stop"}
]


def _expected_chat(m: str) -> dict[str, Any]:
    return {
        "gen_ai.input.messages": chat_input_expected(m),
        "gen_ai.tool.definitions": chat_tools(m),
        "gen_ai.output.messages": CHAT_OUTPUT,
    }


def _expected_responses(m: str) -> dict[str, Any]:
    return {
        "gen_ai.system_instructions": [{"type": "text", "content": f"Be brief. {m}"}],
        "gen_ai.input.messages": [
            {"role": "user", "parts": [{"type": "text", "content": f"Weather in Paris? {m}"}]},
            *tool_round_trip_expected("call_88", m),
        ],
        "gen_ai.tool.definitions": responses_tools(m),
        "gen_ai.output.messages": RESPONSES_OUTPUT,
    }


def _expected_embeddings(m: str) -> dict[str, Any]:
    return {
        "gen_ai.input.messages": [{"role": "user", "parts": [{"type": "text", "content": f"embed this {m}"}]}]
    }


def _expected_claude(m: str) -> dict[str, Any]:
    return {
        "gen_ai.system_instructions": [{"type": "text", "content": f"You are terse. {m}"}],
        "gen_ai.input.messages": claude_input_expected(m),
        "gen_ai.tool.definitions": claude_tools(m),
        "gen_ai.output.messages": CLAUDE_OUTPUT,
    }


@dataclass(frozen=True)
class Workload:
    run: Callable[[Clients, str], Any]
    span: str
    expected: Callable[[str], dict[str, Any]]


WORKLOADS = {
    "openai-chat": Workload(_chat, f"chat {GPT}", _expected_chat),
    "openai-chat-stream": Workload(_chat_stream, f"chat {GPT}", _expected_chat),
    "openai-responses": Workload(_responses, f"chat {GPT}", _expected_responses),
    "openai-responses-stream": Workload(_responses_stream, f"chat {GPT}", _expected_responses),
    "openai-embeddings": Workload(_embeddings, f"embeddings {EMBEDDING_MODEL}", _expected_embeddings),
    "anthropic-messages": Workload(_claude, f"chat {CLAUDE}", _expected_claude),
    "anthropic-messages-stream": Workload(_claude_stream, f"chat {CLAUDE}", _expected_claude),
    "anthropic-stream-helper": Workload(_claude_stream_helper, f"chat {CLAUDE}", _expected_claude),
}
WORKLOAD_IDS = [
    pytest.param(name, marks=RESPONSES_API) if name.startswith("openai-responses") else name
    for name in WORKLOADS
]


# --- fixtures --------------------------------------------------------------------------------------
@pytest.fixture
def marker() -> str:
    return f"PRIVATE{uuid.uuid4().hex}"


@pytest.fixture
def clients(openai_client: openai.OpenAI, anthropic_client: anthropic.Anthropic) -> Clients:
    return Clients(openai_client, anthropic_client)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV, raising=False)
    monkeypatch.delenv(MAX_LENGTH_ENV, raising=False)
    monkeypatch.setattr(config, "_warned", set())  # the unknown-value warning is once per process


RunWorkload = Callable[[str, str | None], Workload]


@pytest.fixture
def run_workload(
    cap: TelemetryCapture, clients: Clients, marker: str, monkeypatch: pytest.MonkeyPatch
) -> RunWorkload:
    """``run_workload(name, mode)``: run workload ``name`` with ``marker`` and both instrumentors on
    ``cap``, the capture setting ``mode`` (None: unset); it made exactly its one span."""

    def run(name: str, mode: str | None) -> Workload:
        if mode is not None:
            monkeypatch.setenv(ENV, mode)
        workload = WORKLOADS[name]
        with instrumented(cap, *INSTRUMENTORS):
            workload.run(clients, marker)
        assert [s.name for s in cap.spans()] == [workload.span]
        return workload

    return run


# --- capture off -----------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", [None, "NO_CONTENT", "false", "FALSE", "no_content"])
@pytest.mark.parametrize("name", WORKLOAD_IDS)
def test_no_content_by_default(
    name: str,
    mode: str | None,
    cap: TelemetryCapture,
    marker: str,
    debug_log: pytest.LogCaptureFixture,
    run_workload: RunWorkload,
) -> None:
    run_workload(name, mode)
    text = exported_text(cap, debug_log)
    assert marker not in text
    assert FAKE_OPENAI_KEY not in text and FAKE_ANTHROPIC_KEY not in text
    assert content_on_spans(cap) == [{}]
    assert cap.logs() == []
    assert "gen_ai.usage.input_tokens" in cap.spans()[0].attributes  # the span itself is complete


def test_no_content_on_errors_either(
    cap: TelemetryCapture, clients: Clients, marker: str, debug_log: pytest.LogCaptureFixture
) -> None:
    with instrumented(cap, *INSTRUMENTORS):
        with pytest.raises(openai.RateLimitError):
            clients.oai.chat.completions.create(
                model=GPT, messages=[{"role": "user", "content": f"{marker} [[scenario:rate_limit]]"}]
            )
        with pytest.raises(anthropic.BadRequestError):
            clients.claude.messages.create(
                model=CLAUDE,
                max_tokens=8,
                messages=[{"role": "user", "content": f"{marker} [[scenario:bad_request]]"}],
            )
        stream = clients.oai.chat.completions.create(
            model=GPT,
            messages=[{"role": "user", "content": f"{marker} [[scenario:disconnect]]"}],
            stream=True,
        )
        with pytest.raises(stream_disconnect_error(openai)):
            list(stream)
    assert [s.status.status_code.name for s in cap.spans()] == ["ERROR", "ERROR", "ERROR"]
    text = exported_text(cap, debug_log)
    assert marker not in text
    assert FAKE_OPENAI_KEY not in text and FAKE_ANTHROPIC_KEY not in text


# --- capture on ------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["SPAN_ONLY", "true", "True", "span_only"])
@pytest.mark.parametrize("name", WORKLOAD_IDS)
def test_span_only(
    name: str, mode: str, cap: TelemetryCapture, marker: str, run_workload: RunWorkload
) -> None:
    workload = run_workload(name, mode)
    [content] = content_on_spans(cap)
    assert_semconv_content(content)
    assert content == workload.expected(marker)
    assert marker in exported_text(cap)
    assert cap.logs() == []  # no event, no other log record


@pytest.mark.parametrize("name", WORKLOAD_IDS)
def test_event_only(name: str, cap: TelemetryCapture, marker: str, run_workload: RunWorkload) -> None:
    workload = run_workload(name, "EVENT_ONLY")
    [span] = cap.spans()
    assert content_on_spans(cap) == [{}]
    span_only = TelemetryCapture()
    try:
        span_only.span_exporter.export([span])
        assert marker not in exported_text(span_only)  # nothing of the content on the span
    finally:
        span_only.shutdown()

    assert len(cap.logs()) == 1
    [record] = detail_events(cap)
    content = content_in_event(record)
    assert_semconv_content(content)
    assert content == workload.expected(marker)
    assert record.trace_id == span.context.trace_id
    assert record.span_id == span.context.span_id
    attributes = dict(record.attributes)
    for key in (
        "gen_ai.operation.name",
        "gen_ai.provider.name",
        "gen_ai.request.model",
        "server.address",
        "server.port",
    ):
        assert attributes[key] == span.attributes[key]


@pytest.mark.parametrize("name", WORKLOAD_IDS)
def test_span_and_event(name: str, cap: TelemetryCapture, marker: str, run_workload: RunWorkload) -> None:
    workload = run_workload(name, "SPAN_AND_EVENT")
    expected = workload.expected(marker)
    assert content_on_spans(cap) == [expected]
    [record] = detail_events(cap)
    assert content_in_event(record) == expected
    assert len(cap.logs()) == 1


def test_event_is_emitted_for_a_failed_call(
    cap: TelemetryCapture, clients: Clients, marker: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV, "EVENT_ONLY")
    prompt = f"{marker} [[scenario:rate_limit]]"
    with instrumented(cap, *INSTRUMENTORS), pytest.raises(openai.RateLimitError):
        clients.oai.chat.completions.create(model=GPT, messages=[{"role": "user", "content": prompt}])
    [span] = cap.spans()
    assert span.status.status_code.name == "ERROR"
    [record] = detail_events(cap)
    assert content_in_event(record) == {
        "gen_ai.input.messages": [{"role": "user", "parts": [{"type": "text", "content": prompt}]}]
    }
    assert content_on_spans(cap) == [{}]
    assert (record.severity_number, record.severity_text) == (SeverityNumber.INFO, "INFO")
    assert span.start_time < record.timestamp == record.observed_timestamp <= span.end_time


@pytest.mark.parametrize("name", WORKLOAD_IDS)
def test_event_is_an_info_record_timed_at_the_end_of_the_call(
    name: str, cap: TelemetryCapture, run_workload: RunWorkload
) -> None:
    run_workload(name, "EVENT_ONLY")
    [span] = cap.spans()
    [record] = detail_events(cap)
    assert record.severity_number is SeverityNumber.INFO
    assert record.severity_text == "INFO"
    assert record.observed_timestamp == record.timestamp
    # Emitted as the call ends, just before its span closes.
    assert span.start_time < record.timestamp <= span.end_time


async def test_async_clients_span_and_event(
    cap: TelemetryCapture,
    async_openai_client: openai.AsyncOpenAI,
    async_anthropic_client: anthropic.AsyncAnthropic,
    marker: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(ENV, "SPAN_AND_EVENT")
    with instrumented(cap, *INSTRUMENTORS):
        await async_openai_client.chat.completions.create(**chat_request(marker))
        stream = await async_openai_client.chat.completions.create(**chat_request(marker), stream=True)
        [chunk async for chunk in stream]
        await async_anthropic_client.messages.create(**claude_request(marker))
        async with async_anthropic_client.messages.stream(**claude_request(marker)) as helper:
            await helper.get_final_message()
    expected = [_expected_chat(marker)] * 2 + [_expected_claude(marker)] * 2
    assert content_on_spans(cap) == expected
    assert [content_in_event(r) for r in detail_events(cap)] == expected


# --- the switch's odd values -------------------------------------------------------------------------
def test_unknown_value_warns_once_and_captures_nothing(
    cap: TelemetryCapture,
    clients: Clients,
    marker: str,
    monkeypatch: pytest.MonkeyPatch,
    debug_log: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv(ENV, "banana")
    with instrumented(cap, *INSTRUMENTORS):  # both instrumentors read the setting: still one warning
        _chat(clients, marker)
        _claude(clients, marker)
    warnings = [r for r in debug_log.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    message = warnings[0].getMessage()
    assert ENV in message
    assert "'banana'" in message
    for accepted in ("NO_CONTENT", "SPAN_ONLY", "EVENT_ONLY", "SPAN_AND_EVENT"):
        assert accepted in message
    assert marker not in exported_text(cap)
    assert content_on_spans(cap) == [{}, {}]
    assert cap.logs() == []


# --- secrets ---------------------------------------------------------------------------------------------
def _secret_prompt(key: str) -> str:
    return f"my key is {key} and Authorization: Bearer {BEARER} ok"


REDACTED_PROMPT = "my key is [REDACTED] and Authorization: [REDACTED] ok"


@pytest.mark.parametrize("mode", ["NO_CONTENT", "SPAN_ONLY", "EVENT_ONLY", "SPAN_AND_EVENT"])
def test_api_keys_and_bearer_tokens_never_exported(
    mode: str,
    cap: TelemetryCapture,
    clients: Clients,
    marker: str,
    monkeypatch: pytest.MonkeyPatch,
    debug_log: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv(ENV, mode)
    with instrumented(cap, *INSTRUMENTORS):
        clients.oai.chat.completions.create(
            model=GPT,
            messages=chat_messages(marker, prompt=_secret_prompt(FAKE_OPENAI_KEY)),
            tools=chat_tools(FAKE_OPENAI_KEY),  # even in a tool definition
        )
        list(
            clients.oai.chat.completions.create(
                model=GPT,
                messages=[{"role": "user", "content": _secret_prompt(FAKE_OPENAI_KEY)}],
                stream=True,
            )
        )
        clients.oai.embeddings.create(model=EMBEDDING_MODEL, input=_secret_prompt(FAKE_OPENAI_KEY))
        clients.claude.messages.create(
            model=CLAUDE,
            max_tokens=64,
            system=f"key {FAKE_ANTHROPIC_KEY}",
            messages=claude_messages(marker, prompt=_secret_prompt(FAKE_ANTHROPIC_KEY)),
        )
        with clients.claude.messages.stream(
            model=CLAUDE,
            max_tokens=64,
            messages=[{"role": "user", "content": _secret_prompt(FAKE_ANTHROPIC_KEY)}],
        ) as s:
            s.until_done()
    text = exported_text(cap, debug_log)
    for secret in (FAKE_OPENAI_KEY, FAKE_ANTHROPIC_KEY, BEARER, "0123456789abcdefSECRET"):
        assert secret not in text
    if mode == "NO_CONTENT":
        assert "[REDACTED]" not in text
        return
    source = (
        content_on_spans(cap)
        if mode in ("SPAN_ONLY", "SPAN_AND_EVENT")
        else [content_in_event(r) for r in detail_events(cap)]
    )
    assert len(source) == 5
    chat, stream, embedding, claude, helper = source
    assert chat["gen_ai.input.messages"][1] == {
        "role": "user",
        "parts": [{"type": "text", "content": REDACTED_PROMPT}],
    }
    assert chat["gen_ai.tool.definitions"][0]["function"]["description"] == "Weather for a city [REDACTED]"
    assert stream["gen_ai.input.messages"] == [
        {"role": "user", "parts": [{"type": "text", "content": REDACTED_PROMPT}]}
    ]
    assert embedding["gen_ai.input.messages"] == [
        {"role": "user", "parts": [{"type": "text", "content": REDACTED_PROMPT}]}
    ]
    assert claude["gen_ai.system_instructions"] == [{"type": "text", "content": "key [REDACTED]"}]
    assert claude["gen_ai.input.messages"][0] == {
        "role": "user",
        "parts": [{"type": "text", "content": REDACTED_PROMPT}],
    }
    assert helper["gen_ai.input.messages"] == [
        {"role": "user", "parts": [{"type": "text", "content": REDACTED_PROMPT}]}
    ]


def test_the_clients_own_credentials_are_redacted_whatever_their_shape(
    cap: TelemetryCapture, fake_llm: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Credentials that do not look like keys are still known to the client, and removed."""
    openai_key = "plain-credential-4242-OPENAI"
    anthropic_token = "plain-credential-4242-TOKEN"
    monkeypatch.setenv(ENV, "SPAN_AND_EVENT")
    oai = openai.OpenAI(base_url=fake_llm.openai_base_url, api_key=openai_key, max_retries=0)
    claude = anthropic.Anthropic(
        base_url=fake_llm.anthropic_base_url, auth_token=anthropic_token, max_retries=0
    )
    with instrumented(cap, *INSTRUMENTORS):
        oai.chat.completions.create(
            model=GPT, messages=[{"role": "user", "content": f"use {openai_key} now"}]
        )
        claude.messages.create(
            model=CLAUDE, max_tokens=32, messages=[{"role": "user", "content": f"use {anthropic_token} now"}]
        )
    text = exported_text(cap)
    assert openai_key not in text
    assert anthropic_token not in text
    redacted = [{"role": "user", "parts": [{"type": "text", "content": "use [REDACTED] now"}]}]
    assert [c["gen_ai.input.messages"] for c in content_on_spans(cap)] == [redacted, redacted]
    assert [content_in_event(r)["gen_ai.input.messages"] for r in detail_events(cap)] == [redacted, redacted]


@pytest.mark.parametrize(
    "separator",
    [" ", "  ", "\t", "\n", " \r\n "],
    ids=["space", "two-spaces", "tab", "newline", "crlf"],
)
@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_bearer_tokens_are_redacted_whatever_the_whitespace(
    separator: str, scheme: str, cap: TelemetryCapture, clients: Clients, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV, "SPAN_ONLY")
    prompt = f"curl -H 'Authorization: {scheme}{separator}{BEARER}' https://example.test"
    with instrumented(cap, *INSTRUMENTORS):
        clients.oai.chat.completions.create(model=GPT, messages=[{"role": "user", "content": prompt}])
    assert BEARER not in exported_text(cap)
    [content] = content_on_spans(cap)
    assert content["gen_ai.input.messages"] == [
        {
            "role": "user",
            "parts": [
                {"type": "text", "content": "curl -H 'Authorization: [REDACTED]' https://example.test"}
            ],
        }
    ]


@pytest.mark.parametrize(
    "key",
    ["sk-proj-AbCdEf0123456789xyz", "sk-ant-api03-AbCdEf0123456789_xyz-QQ", "sk-AbCdEf0123456789"],
)
def test_key_shaped_strings_are_redacted(
    key: str, cap: TelemetryCapture, clients: Clients, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keys other than the client's own (a colleague's key pasted into a prompt) are removed too."""
    monkeypatch.setenv(ENV, "SPAN_ONLY")
    with instrumented(cap, *INSTRUMENTORS):
        clients.oai.chat.completions.create(model=GPT, messages=[{"role": "user", "content": f"[{key}]"}])
    assert key not in exported_text(cap)
    [content] = content_on_spans(cap)
    assert content["gen_ai.input.messages"] == [
        {"role": "user", "parts": [{"type": "text", "content": "[[REDACTED]]"}]}
    ]


# --- truncation ------------------------------------------------------------------------------------------
def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


@pytest.mark.parametrize("mode", ["SPAN_ONLY", "EVENT_ONLY"])
@pytest.mark.parametrize("name", WORKLOAD_IDS)
def test_truncation_to_max_length(
    name: str,
    mode: str,
    cap: TelemetryCapture,
    marker: str,
    monkeypatch: pytest.MonkeyPatch,
    run_workload: RunWorkload,
) -> None:
    monkeypatch.setenv(MAX_LENGTH_ENV, "50")
    workload = run_workload(name, mode)
    if mode == "SPAN_ONLY":
        raw = {k: v for k, v in cap.spans()[0].attributes.items() if k in CONTENT_ATTRIBUTES}
    else:
        [record] = detail_events(cap)
        raw = {k: v for k, v in dict(record.attributes).items() if k in CONTENT_ATTRIBUTES}
    expected = workload.expected(marker)
    assert sorted(raw) == sorted(expected)
    for key, value in raw.items():
        full = _compact(expected[key])
        if len(full) > 50:
            assert value == full[:36] + "...[truncated]", key
            assert len(value) == 50
            assert value.endswith("...[truncated]")
        else:
            assert value == full


def test_content_within_the_limit_is_not_cut(
    cap: TelemetryCapture, clients: Clients, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV, "SPAN_ONLY")
    monkeypatch.setenv(MAX_LENGTH_ENV, "1000")
    long_text = "x" * 900
    with instrumented(cap, *INSTRUMENTORS):
        clients.oai.embeddings.create(model=EMBEDDING_MODEL, input=long_text)
    value = cap.spans()[0].attributes["gen_ai.input.messages"]
    assert value == _compact([{"role": "user", "parts": [{"type": "text", "content": long_text}]}])
    assert len(value) <= 1000


def test_truncation_never_reveals_a_redacted_secret(
    cap: TelemetryCapture, clients: Clients, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Redaction happens before the cut: a key near the limit leaves no prefix of itself."""
    monkeypatch.setenv(ENV, "SPAN_ONLY")
    prefix = '[{"role":"user","parts":[{"type":"text","content":"'
    monkeypatch.setenv(MAX_LENGTH_ENV, str(len(prefix) + 30))
    with instrumented(cap, *INSTRUMENTORS):
        clients.oai.chat.completions.create(
            model=GPT, messages=[{"role": "user", "content": FAKE_OPENAI_KEY + " " + "y" * 100}]
        )
    value = cap.spans()[0].attributes["gen_ai.input.messages"]
    assert value == prefix + "[REDACTED] yyyyy" + "...[truncated]"
    assert len(value) == len(prefix) + 30
    assert "sk-test" not in value
