"""LiteLLM: content capture (off by default), inferred ``execute_tool`` spans, and the safety
boundary (each extractor or accumulator method raising leaves the call untouched)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import litellm
import pytest
from helpers import QUESTION, REPLY, TELEMETRY_ERRORS, attrs_of, instrumented, user
from litellm_helpers import KEY, complete, openai_kw, tokens

from agentotel.instrumentation.litellm import LiteLLMInstrumentor, content, extract
from agentotel.instrumentation.litellm.stream import CompletionStreamAccumulator
from agentotel.testing import FakeLLMServer, Reply
from agentotel.testing._capture import TelemetryCapture

pytestmark = pytest.mark.usefixtures("fresh_server")

ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
MARKER = "secret-marker-7f3a"
CONTENT_KEYS = ("gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.system_instructions")


def exported(cap: TelemetryCapture) -> str:
    return repr([(s.name, dict(s.attributes or {}), s.events) for s in cap.spans()]) + repr(cap.logs())


@pytest.fixture
def capturing(cap: TelemetryCapture, monkeypatch: pytest.MonkeyPatch) -> Iterator[TelemetryCapture]:
    monkeypatch.setenv(ENV, "SPAN_ONLY")
    with instrumented(cap, LiteLLMInstrumentor):
        yield cap


async def test_no_content_by_default(
    litellm_instrumented: TelemetryCapture, flavour: str, fake_llm: FakeLLMServer
) -> None:
    await complete(flavour, messages=user(f"{QUESTION} {MARKER}"), **openai_kw(fake_llm))

    [span] = litellm_instrumented.spans()
    assert not set(CONTENT_KEYS) & set(attrs_of(span))
    assert MARKER not in exported(litellm_instrumented)
    assert KEY not in exported(litellm_instrumented)
    assert litellm_instrumented.logs() == []


async def test_span_content(capturing: TelemetryCapture, flavour: str, fake_llm: FakeLLMServer) -> None:
    await complete(flavour, messages=user(f"{QUESTION} {MARKER}"), **openai_kw(fake_llm))

    attrs = attrs_of(capturing.spans()[0])
    assert json.loads(str(attrs["gen_ai.input.messages"])) == [
        {"role": "user", "parts": [{"type": "text", "content": f"{QUESTION} {MARKER}"}]}
    ]
    assert json.loads(str(attrs["gen_ai.output.messages"])) == [
        {"role": "assistant", "parts": [{"type": "text", "content": REPLY}], "finish_reason": "stop"}
    ]
    assert KEY not in exported(capturing)


async def test_event_only(
    cap: TelemetryCapture, monkeypatch: pytest.MonkeyPatch, flavour: str, fake_llm: FakeLLMServer
) -> None:
    monkeypatch.setenv(ENV, "EVENT_ONLY")
    with instrumented(cap, LiteLLMInstrumentor):
        await complete(flavour, messages=user(f"{QUESTION} {MARKER}"), **openai_kw(fake_llm))

    [span] = cap.spans()
    assert not set(CONTENT_KEYS) & set(attrs_of(span))
    [record] = cap.logs()
    assert record.span_id == span.context.span_id
    assert MARKER in repr(record.body) + repr(dict(record.attributes or {}))
    assert KEY not in repr(record.body) + repr(dict(record.attributes or {}))


async def test_stream_content(capturing: TelemetryCapture, flavour: str, fake_llm: FakeLLMServer) -> None:
    stream = await complete(flavour, messages=user(QUESTION), stream=True, **openai_kw(fake_llm))
    if flavour == "async":
        [c async for c in stream]
    else:
        list(stream)

    attrs = attrs_of(capturing.spans()[0])
    assert json.loads(str(attrs["gen_ai.output.messages"])) == [
        {"role": "assistant", "parts": [{"type": "text", "content": REPLY}], "finish_reason": "stop"}
    ]


async def test_embedding_content(capturing: TelemetryCapture, flavour: str, fake_llm: FakeLLMServer) -> None:
    kw = openai_kw(fake_llm, model="openai/text-embedding-3-small")
    if flavour == "async":
        await litellm.aembedding(input="embed this", **kw)
    else:
        litellm.embedding(input="embed this", **kw)

    attrs = attrs_of(capturing.spans()[0])
    assert json.loads(str(attrs["gen_ai.input.messages"])) == [
        {"role": "user", "parts": [{"type": "text", "content": "embed this"}]}
    ]
    assert "gen_ai.output.messages" not in attrs


async def test_tool_result_sent_back_is_an_inferred_tool_span(
    litellm_instrumented: TelemetryCapture, flavour: str, fake_llm: FakeLLMServer
) -> None:
    fake_llm.script([Reply.tool_call("get_weather", {"city": "Paris"}), "Sunny."])
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]
    messages: list[Any] = user(QUESTION)
    first = await complete(flavour, messages=messages, tools=tools, **openai_kw(fake_llm))
    [call] = first.choices[0].message.tool_calls
    messages += [
        first.choices[0].message.model_dump(),
        {"role": "tool", "tool_call_id": call.id, "content": "sunny"},
    ]
    await complete(flavour, messages=messages, tools=tools, **openai_kw(fake_llm))

    names = [s.name for s in litellm_instrumented.spans()]
    assert names == ["chat gpt-4o", "execute_tool get_weather", "chat gpt-4o"]
    tool = litellm_instrumented.spans()[1]
    assert attrs_of(tool)["gen_ai.tool.call.id"] == call.id
    assert attrs_of(tool)["gen_ai.tool.name"] == "get_weather"


# --- safety ----------------------------------------------------------------------------------------
class TelemetryBug(Exception):
    """An error of ours."""


def _boom(*args: Any, **kwargs: Any) -> Any:
    raise TelemetryBug("boom")


# (module, function, errors counted over the two calls: tool_results runs on the second only).
FAILURE_POINTS = [
    pytest.param(extract, "completion_request_attributes", 2, id="request_attributes"),
    pytest.param(extract, "completion_response_attributes", 2, id="response_attributes"),
    pytest.param(extract, "route_attributes", 2, id="route_attributes"),
    pytest.param(content, "completion_request_content", 2, id="request_content"),
    pytest.param(content, "completion_output_messages", 2, id="output_messages"),
    pytest.param(content, "tool_results", 1, id="tool_results"),
]


@pytest.mark.parametrize(("module", "name", "errors"), FAILURE_POINTS)
async def test_an_extractor_raising_leaves_the_call_untouched(
    cap: TelemetryCapture,
    monkeypatch: pytest.MonkeyPatch,
    flavour: str,
    fake_llm: FakeLLMServer,
    module: Any,
    name: str,
    errors: int,
) -> None:
    monkeypatch.setenv(ENV, "SPAN_ONLY")
    monkeypatch.setattr(module, name, _boom)
    tool_result = [{"role": "tool", "tool_call_id": "call_9", "content": "x"}]
    with instrumented(cap, LiteLLMInstrumentor):
        # A pending tool call, so that tool_results is consulted on the second call.
        fake_llm.script([Reply.tool_call("get_weather", {"city": "Paris"})])
        tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]
        await complete(flavour, messages=user(QUESTION), tools=tools, **openai_kw(fake_llm))
        response = await complete(flavour, messages=user(QUESTION) + tool_result, **openai_kw(fake_llm))

    assert response.choices[0].message.content == REPLY
    assert len(fake_llm.requests) == 2
    assert cap.metric_sum(TELEMETRY_ERRORS) == errors
    for span in cap.spans():
        assert span.status.status_code.name == "UNSET"


# process raises on each of the stream's 8 chunks; outcome and output_messages once, at the end.
@pytest.mark.parametrize(("method", "errors"), [("process", 8), ("outcome", 1), ("output_messages", 1)])
async def test_an_accumulator_method_raising_leaves_the_stream_untouched(
    cap: TelemetryCapture,
    monkeypatch: pytest.MonkeyPatch,
    flavour: str,
    fake_llm: FakeLLMServer,
    method: str,
    errors: int,
) -> None:
    monkeypatch.setenv(ENV, "SPAN_ONLY")
    monkeypatch.setattr(CompletionStreamAccumulator, method, _boom)
    with instrumented(cap, LiteLLMInstrumentor):
        stream = await complete(flavour, messages=user(QUESTION), stream=True, **openai_kw(fake_llm))
        chunks = [c async for c in stream] if flavour == "async" else list(stream)

    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == REPLY
    assert cap.metric_sum(TELEMETRY_ERRORS) == errors
    assert [s.status.status_code.name for s in cap.spans()] == ["UNSET"]
    assert tokens(cap) == {}
