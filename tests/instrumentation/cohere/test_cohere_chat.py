"""``chat`` of ``ClientV2`` / ``AsyncClientV2`` through the real ``cohere`` SDK against the fake
server over HTTP: one CLIENT span per call, with exact attributes, the billed usage, tool calls,
errors in Cohere's format, and metrics; a call the SDK refuses before sending makes none."""

from __future__ import annotations

from typing import Any

import cohere
import pytest
from cohere_helpers import (
    API_KEY,
    MODEL,
    QUESTION,
    REPLY,
    SPAN_NAME,
    WEATHER_TOOL,
    make_client,
    reply_attrs,
    request_attrs,
    requires_max_retries,
    sync_client,
    tool_call_attrs,
    user,
)
from helpers import instrumented, resolve
from opentelemetry.trace import SpanKind, StatusCode

from agentotel._safe import error_type
from agentotel.instrumentation.cohere import CohereInstrumentor
from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture
from agentotel.testing._fake.cohere_v2 import TEMPLATE_TOKENS, TOOL_PLAN

METRIC = {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "cohere", "gen_ai.request.model": MODEL}


def tokens(cap: TelemetryCapture, kind: str, **attrs: Any) -> float:
    return cap.metric_sum("gen_ai.client.token.usage", {**METRIC, **attrs, "gen_ai.token.type": kind})


async def test_chat_span(
    co_instrumented: TelemetryCapture, client: Any, fresh_fake_llm: FakeLLMServer
) -> None:
    response = await resolve(client.chat(model=MODEL, messages=user()))

    assert response.message.content[0].text == REPLY
    # Cohere reports the billed tokens and, beside them, the tokens with its template's.
    assert (response.usage.billed_units.input_tokens, response.usage.tokens.input_tokens) == (
        6,
        6 + TEMPLATE_TOKENS,
    )
    assert len(fresh_fake_llm.requests) == 1
    assert fresh_fake_llm.requests[0].path == "/v2/chat"
    [span] = co_instrumented.spans()
    assert span.name == SPAN_NAME
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    assert dict(span.attributes) == {**request_attrs(fresh_fake_llm), **reply_attrs("chat_1")}
    assert tokens(co_instrumented, "input") == 6
    assert tokens(co_instrumented, "output") == 6
    assert co_instrumented.metric_count("gen_ai.client.token.usage") == 2
    assert co_instrumented.metric_count("gen_ai.client.operation.duration", METRIC) == 1


async def test_options_give_request_attributes(
    co_instrumented: TelemetryCapture, client: Any, fresh_fake_llm: FakeLLMServer
) -> None:
    await resolve(
        client.chat(
            model=MODEL,
            messages=user(),
            temperature=0.25,
            p=0.5,
            k=40,
            max_tokens=100,
            seed=7,
            stop_sequences=["END"],
            frequency_penalty=0.2,
            presence_penalty=0.1,
            response_format={"type": "json_object"},
        )
    )

    [span] = co_instrumented.spans()
    assert dict(span.attributes) == {
        **request_attrs(fresh_fake_llm),
        **reply_attrs("chat_1"),
        "gen_ai.request.temperature": 0.25,
        "gen_ai.request.top_p": 0.5,
        "gen_ai.request.top_k": 40.0,
        "gen_ai.request.max_tokens": 100,
        "gen_ai.request.seed": 7,
        "gen_ai.request.stop_sequences": ("END",),
        "gen_ai.request.frequency_penalty": 0.2,
        "gen_ai.request.presence_penalty": 0.1,
        "gen_ai.output.type": "json",
    }


async def test_max_tokens_finish_reason(co_instrumented: TelemetryCapture, client: Any) -> None:
    response = await resolve(client.chat(model=MODEL, messages=user(), max_tokens=3))

    assert response.message.content[0].text == "Hello from the"
    [span] = co_instrumented.spans()
    assert span.attributes["gen_ai.response.finish_reasons"] == ("max_tokens",)
    assert span.attributes["gen_ai.usage.output_tokens"] == 3


async def test_tool_call_and_tool_plan(
    co_instrumented: TelemetryCapture, client: Any, fresh_fake_llm: FakeLLMServer
) -> None:
    response = await resolve(client.chat(model=MODEL, messages=user(), tools=[WEATHER_TOOL]))

    assert response.message.tool_plan == TOOL_PLAN
    [call] = response.message.tool_calls
    assert (call.id, call.function.name, call.function.arguments) == (
        "get_weather_1",
        "get_weather",
        '{"city": "Paris"}',
    )
    [span] = co_instrumented.spans()
    # Output: the arguments' 2 tokens and the plan's 5 (the tool plan is billed output).
    assert dict(span.attributes) == {
        **request_attrs(fresh_fake_llm),
        **reply_attrs("chat_1", output_tokens=7, reason="tool_call"),
        **tool_call_attrs("get_weather_1"),
    }


async def test_cached_tokens(co_instrumented: TelemetryCapture, client: Any) -> None:
    await resolve(client.chat(model=MODEL, messages=user(f"{QUESTION} [[scenario:cached:4]]")))

    [span] = co_instrumented.spans()
    assert span.attributes["gen_ai.usage.input_tokens"] == 7  # the marker is a word too
    assert span.attributes["gen_ai.usage.cache_read.input_tokens"] == 4


HTTP_ERRORS = [
    pytest.param("[[scenario:rate_limit]]", cohere.TooManyRequestsError, 429, id="429"),
    pytest.param("[[scenario:bad_request]]", cohere.BadRequestError, 400, id="400"),
    pytest.param("[[scenario:server_error]]", cohere.InternalServerError, 500, id="500"),
    pytest.param("[[scenario:overloaded]]", cohere.ServiceUnavailableError, 503, id="503"),
]


@pytest.mark.parametrize(("marker", "error", "status"), HTTP_ERRORS)
async def test_http_error(
    co_instrumented: TelemetryCapture,
    client: Any,
    fresh_fake_llm: FakeLLMServer,
    marker: str,
    error: type[Exception],
    status: int,
) -> None:
    with pytest.raises(error) as raised:
        await resolve(client.chat(model=MODEL, messages=user(f"{QUESTION} {marker}")))

    assert type(raised.value) is error
    assert raised.value.status_code == status
    assert raised.value.body == {"id": "req_1", "message": cohere_message(marker)}
    assert len(fresh_fake_llm.requests) == 1
    [span] = co_instrumented.spans()
    etype = error_type(raised.value)
    assert etype == f"cohere.{error.__name__}"
    assert span.status.status_code is StatusCode.ERROR
    assert dict(span.attributes) == {**request_attrs(fresh_fake_llm), "error.type": etype}
    [event] = span.events
    assert event.attributes["exception.type"] == f"{error.__module__}.{error.__qualname__}"
    assert (
        co_instrumented.metric_count("gen_ai.client.operation.duration", {**METRIC, "error.type": etype}) == 1
    )
    assert co_instrumented.metric_count("gen_ai.client.token.usage") == 0


def cohere_message(marker: str) -> str:
    from agentotel.testing._fake.cohere_v2 import ERRORS

    return ERRORS.scenarios[marker.removeprefix("[[scenario:").removesuffix("]]")][3]


@requires_max_retries
async def test_the_sdk_retries_stay_in_one_span(
    co_instrumented: TelemetryCapture, fresh_fake_llm: FakeLLMServer
) -> None:
    fresh_fake_llm.clear()
    client = cohere.ClientV2(api_key=API_KEY, base_url=fresh_fake_llm.base_url, max_retries=1)
    with pytest.raises(cohere.TooManyRequestsError):
        client.chat(model=MODEL, messages=user(f"{QUESTION} [[scenario:rate_limit]]"))

    assert len(fresh_fake_llm.requests) == 2  # the SDK retried once (retry-after: 0)
    [span] = co_instrumented.spans()
    assert span.attributes["error.type"] == "cohere.TooManyRequestsError"


async def test_connection_refused_keeps_its_span(co_instrumented: TelemetryCapture) -> None:
    import httpx

    client = make_client(cohere.ClientV2, "http://127.0.0.1:9")
    with pytest.raises(httpx.ConnectError):
        client.chat(model=MODEL, messages=user())

    [span] = co_instrumented.spans()
    assert span.attributes["error.type"] == "httpx.ConnectError"
    assert span.attributes["server.port"] == 9


REFUSED = [
    # A value the SDK cannot serialise: refused inside its HttpClient.request, before httpx sends.
    pytest.param({"messages": [{"role": "user", "content": object()}]}, ValueError, id="unserialisable"),
    # Its experimental-feature warning hook cannot read a response_format that is not a mapping.
    pytest.param({"messages": user(), "response_format": 5}, TypeError, id="response_format"),
    # A required argument missing: refused by the method's signature.
    pytest.param({}, TypeError, id="missing_messages"),
]


@pytest.mark.parametrize(("kwargs", "error"), REFUSED)
async def test_a_refused_call_makes_no_span(
    co_instrumented: TelemetryCapture,
    client: Any,
    fresh_fake_llm: FakeLLMServer,
    kwargs: dict[str, Any],
    error: type[Exception],
) -> None:
    with pytest.raises(error):
        await resolve(client.chat(model=MODEL, **kwargs))

    assert fresh_fake_llm.requests == []
    assert co_instrumented.spans() == []
    assert co_instrumented.metric_points("gen_ai.client.operation.duration") == []


async def test_v1_client_v2_and_raw_response(
    co_instrumented: TelemetryCapture, fresh_fake_llm: FakeLLMServer
) -> None:
    """``Client(...).v2.chat`` and ``with_raw_response.chat`` reach the same raw client: one span each."""
    fresh_fake_llm.clear()
    v1 = make_client(cohere.Client, fresh_fake_llm.base_url)
    assert v1.v2.chat(model=MODEL, messages=user()).id == "chat_1"
    raw = sync_client(fresh_fake_llm).with_raw_response.chat(model=MODEL, messages=user())
    assert raw.data.id == "chat_2"

    assert len(fresh_fake_llm.requests) == 2
    assert [dict(s.attributes) for s in co_instrumented.spans()] == [
        {**request_attrs(fresh_fake_llm), **reply_attrs(f"chat_{n}")} for n in (1, 2)
    ]


async def test_a_client_built_before_instrumenting(
    cap: TelemetryCapture, fresh_fake_llm: FakeLLMServer
) -> None:
    """``ClientV2`` binds its own ``chat`` to the instance when built: the raw client's method,
    looked up at each call, is instrumented however old the client is."""
    fresh_fake_llm.clear()
    client = sync_client(fresh_fake_llm)
    with instrumented(cap, CohereInstrumentor):
        client.chat(model=MODEL, messages=user())
    client.chat(model=MODEL, messages=user())  # uninstrumented again

    assert [s.name for s in cap.spans()] == [SPAN_NAME]
    assert len(fresh_fake_llm.requests) == 2


async def test_no_instrumentation_no_span(cap: TelemetryCapture, client: Any) -> None:
    response = await resolve(client.chat(model=MODEL, messages=user()))

    assert response.id == "chat_1"
    assert cap.spans() == []
