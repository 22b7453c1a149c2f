"""Anthropic instrumentor, non-streamed calls: the real ``anthropic`` SDK over HTTP to the fake server.

Covers ``messages.create`` (sync and async), ``beta.messages.create``, the raw / streaming response
wrappers, errors, and how our span replaces the SDK's own ``anthropic.messages.create`` span.
Token arithmetic of the fake server: one token per whitespace word of the message texts (scenario
markers included); the default reply "Hello from the fake LLM server." is 6 tokens.
"""

from __future__ import annotations

import gc
import inspect
import json
import socket
from typing import Any

import anthropic
import pydantic
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode

from agentotel.instrumentation.anthropic import AnthropicInstrumentor
from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture

MODEL = "claude-opus-5"
SPAN_NAME = "chat claude-opus-5"
QUESTION = "What is the weather in Paris?"  # 6 tokens
REPLY = "Hello from the fake LLM server."  # 6 tokens
MAX_TOKENS = 100
TOOLS: Any = [
    {
        "name": "get_weather",
        "description": "Weather for a city",
        "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
    }
]
DURATION = "gen_ai.client.operation.duration"
TOKENS = "gen_ai.client.token.usage"
API_KEY = "sk-ant-test-key"


def user(text: str) -> Any:
    return [{"role": "user", "content": text}]


def is_async(client: Any) -> bool:
    return isinstance(client, anthropic.AsyncAnthropic)


async def resolve(value: Any) -> Any:
    """``value``, awaited if the async client returned an awaitable."""
    return await value if inspect.isawaitable(value) else value


async def create(client: Any, text: str = QUESTION, **kwargs: Any) -> Any:
    kwargs.setdefault("max_tokens", MAX_TOKENS)
    return await resolve(client.messages.create(model=MODEL, messages=user(text), **kwargs))


def attrs_of(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


def only_span(cap: TelemetryCapture) -> ReadableSpan:
    spans = cap.spans()
    assert len(spans) == 1, [s.name for s in spans]
    return spans[0]


def request_attrs(server: FakeLLMServer, max_tokens: int = MAX_TOKENS) -> dict[str, Any]:
    return {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "anthropic",
        "gen_ai.request.model": MODEL,
        "gen_ai.request.max_tokens": max_tokens,
        "server.address": "127.0.0.1",
        "server.port": server.port,
    }


def usage_attrs(
    input_tokens: int, output_tokens: int, cache_read: int = 0, cache_creation: int = 0
) -> dict[str, Any]:
    return {
        "gen_ai.usage.input_tokens": input_tokens,
        "gen_ai.usage.cache_read.input_tokens": cache_read,
        "gen_ai.usage.cache_creation.input_tokens": cache_creation,
        "gen_ai.usage.output_tokens": output_tokens,
    }


def metric_attrs(server: FakeLLMServer, **extra: Any) -> dict[str, Any]:
    return {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "anthropic",
        "gen_ai.request.model": MODEL,
        "server.address": "127.0.0.1",
        "server.port": server.port,
        **extra,
    }


def token_sums(cap: TelemetryCapture) -> dict[str, float]:
    """Token usage by ``gen_ai.token.type``; every point must carry the full metric attributes."""
    sums: dict[str, float] = {}
    for point in cap.metric_points(TOKENS):
        attrs = dict(point.attributes)
        sums[attrs.pop("gen_ai.token.type")] = point.sum
        assert set(attrs) == {
            "gen_ai.operation.name",
            "gen_ai.provider.name",
            "gen_ai.request.model",
            "gen_ai.response.model",
            "server.address",
            "server.port",
        }
    return sums


@pytest.fixture(autouse=True)
def _fresh_ids(fake_llm: FakeLLMServer) -> None:
    """Ids restart at ``msg_1`` / ``toolu_1`` in every test."""
    fake_llm.state.reset()


@pytest.fixture(params=["sync", "async"])
def client(request: pytest.FixtureRequest, anthropic_client: Any, async_anthropic_client: Any) -> Any:
    return anthropic_client if request.param == "sync" else async_anthropic_client


# --------------------------------------------------------------------------- create (non-stream)


async def test_create_span(
    anthropic_instrumented: TelemetryCapture, client: Any, fake_llm: FakeLLMServer
) -> None:
    message = await create(client)

    assert message.content[0].text == REPLY
    span = only_span(anthropic_instrumented)
    assert span.name == SPAN_NAME
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    assert span.instrumentation_scope is not None and span.instrumentation_scope.name == "agentotel"
    assert attrs_of(span) == {
        **request_attrs(fake_llm),
        "gen_ai.response.id": "msg_1",
        "gen_ai.response.model": MODEL,
        "gen_ai.response.finish_reasons": ("end_turn",),
        **usage_attrs(6, 6),
    }


async def test_create_metrics(
    anthropic_instrumented: TelemetryCapture, client: Any, fake_llm: FakeLLMServer
) -> None:
    await create(client)

    cap = anthropic_instrumented
    assert token_sums(cap) == {"input": 6, "output": 6}
    assert cap.metric_sum(TOKENS, metric_attrs(fake_llm, **{"gen_ai.response.model": MODEL})) == 12
    assert cap.metric_count(DURATION, metric_attrs(fake_llm, **{"gen_ai.response.model": MODEL})) == 1
    assert cap.metric_count("gen_ai.client.operation.time_to_first_chunk") == 0
    assert cap.metric_count("gen_ai.client.operation.time_per_output_chunk") == 0


async def test_stop_sequences(anthropic_instrumented: TelemetryCapture, client: Any) -> None:
    await create(client, stop_sequences=["STOP", "END"])

    assert attrs_of(only_span(anthropic_instrumented))["gen_ai.request.stop_sequences"] == ("STOP", "END")


async def test_not_a_stream_has_no_stream_attributes(
    anthropic_instrumented: TelemetryCapture, client: Any
) -> None:
    await create(client)

    attrs = attrs_of(only_span(anthropic_instrumented))
    assert "gen_ai.request.stream" not in attrs
    assert "agentotel.stream.end" not in attrs
    assert "gen_ai.response.time_to_first_chunk" not in attrs


async def test_max_tokens_reached(anthropic_instrumented: TelemetryCapture, client: Any) -> None:
    await create(client, max_tokens=3)

    attrs = attrs_of(only_span(anthropic_instrumented))
    assert attrs["gen_ai.request.max_tokens"] == 3
    assert attrs["gen_ai.response.finish_reasons"] == ("max_tokens",)
    assert attrs["gen_ai.usage.output_tokens"] == 3


async def test_cache_read_counts_as_input(anthropic_instrumented: TelemetryCapture, client: Any) -> None:
    # 7 words: the API reports input_tokens=3 and cache_read_input_tokens=4.
    await create(client, f"{QUESTION} [[scenario:cached:4]]")

    attrs = attrs_of(only_span(anthropic_instrumented))
    assert attrs["gen_ai.usage.input_tokens"] == 7
    assert attrs["gen_ai.usage.cache_read.input_tokens"] == 4
    assert attrs["gen_ai.usage.cache_creation.input_tokens"] == 0
    assert token_sums(anthropic_instrumented) == {"input": 7, "output": 6}


async def test_cache_creation_counts_as_input(anthropic_instrumented: TelemetryCapture, client: Any) -> None:
    # 7 words: the API reports input_tokens=4 and cache_creation_input_tokens=3.
    await create(client, f"{QUESTION} [[scenario:cache_write:3]]")

    attrs = attrs_of(only_span(anthropic_instrumented))
    assert attrs["gen_ai.usage.input_tokens"] == 7
    assert attrs["gen_ai.usage.cache_read.input_tokens"] == 0
    assert attrs["gen_ai.usage.cache_creation.input_tokens"] == 3
    assert token_sums(anthropic_instrumented) == {"input": 7, "output": 6}


async def test_cache_read_and_creation_both_count(
    anthropic_instrumented: TelemetryCapture, client: Any
) -> None:
    # 8 words: input_tokens=3, cache read 2, cache creation 3.
    message = await create(client, f"{QUESTION} [[scenario:cached:2]] [[scenario:cache_write:3]]")

    assert message.usage.input_tokens == 3
    attrs = attrs_of(only_span(anthropic_instrumented))
    assert attrs["gen_ai.usage.input_tokens"] == 8
    assert attrs["gen_ai.usage.cache_read.input_tokens"] == 2
    assert attrs["gen_ai.usage.cache_creation.input_tokens"] == 3
    assert token_sums(anthropic_instrumented) == {"input": 8, "output": 6}


async def test_tool_use(
    anthropic_instrumented: TelemetryCapture, client: Any, fake_llm: FakeLLMServer
) -> None:
    message = await create(client, tools=TOOLS)

    assert message.content[0].id == "toolu_1"
    span = only_span(anthropic_instrumented)
    assert attrs_of(span) == {
        **request_attrs(fake_llm),
        "gen_ai.response.id": "msg_1",
        "gen_ai.response.model": MODEL,
        "gen_ai.response.finish_reasons": ("tool_use",),
        "agentotel.response.tool_calls.names": ("get_weather",),
        "agentotel.response.tool_calls.ids": ("toolu_1",),
        # '{"city": "Paris"}' is 2 words.
        **usage_attrs(6, 2),
    }


async def test_thinking_block(anthropic_instrumented: TelemetryCapture, client: Any) -> None:
    message = await create(client, f"{QUESTION} [[scenario:reasoning:5]]")

    assert [b.type for b in message.content] == ["thinking", "text"]
    attrs = attrs_of(only_span(anthropic_instrumented))
    assert attrs["gen_ai.response.finish_reasons"] == ("end_turn",)
    assert attrs["gen_ai.usage.input_tokens"] == 7
    assert attrs["gen_ai.usage.output_tokens"] == 11
    # The API reported no output_tokens_details.thinking_tokens, so no reasoning count is made up.
    assert "gen_ai.usage.reasoning.output_tokens" not in attrs


async def test_beta_create(
    anthropic_instrumented: TelemetryCapture, client: Any, fake_llm: FakeLLMServer
) -> None:
    message = await resolve(
        client.beta.messages.create(model=MODEL, max_tokens=MAX_TOKENS, messages=user(QUESTION))
    )

    assert message.id == "msg_1"
    span = only_span(anthropic_instrumented)
    assert span.name == SPAN_NAME
    assert attrs_of(span) == {
        **request_attrs(fake_llm),
        "gen_ai.response.id": "msg_1",
        "gen_ai.response.model": MODEL,
        "gen_ai.response.finish_reasons": ("end_turn",),
        **usage_attrs(6, 6),
    }


async def test_parse(anthropic_instrumented: TelemetryCapture, client: Any, fake_llm: FakeLLMServer) -> None:
    message = await resolve(
        client.messages.parse(model=MODEL, max_tokens=MAX_TOKENS, messages=user(QUESTION))
    )

    assert message.parsed_output is None
    span = only_span(anthropic_instrumented)
    assert span.name == SPAN_NAME
    assert attrs_of(span) == {
        **request_attrs(fake_llm),
        "gen_ai.response.id": "msg_1",
        "gen_ai.response.model": MODEL,
        "gen_ai.response.finish_reasons": ("end_turn",),
        **usage_attrs(6, 6),
    }


async def test_parse_output_format(anthropic_instrumented: TelemetryCapture, client: Any) -> None:
    # The fake reply is plain text, so the SDK's own JSON validation fails: the span says so.
    with pytest.raises(pydantic.ValidationError):
        await resolve(
            client.messages.parse(
                model=MODEL, max_tokens=MAX_TOKENS, messages=user(QUESTION), output_format=str
            )
        )

    span = only_span(anthropic_instrumented)
    assert attrs_of(span)["gen_ai.output.type"] == "json"
    assert span.status.status_code is StatusCode.ERROR
    assert attrs_of(span)["error.type"] == "pydantic_core.ValidationError"


# --------------------------------------------------------------------------- raw / streaming responses


async def test_with_raw_response_parse(
    anthropic_instrumented: TelemetryCapture, client: Any, fake_llm: FakeLLMServer
) -> None:
    raw = await resolve(
        client.messages.with_raw_response.create(model=MODEL, max_tokens=MAX_TOKENS, messages=user(QUESTION))
    )
    assert raw.headers["request-id"] == "req_1"
    message = await resolve(raw.parse())

    assert isinstance(message, anthropic.types.Message)
    span = only_span(anthropic_instrumented)
    assert span.status.status_code is StatusCode.UNSET
    assert attrs_of(span) == {
        **request_attrs(fake_llm),
        "gen_ai.response.id": "msg_1",
        "gen_ai.response.model": MODEL,
        "gen_ai.response.finish_reasons": ("end_turn",),
        **usage_attrs(6, 6),
    }
    assert token_sums(anthropic_instrumented) == {"input": 6, "output": 6}


async def test_with_raw_response_dropped_unparsed_ends_span(
    anthropic_instrumented: TelemetryCapture, client: Any
) -> None:
    raw = await resolve(
        client.messages.with_raw_response.create(model=MODEL, max_tokens=MAX_TOKENS, messages=user(QUESTION))
    )
    assert raw.status_code == 200
    assert anthropic_instrumented.spans() == []

    del raw
    gc.collect()

    span = only_span(anthropic_instrumented)
    assert span.status.status_code is StatusCode.UNSET
    assert "gen_ai.response.id" not in attrs_of(span)


async def test_with_streaming_response_parse(
    anthropic_instrumented: TelemetryCapture, client: Any, fake_llm: FakeLLMServer
) -> None:
    manager = client.messages.with_streaming_response.create(
        model=MODEL, max_tokens=MAX_TOKENS, messages=user(QUESTION)
    )
    if is_async(client):
        async with manager as response:
            assert response.headers["request-id"] == "req_1"
            message = await response.parse()
    else:
        with manager as response:
            assert response.headers["request-id"] == "req_1"
            message = response.parse()

    assert message.content[0].text == REPLY
    span = only_span(anthropic_instrumented)
    assert span.status.status_code is StatusCode.UNSET
    assert attrs_of(span) == {
        **request_attrs(fake_llm),
        "gen_ai.response.id": "msg_1",
        "gen_ai.response.model": MODEL,
        "gen_ai.response.finish_reasons": ("end_turn",),
        **usage_attrs(6, 6),
    }


async def test_with_streaming_response_closed_unparsed(
    anthropic_instrumented: TelemetryCapture, client: Any
) -> None:
    manager = client.messages.with_streaming_response.create(
        model=MODEL, max_tokens=MAX_TOKENS, messages=user(QUESTION)
    )
    if is_async(client):
        async with manager as response:
            assert response.status_code == 200
    else:
        with manager as response:
            assert response.status_code == 200

    span = only_span(anthropic_instrumented)
    assert span.name == SPAN_NAME
    assert span.status.status_code is StatusCode.UNSET


# --------------------------------------------------------------------------- errors


async def failed_call(client: Any, text: str, **kwargs: Any) -> BaseException:
    with pytest.raises(Exception) as info:
        await create(client, text, **kwargs)
    return info.value


def assert_failed_span(cap: TelemetryCapture, server: FakeLLMServer, error_type: str) -> None:
    span = only_span(cap)
    assert span.name == SPAN_NAME
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.ERROR
    assert attrs_of(span) == {**request_attrs(server), "error.type": error_type}
    assert [e.name for e in span.events] == ["exception"]
    assert cap.metric_count(DURATION, metric_attrs(server, **{"error.type": error_type})) == 1
    assert cap.metric_count(DURATION) == 1
    assert cap.metric_points(TOKENS) == []


@pytest.mark.parametrize(
    ("scenario", "exc_class", "error_type"),
    [
        ("rate_limit", anthropic.RateLimitError, "anthropic.RateLimitError"),
        ("server_error", anthropic.InternalServerError, "anthropic.InternalServerError"),
        ("overloaded", anthropic.OverloadedError, "anthropic.OverloadedError"),
        ("bad_request", anthropic.BadRequestError, "anthropic.BadRequestError"),
    ],
)
async def test_http_error(
    anthropic_instrumented: TelemetryCapture,
    client: Any,
    fake_llm: FakeLLMServer,
    scenario: str,
    exc_class: type[BaseException],
    error_type: str,
) -> None:
    exc = await failed_call(client, f"{QUESTION} [[scenario:{scenario}]]")

    assert type(exc) is exc_class
    assert_failed_span(anthropic_instrumented, fake_llm, error_type)


async def test_overloaded_is_529(anthropic_instrumented: TelemetryCapture, client: Any) -> None:
    exc = await failed_call(client, f"{QUESTION} [[scenario:overloaded]]")

    assert isinstance(exc, anthropic.APIStatusError) and exc.status_code == 529


async def test_timeout(
    anthropic_instrumented: TelemetryCapture, client: Any, fake_llm: FakeLLMServer
) -> None:
    exc = await failed_call(client, f"{QUESTION} [[scenario:slow:1]]", timeout=0.2)

    assert type(exc) is anthropic.APITimeoutError
    assert_failed_span(anthropic_instrumented, fake_llm, "anthropic.APITimeoutError")


async def test_malformed_body(
    anthropic_instrumented: TelemetryCapture, client: Any, fake_llm: FakeLLMServer
) -> None:
    exc = await failed_call(client, f"{QUESTION} [[scenario:malformed]]")

    # What the SDK raises for an unparsable body, instrumented or not.
    assert type(exc) is json.JSONDecodeError
    assert_failed_span(anthropic_instrumented, fake_llm, "json.JSONDecodeError")


async def test_disconnect_without_response(
    anthropic_instrumented: TelemetryCapture, client: Any, fake_llm: FakeLLMServer
) -> None:
    exc = await failed_call(client, f"{QUESTION} [[scenario:disconnect]]")

    assert type(exc) is anthropic.APIConnectionError
    assert_failed_span(anthropic_instrumented, fake_llm, "anthropic.APIConnectionError")


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("client_class", [anthropic.Anthropic, anthropic.AsyncAnthropic])
async def test_connection_refused(anthropic_instrumented: TelemetryCapture, client_class: type) -> None:
    port = closed_port()
    refused = client_class(base_url=f"http://127.0.0.1:{port}", api_key=API_KEY, max_retries=0)

    exc = await failed_call(refused, QUESTION)

    assert type(exc) is anthropic.APIConnectionError
    cap = anthropic_instrumented
    span = only_span(cap)
    assert span.status.status_code is StatusCode.ERROR
    assert attrs_of(span)["error.type"] == "anthropic.APIConnectionError"
    assert attrs_of(span)["server.port"] == port
    assert (
        cap.metric_count(DURATION, {"error.type": "anthropic.APIConnectionError", "server.port": port}) == 1
    )


async def test_error_classes_match_uninstrumented(cap: TelemetryCapture, client: Any) -> None:
    """The instrumented call raises exactly what the bare SDK raises."""
    scenarios = ["rate_limit", "server_error", "overloaded", "bad_request", "malformed", "disconnect"]
    bare = [type(await failed_call(client, f"[[scenario:{s}]]")) for s in scenarios]
    instrumentor = AnthropicInstrumentor()
    instrumentor.instrument(**cap.providers)
    try:
        instrumented = [type(await failed_call(client, f"[[scenario:{s}]]")) for s in scenarios]
    finally:
        instrumentor.uninstrument()
    assert instrumented == bare
    assert len(cap.spans()) == len(scenarios)


# --------------------------------------------------------------------------- the SDK's own span


SDK_SPAN = "anthropic.messages.create"


@pytest.fixture(params=["sync", "async"])
def traced_client(request: pytest.FixtureRequest, cap: TelemetryCapture, fake_llm: FakeLLMServer) -> Any:
    """A client whose own (SDK) tracing goes to ``cap``'s tracer provider."""
    cls = anthropic.Anthropic if request.param == "sync" else anthropic.AsyncAnthropic
    return cls(
        base_url=fake_llm.anthropic_base_url,
        api_key=API_KEY,
        max_retries=0,
        open_telemetry={"tracer_provider": cap.tracer_provider},
    )


async def consume_create_stream(client: Any) -> None:
    stream = await create(client, stream=True)
    if is_async(client):
        async for _ in stream:
            pass
    else:
        for _ in stream:
            pass


async def consume_stream_helper(client: Any) -> None:
    manager = client.messages.stream(model=MODEL, max_tokens=MAX_TOKENS, messages=user(QUESTION))
    if is_async(client):
        async with manager as stream:
            await stream.until_done()
    else:
        with manager as stream:
            stream.until_done()


async def consume_create(client: Any) -> None:
    await create(client)


CALLS = [consume_create, consume_create_stream, consume_stream_helper]


@pytest.mark.parametrize("call", CALLS, ids=lambda f: f.__name__)
async def test_sdk_span_without_instrumentor(cap: TelemetryCapture, traced_client: Any, call: Any) -> None:
    await call(traced_client)

    span = only_span(cap)
    assert span.name == SDK_SPAN
    assert span.instrumentation_scope is not None and span.instrumentation_scope.name != "agentotel"


@pytest.mark.parametrize("call", CALLS, ids=lambda f: f.__name__)
async def test_only_our_span_while_instrumented(
    anthropic_instrumented: TelemetryCapture, traced_client: Any, call: Any
) -> None:
    await call(traced_client)

    span = only_span(anthropic_instrumented)
    assert span.name == SPAN_NAME
    assert span.instrumentation_scope is not None and span.instrumentation_scope.name == "agentotel"


async def test_other_sdk_calls_keep_sdk_span(
    anthropic_instrumented: TelemetryCapture, traced_client: Any
) -> None:
    count = await resolve(traced_client.messages.count_tokens(model=MODEL, messages=user(QUESTION)))

    assert count.input_tokens == 6
    assert only_span(anthropic_instrumented).name == "anthropic.messages.count_tokens"


@pytest.mark.parametrize("call", CALLS, ids=lambda f: f.__name__)
async def test_sdk_span_returns_after_uninstrument(
    cap: TelemetryCapture, traced_client: Any, call: Any
) -> None:
    instrumentor = AnthropicInstrumentor()
    instrumentor.instrument(**cap.providers)
    await call(traced_client)
    instrumentor.uninstrument()
    await call(traced_client)

    assert [s.name for s in cap.spans()] == [SPAN_NAME, SDK_SPAN]


def traceparent(span: ReadableSpan) -> str:
    ctx = span.context
    assert ctx is not None
    return f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-{int(ctx.trace_flags):02x}"


async def test_sdk_propagates_its_span_context(
    cap: TelemetryCapture, traced_client: Any, fake_llm: FakeLLMServer
) -> None:
    """Baseline: the bare SDK sends its call span's trace context to the API (``propagation`` is on)."""
    await create(traced_client)

    assert fake_llm.requests[-1].headers.get("traceparent") == traceparent(only_span(cap))


@pytest.mark.parametrize("call", CALLS, ids=lambda f: f.__name__)
async def test_trace_context_propagated_while_instrumented(
    anthropic_instrumented: TelemetryCapture, traced_client: Any, fake_llm: FakeLLMServer, call: Any
) -> None:
    """Switching the SDK's span off must not switch off propagation: the API gets our span's context."""
    await call(traced_client)

    assert fake_llm.requests[-1].headers.get("traceparent") == traceparent(only_span(anthropic_instrumented))
