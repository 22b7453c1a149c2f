"""The Cohere package's pure functions and its stream accumulator, on the SDK's own types: no
exporter, no server."""

from __future__ import annotations

from typing import Any

import cohere
import pytest
from cohere.v2.types.v2chat_stream_response import (
    ContentDeltaV2ChatStreamResponse,
    MessageEndV2ChatStreamResponse,
    MessageStartV2ChatStreamResponse,
    ToolCallDeltaV2ChatStreamResponse,
    ToolCallStartV2ChatStreamResponse,
    ToolPlanDeltaV2ChatStreamResponse,
)

from agentotel._usage import NOT_A_COUNT
from agentotel.instrumentation.cohere import content, extract
from agentotel.instrumentation.cohere.stream import ChatStreamAccumulator


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, None), (5.0, 5), (0.0, 0), (7, 7), (2.5, NOT_A_COUNT), (-1.0, NOT_A_COUNT), ("3", NOT_A_COUNT)],
)
def test_count(value: Any, expected: int | None) -> None:
    assert extract.count(value) == expected


def usage(billed: dict[str, Any] | None, tokens: dict[str, Any] | None, cached: float | None = None) -> Any:
    return cohere.Usage(
        billed_units=cohere.UsageBilledUnits(**billed) if billed is not None else None,
        tokens=cohere.UsageTokens(**tokens) if tokens is not None else None,
        cached_tokens=cached,
    )


def test_usage_is_the_billed_units() -> None:
    a: dict[str, Any] = {}
    found = extract.put_usage(
        a, usage({"input_tokens": 5, "output_tokens": 9}, {"input_tokens": 71, "output_tokens": 9}, 2)
    )
    assert found == (5, 9)
    assert a == {
        "gen_ai.usage.input_tokens": 5,
        "gen_ai.usage.output_tokens": 9,
        "gen_ai.usage.cache_read.input_tokens": 2,
    }


def test_usage_falls_back_to_tokens_field_by_field() -> None:
    a: dict[str, Any] = {}
    assert extract.put_usage(a, usage({"output_tokens": 4}, {"input_tokens": 70, "output_tokens": 4})) == (
        70,
        4,
    )
    assert extract.put_usage({}, usage(None, {"input_tokens": 3})) == (3, None)
    assert extract.put_usage({}, None) == (None, None)


def test_search_units() -> None:
    a: dict[str, Any] = {}
    meta = cohere.ApiMeta(billed_units=cohere.ApiMetaBilledUnits(search_units=2))
    assert extract.put_usage(a, meta) == (None, None)
    assert a == {"cohere.usage.search_units": 2}


def test_server_attributes() -> None:
    assert extract.server_attributes("https://api.cohere.com") == (
        ("gen_ai.provider.name", "cohere"),
        ("server.address", "api.cohere.com"),
        ("server.port", 443),
    )
    assert extract.server_attributes("http://localhost:8080/x")[1:] == (
        ("server.address", "localhost"),
        ("server.port", 8080),
    )


def test_client_view_reads_the_key_once_and_never_calls_a_callable_one() -> None:
    calls: list[int] = []

    def token() -> str:
        calls.append(1)
        return "k"

    with_str = cohere.ClientV2(api_key="co-key", base_url="http://h:1")
    with_fn = cohere.ClientV2(api_key=token, base_url="http://h:1")
    view = extract.client_of(with_str._raw_client)
    assert (view.api_key, view.server[1:]) == ("co-key", (("server.address", "h"), ("server.port", 1)))
    assert extract.client_of(with_str._raw_client) is view
    assert extract.client_of(with_fn._raw_client).api_key is None
    assert calls == []


def test_request_attributes_ignore_the_sdks_omit() -> None:
    omit: Any = ...
    kw = {
        "model": "m",
        "messages": [],
        "temperature": omit,
        "p": None,
        "stop_sequences": omit,
        "response_format": omit,
    }
    assert extract.chat_request_attributes(kw) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "m",
    }
    assert extract.embed_request_attributes(
        {"model": "e", "output_dimension": omit, "embedding_types": omit}
    ) == {
        "gen_ai.operation.name": "embeddings",
        "gen_ai.request.model": "e",
    }


def test_content_shapes() -> None:
    messages = [
        cohere.SystemChatMessageV2(content="sys"),
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "hi"},
                {"type": "image_url", "image_url": {"url": "https://x/i.png"}},
            ],
        },
        {
            "role": "assistant",
            "content": [{"type": "thinking", "thinking": "hmm"}, {"type": "text", "text": "ok"}],
        },
        {
            "role": "tool",
            "tool_call_id": "c1",
            "content": [{"type": "document", "document": {"data": "doc"}}],
        },
    ]
    assert content.input_messages(messages) == [
        {"role": "system", "parts": [{"type": "text", "content": "sys"}]},
        {
            "role": "user",
            "parts": [
                {"type": "text", "content": "hi"},
                {"type": "uri", "modality": "image", "uri": "https://x/i.png"},
            ],
        },
        {
            "role": "assistant",
            "parts": [{"type": "reasoning", "content": "hmm"}, {"type": "text", "content": "ok"}],
        },
        {
            "role": "tool",
            "parts": [
                {
                    "type": "tool_call_response",
                    "id": "c1",
                    "response": [{"type": "document", "document": {"data": "doc"}}],
                }
            ],
        },
    ]
    assert content.arguments("not json") == "not json"


def test_tool_results_are_those_after_the_last_assistant_message() -> None:
    messages = [
        {"role": "user", "content": "q"},
        {"role": "assistant", "tool_calls": [{"id": "old"}]},
        {"role": "tool", "tool_call_id": "old", "content": "x"},
        {"role": "assistant", "tool_calls": [{"id": "a"}, {"id": "b"}]},
        {"role": "tool", "tool_call_id": "a", "content": "1"},
        {"role": "tool", "tool_call_id": "b", "content": "2"},
    ]
    assert content.tool_results({"messages": messages}) == [("a", False), ("b", False)]
    assert content.tool_results({"messages": iter(messages)}) == []


def test_accumulator() -> None:
    events = [
        MessageStartV2ChatStreamResponse(id="chat_9", delta={"message": {"role": "assistant"}}),
        ToolPlanDeltaV2ChatStreamResponse(delta={"message": {"tool_plan": "I will "}}),
        ToolPlanDeltaV2ChatStreamResponse(delta={"message": {"tool_plan": "look."}}),
        ToolCallStartV2ChatStreamResponse(
            index=0,
            delta={
                "message": {
                    "tool_calls": {"id": "c1", "type": "function", "function": {"name": "f", "arguments": ""}}
                }
            },
        ),
        ToolCallDeltaV2ChatStreamResponse(
            index=0, delta={"message": {"tool_calls": {"function": {"arguments": '{"a":'}}}}
        ),
        ToolCallDeltaV2ChatStreamResponse(
            index=0, delta={"message": {"tool_calls": {"function": {"arguments": " 1}"}}}}
        ),
        ContentDeltaV2ChatStreamResponse(index=0, delta={"message": {"content": {"text": "x"}}}),
        MessageEndV2ChatStreamResponse(
            delta={
                "finish_reason": "TOOL_CALL",
                "usage": {
                    "billed_units": {"input_tokens": 3, "output_tokens": 4},
                    "tokens": {"input_tokens": 9},
                },
            }
        ),
    ]
    acc = ChatStreamAccumulator(True)
    for event in events:
        acc.process(event)
    assert acc.outcome() == (
        {
            "gen_ai.response.id": "chat_9",
            "gen_ai.response.finish_reasons": ["tool_call"],
            "agentotel.response.tool_calls.names": ["f"],
            "agentotel.response.tool_calls.ids": ["c1"],
            "gen_ai.usage.input_tokens": 3,
            "gen_ai.usage.output_tokens": 4,
        },
        3,
        4,
        None,
    )
    assert acc.output_messages() == [
        {
            "role": "assistant",
            "parts": [
                {"type": "reasoning", "content": "I will look."},
                {"type": "text", "content": "x"},
                {"type": "tool_call", "id": "c1", "name": "f", "arguments": {"a": 1}},
            ],
            "finish_reason": "tool_call",
        }
    ]
    off = ChatStreamAccumulator(False)
    for event in events:
        off.process(event)
    assert off.outcome() == acc.outcome()
    assert off.output_messages() == []
