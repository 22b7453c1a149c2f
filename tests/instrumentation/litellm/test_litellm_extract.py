"""The LiteLLM package's pure functions and accumulator, without an exporter."""

from __future__ import annotations

from types import SimpleNamespace as NS
from typing import Any

import pytest

from agentotel.instrumentation.litellm import content, extract
from agentotel.instrumentation.litellm.stream import CompletionStreamAccumulator


@pytest.mark.parametrize(
    ("litellm_name", "semconv_name"),
    [
        ("openai", "openai"),
        ("text-completion-openai", "openai"),
        ("azure", "azure.ai.openai"),
        ("azure_ai", "azure.ai.inference"),
        ("anthropic", "anthropic"),
        ("bedrock", "aws.bedrock"),
        ("vertex_ai", "gcp.vertex_ai"),
        ("gemini", "gcp.gemini"),
        ("xai", "x_ai"),
        ("mistral", "mistral_ai"),
        ("cohere_chat", "cohere"),
        ("watsonx", "ibm.watsonx.ai"),
        ("groq", "groq"),
        ("deepseek", "deepseek"),
        ("perplexity", "perplexity"),
        ("ollama", "ollama"),  # no convention name: LiteLLM's own
    ],
)
def test_provider_name(litellm_name: str, semconv_name: str) -> None:
    assert extract.provider_name(litellm_name) == semconv_name


def test_route_attributes() -> None:
    assert extract.route_attributes("anthropic", "claude-opus-5", "https://api.anthropic.com") == (
        ("gen_ai.provider.name", "anthropic"),
        ("gen_ai.request.model", "claude-opus-5"),
        ("server.address", "api.anthropic.com"),
        ("server.port", 443),
    )
    assert extract.route_attributes("ollama", "llama3", "http://localhost:11434") == (
        ("gen_ai.provider.name", "ollama"),
        ("gen_ai.request.model", "llama3"),
        ("server.address", "localhost"),
        ("server.port", 11434),
    )
    assert extract.route_attributes("bedrock", "m", None) == (
        ("gen_ai.provider.name", "aws.bedrock"),
        ("gen_ai.request.model", "m"),
    )


def test_completion_request_attributes() -> None:
    assert extract.completion_request_attributes(
        {
            "model": "openai/gpt-4o",
            "max_completion_tokens": 50,
            "temperature": 0.2,
            "top_p": 1,
            "seed": 7,
            "n": 2,
            "stop": "END",
            "stream": True,
            "response_format": {"type": "json_object"},
        }
    ) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "openai/gpt-4o",
        "gen_ai.request.max_tokens": 50,
        "gen_ai.request.temperature": 0.2,
        "gen_ai.request.top_p": 1.0,
        "gen_ai.request.seed": 7,
        "gen_ai.request.choice.count": 2,
        "gen_ai.request.stop_sequences": ["END"],
        "gen_ai.request.stream": True,
        "gen_ai.output.type": "json",
    }
    assert extract.completion_request_attributes({"model": 3, "temperature": True}) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "",
    }


def test_usage_details() -> None:
    usage = NS(
        prompt_tokens=10,
        completion_tokens=4,
        prompt_tokens_details=NS(cached_tokens=3),
        completion_tokens_details=NS(reasoning_tokens=2),
        cache_creation_input_tokens=5,
    )
    a: dict[str, Any] = {}
    assert extract.usage(a, usage) == (10, 4)
    assert a == {
        "gen_ai.usage.input_tokens": 10,
        "gen_ai.usage.output_tokens": 4,
        "gen_ai.usage.cache_read.input_tokens": 3,
        "gen_ai.usage.cache_creation.input_tokens": 5,
        "gen_ai.usage.reasoning.output_tokens": 2,
    }
    assert extract.usage({}, None) == (None, None)


def test_embedding_response_with_dict_data() -> None:
    response = NS(model="m", data=[{"embedding": [0.1, 0.2]}], usage=NS(prompt_tokens=4))
    assert extract.embedding_response_attributes(response) == (
        {
            "gen_ai.response.model": "m",
            "gen_ai.embeddings.dimension.count": 2,
            "gen_ai.usage.input_tokens": 4,
        },
        4,
        None,
        "m",
    )


def test_tool_results_after_the_last_assistant_message() -> None:
    kw = {
        "messages": [
            {"role": "tool", "tool_call_id": "old", "content": "x"},
            {"role": "assistant", "tool_calls": []},
            {"role": "tool", "tool_call_id": "a", "content": "1"},
            {"role": "tool", "tool_call_id": "b", "content": "2"},
        ]
    }
    assert content.tool_results(kw) == [("a", False), ("b", False)]
    assert content.tool_results({"messages": iter([])}) == []


def _chunk(**delta: Any) -> Any:
    finish = delta.pop("finish_reason", None)
    usage = delta.pop("usage", None)
    choice = NS(
        index=0,
        finish_reason=finish,
        delta=NS(content=delta.get("content"), tool_calls=delta.get("tool_calls")),
    )
    return NS(id="chatcmpl-9", model="gpt-4o", choices=[choice], usage=usage)


def test_accumulator_tool_call_and_usage() -> None:
    acc = CompletionStreamAccumulator(capture=True)
    call = NS(index=0, id="call_1", function=NS(name="get_weather", arguments='{"city":'))
    more = NS(index=0, id=None, function=NS(name=None, arguments='"Paris"}'))
    for chunk in (
        _chunk(content="Hi"),
        _chunk(tool_calls=[call]),
        _chunk(tool_calls=[more]),
        _chunk(finish_reason="tool_calls"),
        _chunk(usage=NS(prompt_tokens=6, completion_tokens=9)),
    ):
        acc.process(chunk)

    assert acc.outcome() == (
        {
            "gen_ai.response.id": "chatcmpl-9",
            "gen_ai.response.model": "gpt-4o",
            "gen_ai.response.finish_reasons": ["tool_calls"],
            "agentotel.response.tool_calls.names": ["get_weather"],
            "agentotel.response.tool_calls.ids": ["call_1"],
            "gen_ai.usage.input_tokens": 6,
            "gen_ai.usage.output_tokens": 9,
        },
        6,
        9,
        "gpt-4o",
    )
    assert acc.output_messages() == [
        {
            "role": "assistant",
            "parts": [
                {"type": "text", "content": "Hi"},
                {"type": "tool_call", "id": "call_1", "name": "get_weather", "arguments": '{"city":"Paris"}'},
            ],
            "finish_reason": "tool_calls",
        }
    ]


def test_accumulator_keeps_no_text_without_capture() -> None:
    acc = CompletionStreamAccumulator(capture=False)
    acc.process(_chunk(content="Hi"))
    assert acc.output_messages() == []
