"""Unit tests of the Anthropic extraction (``extract.py``) and stream accumulation (``stream.py``).

Inputs are the SDK's own pydantic types (``Message``, ``Usage``, the raw stream events), built
directly: no HTTP, no mocking.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import anthropic.types
import pydantic
import pytest
from anthropic.types import (
    InputJSONDelta,
    Message,
    MessageDeltaUsage,
    RawContentBlockDeltaEvent,
    RawContentBlockStartEvent,
    RawContentBlockStopEvent,
    RawMessageDeltaEvent,
    RawMessageStartEvent,
    RawMessageStopEvent,
    TextBlock,
    TextDelta,
    ToolUseBlock,
    Usage,
)
from anthropic.types.raw_message_delta_event import Delta
from anthropic_helpers import requires_thinking

if TYPE_CHECKING:
    from anthropic.types import StopReason  # anthropic>=0.50.0 (annotations only)

from agentotel import semconv
from agentotel._telemetry import Telemetry
from agentotel.config import CaptureMode, Settings
from agentotel.instrumentation._invocation import Invocation
from agentotel.instrumentation._streams import OpenStream
from agentotel.instrumentation.anthropic import content as anthropic_content
from agentotel.instrumentation.anthropic import extract
from agentotel.instrumentation.anthropic.stream import MessageStreamAccumulator
from agentotel.testing._capture import TelemetryCapture

MODEL = "claude-opus-5"

# Types of later SDK versions (None where the installed one lacks them; their tests are skipped).
ThinkingBlock: Any = getattr(anthropic.types, "ThinkingBlock", None)  # anthropic>=0.47.0
ThinkingDelta: Any = getattr(anthropic.types, "ThinkingDelta", None)
SignatureDelta: Any = getattr(anthropic.types, "SignatureDelta", None)
OutputTokensDetails: Any = getattr(anthropic.types, "OutputTokensDetails", None)  # anthropic>=0.105.0
requires_output_tokens_details = pytest.mark.skipif(
    OutputTokensDetails is None, reason="usage.output_tokens_details: anthropic>=0.105.0"
)


def usage(input_tokens: int = 6, output_tokens: int = 6, **kwargs: Any) -> Usage:
    return Usage(input_tokens=input_tokens, output_tokens=output_tokens, **kwargs)


def message(content: list[Any], stop_reason: StopReason | None = "end_turn", **usage_kwargs: Any) -> Message:
    return Message(
        id="msg_01",
        type="message",
        role="assistant",
        model=MODEL,
        content=content,
        stop_reason=stop_reason,
        stop_sequence=None,
        usage=usage(**usage_kwargs),
    )


# --------------------------------------------------------------------------- request / server


def test_server_attributes_explicit_port() -> None:
    assert extract.server_attributes("http", "127.0.0.1", 8080) == (
        ("gen_ai.provider.name", "anthropic"),
        ("server.address", "127.0.0.1"),
        ("server.port", 8080),
    )


@pytest.mark.parametrize(("scheme", "port"), [("https", 443), ("http", 80)])
def test_server_attributes_default_port(scheme: str, port: int) -> None:
    assert dict(extract.server_attributes(scheme, "api.anthropic.com", None))["server.port"] == port


def test_request_attributes_all() -> None:
    kwargs = {
        "model": MODEL,
        "max_tokens": 1024,
        "temperature": 0.5,
        "top_p": 1,
        "top_k": 40,
        "stop_sequences": ["END", "STOP"],
        "stream": True,
        "messages": [{"role": "user", "content": "hi"}],
    }
    assert extract.request_attributes(kwargs) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": MODEL,
        "gen_ai.request.max_tokens": 1024,
        "gen_ai.request.temperature": 0.5,
        "gen_ai.request.top_p": 1.0,
        "gen_ai.request.top_k": 40.0,
        "gen_ai.request.stop_sequences": ["END", "STOP"],
        "gen_ai.request.stream": True,
    }


def test_request_attributes_minimal() -> None:
    assert extract.request_attributes({"model": MODEL, "messages": []}) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": MODEL,
    }


def test_request_attributes_ignore_wrong_types() -> None:
    kwargs = {
        "model": 5,
        "max_tokens": True,
        "temperature": "0.5",
        "top_p": None,
        "top_k": False,
        "stop_sequences": "END",
        "stream": "yes",
    }
    assert extract.request_attributes(kwargs) == {"gen_ai.operation.name": "chat", "gen_ai.request.model": ""}


def test_request_attributes_stop_sequences_must_be_strings() -> None:
    attrs = extract.request_attributes({"model": MODEL, "stop_sequences": ["END", 3]})
    assert "gen_ai.request.stop_sequences" not in attrs


def test_request_attributes_stream_false_is_not_recorded() -> None:
    assert "gen_ai.request.stream" not in extract.request_attributes({"model": MODEL, "stream": False})


class Weather(pydantic.BaseModel):
    city: str


@pytest.mark.parametrize("output_format", [Weather, {"type": "json_schema", "schema": {}}])
def test_request_attributes_output_format_is_json(output_format: Any) -> None:
    attrs = extract.request_attributes({"model": MODEL, "output_format": output_format})
    assert attrs["gen_ai.output.type"] == "json"


# --------------------------------------------------------------------------- Usage


def test_usage_total_input_includes_cache() -> None:
    u = extract.Usage()
    u.update(usage(3, 9, cache_read_input_tokens=2, cache_creation_input_tokens=1))
    attrs: dict[str, Any] = {}

    assert u.put(attrs) == (6, 9)
    assert attrs == {
        "gen_ai.usage.input_tokens": 6,
        "gen_ai.usage.cache_read.input_tokens": 2,
        "gen_ai.usage.cache_creation.input_tokens": 1,
        "gen_ai.usage.output_tokens": 9,
    }


def test_usage_without_cache_fields() -> None:
    u = extract.Usage()
    u.update(usage(4, 2))
    attrs: dict[str, Any] = {}

    assert u.put(attrs) == (4, 2)
    assert attrs == {"gen_ai.usage.input_tokens": 4, "gen_ai.usage.output_tokens": 2}


def test_usage_later_report_replaces() -> None:
    u = extract.Usage()
    u.update(usage(6, 1))
    u.update(MessageDeltaUsage(output_tokens=5))
    u.update(MessageDeltaUsage(output_tokens=10))
    attrs: dict[str, Any] = {}

    # 10, not 1 + 5 + 10; the input of message_start survives deltas that omit it.
    assert u.put(attrs) == (6, 10)


def test_usage_delta_input_replaces_start_input() -> None:
    u = extract.Usage()
    u.update(usage(6, 1, cache_read_input_tokens=0))
    u.update(MessageDeltaUsage(output_tokens=3, input_tokens=7, cache_read_input_tokens=2))
    attrs: dict[str, Any] = {}

    assert u.put(attrs) == (9, 3)
    assert attrs["gen_ai.usage.cache_read.input_tokens"] == 2


def test_usage_cache_fields_read_where_the_type_predates_them() -> None:
    """The API's numbers are read whether or not the installed ``Usage`` declares the field (0.40's
    does not declare the cache fields: they arrive as extra fields)."""
    u = extract.Usage()
    u.update(
        Usage.model_validate(
            {
                "input_tokens": 3,
                "output_tokens": 2,
                "cache_read_input_tokens": 4,
                "cache_creation_input_tokens": 1,
            }
        )
    )
    attrs: dict[str, Any] = {}

    assert u.put(attrs) == (8, 2)
    assert attrs == {
        "gen_ai.usage.input_tokens": 8,
        "gen_ai.usage.cache_read.input_tokens": 4,
        "gen_ai.usage.cache_creation.input_tokens": 1,
        "gen_ai.usage.output_tokens": 2,
    }


def test_usage_no_thinking_tokens_unless_reported() -> None:
    silent = extract.Usage()
    silent.update(usage(6, 11))
    b: dict[str, Any] = {}
    silent.put(b)

    assert "gen_ai.usage.reasoning.output_tokens" not in b


@requires_output_tokens_details
def test_usage_thinking_tokens_when_reported() -> None:
    reported = extract.Usage()
    reported.update(usage(6, 11, output_tokens_details=OutputTokensDetails(thinking_tokens=5)))
    a: dict[str, Any] = {}
    reported.put(a)

    assert a["gen_ai.usage.reasoning.output_tokens"] == 5


def test_usage_none_is_ignored() -> None:
    u = extract.Usage()
    u.update(None)
    attrs: dict[str, Any] = {}

    assert u.put(attrs) == (None, None)
    assert attrs == {}


# --------------------------------------------------------------------------- response_attributes


def test_response_attributes_text() -> None:
    attrs, input_tokens, output_tokens, model = extract.response_attributes(
        message(
            [TextBlock(type="text", text="Hello")], cache_read_input_tokens=4, cache_creation_input_tokens=0
        )
    )

    assert (input_tokens, output_tokens, model) == (10, 6, MODEL)
    assert attrs == {
        "gen_ai.response.id": "msg_01",
        "gen_ai.response.model": MODEL,
        "gen_ai.response.finish_reasons": ["end_turn"],
        "gen_ai.usage.input_tokens": 10,
        "gen_ai.usage.cache_read.input_tokens": 4,
        "gen_ai.usage.cache_creation.input_tokens": 0,
        "gen_ai.usage.output_tokens": 6,
    }


@requires_thinking
def test_response_attributes_tool_uses_in_order() -> None:
    content = [
        ThinkingBlock(type="thinking", thinking="hmm", signature="sig"),
        TextBlock(type="text", text="Checking."),
        ToolUseBlock(type="tool_use", id="toolu_a", name="get_weather", input={"city": "Paris"}),
        ToolUseBlock(type="tool_use", id="toolu_b", name="get_time", input={}),
    ]
    attrs, *_ = extract.response_attributes(message(content, stop_reason="tool_use"))

    assert attrs["gen_ai.response.finish_reasons"] == ["tool_use"]
    assert attrs["agentotel.response.tool_calls.names"] == ["get_weather", "get_time"]
    assert attrs["agentotel.response.tool_calls.ids"] == ["toolu_a", "toolu_b"]


def test_response_attributes_no_tool_attributes_without_tool_use() -> None:
    attrs, *_ = extract.response_attributes(message([TextBlock(type="text", text="Hi")]))

    assert "agentotel.response.tool_calls.names" not in attrs
    assert "agentotel.response.tool_calls.ids" not in attrs


def test_response_attributes_without_stop_reason() -> None:
    attrs, *_ = extract.response_attributes(message([], stop_reason=None))

    assert "gen_ai.response.finish_reasons" not in attrs


# --------------------------------------------------------------------------- content conversion


def test_input_messages_and_system() -> None:
    messages = [
        {"role": "user", "content": "What is the weather?"},
        {
            "role": "assistant",
            "content": [
                {"type": "tool_use", "id": "toolu_a", "name": "get_weather", "input": {"city": "Paris"}}
            ],
        },
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_a", "content": "sunny"}]},
    ]

    assert anthropic_content.input_messages(messages) == [
        {"role": "user", "parts": [{"type": "text", "content": "What is the weather?"}]},
        {
            "role": "assistant",
            "parts": [
                {"type": "tool_call", "id": "toolu_a", "name": "get_weather", "arguments": {"city": "Paris"}}
            ],
        },
        {"role": "user", "parts": [{"type": "tool_call_response", "id": "toolu_a", "response": "sunny"}]},
    ]
    assert anthropic_content.system_instructions("Be brief.") == [{"type": "text", "content": "Be brief."}]
    assert anthropic_content.system_instructions(None) is None


@requires_thinking
def test_output_messages() -> None:
    content = [
        ThinkingBlock(type="thinking", thinking="hmm", signature="sig"),
        TextBlock(type="text", text="Hi"),
    ]
    assert anthropic_content.output_messages(message(content)) == [
        {
            "role": "assistant",
            "parts": [{"type": "reasoning", "content": "hmm"}, {"type": "text", "content": "Hi"}],
            "finish_reason": "end_turn",
        }
    ]


# --------------------------------------------------------------------------- stream accumulator


def accumulator(
    cap: TelemetryCapture, capture: CaptureMode = CaptureMode.NO_CONTENT
) -> MessageStreamAccumulator:
    return MessageStreamAccumulator(capture is not CaptureMode.NO_CONTENT)


def end_stream(cap: TelemetryCapture, acc: MessageStreamAccumulator, capture: CaptureMode) -> None:
    """End a stream fed to ``acc`` as the engine does, content capture per ``capture``."""
    telemetry = Telemetry(Settings(capture=capture), **cap.providers)
    inv = Invocation(
        telemetry, telemetry.boundary("anthropic"), "chat claude-opus-5", {"gen_ai.request.model": MODEL}
    )
    if capture is not CaptureMode.NO_CONTENT:
        inv.secrets = ()
    OpenStream(acc, inv).end(semconv.STREAM_EXHAUSTED)


def start_event(**usage_kwargs: Any) -> RawMessageStartEvent:
    return RawMessageStartEvent(type="message_start", message=message([], stop_reason=None, **usage_kwargs))


def delta_event(
    output_tokens: int, stop_reason: StopReason = "end_turn", **usage_kwargs: Any
) -> RawMessageDeltaEvent:
    return RawMessageDeltaEvent(
        type="message_delta",
        delta=Delta(stop_reason=stop_reason, stop_sequence=None),
        usage=MessageDeltaUsage(output_tokens=output_tokens, **usage_kwargs),
    )


def block_start(index: int, block: Any) -> RawContentBlockStartEvent:
    return RawContentBlockStartEvent(type="content_block_start", index=index, content_block=block)


def block_delta(index: int, delta: Any) -> RawContentBlockDeltaEvent:
    return RawContentBlockDeltaEvent(type="content_block_delta", index=index, delta=delta)


def thinking_text_tool_events() -> list[Any]:
    """A full stream: thinking, text, then a tool_use whose input arrives in two JSON fragments."""
    return [
        start_event(
            input_tokens=3, output_tokens=1, cache_read_input_tokens=2, cache_creation_input_tokens=1
        ),
        block_start(0, ThinkingBlock(type="thinking", thinking="", signature="")),
        block_delta(0, ThinkingDelta(type="thinking_delta", thinking="Let me ")),
        block_delta(0, ThinkingDelta(type="thinking_delta", thinking="think.")),
        block_delta(0, SignatureDelta(type="signature_delta", signature="sig")),
        RawContentBlockStopEvent(type="content_block_stop", index=0),
        block_start(1, TextBlock(type="text", text="")),
        block_delta(1, TextDelta(type="text_delta", text="Checking ")),
        block_delta(1, TextDelta(type="text_delta", text="now.")),
        RawContentBlockStopEvent(type="content_block_stop", index=1),
        block_start(2, ToolUseBlock(type="tool_use", id="toolu_a", name="get_weather", input={})),
        block_delta(2, InputJSONDelta(type="input_json_delta", partial_json='{"city": ')),
        block_delta(2, InputJSONDelta(type="input_json_delta", partial_json='"Paris"}')),
        RawContentBlockStopEvent(type="content_block_stop", index=2),
        delta_event(4, "tool_use", input_tokens=3, cache_read_input_tokens=2, cache_creation_input_tokens=1),
        delta_event(9, "tool_use", input_tokens=3, cache_read_input_tokens=2, cache_creation_input_tokens=1),
        RawMessageStopEvent(type="message_stop"),
    ]


@requires_thinking
def test_accumulator_full_stream(cap: TelemetryCapture) -> None:
    acc = accumulator(cap)
    for event in thinking_text_tool_events():
        acc.process(event)

    attrs, input_tokens, output_tokens, model = acc.outcome()
    assert (input_tokens, output_tokens, model) == (6, 9, MODEL)
    assert attrs == {
        "gen_ai.response.id": "msg_01",
        "gen_ai.response.model": MODEL,
        "gen_ai.response.finish_reasons": ["tool_use"],
        "agentotel.response.tool_calls.names": ["get_weather"],
        "agentotel.response.tool_calls.ids": ["toolu_a"],
        "gen_ai.usage.input_tokens": 6,
        "gen_ai.usage.cache_read.input_tokens": 2,
        "gen_ai.usage.cache_creation.input_tokens": 1,
        "gen_ai.usage.output_tokens": 9,
    }


def test_accumulator_cumulative_output_replaces(cap: TelemetryCapture) -> None:
    acc = accumulator(cap)
    for event in (start_event(output_tokens=1), delta_event(5), delta_event(10)):
        acc.process(event)

    _, input_tokens, output_tokens, _ = acc.outcome()
    assert (input_tokens, output_tokens) == (6, 10)


def test_accumulator_delta_without_input_keeps_start_input(cap: TelemetryCapture) -> None:
    acc = accumulator(cap)
    acc.process(start_event(input_tokens=12, output_tokens=1))
    acc.process(delta_event(7))

    attrs, input_tokens, output_tokens, _ = acc.outcome()
    assert (input_tokens, output_tokens) == (12, 7)
    assert attrs["gen_ai.usage.input_tokens"] == 12


@requires_output_tokens_details
def test_accumulator_thinking_tokens_from_delta(cap: TelemetryCapture) -> None:
    acc = accumulator(cap)
    acc.process(start_event(output_tokens=1))
    acc.process(delta_event(11, output_tokens_details=OutputTokensDetails(thinking_tokens=5)))

    attrs, *_ = acc.outcome()
    assert attrs["gen_ai.usage.reasoning.output_tokens"] == 5


def test_accumulator_nothing_seen(cap: TelemetryCapture) -> None:
    assert accumulator(cap).outcome() == ({}, None, None, None)


def test_accumulator_only_message_start(cap: TelemetryCapture) -> None:
    acc = accumulator(cap)
    acc.process(start_event(input_tokens=6, output_tokens=1))

    attrs, input_tokens, output_tokens, model = acc.outcome()
    assert (input_tokens, output_tokens, model) == (6, 1, MODEL)
    assert attrs["gen_ai.response.id"] == "msg_01"
    assert "gen_ai.response.finish_reasons" not in attrs


@requires_thinking
def test_accumulator_captures_output_content(cap: TelemetryCapture) -> None:
    acc = accumulator(cap, CaptureMode.SPAN_ONLY)
    for event in thinking_text_tool_events():
        acc.process(event)
    end_stream(cap, acc, CaptureMode.SPAN_ONLY)

    [span] = cap.spans()
    assert json.loads(str((span.attributes or {})["gen_ai.output.messages"])) == [
        {
            "role": "assistant",
            "parts": [
                {"type": "reasoning", "content": "Let me think."},
                {"type": "text", "content": "Checking now."},
                {"type": "tool_call", "id": "toolu_a", "name": "get_weather", "arguments": {"city": "Paris"}},
            ],
            "finish_reason": "tool_use",
        }
    ]


@requires_thinking
def test_accumulator_no_content_without_capture(cap: TelemetryCapture) -> None:
    acc = accumulator(cap)
    for event in thinking_text_tool_events():
        acc.process(event)
    end_stream(cap, acc, CaptureMode.NO_CONTENT)

    [span] = cap.spans()
    assert "gen_ai.output.messages" not in (span.attributes or {})
