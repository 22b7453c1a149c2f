"""Stream accumulators are pure: chunks in, outcome (and output messages when asked) out.

They are built and fed with no span, no invocation and no telemetry holder in existence; the
engine (``instrumentation/_streams.py``) does the timing, the content encoding and the ending.
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
from anthropic.types import (
    Message,
    MessageDeltaUsage,
    RawContentBlockDeltaEvent,
    RawContentBlockStartEvent,
    RawMessageDeltaEvent,
    RawMessageStartEvent,
    TextBlock,
    TextDelta,
    Usage,
)
from anthropic.types.raw_message_delta_event import Delta
from helpers import RESPONSES_API
from openai.types.chat import ChatCompletionChunk

from agentotel import _telemetry
from agentotel.instrumentation import _invocation
from agentotel.instrumentation.anthropic import stream as anthropic_stream
from agentotel.instrumentation.anthropic.stream import MessageStreamAccumulator
from agentotel.instrumentation.openai import stream as openai_stream
from agentotel.instrumentation.openai.stream import ChatStreamAccumulator, ResponsesStreamAccumulator

# What a provider's stream module may import, and which names (None: any): names, its accumulator
# base, the message-part builders, its own pure modules. Never the engine, the holder or settings.
ALLOWED: dict[str, set[str] | None] = {
    "__future__": None,
    "json": None,
    "typing": None,
    "agentotel": {"semconv"},
    "agentotel._content": {"text_parts", "tool_call_part", "tool_response_part"},
    "agentotel._lifecycle": {"Attributes"},
    "agentotel.instrumentation._accumulator": None,
    "agentotel.instrumentation._openai_wire": {"ChatChunkAccumulator"},
    "agentotel.instrumentation.openai": {"content", "extract"},
    "agentotel.instrumentation.anthropic": {"content", "extract"},
    "agentotel.instrumentation.anthropic.extract": None,
}


@pytest.fixture
def nothing_else() -> Iterator[None]:
    """Fail the test if anything builds a telemetry holder or an invocation meanwhile."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("an accumulator must not need a telemetry holder or an invocation")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_telemetry.Telemetry, "__init__", refuse)
        mp.setattr(_invocation.Invocation, "__init__", refuse)
        yield


@pytest.mark.parametrize("module", [openai_stream, anthropic_stream], ids=["openai", "anthropic"])
def test_stream_modules_import_no_engine(module: ModuleType) -> None:
    imported: list[tuple[str, set[str]]] = []
    for node in ast.walk(ast.parse(inspect.getsource(module))):
        if isinstance(node, ast.ImportFrom):
            imported.append((node.module or "", {a.name for a in node.names}))
        elif isinstance(node, ast.Import):
            imported.extend((a.name, set()) for a in node.names)
    refused = [
        (name, names)
        for name, names in imported
        if name not in ALLOWED or not names <= (ALLOWED[name] if ALLOWED[name] is not None else names)
    ]
    assert refused == []


def chat_chunk(**fields: Any) -> ChatCompletionChunk:
    head = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-2024-08-06"}
    return ChatCompletionChunk.model_validate({**head, **fields})


def chat_stream() -> list[ChatCompletionChunk]:
    """Role, two words, a tool call in two argument pieces, the finish, then usage."""
    return [
        chat_chunk(choices=[{"index": 0, "delta": {"role": "assistant", "content": ""}}]),
        chat_chunk(choices=[{"index": 0, "delta": {"content": "Checking "}}]),
        chat_chunk(choices=[{"index": 0, "delta": {"content": "now."}}]),
        chat_chunk(
            choices=[
                {
                    "index": 0,
                    "delta": {
                        "tool_calls": [
                            {
                                "index": 0,
                                "id": "call_1",
                                "type": "function",
                                "function": {"name": "get_weather", "arguments": '{"city": '},
                            }
                        ]
                    },
                }
            ]
        ),
        chat_chunk(
            choices=[
                {"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": '"Paris"}'}}]}}
            ]
        ),
        chat_chunk(choices=[{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]),
        chat_chunk(
            choices=[],
            system_fingerprint="fp_1",
            usage={"prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19},
        ),
    ]


CHAT_OUTCOME = (
    {
        "gen_ai.response.id": "chatcmpl-1",
        "gen_ai.response.model": "gpt-4o-2024-08-06",
        "gen_ai.response.finish_reasons": ["tool_calls"],
        "agentotel.response.tool_calls.names": ["get_weather"],
        "agentotel.response.tool_calls.ids": ["call_1"],
        "gen_ai.usage.input_tokens": 12,
        "gen_ai.usage.output_tokens": 7,
    },
    12,
    7,
    "gpt-4o-2024-08-06",
)


@pytest.mark.parametrize("capture", [False, True])
def test_chat_accumulator_outcome(nothing_else: None, capture: bool) -> None:
    acc = ChatStreamAccumulator(capture)
    for chunk in chat_stream():
        acc.process(chunk)

    assert acc.outcome() == CHAT_OUTCOME


def test_chat_accumulator_output_messages(nothing_else: None) -> None:
    acc = ChatStreamAccumulator(True)
    for chunk in chat_stream():
        acc.process(chunk)

    assert acc.output_messages() == [
        {
            "role": "assistant",
            "parts": [
                {"type": "text", "content": "Checking now."},
                {
                    "type": "tool_call",
                    "id": "call_1",
                    "name": "get_weather",
                    "arguments": '{"city": "Paris"}',
                },
            ],
            "finish_reason": "tool_calls",
        }
    ]


def test_chat_accumulator_keeps_no_text_without_capture(nothing_else: None) -> None:
    acc = ChatStreamAccumulator(False)
    for chunk in chat_stream():
        acc.process(chunk)

    assert acc.output_messages() == []


def responses_events() -> list[Any]:
    from openai.types.responses import ResponseCompletedEvent, ResponseCreatedEvent  # openai>=1.66.0

    response = {
        "id": "resp_1",
        "object": "response",
        "created_at": 1,
        "model": "gpt-4o-2024-08-06",
        "output": [],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
    }
    done = {
        **response,
        "status": "completed",
        "output": [
            {
                "type": "message",
                "id": "msg_1",
                "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_text", "text": "Sunny.", "annotations": []}],
            }
        ],
        "usage": {
            "input_tokens": 9,
            "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": 2,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 11,
        },
    }
    return [
        ResponseCreatedEvent.model_validate(
            {
                "type": "response.created",
                "sequence_number": 0,
                "response": {**response, "status": "in_progress"},
            }
        ),
        ResponseCompletedEvent.model_validate(
            {"type": "response.completed", "sequence_number": 1, "response": done}
        ),
    ]


@RESPONSES_API
def test_responses_accumulator_outcome_and_output_messages(nothing_else: None) -> None:
    acc = ResponsesStreamAccumulator(True)
    for event in responses_events():
        acc.process(event)

    assert acc.outcome() == (
        {
            "gen_ai.response.id": "resp_1",
            "gen_ai.response.model": "gpt-4o-2024-08-06",
            "gen_ai.response.finish_reasons": ["stop"],
            "gen_ai.usage.input_tokens": 9,
            "gen_ai.usage.output_tokens": 2,
            "gen_ai.usage.cache_read.input_tokens": 0,
            "gen_ai.usage.reasoning.output_tokens": 0,
        },
        9,
        2,
        "gpt-4o-2024-08-06",
    )
    assert acc.output_messages() == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Sunny."}], "finish_reason": "stop"}
    ]


def test_responses_accumulator_nothing_seen(nothing_else: None) -> None:
    acc = ResponsesStreamAccumulator(True)

    assert acc.outcome() == ({}, None, None, None)
    assert acc.output_messages() == []


def anthropic_events() -> list[Any]:
    message = Message(
        id="msg_01",
        type="message",
        role="assistant",
        model="claude-opus-5",
        content=[],
        stop_reason=None,
        stop_sequence=None,
        usage=Usage(input_tokens=10, output_tokens=1),
    )
    return [
        RawMessageStartEvent(type="message_start", message=message),
        RawContentBlockStartEvent(
            type="content_block_start", index=0, content_block=TextBlock(type="text", text="")
        ),
        RawContentBlockDeltaEvent(
            type="content_block_delta", index=0, delta=TextDelta(type="text_delta", text="Sunny.")
        ),
        RawMessageDeltaEvent(
            type="message_delta",
            delta=Delta(stop_reason="end_turn", stop_sequence=None),
            usage=MessageDeltaUsage(output_tokens=3),
        ),
    ]


@pytest.mark.parametrize("capture", [False, True])
def test_anthropic_accumulator_outcome(nothing_else: None, capture: bool) -> None:
    acc = MessageStreamAccumulator(capture)
    for event in anthropic_events():
        acc.process(event)

    assert acc.outcome() == (
        {
            "gen_ai.response.id": "msg_01",
            "gen_ai.response.model": "claude-opus-5",
            "gen_ai.response.finish_reasons": ["end_turn"],
            "gen_ai.usage.input_tokens": 10,
            "gen_ai.usage.output_tokens": 3,
        },
        10,
        3,
        "claude-opus-5",
    )
    expected = [
        {"role": "assistant", "parts": [{"type": "text", "content": "Sunny."}], "finish_reason": "end_turn"}
    ]
    assert acc.output_messages() == (expected if capture else [])
