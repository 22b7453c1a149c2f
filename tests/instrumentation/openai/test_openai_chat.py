"""OpenAI chat completions (non-stream): spans, metrics and errors, driving the real SDK over HTTP.

Expected numbers follow the fake server's rules: a token is a whitespace word of the message
texts, the default reply "Hello from the fake LLM server." is 6 tokens, ``gpt-4o`` answers as
``gpt-4o-2024-08-06``, ids count from 1 (the server state is reset before each test).
"""

from __future__ import annotations

import inspect
import json
from typing import Any

import openai
import pytest
from helpers import (
    CHAT_TOOLS,
    DURATION,
    QUESTION,
    REPLY,
    TELEMETRY_ERRORS,
    TIME_PER_OUTPUT_CHUNK,
    TIME_TO_FIRST_CHUNK,
    TOKENS,
    Failure,
    araised_by,
    closed_port,
    instrumented,
    priced,
    resolve,
    token_sums,
    user,
)
from openai.resources.chat.completions import Completions
from openai.types.chat import ChatCompletion, ParsedChatCompletion
from openai_helpers import (
    CHAT_REPLY_ATTRS,
    CHAT_TOOL_CALL_ATTRS,
    REQUEST_FAILURES,
    Answer,
    assert_both_choices_called_get_weather,
    assert_raised_by_sdk,
    assert_usage_and_duration,
    chat_parse,
    entered,
    failing_request,
    one_span,
    points,
    span_base,
)
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from pydantic import BaseModel

from agentotel.instrumentation.openai import OpenAIInstrumentor
from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture

pytestmark = pytest.mark.usefixtures("fresh_fake_llm")

API_KEY = "sk-test-key"


class GetWeather(BaseModel):
    city: str


@pytest.fixture
def base(fake_llm: FakeLLMServer) -> dict[str, Any]:
    """Request-side attributes of a ``chat gpt-4o`` span against the fake server."""
    return span_base(fake_llm, "chat_completions")


# --------------------------------------------------------------------------- create


async def test_create_span_name_kind_and_attributes(
    openai_instrumented: TelemetryCapture, client: Any, base: dict[str, Any]
) -> None:
    await resolve(client.chat.completions.create(model="gpt-4o", messages=user(QUESTION)))

    span = one_span(openai_instrumented)
    assert span.name == "chat gpt-4o"
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    assert dict(span.attributes or {}) == priced({**base, **CHAT_REPLY_ATTRS})
    assert span.events == ()


async def test_create_returns_the_sdk_chat_completion(
    openai_instrumented: TelemetryCapture, client: Any
) -> None:
    completion = await resolve(client.chat.completions.create(model="gpt-4o", messages=user(QUESTION)))

    assert type(completion) is ChatCompletion
    assert completion.id == "chatcmpl-1"
    assert completion.choices[0].message.content == REPLY


@pytest.mark.skipif(
    not hasattr(openai._models, "add_request_id"), reason="ChatCompletion._request_id: openai>=1.46.0"
)
async def test_create_keeps_the_request_id(openai_instrumented: TelemetryCapture, client: Any) -> None:
    completion = await resolve(client.chat.completions.create(model="gpt-4o", messages=user(QUESTION)))

    assert completion._request_id == "req_1"


async def test_create_records_token_usage_and_duration(
    openai_instrumented: TelemetryCapture, client: Any, metric_base: dict[str, Any]
) -> None:
    await resolve(client.chat.completions.create(model="gpt-4o", messages=user(QUESTION)))

    assert_usage_and_duration(openai_instrumented, metric_base)


def test_create_records_no_chunk_timing_metrics(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI
) -> None:
    openai_client.chat.completions.create(model="gpt-4o", messages=user(QUESTION))

    assert openai_instrumented.metric_points(TIME_TO_FIRST_CHUNK) == []
    assert openai_instrumented.metric_points(TIME_PER_OUTPUT_CHUNK) == []


def test_request_parameters(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI, base: dict[str, Any]
) -> None:
    openai_client.chat.completions.create(
        model="gpt-4o",
        messages=user(QUESTION),
        max_tokens=50,
        temperature=0.5,
        top_p=0.9,
        stop=["END", "STOP"],
        seed=42,
        frequency_penalty=0.1,
        presence_penalty=0.2,
        service_tier="flex",
    )

    assert dict(one_span(openai_instrumented).attributes or {}) == priced(
        {
            **base,
            "gen_ai.request.max_tokens": 50,
            "gen_ai.request.temperature": 0.5,
            "gen_ai.request.top_p": 0.9,
            "gen_ai.request.stop_sequences": ("END", "STOP"),
            "gen_ai.request.seed": 42,
            "gen_ai.request.frequency_penalty": 0.1,
            "gen_ai.request.presence_penalty": 0.2,
            "openai.request.service_tier": "flex",
            **CHAT_REPLY_ATTRS,
            "openai.response.service_tier": "flex",
        }
    )


def test_single_stop_string_is_a_one_element_list(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI
) -> None:
    openai_client.chat.completions.create(model="gpt-4o", messages=user(QUESTION), stop="END")

    attributes = one_span(openai_instrumented).attributes or {}
    assert attributes["gen_ai.request.stop_sequences"] == ("END",)


@pytest.mark.skipif(
    "max_completion_tokens" not in inspect.signature(Completions.create).parameters,
    reason="max_completion_tokens: openai>=1.45.0",
)
def test_max_completion_tokens_wins_over_max_tokens(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI, base: dict[str, Any]
) -> None:
    completion = openai_client.chat.completions.create(
        model="gpt-4o", messages=user("[[words:10]]"), max_completion_tokens=4, max_tokens=50
    )

    assert completion.choices[0].message.content == "w1 w2 w3 w4"
    assert dict(one_span(openai_instrumented).attributes or {}) == priced(
        {
            **base,
            "gen_ai.request.max_tokens": 4,
            **CHAT_REPLY_ATTRS,
            "gen_ai.response.finish_reasons": ("length",),
            "gen_ai.usage.input_tokens": 1,
            "gen_ai.usage.output_tokens": 4,
        }
    )


@pytest.mark.parametrize(
    ("response_format", "output_type"),
    [
        pytest.param({"type": "json_object"}, "json", id="json_object"),
        pytest.param(
            {
                "type": "json_schema",
                "json_schema": {
                    "name": "answer",
                    "schema": {"type": "object", "properties": {"text": {"type": "string"}}},
                },
            },
            "json",
            id="json_schema",
        ),
        pytest.param({"type": "text"}, "text", id="text"),
    ],
)
def test_output_type_from_response_format(
    openai_instrumented: TelemetryCapture,
    openai_client: openai.OpenAI,
    response_format: Any,
    output_type: str,
) -> None:
    openai_client.chat.completions.create(
        model="gpt-4o", messages=user(QUESTION), response_format=response_format
    )

    attributes = one_span(openai_instrumented).attributes or {}
    assert attributes["gen_ai.output.type"] == output_type


def test_no_output_type_without_response_format(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI
) -> None:
    openai_client.chat.completions.create(model="gpt-4o", messages=user(QUESTION))

    assert "gen_ai.output.type" not in (one_span(openai_instrumented).attributes or {})


def test_n2_choice_count_and_finish_reasons(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI, base: dict[str, Any]
) -> None:
    openai_client.chat.completions.create(model="gpt-4o", messages=user(QUESTION), n=2)

    assert dict(one_span(openai_instrumented).attributes or {}) == priced(
        {
            **base,
            "gen_ai.request.choice.count": 2,
            **CHAT_REPLY_ATTRS,
            "gen_ai.response.finish_reasons": ("stop", "stop"),
            "gen_ai.usage.output_tokens": 12,
        }
    )
    assert token_sums(openai_instrumented) == {"input": 6, "output": 12}


def test_n1_sets_no_choice_count(openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI) -> None:
    openai_client.chat.completions.create(model="gpt-4o", messages=user(QUESTION), n=1)

    assert "gen_ai.request.choice.count" not in (one_span(openai_instrumented).attributes or {})


def test_cached_and_reasoning_tokens(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI, fake_llm: FakeLLMServer
) -> None:
    prompt = f"{QUESTION} [[scenario:cached:4]] [[scenario:reasoning:3]]"  # 8 tokens
    openai_client.chat.completions.create(model="o3-mini", messages=user(prompt))

    span = one_span(openai_instrumented)
    assert span.name == "chat o3-mini"
    assert dict(span.attributes or {}) == priced(
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": "o3-mini",
            "openai.api.type": "chat_completions",
            "gen_ai.provider.name": "openai",
            "server.address": "127.0.0.1",
            "server.port": fake_llm.port,
            "gen_ai.response.id": "chatcmpl-1",
            "gen_ai.response.model": "o3-mini-2024-08-06",
            "openai.response.service_tier": "default",
            "openai.response.system_fingerprint": "fp_fake",
            "gen_ai.response.finish_reasons": ("stop",),
            "gen_ai.usage.input_tokens": 8,
            "gen_ai.usage.output_tokens": 9,
            "gen_ai.usage.cache_read.input_tokens": 4,
            "gen_ai.usage.reasoning.output_tokens": 3,
        }
    )
    assert token_sums(openai_instrumented) == {"input": 8, "output": 9}


def test_span_is_a_child_of_the_current_span(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI
) -> None:
    tracer = openai_instrumented.tracer_provider.get_tracer("app")
    with tracer.start_as_current_span("agent") as parent:
        openai_client.chat.completions.create(model="gpt-4o", messages=user(QUESTION))

    chat, agent = openai_instrumented.spans()
    assert (chat.name, agent.name) == ("chat gpt-4o", "agent")
    assert chat.parent is not None
    assert chat.parent.span_id == parent.get_span_context().span_id
    assert chat.context.trace_id == agent.context.trace_id


# --------------------------------------------------------------------------- parse


async def test_parse_with_pydantic_response_format(
    openai_instrumented: TelemetryCapture, client: Any, base: dict[str, Any]
) -> None:
    # The fake server answers plain text, which no pydantic class parses; with a strict tool the
    # model calls it instead, and parse() turns the arguments into the tool's class.
    completion = await resolve(
        chat_parse(client)(
            model="gpt-4o",
            messages=user(QUESTION),
            response_format=Answer,
            tools=[openai.pydantic_function_tool(GetWeather)],
        )
    )

    assert isinstance(completion, ParsedChatCompletion)
    call = completion.choices[0].message.tool_calls[0]
    assert call.function.parsed_arguments == GetWeather(city="Paris")
    span = one_span(openai_instrumented)
    assert span.name == "chat gpt-4o"
    assert dict(span.attributes or {}) == priced(
        {
            **base,
            "gen_ai.output.type": "json",
            **CHAT_TOOL_CALL_ATTRS,
            "agentotel.response.tool_calls.names": ("GetWeather",),
        }
    )
    assert token_sums(openai_instrumented) == {"input": 6, "output": 2}


async def test_beta_parse_is_one_span_per_request(
    openai_instrumented: TelemetryCapture, client: Any, base: dict[str, Any], fake_llm: FakeLLMServer
) -> None:
    # beta.chat.completions.parse calls chat.completions.create up to openai 1.49, sends its own
    # request from 1.50 to 1.91, and is chat.completions.parse from 1.92: one span each way.
    sent = len(fake_llm.requests)
    completion = await resolve(
        client.beta.chat.completions.parse(
            model="gpt-4o",
            messages=user(QUESTION),
            response_format=Answer,
            tools=[openai.pydantic_function_tool(GetWeather)],
        )
    )

    assert isinstance(completion, ParsedChatCompletion)
    assert completion.choices[0].message.tool_calls[0].function.parsed_arguments == GetWeather(city="Paris")
    assert len(fake_llm.requests) - sent == 1
    span = one_span(openai_instrumented)
    assert span.name == "chat gpt-4o"
    assert dict(span.attributes or {}) == priced(
        {
            **base,
            "gen_ai.output.type": "json",
            **CHAT_TOOL_CALL_ATTRS,
            "agentotel.response.tool_calls.names": ("GetWeather",),
        }
    )
    assert token_sums(openai_instrumented) == {"input": 6, "output": 2}


# --------------------------------------------------------------------------- tools


def test_tool_call_round_trip(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI, base: dict[str, Any]
) -> None:
    first = openai_client.chat.completions.create(model="gpt-4o", messages=user(QUESTION), tools=CHAT_TOOLS)
    call = first.choices[0].message.tool_calls[0]  # type: ignore[index]
    messages: Any = [
        *user(QUESTION),
        first.choices[0].message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "Sunny, 22 C"},  # 3 tokens
    ]
    second = openai_client.chat.completions.create(model="gpt-4o", messages=messages, tools=CHAT_TOOLS)

    assert second.choices[0].message.content == REPLY
    asked, tool, answered = openai_instrumented.spans()
    assert dict(asked.attributes or {}) == priced({**base, **CHAT_TOOL_CALL_ATTRS})
    # The tool run between the two calls is inferred from the tool message (see test_inferred_tools).
    assert (tool.name, (tool.attributes or {})["gen_ai.tool.call.id"]) == (
        "execute_tool get_weather",
        call.id,
    )
    assert dict(answered.attributes or {}) == priced(
        {
            **base,
            **CHAT_REPLY_ATTRS,
            "gen_ai.response.id": "chatcmpl-2",
            "gen_ai.usage.input_tokens": 9,
        }
    )
    assert token_sums(openai_instrumented) == {"input": 15, "output": 8}
    assert [count for _, count in points(openai_instrumented, DURATION)] == [2]


def test_tool_calls_for_each_choice(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI
) -> None:
    openai_client.chat.completions.create(model="gpt-4o", messages=user(QUESTION), tools=CHAT_TOOLS, n=2)

    assert_both_choices_called_get_weather(one_span(openai_instrumented))


# --------------------------------------------------------------------------- raw responses


async def test_with_raw_response_span_ends_on_parse(
    openai_instrumented: TelemetryCapture, client: Any, base: dict[str, Any]
) -> None:
    raw = await resolve(
        client.chat.completions.with_raw_response.create(model="gpt-4o", messages=user(QUESTION))
    )

    assert openai_instrumented.spans() == []
    assert raw.headers["x-request-id"] == "req_1"
    assert raw.http_response.status_code == 200
    completion = raw.parse()
    assert type(completion) is ChatCompletion
    assert completion.choices[0].message.content == REPLY
    assert dict(one_span(openai_instrumented).attributes or {}) == priced({**base, **CHAT_REPLY_ATTRS})
    assert token_sums(openai_instrumented) == {"input": 6, "output": 6}


def _raw_parse(client: Any) -> Any:
    """``with_raw_response.parse`` of chat completions (openai>=1.92.0), else of beta chat
    completions (1.50.0 to 1.91); None before 1.50.0."""
    raw = client.chat.completions.with_raw_response
    if hasattr(raw, "parse"):
        return raw.parse
    beta_raw = getattr(client.beta.chat.completions, "with_raw_response", None)
    return getattr(beta_raw, "parse", None)


@pytest.mark.skipif(
    _raw_parse(openai.OpenAI(api_key="k")) is None,
    reason="beta.chat.completions.with_raw_response.parse: openai>=1.50.0",
)
async def test_with_raw_response_parse_is_one_span_per_request(
    openai_instrumented: TelemetryCapture, client: Any, base: dict[str, Any], fake_llm: FakeLLMServer
) -> None:
    sent = len(fake_llm.requests)
    raw = await resolve(
        _raw_parse(client)(
            model="gpt-4o",
            messages=user(QUESTION),
            response_format=Answer,
            tools=[openai.pydantic_function_tool(GetWeather)],
        )
    )
    assert openai_instrumented.spans() == []
    completion = raw.parse()

    assert isinstance(completion, ParsedChatCompletion)
    assert len(fake_llm.requests) - sent == 1
    assert dict(one_span(openai_instrumented).attributes or {}) == priced(
        {
            **base,
            "gen_ai.output.type": "json",
            **CHAT_TOOL_CALL_ATTRS,
            "agentotel.response.tool_calls.names": ("GetWeather",),
        }
    )


def test_with_raw_response_parse_twice_ends_one_span(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI
) -> None:
    raw = openai_client.chat.completions.with_raw_response.create(model="gpt-4o", messages=user(QUESTION))

    assert raw.parse() is raw.parse()
    one_span(openai_instrumented)
    assert [count for _, count in points(openai_instrumented, DURATION)] == [1]


async def test_with_streaming_response_span_ends_on_parse(
    openai_instrumented: TelemetryCapture, client: Any, base: dict[str, Any]
) -> None:
    manager = client.chat.completions.with_streaming_response.create(model="gpt-4o", messages=user(QUESTION))
    async with entered(manager, client) as resp:
        assert openai_instrumented.spans() == []
        assert resp.headers["x-request-id"] == "req_1"
        completion = await resolve(resp.parse())
        assert type(completion) is ChatCompletion
        assert dict(one_span(openai_instrumented).attributes or {}) == priced({**base, **CHAT_REPLY_ATTRS})

    one_span(openai_instrumented)


def test_with_streaming_response_closed_unparsed_ends_span(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI, base: dict[str, Any]
) -> None:
    with openai_client.chat.completions.with_streaming_response.create(
        model="gpt-4o", messages=user(QUESTION)
    ) as resp:
        assert resp.status_code == 200

    span = one_span(openai_instrumented)
    assert span.status.status_code is StatusCode.UNSET
    assert dict(span.attributes or {}) == priced(base)


# --------------------------------------------------------------------------- errors


FAILURES = [
    *REQUEST_FAILURES,
    # Without instrumentation the SDK lets json's own error through for a malformed body;
    # error.type is its public name, the exception event keeps the defining module.
    pytest.param(
        Failure(
            "[[scenario:malformed]]",
            json.JSONDecodeError,
            "json.JSONDecodeError",
            event_type="json.decoder.JSONDecodeError",
        ),
        id="malformed-json",
    ),
]


def assert_failed_span(
    cap: TelemetryCapture,
    exc: BaseException,
    error_type: str,
    exception_type: str,
    attributes: dict[str, Any],
) -> None:
    span = one_span(cap)
    assert span.name == "chat gpt-4o"
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == f"{error_type}: {exc}"
    assert dict(span.attributes or {}) == priced({**attributes, "error.type": error_type})
    (event,) = span.events
    assert event.name == "exception"
    assert (event.attributes or {})["exception.type"] == exception_type
    assert (event.attributes or {})["exception.message"] == str(exc)


@pytest.mark.parametrize("failure", FAILURES)
async def test_error_reaches_caller_unchanged(cap: TelemetryCapture, client: Any, failure: Failure) -> None:
    request = failing_request(failure)
    baseline = await araised_by(lambda: resolve(client.chat.completions.create(**request)))
    with instrumented(cap, OpenAIInstrumentor):
        exc = await araised_by(lambda: resolve(client.chat.completions.create(**request)))

    assert type(exc) is type(baseline) is failure.error
    assert str(exc) == str(baseline)
    assert_raised_by_sdk(exc)


@pytest.mark.parametrize("failure", FAILURES)
async def test_error_span_and_metrics(
    openai_instrumented: TelemetryCapture,
    client: Any,
    base: dict[str, Any],
    metric_base: dict[str, Any],
    failure: Failure,
) -> None:
    exc = await araised_by(lambda: resolve(client.chat.completions.create(**failing_request(failure))))

    assert_failed_span(openai_instrumented, exc, failure.error_type, failure.exception_type, base)
    assert points(openai_instrumented, DURATION) == [({**metric_base, "error.type": failure.error_type}, 1)]
    assert openai_instrumented.metric_points(TOKENS) == []


@pytest.mark.parametrize("client_class", [openai.OpenAI, openai.AsyncOpenAI], ids=["sync", "async"])
async def test_connection_error(cap: TelemetryCapture, base: dict[str, Any], client_class: type[Any]) -> None:
    port = closed_port()
    client = client_class(base_url=f"http://127.0.0.1:{port}/v1", api_key=API_KEY, max_retries=0)
    baseline = await araised_by(
        lambda: resolve(client.chat.completions.create(model="gpt-4o", messages=user(QUESTION)))
    )
    with instrumented(cap, OpenAIInstrumentor):
        exc = await araised_by(
            lambda: resolve(client.chat.completions.create(model="gpt-4o", messages=user(QUESTION)))
        )

    assert type(exc) is type(baseline) is openai.APIConnectionError
    assert str(exc) == str(baseline)
    assert_raised_by_sdk(exc)
    attributes = {**base, "server.port": port}
    assert_failed_span(cap, exc, "openai.APIConnectionError", "openai.APIConnectionError", attributes)
    metric_attrs = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o",
        "server.address": "127.0.0.1",
        "server.port": port,
        "error.type": "openai.APIConnectionError",
    }
    assert points(cap, DURATION) == [(metric_attrs, 1)]


def test_rate_limit_error_is_the_sdk_exception_object(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI
) -> None:
    with pytest.raises(openai.RateLimitError) as info:
        openai_client.chat.completions.create(
            model="gpt-4o", messages=user(f"{QUESTION} [[scenario:rate_limit]]")
        )

    exc = info.value
    assert type(exc) is openai.RateLimitError
    assert exc.status_code == 429
    assert exc.response.headers["x-request-id"] == "req_1"
    assert exc.body == {
        "message": "Rate limit reached (fake LLM server).",
        "type": "requests",
        "param": None,
        "code": "rate_limit_exceeded",
    }
    assert_raised_by_sdk(exc)


# --------------------------------------------------------------------------- suppression / sampling


async def test_suppressed_call_creates_no_span(openai_instrumented: TelemetryCapture, client: Any) -> None:
    with suppress_instrumentation():
        completion = await resolve(client.chat.completions.create(model="gpt-4o", messages=user(QUESTION)))

    assert type(completion) is ChatCompletion
    assert completion.choices[0].message.content == REPLY
    assert openai_instrumented.spans() == []
    assert openai_instrumented.metric_points(DURATION) == []


def test_unsampled_call_exports_no_span_but_records_metrics(
    openai_unsampled: InMemorySpanExporter,
    cap: TelemetryCapture,
    openai_client: openai.OpenAI,
    metric_base: dict[str, Any],
) -> None:
    completion = openai_client.chat.completions.create(model="gpt-4o", messages=user(QUESTION))

    assert type(completion) is ChatCompletion
    assert completion.choices[0].message.content == REPLY
    assert openai_unsampled.get_finished_spans() == ()
    assert token_sums(cap) == {"input": 6, "output": 6}
    assert points(cap, DURATION) == [({**metric_base, "gen_ai.response.model": "gpt-4o-2024-08-06"}, 1)]
    assert cap.metric_points(TELEMETRY_ERRORS) == []


def test_unsampled_error_still_raises_and_records_duration(
    openai_unsampled: InMemorySpanExporter,
    cap: TelemetryCapture,
    openai_client: openai.OpenAI,
    metric_base: dict[str, Any],
) -> None:
    with pytest.raises(openai.RateLimitError):
        openai_client.chat.completions.create(
            model="gpt-4o", messages=user(f"{QUESTION} [[scenario:rate_limit]]")
        )

    assert openai_unsampled.get_finished_spans() == ()
    assert points(cap, DURATION) == [({**metric_base, "error.type": "openai.RateLimitError"}, 1)]
