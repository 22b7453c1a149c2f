"""Unit tests of ``agentotel.instrumentation.openai.extract``: request kwargs / SDK objects -> attributes.

Pure functions, no tracer. Response objects are the SDK's own pydantic types built from the JSON
shapes the API returns. The last tests check the host -> provider mapping end to end: through a
real client's ``base_url`` and through a real call against the fake server.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import openai
import pytest
from openai.types import CreateEmbeddingResponse
from openai.types.chat import ChatCompletion
from pydantic import BaseModel

from agentotel.instrumentation.openai import content as openai_content
from agentotel.instrumentation.openai import extract
from agentotel.instrumentation.openai.patch import SDK
from agentotel.instrumentation.openai.stream import ResponsesStreamAccumulator
from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture

try:
    from openai.types.responses import Response
except ImportError:  # openai < 1.66.0
    Response = None  # type: ignore[assignment,misc]

RESPONSES_API = pytest.mark.skipif(Response is None, reason="Responses API: openai>=1.66.0")

# The SDK's sentinels for an argument left out: ``NOT_GIVEN`` in every version, ``omit`` from 1.108.1.
SENTINELS: list[Any] = [openai.NOT_GIVEN, *([openai.omit] if hasattr(openai, "omit") else [])]
OMIT: Any = SENTINELS[-1]


class Answer(BaseModel):
    text: str


# --------------------------------------------------------------------------- provider_for_host


@pytest.mark.parametrize(
    ("host", "provider"),
    [
        ("my-resource.openai.azure.com", "azure.ai.openai"),
        ("my-resource.cognitiveservices.azure.com", "azure.ai.openai"),
        ("my-project.services.ai.azure.com", "azure.ai.openai"),
        ("api.groq.com", "groq"),
        ("api.deepseek.com", "deepseek"),
        ("api.x.ai", "x_ai"),
        ("api.mistral.ai", "mistral_ai"),
        ("generativelanguage.googleapis.com", "gcp.gemini"),
        ("api.perplexity.ai", "perplexity"),
        ("api.openai.com", "openai"),
        ("localhost", "openai"),
        ("127.0.0.1", "openai"),
        ("::1", "openai"),
        ("vllm", "openai"),
        ("vllm.internal.example.com", "openai"),
    ],
)
def test_provider_for_host(host: str, provider: str) -> None:
    assert extract.provider_for_host(host) == provider


@pytest.mark.parametrize("host", ["API.GROQ.COM", "api.groq.com.", "Api.Groq.Com."])
def test_provider_for_host_ignores_case_and_trailing_dot(host: str) -> None:
    assert extract.provider_for_host(host) == "groq"


@pytest.mark.parametrize(
    "host",
    [
        "api.groq.com.attacker.example",  # known host as a prefix
        "evilapi.groq.com",  # exact hosts match exactly
        "notapi.x.ai",
        "my-resource.openai.azure.com.attacker.example",  # suffix hosts match at the end only
        "evil-openai.azure.com",
        "groq.com",
    ],
)
def test_provider_for_lookalike_hosts_is_openai(host: str) -> None:
    assert extract.provider_for_host(host) == "openai"


# --------------------------------------------------------------------------- server_attributes


@pytest.mark.parametrize(
    ("scheme", "host", "port", "expected"),
    [
        ("https", "api.groq.com", None, ("groq", "api.groq.com", 443)),
        ("http", "localhost", None, ("openai", "localhost", 80)),
        ("http", "127.0.0.1", 8000, ("openai", "127.0.0.1", 8000)),
        ("https", "x.openai.azure.com", 8443, ("azure.ai.openai", "x.openai.azure.com", 8443)),
    ],
)
def test_server_attributes(scheme: str, host: str, port: int | None, expected: tuple[str, str, int]) -> None:
    provider, address, server_port = expected
    assert dict(extract.server_attributes(scheme, host, port)) == {
        "gen_ai.provider.name": provider,
        "server.address": address,
        "server.port": server_port,
    }


@pytest.mark.parametrize(
    ("client", "expected"),
    [
        pytest.param(
            openai.OpenAI(api_key="sk-test"),
            ("openai", "api.openai.com", 443),
            id="default",
        ),
        pytest.param(
            openai.OpenAI(base_url="https://api.groq.com/openai/v1", api_key="sk-test"),
            ("groq", "api.groq.com", 443),
            id="groq",
        ),
        pytest.param(
            openai.OpenAI(base_url="https://generativelanguage.googleapis.com/v1beta/openai/", api_key="k"),
            ("gcp.gemini", "generativelanguage.googleapis.com", 443),
            id="gemini",
        ),
        pytest.param(
            openai.AzureOpenAI(
                azure_endpoint="https://my-resource.openai.azure.com", api_version="2024-06-01", api_key="k"
            ),
            ("azure.ai.openai", "my-resource.openai.azure.com", 443),
            id="azure",
        ),
        pytest.param(
            openai.OpenAI(base_url="http://vllm.internal:8000/v1", api_key="k"),
            ("openai", "vllm.internal", 8000),
            id="vllm",
        ),
    ],
)
def test_server_attributes_of_a_client_base_url(
    client: openai.OpenAI, expected: tuple[str, str, int]
) -> None:
    attrs = dict(SDK.server(client))

    assert (attrs["gen_ai.provider.name"], attrs["server.address"], attrs["server.port"]) == expected


def test_local_server_call_is_provider_openai(
    openai_instrumented: TelemetryCapture, fake_llm: FakeLLMServer
) -> None:
    client = openai.OpenAI(base_url=f"http://127.0.0.1:{fake_llm.port}/v1", api_key="sk-test", max_retries=0)
    client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])

    (span,) = openai_instrumented.spans()
    attrs = span.attributes or {}
    assert attrs["gen_ai.provider.name"] == "openai"
    assert attrs["server.address"] == "127.0.0.1"
    assert attrs["server.port"] == fake_llm.port
    (point,) = openai_instrumented.metric_points("gen_ai.client.operation.duration")
    assert point.attributes["gen_ai.provider.name"] == "openai"
    assert point.attributes["server.address"] == "127.0.0.1"
    assert point.attributes["server.port"] == fake_llm.port


def test_localhost_call_keeps_the_host_name(
    openai_instrumented: TelemetryCapture, fake_llm: FakeLLMServer
) -> None:
    client = openai.OpenAI(base_url=f"http://localhost:{fake_llm.port}/v1", api_key="sk-test", max_retries=0)
    client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])

    (span,) = openai_instrumented.spans()
    attrs = span.attributes or {}
    assert (attrs["gen_ai.provider.name"], attrs["server.address"], attrs["server.port"]) == (
        "openai",
        "localhost",
        fake_llm.port,
    )


# --------------------------------------------------------------------------- output_type


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"type": "json_schema", "json_schema": {"name": "a", "schema": {}}}, "json"),
        ({"type": "json_object"}, "json"),
        ({"type": "text"}, "text"),
        (Answer, "json"),
        ({"type": "something_else"}, None),
        ({}, None),
        (None, None),
        *((sentinel, None) for sentinel in SENTINELS),
        ("json_object", None),
    ],
)
def test_output_type(value: Any, expected: str | None) -> None:
    assert extract.output_type(value) == expected


# --------------------------------------------------------------------------- request attributes

CHAT_BASE = {
    "gen_ai.operation.name": "chat",
    "gen_ai.request.model": "gpt-4o",
    "openai.api.type": "chat_completions",
}
MESSAGES = [{"role": "user", "content": "Hi"}]


def test_chat_request_minimal() -> None:
    assert extract.chat_request_attributes({"model": "gpt-4o", "messages": MESSAGES}) == CHAT_BASE


def test_chat_request_all_parameters() -> None:
    kwargs = {
        "model": "gpt-4o",
        "messages": MESSAGES,
        "max_tokens": 100,
        "temperature": 0.7,
        "top_p": 0.9,
        "frequency_penalty": 0.5,
        "presence_penalty": -0.5,
        "seed": 7,
        "n": 3,
        "stop": ["a", "b"],
        "response_format": {"type": "json_object"},
        "service_tier": "priority",
        "stream": True,
    }

    assert extract.chat_request_attributes(kwargs) == {
        **CHAT_BASE,
        "gen_ai.request.max_tokens": 100,
        "gen_ai.request.temperature": 0.7,
        "gen_ai.request.top_p": 0.9,
        "gen_ai.request.frequency_penalty": 0.5,
        "gen_ai.request.presence_penalty": -0.5,
        "openai.request.service_tier": "priority",
        "gen_ai.request.stream": True,
        "gen_ai.request.seed": 7,
        "gen_ai.request.choice.count": 3,
        "gen_ai.request.stop_sequences": ["a", "b"],
        "gen_ai.output.type": "json",
    }


@pytest.mark.parametrize("unset", [*SENTINELS, None])
def test_chat_request_skips_unset_values(unset: Any) -> None:
    keys = ("max_tokens", "max_completion_tokens", "temperature", "top_p", "frequency_penalty",
            "presence_penalty", "seed", "n", "stop", "response_format", "service_tier", "stream")  # fmt: skip
    kwargs = {"model": "gpt-4o", "messages": MESSAGES, **dict.fromkeys(keys, unset)}

    assert extract.chat_request_attributes(kwargs) == CHAT_BASE


def test_chat_request_numbers_are_normalised() -> None:
    attrs = extract.chat_request_attributes({"model": "gpt-4o", "temperature": 1, "top_p": 1, "seed": 3.0})

    assert attrs["gen_ai.request.temperature"] == 1.0
    assert type(attrs["gen_ai.request.temperature"]) is float
    assert type(attrs["gen_ai.request.top_p"]) is float
    assert attrs["gen_ai.request.seed"] == 3
    assert type(attrs["gen_ai.request.seed"]) is int


def test_chat_request_booleans_are_not_numbers() -> None:
    kwargs = {"model": "gpt-4o", "temperature": True, "max_tokens": True, "seed": False, "n": True}

    assert extract.chat_request_attributes(kwargs) == CHAT_BASE


def test_chat_request_max_completion_tokens_wins() -> None:
    attrs = extract.chat_request_attributes({"model": "gpt-4o", "max_completion_tokens": 4, "max_tokens": 50})

    assert attrs["gen_ai.request.max_tokens"] == 4


def test_chat_request_max_tokens_used_when_max_completion_tokens_unset() -> None:
    attrs = extract.chat_request_attributes(
        {"model": "gpt-4o", "max_completion_tokens": None, "max_tokens": 50}
    )

    assert attrs["gen_ai.request.max_tokens"] == 50


@pytest.mark.parametrize(
    ("stop", "expected"),
    [("END", ["END"]), (["a", "b"], ["a", "b"]), (("a",), ["a"]), ([], [])],
)
def test_chat_request_stop_sequences(stop: Any, expected: list[str]) -> None:
    attrs = extract.chat_request_attributes({"model": "gpt-4o", "stop": stop})

    assert attrs["gen_ai.request.stop_sequences"] == expected


def test_chat_request_stop_with_non_strings_is_skipped() -> None:
    assert "gen_ai.request.stop_sequences" not in extract.chat_request_attributes(
        {"model": "m", "stop": ["a", 1]}
    )


@pytest.mark.parametrize("n", [1, None])
def test_chat_request_single_choice_has_no_choice_count(n: Any) -> None:
    assert "gen_ai.request.choice.count" not in extract.chat_request_attributes({"model": "m", "n": n})


def test_chat_request_stream_false_is_not_recorded() -> None:
    assert "gen_ai.request.stream" not in extract.chat_request_attributes({"model": "m", "stream": False})


def test_chat_request_parse_class_is_json() -> None:
    attrs = extract.chat_request_attributes({"model": "gpt-4o", "response_format": Answer})

    assert attrs["gen_ai.output.type"] == "json"


@pytest.mark.parametrize("model", [None, OMIT, 42])
def test_request_model_missing_is_empty(model: Any) -> None:
    assert extract.model_of({"model": model}) == ""
    assert extract.chat_request_attributes({"model": model})["gen_ai.request.model"] == ""


def test_responses_request_attributes() -> None:
    kwargs = {
        "model": "gpt-4o",
        "input": "Hi",
        "max_output_tokens": 256,
        "temperature": 0.2,
        "top_p": 0.5,
        "service_tier": "flex",
        "stream": True,
        "text": {"format": {"type": "json_schema", "name": "a", "schema": {}}},
    }

    assert extract.responses_request_attributes(kwargs) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "gpt-4o",
        "openai.api.type": "responses",
        "gen_ai.request.max_tokens": 256,
        "gen_ai.request.temperature": 0.2,
        "gen_ai.request.top_p": 0.5,
        "openai.request.service_tier": "flex",
        "gen_ai.request.stream": True,
        "gen_ai.output.type": "json",
    }


def test_responses_request_minimal_with_sentinels() -> None:
    kwargs = {"model": "gpt-4o", "input": "Hi", "max_output_tokens": OMIT, "text": OMIT}

    assert extract.responses_request_attributes(kwargs) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "gpt-4o",
        "openai.api.type": "responses",
    }


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"text": {"format": {"type": "text"}}}, "text"),
        ({"text": {"format": {"type": "json_object"}}}, "json"),
        ({"text_format": Answer}, "json"),
        ({"text": {"format": {"type": "text"}}, "text_format": Answer}, "text"),
    ],
)
def test_responses_request_output_type(kwargs: dict[str, Any], expected: str) -> None:
    attrs = extract.responses_request_attributes({"model": "gpt-4o", **kwargs})

    assert attrs["gen_ai.output.type"] == expected


def test_embeddings_request_attributes() -> None:
    kwargs = {"model": "text-embedding-3-small", "input": "Hi", "encoding_format": "float", "dimensions": 256}

    assert extract.embeddings_request_attributes(kwargs) == {
        "gen_ai.operation.name": "embeddings",
        "gen_ai.request.model": "text-embedding-3-small",
        "gen_ai.request.encoding_formats": ["float"],
        "gen_ai.embeddings.dimension.count": 256,
    }


def test_embeddings_request_minimal() -> None:
    kwargs = {"model": "m", "input": "Hi", "encoding_format": OMIT, "dimensions": OMIT}

    assert extract.embeddings_request_attributes(kwargs) == {
        "gen_ai.operation.name": "embeddings",
        "gen_ai.request.model": "m",
    }


# --------------------------------------------------------------------------- response attributes


def _completion(**overrides: Any) -> ChatCompletion:
    data: dict[str, Any] = {
        "id": "chatcmpl-9",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "gpt-4o-2024-08-06",
        "service_tier": "default",
        "system_fingerprint": "fp_x",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "Hi there"}, "finish_reason": "stop"}
        ],
        "usage": {
            "prompt_tokens": 11,
            "completion_tokens": 7,
            "total_tokens": 18,
            "prompt_tokens_details": {"cached_tokens": 5},
            "completion_tokens_details": {"reasoning_tokens": 2},
        },
    }
    data.update(overrides)
    return ChatCompletion.model_validate(data)


def test_chat_response_attributes() -> None:
    attrs, input_tokens, output_tokens, model = extract.chat_response_attributes(_completion())

    assert attrs == {
        "gen_ai.response.id": "chatcmpl-9",
        "openai.response.service_tier": "default",
        "gen_ai.response.model": "gpt-4o-2024-08-06",
        "openai.response.system_fingerprint": "fp_x",
        "gen_ai.response.finish_reasons": ["stop"],
        "gen_ai.usage.input_tokens": 11,
        "gen_ai.usage.output_tokens": 7,
        "gen_ai.usage.cache_read.input_tokens": 5,
        "gen_ai.usage.reasoning.output_tokens": 2,
    }
    assert (input_tokens, output_tokens, model) == (11, 7, "gpt-4o-2024-08-06")


def test_chat_response_tool_calls_across_choices() -> None:
    def call(i: int, name: str) -> dict[str, Any]:
        return {"id": f"call_{i}", "type": "function", "function": {"name": name, "arguments": "{}"}}

    choices = [
        {
            "index": 0,
            "message": {"role": "assistant", "content": None, "tool_calls": [call(1, "a"), call(2, "b")]},
            "finish_reason": "tool_calls",
        },
        {"index": 1, "message": {"role": "assistant", "content": "done"}, "finish_reason": "length"},
        {
            "index": 2,
            "message": {"role": "assistant", "content": None, "tool_calls": [call(3, "c")]},
            "finish_reason": "tool_calls",
        },
    ]
    attrs = extract.chat_response_attributes(_completion(choices=choices))[0]

    assert attrs["gen_ai.response.finish_reasons"] == ["tool_calls", "length", "tool_calls"]
    assert attrs["agentotel.response.tool_calls.names"] == ["a", "b", "c"]
    assert attrs["agentotel.response.tool_calls.ids"] == ["call_1", "call_2", "call_3"]


def test_chat_response_without_usage_or_optional_fields() -> None:
    completion = _completion(usage=None, service_tier=None, system_fingerprint=None)

    attrs, input_tokens, output_tokens, model = extract.chat_response_attributes(completion)

    assert attrs == {
        "gen_ai.response.id": "chatcmpl-9",
        "gen_ai.response.model": "gpt-4o-2024-08-06",
        "gen_ai.response.finish_reasons": ["stop"],
    }
    assert (input_tokens, output_tokens, model) == (None, None, "gpt-4o-2024-08-06")


def test_chat_response_usage_without_details() -> None:
    usage = {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}

    attrs = extract.chat_response_attributes(_completion(usage=usage))[0]

    assert attrs["gen_ai.usage.input_tokens"] == 3
    assert attrs["gen_ai.usage.output_tokens"] == 4
    assert "gen_ai.usage.cache_read.input_tokens" not in attrs
    assert "gen_ai.usage.reasoning.output_tokens" not in attrs


class UsageBefore145(openai.BaseModel):
    """``CompletionUsage`` as openai 1.40 to 1.44 declare it: no details fields (the SDK's models
    keep undeclared fields as extras, plain dicts)."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


def test_chat_usage_details_kept_as_extra_fields_are_read() -> None:
    usage = UsageBefore145.model_validate(
        {
            "prompt_tokens": 11,
            "completion_tokens": 7,
            "total_tokens": 18,
            "prompt_tokens_details": {"cached_tokens": 5},
            "completion_tokens_details": {"reasoning_tokens": 2},
        }
    )
    assert usage.prompt_tokens_details == {"cached_tokens": 5}  # an extra field, a dict

    attrs = extract.chat_response_attributes(_completion(usage=None).model_copy(update={"usage": usage}))[0]

    assert attrs["gen_ai.usage.cache_read.input_tokens"] == 5
    assert attrs["gen_ai.usage.reasoning.output_tokens"] == 2


def test_chat_usage_extra_details_without_the_counts_add_nothing() -> None:
    usage = UsageBefore145.model_validate(
        {
            "prompt_tokens": 3,
            "completion_tokens": 4,
            "total_tokens": 7,
            "prompt_tokens_details": {"audio_tokens": 1},
            "completion_tokens_details": {},
        }
    )

    attrs = extract.chat_response_attributes(_completion(usage=None).model_copy(update={"usage": usage}))[0]

    assert attrs["gen_ai.usage.input_tokens"] == 3
    assert "gen_ai.usage.cache_read.input_tokens" not in attrs
    assert "gen_ai.usage.reasoning.output_tokens" not in attrs


def test_chat_response_attributes_of_an_unexpected_object() -> None:
    assert extract.chat_response_attributes(object()) == ({}, None, None, None)


def test_usage_attributes_marks_non_integers_out_of_range() -> None:
    # Not dropped in silence: the usage check leaves the field out and names it as invalid.
    attrs: dict[str, Any] = {}

    assert extract.usage_attributes(attrs, "3", None, None, None) == (-1, None)
    assert attrs == {"gen_ai.usage.input_tokens": -1}


def _response(**overrides: Any) -> Response:
    data: dict[str, Any] = {
        "id": "resp_9",
        "object": "response",
        "created_at": 1700000000,
        "status": "completed",
        "model": "gpt-4o-2024-08-06",
        "service_tier": "default",
        "output": [
            {
                "id": "msg_1",
                "type": "message",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": "Hi there", "annotations": []}],
            }
        ],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "usage": {
            "input_tokens": 10,
            "input_tokens_details": {"cached_tokens": 4, "cache_write_tokens": 0},
            "output_tokens": 6,
            "output_tokens_details": {"reasoning_tokens": 1},
            "total_tokens": 16,
        },
    }
    data.update(overrides)
    return Response.model_validate(data)


FUNCTION_CALL = {
    "type": "function_call",
    "id": "fc_1",
    "call_id": "call_1",
    "name": "get_weather",
    "arguments": "{}",
}


@RESPONSES_API
def test_responses_response_attributes() -> None:
    attrs, input_tokens, output_tokens, model = extract.responses_response_attributes(_response())

    assert attrs == {
        "gen_ai.response.id": "resp_9",
        "openai.response.service_tier": "default",
        "gen_ai.response.model": "gpt-4o-2024-08-06",
        "gen_ai.response.finish_reasons": ["stop"],
        "gen_ai.usage.input_tokens": 10,
        "gen_ai.usage.output_tokens": 6,
        "gen_ai.usage.cache_read.input_tokens": 4,
        "gen_ai.usage.reasoning.output_tokens": 1,
    }
    assert (input_tokens, output_tokens, model) == (10, 6, "gpt-4o-2024-08-06")


@RESPONSES_API
def test_responses_response_function_call() -> None:
    attrs = extract.responses_response_attributes(_response(output=[FUNCTION_CALL]))[0]

    assert attrs["gen_ai.response.finish_reasons"] == ["tool_calls"]
    assert attrs["agentotel.response.tool_calls.names"] == ["get_weather"]
    assert attrs["agentotel.response.tool_calls.ids"] == ["call_1"]


@RESPONSES_API
@pytest.mark.parametrize(
    ("details", "reason"),
    [
        ({"reason": "max_output_tokens"}, "max_output_tokens"),
        ({"reason": "content_filter"}, "content_filter"),
        (None, "incomplete"),
    ],
)
def test_responses_response_incomplete(details: Any, reason: str) -> None:
    response = _response(status="incomplete", incomplete_details=details)

    assert extract.responses_response_attributes(response)[0]["gen_ai.response.finish_reasons"] == [reason]


class ResponseUsageBefore1665(openai.BaseModel):
    """``ResponseUsage`` as openai 1.66.0 to 1.66.4 declare it: no ``input_tokens_details``."""

    input_tokens: int
    output_tokens: int
    total_tokens: int


@RESPONSES_API
def test_responses_usage_details_kept_as_extra_fields_are_read() -> None:
    usage = ResponseUsageBefore1665.model_validate(
        {
            "input_tokens": 10,
            "output_tokens": 6,
            "total_tokens": 16,
            "input_tokens_details": {"cached_tokens": 4},
            "output_tokens_details": {"reasoning_tokens": 1},
        }
    )

    attrs = extract.responses_response_attributes(_response().model_copy(update={"usage": usage}))[0]

    assert attrs["gen_ai.usage.cache_read.input_tokens"] == 4
    assert attrs["gen_ai.usage.reasoning.output_tokens"] == 1


@RESPONSES_API
def test_responses_response_without_usage() -> None:
    attrs, input_tokens, output_tokens, _ = extract.responses_response_attributes(_response(usage=None))

    assert (input_tokens, output_tokens) == (None, None)
    assert not any(key.startswith("gen_ai.usage.") for key in attrs)


def test_embeddings_response_attributes() -> None:
    result = CreateEmbeddingResponse.model_validate(
        {
            "object": "list",
            "model": "text-embedding-3-small",
            "data": [
                {"object": "embedding", "index": 0, "embedding": [0.1, 0.2, 0.3]},
                {"object": "embedding", "index": 1, "embedding": [0.4, 0.5, 0.6]},
            ],
            "usage": {"prompt_tokens": 5, "total_tokens": 5},
        }
    )

    assert extract.embeddings_response_attributes(result) == (
        {
            "gen_ai.response.model": "text-embedding-3-small",
            "gen_ai.embeddings.dimension.count": 3,
            "gen_ai.usage.input_tokens": 5,
        },
        5,
        None,
        "text-embedding-3-small",
    )


def test_embeddings_response_without_data() -> None:
    result = CreateEmbeddingResponse.model_validate(
        {"object": "list", "model": "m", "data": [], "usage": {"prompt_tokens": 0, "total_tokens": 0}}
    )

    assert extract.embeddings_response_attributes(result) == (
        {"gen_ai.response.model": "m", "gen_ai.usage.input_tokens": 0},
        0,
        None,
        "m",
    )


# --------------------------------------------------------------------------- content conversion


def test_put_tool_calls_skips_empty_lists() -> None:
    attrs: dict[str, Any] = {}
    extract.put_tool_calls(attrs, [], [])

    assert attrs == {}


def test_chat_input_messages() -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "Weather?"}]},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "Sunny"},
    ]

    assert openai_content.chat_input_messages(messages) == [
        {"role": "system", "parts": [{"type": "text", "content": "Be brief."}]},
        {"role": "user", "parts": [{"type": "text", "content": "Weather?"}]},
        {
            "role": "assistant",
            "parts": [{"type": "tool_call", "id": "call_1", "name": "get_weather", "arguments": "{}"}],
        },
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "call_1", "response": "Sunny"}]},
    ]


def test_chat_output_messages() -> None:
    call = {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}}
    choices = [
        {"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"},
        {
            "index": 1,
            "message": {"role": "assistant", "content": None, "tool_calls": [call]},
            "finish_reason": "tool_calls",
        },
    ]

    assert openai_content.chat_output_messages(_completion(choices=choices)) == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Hi"}], "finish_reason": "stop"},
        {
            "role": "assistant",
            "parts": [{"type": "tool_call", "id": "call_1", "name": "f", "arguments": '{"a": 1}'}],
            "finish_reason": "tool_calls",
        },
    ]


def test_responses_input_messages_from_a_string() -> None:
    assert openai_content.responses_input_messages("Hi") == [
        {"role": "user", "parts": [{"type": "text", "content": "Hi"}]}
    ]


def test_responses_input_messages_from_items() -> None:
    items = [
        {"role": "user", "content": [{"type": "input_text", "text": "Weather?"}]},
        {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "call_1", "output": "Sunny"},
    ]

    assert openai_content.responses_input_messages(items) == [
        {"role": "user", "parts": [{"type": "text", "content": "Weather?"}]},
        {
            "role": "assistant",
            "parts": [{"type": "tool_call", "id": "call_1", "name": "get_weather", "arguments": "{}"}],
        },
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "call_1", "response": "Sunny"}]},
    ]


@RESPONSES_API
def test_responses_output_messages() -> None:
    response = _response(output=[_response().output[0].model_dump(), FUNCTION_CALL])

    assert openai_content.responses_output_messages(response) == [
        {
            "role": "assistant",
            "parts": [
                {"type": "text", "content": "Hi there"},
                {"type": "tool_call", "id": "call_1", "name": "get_weather", "arguments": "{}"},
            ],
            "finish_reason": "tool_calls",
        }
    ]


def test_server_attributes_follow_a_client_whose_base_url_changes() -> None:
    client = openai.OpenAI(base_url="https://api.groq.com/openai/v1", api_key="k")
    assert dict(SDK.server(client))["gen_ai.provider.name"] == "groq"
    client.base_url = "https://api.deepseek.com/v1"  # type: ignore[assignment]
    assert dict(SDK.server(client))["gen_ai.provider.name"] == "deepseek"


def test_responses_stream_snapshot_left_a_dict_by_the_sdk() -> None:
    # openai 1.66 cannot parse a snapshot whose tools lack ``strict``: the event falls back to
    # another member of the event union, its ``response`` a plain dict.
    snapshot = {
        "id": "resp_9",
        "object": "response",
        "status": "completed",
        "model": "gpt-4o-2024-08-06",
        "service_tier": "default",
        "output": [FUNCTION_CALL],
        "usage": {
            "input_tokens": 10,
            "input_tokens_details": {"cached_tokens": 4},
            "output_tokens": 6,
            "output_tokens_details": {"reasoning_tokens": 1},
            "total_tokens": 16,
        },
    }
    accumulator = ResponsesStreamAccumulator(capture=True)
    accumulator.process(SimpleNamespace(type="response.completed", response=snapshot))

    assert accumulator.outcome() == (
        {
            "gen_ai.response.id": "resp_9",
            "openai.response.service_tier": "default",
            "gen_ai.response.model": "gpt-4o-2024-08-06",
            "gen_ai.response.finish_reasons": ["tool_calls"],
            "agentotel.response.tool_calls.names": ["get_weather"],
            "agentotel.response.tool_calls.ids": ["call_1"],
            "gen_ai.usage.input_tokens": 10,
            "gen_ai.usage.output_tokens": 6,
            "gen_ai.usage.cache_read.input_tokens": 4,
            "gen_ai.usage.reasoning.output_tokens": 1,
        },
        10,
        6,
        "gpt-4o-2024-08-06",
    )
    assert accumulator.output_messages() == [
        {
            "role": "assistant",
            "parts": [{"type": "tool_call", "id": "call_1", "name": "get_weather", "arguments": "{}"}],
            "finish_reason": "tool_calls",
        }
    ]
