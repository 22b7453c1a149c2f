"""OpenAI chat completions (non-stream): spans, metrics and errors, driving the real SDK over HTTP.

Expected numbers follow the fake server's rules: a token is a whitespace word of the message
texts, the default reply "Hello from the fake LLM server." is 6 tokens, ``gpt-4o`` answers as
``gpt-4o-2024-08-06``, ids count from 1 (the server state is reset before each test).
"""

from __future__ import annotations

import json
import socket
import traceback
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import openai
import pytest
from openai.types.chat import ChatCompletion, ParsedChatCompletion
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from opentelemetry.trace import SpanKind, StatusCode
from pydantic import BaseModel

from agentotel.instrumentation.openai import OpenAIInstrumentor
from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture

API_KEY = "sk-test-key"
Q = "What is the weather in Paris?"  # 6 tokens
REPLY = "Hello from the fake LLM server."  # 6 tokens
TOKENS = "gen_ai.client.token.usage"
DURATION = "gen_ai.client.operation.duration"
TIME_TO_FIRST_CHUNK = "gen_ai.client.operation.time_to_first_chunk"
TIME_PER_OUTPUT_CHUNK = "gen_ai.client.operation.time_per_output_chunk"
TELEMETRY_ERRORS = "agentotel.telemetry.errors"

TOOLS: Any = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]

# What the fake server answers to ``user(Q)`` on gpt-4o (first completion after a reset).
REPLY_ATTRS: dict[str, Any] = {
    "gen_ai.response.id": "chatcmpl-1",
    "gen_ai.response.model": "gpt-4o-2024-08-06",
    "openai.response.service_tier": "default",
    "openai.response.system_fingerprint": "fp_fake",
    "gen_ai.response.finish_reasons": ("stop",),
    "gen_ai.usage.input_tokens": 6,
    "gen_ai.usage.output_tokens": 6,
    "gen_ai.usage.cache_read.input_tokens": 0,
    "gen_ai.usage.reasoning.output_tokens": 0,
}


class Answer(BaseModel):
    text: str


class GetWeather(BaseModel):
    city: str


# --------------------------------------------------------------------------- helpers


def user(text: str) -> Any:
    return [{"role": "user", "content": text}]


def one_span(cap: TelemetryCapture) -> ReadableSpan:
    """The single finished span (and agentotel swallowed no error of its own)."""
    spans = cap.spans()
    assert len(spans) == 1, [s.name for s in spans]
    assert cap.metric_points(TELEMETRY_ERRORS) == []
    return spans[0]


def points(cap: TelemetryCapture, name: str) -> list[tuple[dict[str, Any], int]]:
    """(attributes, count) of each point of histogram ``name``, input tokens before output."""
    found = [(dict(p.attributes), p.count) for p in cap.metric_points(name)]
    return sorted(found, key=lambda p: str(p[0].get("gen_ai.token.type")))


def token_sums(cap: TelemetryCapture) -> dict[str, float]:
    return {p.attributes["gen_ai.token.type"]: p.sum for p in cap.metric_points(TOKENS)}


@contextmanager
def instrumented(cap: TelemetryCapture) -> Iterator[TelemetryCapture]:
    """The instrumentor active on ``cap`` for the block only (for before/after comparisons)."""
    instrumentor = OpenAIInstrumentor()
    instrumentor.instrument(**cap.providers)
    try:
        yield cap
    finally:
        instrumentor.uninstrument()


def raised_by(call: Callable[[], Any]) -> BaseException:
    with pytest.raises(BaseException) as info:
        call()
    return info.value


async def araised_by(call: Callable[[], Awaitable[Any]]) -> BaseException:
    with pytest.raises(BaseException) as info:
        await call()
    return info.value


def assert_raised_by_sdk(exc: BaseException) -> None:
    """``exc`` is the SDK's own exception object: its traceback starts where the SDK raised it."""
    assert exc.__traceback__ is not None
    frames = traceback.extract_tb(exc.__traceback__)
    assert any("/openai/" in f.filename for f in frames)
    assert "agentotel" not in frames[-1].filename


@pytest.fixture(autouse=True)
def _fresh_ids(fake_llm: FakeLLMServer) -> None:
    fake_llm.state.reset()


@pytest.fixture
def base(fake_llm: FakeLLMServer) -> dict[str, Any]:
    """Request-side attributes of a ``chat gpt-4o`` span against the fake server."""
    return {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "gpt-4o",
        "openai.api.type": "chat_completions",
        "gen_ai.provider.name": "openai",
        "server.address": "127.0.0.1",
        "server.port": fake_llm.port,
    }


@pytest.fixture
def metric_base(fake_llm: FakeLLMServer) -> dict[str, Any]:
    """Attributes of every metric point of a ``gpt-4o`` chat call."""
    return {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o",
        "server.address": "127.0.0.1",
        "server.port": fake_llm.port,
    }


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    sock.close()
    return port


# --------------------------------------------------------------------------- create


def test_create_span_name_kind_and_attributes(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI, base: dict[str, Any]
) -> None:
    openai_client.chat.completions.create(model="gpt-4o", messages=user(Q))

    span = one_span(openai_instrumented)
    assert span.name == "chat gpt-4o"
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    assert dict(span.attributes or {}) == {**base, **REPLY_ATTRS}
    assert span.events == ()


def test_create_returns_the_sdk_chat_completion(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI
) -> None:
    completion = openai_client.chat.completions.create(model="gpt-4o", messages=user(Q))

    assert type(completion) is ChatCompletion
    assert completion.id == "chatcmpl-1"
    assert completion.choices[0].message.content == REPLY
    assert completion._request_id == "req_1"


def test_create_records_token_usage_and_duration(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI, metric_base: dict[str, Any]
) -> None:
    openai_client.chat.completions.create(model="gpt-4o", messages=user(Q))

    cap = openai_instrumented
    attrs = {**metric_base, "gen_ai.response.model": "gpt-4o-2024-08-06"}
    assert points(cap, TOKENS) == [
        ({**attrs, "gen_ai.token.type": "input"}, 1),
        ({**attrs, "gen_ai.token.type": "output"}, 1),
    ]
    assert token_sums(cap) == {"input": 6, "output": 6}
    assert points(cap, DURATION) == [(attrs, 1)]


def test_create_records_no_chunk_timing_metrics(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI
) -> None:
    openai_client.chat.completions.create(model="gpt-4o", messages=user(Q))

    assert openai_instrumented.metric_points(TIME_TO_FIRST_CHUNK) == []
    assert openai_instrumented.metric_points(TIME_PER_OUTPUT_CHUNK) == []


async def test_async_create(
    openai_instrumented: TelemetryCapture,
    async_openai_client: openai.AsyncOpenAI,
    base: dict[str, Any],
    metric_base: dict[str, Any],
) -> None:
    completion = await async_openai_client.chat.completions.create(model="gpt-4o", messages=user(Q))

    assert type(completion) is ChatCompletion
    span = one_span(openai_instrumented)
    assert span.name == "chat gpt-4o"
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    assert dict(span.attributes or {}) == {**base, **REPLY_ATTRS}
    assert token_sums(openai_instrumented) == {"input": 6, "output": 6}
    assert points(openai_instrumented, DURATION) == [
        ({**metric_base, "gen_ai.response.model": "gpt-4o-2024-08-06"}, 1)
    ]


def test_request_parameters(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI, base: dict[str, Any]
) -> None:
    openai_client.chat.completions.create(
        model="gpt-4o",
        messages=user(Q),
        max_tokens=50,
        temperature=0.5,
        top_p=0.9,
        stop=["END", "STOP"],
        seed=42,
        frequency_penalty=0.1,
        presence_penalty=0.2,
        service_tier="flex",
    )

    assert dict(one_span(openai_instrumented).attributes or {}) == {
        **base,
        "gen_ai.request.max_tokens": 50,
        "gen_ai.request.temperature": 0.5,
        "gen_ai.request.top_p": 0.9,
        "gen_ai.request.stop_sequences": ("END", "STOP"),
        "gen_ai.request.seed": 42,
        "gen_ai.request.frequency_penalty": 0.1,
        "gen_ai.request.presence_penalty": 0.2,
        "openai.request.service_tier": "flex",
        **REPLY_ATTRS,
        "openai.response.service_tier": "flex",
    }


def test_single_stop_string_is_a_one_element_list(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI
) -> None:
    openai_client.chat.completions.create(model="gpt-4o", messages=user(Q), stop="END")

    attributes = one_span(openai_instrumented).attributes or {}
    assert attributes["gen_ai.request.stop_sequences"] == ("END",)


def test_max_completion_tokens_wins_over_max_tokens(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI, base: dict[str, Any]
) -> None:
    completion = openai_client.chat.completions.create(
        model="gpt-4o", messages=user("[[words:10]]"), max_completion_tokens=4, max_tokens=50
    )

    assert completion.choices[0].message.content == "w1 w2 w3 w4"
    assert dict(one_span(openai_instrumented).attributes or {}) == {
        **base,
        "gen_ai.request.max_tokens": 4,
        **REPLY_ATTRS,
        "gen_ai.response.finish_reasons": ("length",),
        "gen_ai.usage.input_tokens": 1,
        "gen_ai.usage.output_tokens": 4,
    }


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
    openai_client.chat.completions.create(model="gpt-4o", messages=user(Q), response_format=response_format)

    attributes = one_span(openai_instrumented).attributes or {}
    assert attributes["gen_ai.output.type"] == output_type


def test_no_output_type_without_response_format(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI
) -> None:
    openai_client.chat.completions.create(model="gpt-4o", messages=user(Q))

    assert "gen_ai.output.type" not in (one_span(openai_instrumented).attributes or {})


def test_n2_choice_count_and_finish_reasons(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI, base: dict[str, Any]
) -> None:
    openai_client.chat.completions.create(model="gpt-4o", messages=user(Q), n=2)

    assert dict(one_span(openai_instrumented).attributes or {}) == {
        **base,
        "gen_ai.request.choice.count": 2,
        **REPLY_ATTRS,
        "gen_ai.response.finish_reasons": ("stop", "stop"),
        "gen_ai.usage.output_tokens": 12,
    }
    assert token_sums(openai_instrumented) == {"input": 6, "output": 12}


def test_n1_sets_no_choice_count(openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI) -> None:
    openai_client.chat.completions.create(model="gpt-4o", messages=user(Q), n=1)

    assert "gen_ai.request.choice.count" not in (one_span(openai_instrumented).attributes or {})


def test_cached_and_reasoning_tokens(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI, fake_llm: FakeLLMServer
) -> None:
    prompt = f"{Q} [[scenario:cached:4]] [[scenario:reasoning:3]]"  # 8 tokens
    openai_client.chat.completions.create(model="o3-mini", messages=user(prompt))

    span = one_span(openai_instrumented)
    assert span.name == "chat o3-mini"
    assert dict(span.attributes or {}) == {
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
    assert token_sums(openai_instrumented) == {"input": 8, "output": 9}


def test_span_is_a_child_of_the_current_span(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI
) -> None:
    tracer = openai_instrumented.tracer_provider.get_tracer("app")
    with tracer.start_as_current_span("agent") as parent:
        openai_client.chat.completions.create(model="gpt-4o", messages=user(Q))

    chat, agent = openai_instrumented.spans()
    assert (chat.name, agent.name) == ("chat gpt-4o", "agent")
    assert chat.parent is not None
    assert chat.parent.span_id == parent.get_span_context().span_id
    assert chat.context.trace_id == agent.context.trace_id


# --------------------------------------------------------------------------- parse


def test_parse_with_pydantic_response_format(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI, base: dict[str, Any]
) -> None:
    # The fake server answers plain text, which no pydantic class parses; with a strict tool the
    # model calls it instead, and parse() turns the arguments into the tool's class.
    completion = openai_client.chat.completions.parse(
        model="gpt-4o",
        messages=user(Q),
        response_format=Answer,
        tools=[openai.pydantic_function_tool(GetWeather)],
    )

    assert isinstance(completion, ParsedChatCompletion)
    call = completion.choices[0].message.tool_calls[0]  # type: ignore[index]
    assert call.function.parsed_arguments == GetWeather(city="Paris")  # type: ignore[union-attr]
    span = one_span(openai_instrumented)
    assert span.name == "chat gpt-4o"
    assert dict(span.attributes or {}) == {
        **base,
        "gen_ai.output.type": "json",
        **REPLY_ATTRS,
        "gen_ai.response.finish_reasons": ("tool_calls",),
        "agentotel.response.tool_calls.names": ("GetWeather",),
        "agentotel.response.tool_calls.ids": ("call_1",),
        "gen_ai.usage.output_tokens": 2,
    }


async def test_async_parse_with_pydantic_response_format(
    openai_instrumented: TelemetryCapture, async_openai_client: openai.AsyncOpenAI, base: dict[str, Any]
) -> None:
    completion = await async_openai_client.chat.completions.parse(
        model="gpt-4o",
        messages=user(Q),
        response_format=Answer,
        tools=[openai.pydantic_function_tool(GetWeather)],
    )

    assert isinstance(completion, ParsedChatCompletion)
    assert dict(one_span(openai_instrumented).attributes or {}) == {
        **base,
        "gen_ai.output.type": "json",
        **REPLY_ATTRS,
        "gen_ai.response.finish_reasons": ("tool_calls",),
        "agentotel.response.tool_calls.names": ("GetWeather",),
        "agentotel.response.tool_calls.ids": ("call_1",),
        "gen_ai.usage.output_tokens": 2,
    }
    assert token_sums(openai_instrumented) == {"input": 6, "output": 2}


# --------------------------------------------------------------------------- tools


def test_tool_call_round_trip(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI, base: dict[str, Any]
) -> None:
    first = openai_client.chat.completions.create(model="gpt-4o", messages=user(Q), tools=TOOLS)
    call = first.choices[0].message.tool_calls[0]  # type: ignore[index]
    messages: Any = [
        *user(Q),
        first.choices[0].message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "Sunny, 22 C"},  # 3 tokens
    ]
    second = openai_client.chat.completions.create(model="gpt-4o", messages=messages, tools=TOOLS)

    assert second.choices[0].message.content == REPLY
    asked, answered = openai_instrumented.spans()
    assert dict(asked.attributes or {}) == {
        **base,
        **REPLY_ATTRS,
        "gen_ai.response.finish_reasons": ("tool_calls",),
        "agentotel.response.tool_calls.names": ("get_weather",),
        "agentotel.response.tool_calls.ids": ("call_1",),
        "gen_ai.usage.output_tokens": 2,
    }
    assert dict(answered.attributes or {}) == {
        **base,
        **REPLY_ATTRS,
        "gen_ai.response.id": "chatcmpl-2",
        "gen_ai.usage.input_tokens": 9,
    }
    assert token_sums(openai_instrumented) == {"input": 15, "output": 8}
    assert [count for _, count in points(openai_instrumented, DURATION)] == [2]


def test_tool_calls_for_each_choice(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI
) -> None:
    openai_client.chat.completions.create(model="gpt-4o", messages=user(Q), tools=TOOLS, n=2)

    attributes = one_span(openai_instrumented).attributes or {}
    assert attributes["gen_ai.response.finish_reasons"] == ("tool_calls", "tool_calls")
    assert attributes["agentotel.response.tool_calls.names"] == ("get_weather", "get_weather")
    assert attributes["agentotel.response.tool_calls.ids"] == ("call_1", "call_2")


# --------------------------------------------------------------------------- raw responses


def test_with_raw_response_span_ends_on_parse(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI, base: dict[str, Any]
) -> None:
    raw = openai_client.chat.completions.with_raw_response.create(model="gpt-4o", messages=user(Q))

    assert openai_instrumented.spans() == []
    assert raw.headers["x-request-id"] == "req_1"
    assert raw.http_response.status_code == 200
    completion = raw.parse()
    assert type(completion) is ChatCompletion
    assert completion.choices[0].message.content == REPLY
    assert dict(one_span(openai_instrumented).attributes or {}) == {**base, **REPLY_ATTRS}
    assert token_sums(openai_instrumented) == {"input": 6, "output": 6}


def test_with_raw_response_parse_twice_ends_one_span(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI
) -> None:
    raw = openai_client.chat.completions.with_raw_response.create(model="gpt-4o", messages=user(Q))

    assert raw.parse() is raw.parse()
    one_span(openai_instrumented)
    assert [count for _, count in points(openai_instrumented, DURATION)] == [1]


async def test_async_with_raw_response_span_ends_on_parse(
    openai_instrumented: TelemetryCapture, async_openai_client: openai.AsyncOpenAI, base: dict[str, Any]
) -> None:
    raw = await async_openai_client.chat.completions.with_raw_response.create(
        model="gpt-4o", messages=user(Q)
    )

    assert openai_instrumented.spans() == []
    assert raw.headers["x-request-id"] == "req_1"
    completion = raw.parse()
    assert type(completion) is ChatCompletion
    assert dict(one_span(openai_instrumented).attributes or {}) == {**base, **REPLY_ATTRS}


def test_with_streaming_response_span_ends_on_parse(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI, base: dict[str, Any]
) -> None:
    with openai_client.chat.completions.with_streaming_response.create(
        model="gpt-4o", messages=user(Q)
    ) as resp:
        assert openai_instrumented.spans() == []
        assert resp.headers["x-request-id"] == "req_1"
        completion = resp.parse()
        assert type(completion) is ChatCompletion
        assert dict(one_span(openai_instrumented).attributes or {}) == {**base, **REPLY_ATTRS}

    one_span(openai_instrumented)


async def test_async_with_streaming_response_span_ends_on_parse(
    openai_instrumented: TelemetryCapture, async_openai_client: openai.AsyncOpenAI, base: dict[str, Any]
) -> None:
    async with async_openai_client.chat.completions.with_streaming_response.create(
        model="gpt-4o", messages=user(Q)
    ) as resp:
        assert openai_instrumented.spans() == []
        assert resp.headers["x-request-id"] == "req_1"
        completion = await resp.parse()
        assert type(completion) is ChatCompletion
        assert dict(one_span(openai_instrumented).attributes or {}) == {**base, **REPLY_ATTRS}

    one_span(openai_instrumented)


def test_with_streaming_response_closed_unparsed_ends_span(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI, base: dict[str, Any]
) -> None:
    with openai_client.chat.completions.with_streaming_response.create(
        model="gpt-4o", messages=user(Q)
    ) as resp:
        assert resp.status_code == 200

    span = one_span(openai_instrumented)
    assert span.status.status_code is StatusCode.UNSET
    assert dict(span.attributes or {}) == base


# --------------------------------------------------------------------------- errors


@dataclass(frozen=True)
class Failure:
    marker: str
    error: type[BaseException]
    error_type: str  # error.type on the span and on the duration metric
    event_type: str | None = None  # exception.type of the exception event, when not error_type
    timeout: float | None = None

    @property
    def exception_type(self) -> str:
        return self.event_type or self.error_type


FAILURES = [
    pytest.param(
        Failure("[[scenario:rate_limit]]", openai.RateLimitError, "openai.RateLimitError"), id="429"
    ),
    pytest.param(
        Failure("[[scenario:server_error]]", openai.InternalServerError, "openai.InternalServerError"),
        id="500",
    ),
    pytest.param(
        Failure("[[scenario:bad_request]]", openai.BadRequestError, "openai.BadRequestError"), id="400"
    ),
    pytest.param(
        Failure("[[scenario:slow:1]]", openai.APITimeoutError, "openai.APITimeoutError", timeout=0.2),
        id="timeout",
    ),
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


def _request(failure: Failure) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"model": "gpt-4o", "messages": user(f"{Q} {failure.marker}")}
    if failure.timeout is not None:
        kwargs["timeout"] = failure.timeout
    return kwargs


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
    assert dict(span.attributes or {}) == {**attributes, "error.type": error_type}
    (event,) = span.events
    assert event.name == "exception"
    assert (event.attributes or {})["exception.type"] == exception_type
    assert (event.attributes or {})["exception.message"] == str(exc)


@pytest.mark.parametrize("failure", FAILURES)
def test_error_reaches_caller_unchanged(
    cap: TelemetryCapture, openai_client: openai.OpenAI, failure: Failure
) -> None:
    request = _request(failure)
    baseline = raised_by(lambda: openai_client.chat.completions.create(**request))
    with instrumented(cap):
        exc = raised_by(lambda: openai_client.chat.completions.create(**request))

    assert type(exc) is type(baseline) is failure.error
    assert str(exc) == str(baseline)
    assert_raised_by_sdk(exc)


@pytest.mark.parametrize("failure", FAILURES)
def test_error_span_and_metrics(
    openai_instrumented: TelemetryCapture,
    openai_client: openai.OpenAI,
    base: dict[str, Any],
    metric_base: dict[str, Any],
    failure: Failure,
) -> None:
    exc = raised_by(lambda: openai_client.chat.completions.create(**_request(failure)))

    assert_failed_span(openai_instrumented, exc, failure.error_type, failure.exception_type, base)
    assert points(openai_instrumented, DURATION) == [({**metric_base, "error.type": failure.error_type}, 1)]
    assert openai_instrumented.metric_points(TOKENS) == []


@pytest.mark.parametrize("failure", FAILURES)
async def test_async_error_reaches_caller_unchanged(
    cap: TelemetryCapture, async_openai_client: openai.AsyncOpenAI, failure: Failure
) -> None:
    request = _request(failure)
    baseline = await araised_by(lambda: async_openai_client.chat.completions.create(**request))
    with instrumented(cap):
        exc = await araised_by(lambda: async_openai_client.chat.completions.create(**request))

    assert type(exc) is type(baseline) is failure.error
    assert str(exc) == str(baseline)
    assert_raised_by_sdk(exc)


@pytest.mark.parametrize("failure", FAILURES)
async def test_async_error_span_and_metrics(
    openai_instrumented: TelemetryCapture,
    async_openai_client: openai.AsyncOpenAI,
    base: dict[str, Any],
    metric_base: dict[str, Any],
    failure: Failure,
) -> None:
    exc = await araised_by(lambda: async_openai_client.chat.completions.create(**_request(failure)))

    assert_failed_span(openai_instrumented, exc, failure.error_type, failure.exception_type, base)
    assert points(openai_instrumented, DURATION) == [({**metric_base, "error.type": failure.error_type}, 1)]
    assert openai_instrumented.metric_points(TOKENS) == []


def test_connection_error(cap: TelemetryCapture, closed_port: int, base: dict[str, Any]) -> None:
    client = openai.OpenAI(base_url=f"http://127.0.0.1:{closed_port}/v1", api_key=API_KEY, max_retries=0)
    baseline = raised_by(lambda: client.chat.completions.create(model="gpt-4o", messages=user(Q)))
    with instrumented(cap):
        exc = raised_by(lambda: client.chat.completions.create(model="gpt-4o", messages=user(Q)))

    assert type(exc) is type(baseline) is openai.APIConnectionError
    assert str(exc) == str(baseline)
    assert_raised_by_sdk(exc)
    attributes = {**base, "server.port": closed_port}
    assert_failed_span(cap, exc, "openai.APIConnectionError", "openai.APIConnectionError", attributes)
    metric_attrs = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o",
        "server.address": "127.0.0.1",
        "server.port": closed_port,
        "error.type": "openai.APIConnectionError",
    }
    assert points(cap, DURATION) == [(metric_attrs, 1)]


async def test_async_connection_error(cap: TelemetryCapture, closed_port: int, base: dict[str, Any]) -> None:
    client = openai.AsyncOpenAI(base_url=f"http://127.0.0.1:{closed_port}/v1", api_key=API_KEY, max_retries=0)
    baseline = await araised_by(lambda: client.chat.completions.create(model="gpt-4o", messages=user(Q)))
    with instrumented(cap):
        exc = await araised_by(lambda: client.chat.completions.create(model="gpt-4o", messages=user(Q)))

    assert type(exc) is type(baseline) is openai.APIConnectionError
    assert str(exc) == str(baseline)
    assert_raised_by_sdk(exc)
    attributes = {**base, "server.port": closed_port}
    assert_failed_span(cap, exc, "openai.APIConnectionError", "openai.APIConnectionError", attributes)


def test_rate_limit_error_is_the_sdk_exception_object(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI
) -> None:
    with pytest.raises(openai.RateLimitError) as info:
        openai_client.chat.completions.create(model="gpt-4o", messages=user(f"{Q} [[scenario:rate_limit]]"))

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


def test_suppressed_call_creates_no_span(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI
) -> None:
    with suppress_instrumentation():
        completion = openai_client.chat.completions.create(model="gpt-4o", messages=user(Q))

    assert type(completion) is ChatCompletion
    assert completion.choices[0].message.content == REPLY
    assert openai_instrumented.spans() == []
    assert openai_instrumented.metric_points(DURATION) == []


async def test_async_suppressed_call_creates_no_span(
    openai_instrumented: TelemetryCapture, async_openai_client: openai.AsyncOpenAI
) -> None:
    with suppress_instrumentation():
        completion = await async_openai_client.chat.completions.create(model="gpt-4o", messages=user(Q))

    assert completion.choices[0].message.content == REPLY
    assert openai_instrumented.spans() == []


@pytest.fixture
def unsampled(cap: TelemetryCapture) -> Iterator[InMemorySpanExporter]:
    """The instrumentor on a tracer provider that samples nothing (metrics still go to ``cap``)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=ALWAYS_OFF)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    instrumentor = OpenAIInstrumentor()
    instrumentor.instrument(tracer_provider=provider, meter_provider=cap.meter_provider)
    yield exporter
    instrumentor.uninstrument()
    provider.shutdown()


def test_unsampled_call_exports_no_span_but_records_metrics(
    unsampled: InMemorySpanExporter,
    cap: TelemetryCapture,
    openai_client: openai.OpenAI,
    metric_base: dict[str, Any],
) -> None:
    completion = openai_client.chat.completions.create(model="gpt-4o", messages=user(Q))

    assert type(completion) is ChatCompletion
    assert completion.choices[0].message.content == REPLY
    assert unsampled.get_finished_spans() == ()
    assert token_sums(cap) == {"input": 6, "output": 6}
    assert points(cap, DURATION) == [({**metric_base, "gen_ai.response.model": "gpt-4o-2024-08-06"}, 1)]
    assert cap.metric_points(TELEMETRY_ERRORS) == []


def test_unsampled_error_still_raises_and_records_duration(
    unsampled: InMemorySpanExporter,
    cap: TelemetryCapture,
    openai_client: openai.OpenAI,
    metric_base: dict[str, Any],
) -> None:
    with pytest.raises(openai.RateLimitError):
        openai_client.chat.completions.create(model="gpt-4o", messages=user(f"{Q} [[scenario:rate_limit]]"))

    assert unsampled.get_finished_spans() == ()
    assert points(cap, DURATION) == [({**metric_base, "error.type": "openai.RateLimitError"}, 1)]
