"""Anthropic instrumentor, non-streamed calls: the real ``anthropic`` SDK over HTTP to the fake server.

Covers ``messages.create`` (sync and async), ``beta.messages.create``, the raw / streaming response
wrappers, errors, and how our span replaces the SDK's own ``anthropic.messages.create`` span.
Token arithmetic of the fake server: one token per whitespace word of the message texts (scenario
markers included); the default reply "Hello from the fake LLM server." is 6 tokens.
"""

from __future__ import annotations

import gc
import json
from typing import Any

import anthropic
import pydantic
import pytest
from anthropic_helpers import (
    API_KEY,
    HTTP_ERRORS,
    MAX_TOKENS,
    MODEL,
    SDK_TRACING,
    SPAN_NAME,
    is_async,
    metric_attrs,
    reply_attrs,
    request_attrs,
    requires_parse,
    requires_sdk_tracing,
    tool_use_attrs,
)
from helpers import (
    CLAUDE_TOOLS,
    DURATION,
    QUESTION,
    REPLY,
    TIME_PER_OUTPUT_CHUNK,
    TIME_TO_FIRST_CHUNK,
    TOKENS,
    Failure,
    attrs_of,
    closed_port,
    instrumented,
    only_span,
    resolve,
    user,
)
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode

from agentotel.instrumentation.anthropic import AnthropicInstrumentor
from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture

pytestmark = pytest.mark.usefixtures("fresh_fake_llm")


async def create(client: Any, text: str = QUESTION, **kwargs: Any) -> Any:
    kwargs.setdefault("max_tokens", MAX_TOKENS)
    return await resolve(client.messages.create(model=MODEL, messages=user(text), **kwargs))


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
    assert attrs_of(span) == reply_attrs(fake_llm)


async def test_create_metrics(
    anthropic_instrumented: TelemetryCapture, client: Any, fake_llm: FakeLLMServer
) -> None:
    await create(client)

    cap = anthropic_instrumented
    assert token_sums(cap) == {"input": 6, "output": 6}
    assert cap.metric_sum(TOKENS, metric_attrs(fake_llm, **{"gen_ai.response.model": MODEL})) == 12
    assert cap.metric_count(DURATION, metric_attrs(fake_llm, **{"gen_ai.response.model": MODEL})) == 1
    assert cap.metric_count(TIME_TO_FIRST_CHUNK) == 0
    assert cap.metric_count(TIME_PER_OUTPUT_CHUNK) == 0


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


@pytest.mark.parametrize(
    ("marker", "cache_read", "cache_creation"),
    [
        # 7 words: the API reports input_tokens=3 and cache_read_input_tokens=4.
        pytest.param("[[scenario:cached:4]]", 4, 0, id="cache_read"),
        # 7 words: the API reports input_tokens=4 and cache_creation_input_tokens=3.
        pytest.param("[[scenario:cache_write:3]]", 0, 3, id="cache_creation"),
    ],
)
async def test_cache_tokens_count_as_input(
    anthropic_instrumented: TelemetryCapture, client: Any, marker: str, cache_read: int, cache_creation: int
) -> None:
    await create(client, f"{QUESTION} {marker}")

    attrs = attrs_of(only_span(anthropic_instrumented))
    assert attrs["gen_ai.usage.input_tokens"] == 7
    assert attrs["gen_ai.usage.cache_read.input_tokens"] == cache_read
    assert attrs["gen_ai.usage.cache_creation.input_tokens"] == cache_creation
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
    message = await create(client, tools=CLAUDE_TOOLS)

    assert message.content[0].id == "toolu_1"
    span = only_span(anthropic_instrumented)
    assert attrs_of(span) == tool_use_attrs(fake_llm)


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
    assert attrs_of(span) == reply_attrs(fake_llm)


@requires_parse
async def test_parse(anthropic_instrumented: TelemetryCapture, client: Any, fake_llm: FakeLLMServer) -> None:
    message = await resolve(
        client.messages.parse(model=MODEL, max_tokens=MAX_TOKENS, messages=user(QUESTION))
    )

    assert message.parsed_output is None
    span = only_span(anthropic_instrumented)
    assert span.name == SPAN_NAME
    assert attrs_of(span) == reply_attrs(fake_llm)


@requires_parse
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
    assert attrs_of(span) == reply_attrs(fake_llm)
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
    assert attrs_of(span) == reply_attrs(fake_llm)


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


FAILURES = [
    *HTTP_ERRORS,
    pytest.param(
        Failure("[[scenario:slow:1]]", anthropic.APITimeoutError, "anthropic.APITimeoutError", timeout=0.2),
        id="timeout",
    ),
    # What the SDK raises for an unparsable body, instrumented or not.
    pytest.param(
        Failure("[[scenario:malformed]]", json.JSONDecodeError, "json.JSONDecodeError"), id="malformed"
    ),
    pytest.param(
        Failure("[[scenario:disconnect]]", anthropic.APIConnectionError, "anthropic.APIConnectionError"),
        id="disconnect",
    ),
]


@pytest.mark.parametrize("failure", FAILURES)
async def test_failed_call(
    anthropic_instrumented: TelemetryCapture, client: Any, fake_llm: FakeLLMServer, failure: Failure
) -> None:
    exc = await failed_call(client, f"{QUESTION} {failure.marker}", **failure.options)

    assert type(exc) is failure.error
    assert_failed_span(anthropic_instrumented, fake_llm, failure.error_type)


async def test_overloaded_is_529(anthropic_instrumented: TelemetryCapture, client: Any) -> None:
    exc = await failed_call(client, f"{QUESTION} [[scenario:overloaded]]")

    assert isinstance(exc, anthropic.APIStatusError) and exc.status_code == 529


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
    with instrumented(cap, AnthropicInstrumentor):
        traced = [type(await failed_call(client, f"[[scenario:{s}]]")) for s in scenarios]
    assert traced == bare
    assert len(cap.spans()) == len(scenarios)


# --------------------------------------------------------------------------- the SDK's own span
# anthropic >= 1.14.0 makes its own ``anthropic.messages.create`` span (``open_telemetry=`` on the
# client); earlier versions have no tracing of their own. On every version each HTTP call has
# exactly one LLM span while instrumented; the parts about the SDK's span need the SDK's tracing.


SDK_SPAN = "anthropic.messages.create"


@pytest.fixture(params=["sync", "async"])
def traced_client(request: pytest.FixtureRequest, cap: TelemetryCapture, fake_llm: FakeLLMServer) -> Any:
    """A client whose own (SDK) tracing goes to ``cap``'s tracer provider (where the SDK has tracing:
    anthropic>=1.14.0; before, a plain client). The fake server's recorded requests are cleared."""
    cls = anthropic.Anthropic if request.param == "sync" else anthropic.AsyncAnthropic
    tracing: dict[str, Any] = {}
    if SDK_TRACING:
        tracing["open_telemetry"] = {"tracer_provider": cap.tracer_provider}
    fake_llm.clear()
    return cls(base_url=fake_llm.anthropic_base_url, api_key=API_KEY, max_retries=0, **tracing)


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


def message_requests(server: FakeLLMServer) -> int:
    return sum(1 for r in server.requests if r.path.endswith("/v1/messages"))


@requires_sdk_tracing
@pytest.mark.parametrize("call", CALLS, ids=lambda f: f.__name__)
async def test_sdk_span_without_instrumentor(
    cap: TelemetryCapture, traced_client: Any, fake_llm: FakeLLMServer, call: Any
) -> None:
    await call(traced_client)

    span = only_span(cap)
    assert span.name == SDK_SPAN
    assert span.instrumentation_scope is not None and span.instrumentation_scope.name != "agentotel"
    assert message_requests(fake_llm) == 1


@pytest.mark.parametrize("call", CALLS, ids=lambda f: f.__name__)
async def test_only_our_span_while_instrumented(
    anthropic_instrumented: TelemetryCapture, traced_client: Any, fake_llm: FakeLLMServer, call: Any
) -> None:
    """One HTTP call, one LLM span (ours), whether or not the SDK has tracing of its own."""
    await call(traced_client)

    span = only_span(anthropic_instrumented)
    assert span.name == SPAN_NAME
    assert span.instrumentation_scope is not None and span.instrumentation_scope.name == "agentotel"
    assert message_requests(fake_llm) == 1


@requires_sdk_tracing
async def test_other_sdk_calls_keep_sdk_span(
    anthropic_instrumented: TelemetryCapture, traced_client: Any
) -> None:
    count = await resolve(traced_client.messages.count_tokens(model=MODEL, messages=user(QUESTION)))

    assert count.input_tokens == 6
    assert only_span(anthropic_instrumented).name == "anthropic.messages.count_tokens"


@pytest.mark.parametrize("call", CALLS, ids=lambda f: f.__name__)
async def test_sdk_span_returns_after_uninstrument(
    cap: TelemetryCapture, traced_client: Any, fake_llm: FakeLLMServer, call: Any
) -> None:
    """After uninstrument() the SDK's own span is back (anthropic>=1.14.0); an SDK without tracing
    makes none, and ours is gone."""
    with instrumented(cap, AnthropicInstrumentor):
        await call(traced_client)
    await call(traced_client)

    assert [s.name for s in cap.spans()] == ([SPAN_NAME, SDK_SPAN] if SDK_TRACING else [SPAN_NAME])
    assert message_requests(fake_llm) == 2


def traceparent(span: ReadableSpan) -> str:
    ctx = span.context
    assert ctx is not None
    return f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-{int(ctx.trace_flags):02x}"


@requires_sdk_tracing
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
    """Switching the SDK's span off must not switch off propagation: the API gets our span's context.
    An SDK without tracing (anthropic<1.14.0) sends no trace context, and we add none: the request
    goes out as it would without us."""
    await call(traced_client)

    expected = traceparent(only_span(anthropic_instrumented)) if SDK_TRACING else None
    assert fake_llm.requests[-1].headers.get("traceparent") == expected
