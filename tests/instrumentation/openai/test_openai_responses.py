"""OpenAI Responses API (openai>=1.66.0): spans and metrics, driving the real SDK over HTTP.

Fake-server rules used below: input tokens are the words of ``input`` (plus ``instructions``),
the default reply is 6 tokens, a function call's arguments ``{"city": "Paris"}`` are 2 tokens.
"""

from __future__ import annotations

import gc
import importlib.util
import inspect
from typing import Any

import openai
import pytest

if importlib.util.find_spec("openai.resources.responses") is None:
    pytest.skip("Responses API: openai>=1.66.0", allow_module_level=True)

from helpers import (
    DURATION,
    QUESTION,
    REPLY,
    RESP_TOOLS,
    TIME_PER_OUTPUT_CHUNK,
    TIME_TO_FIRST_CHUNK,
    TOKENS,
    priced,
    resolve,
    token_sums,
)
from openai.resources.responses import Responses
from openai.types.responses import ParsedResponse, Response
from openai_helpers import (
    DISCONNECT,
    DISCONNECT_TYPE,
    Answer,
    assert_rate_limited,
    assert_usage_and_duration,
    client_span,
    drain,
    entered,
    is_async,
    points,
    span_base,
)
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode

from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture

pytestmark = pytest.mark.usefixtures("fresh_fake_llm")

STRICT_TOOLS: Any = [
    {
        "type": "function",
        "name": "get_weather",
        "strict": True,
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
            "additionalProperties": False,
        },
    }
]

# The first response after a reset, to ``input=QUESTION`` on gpt-4o. Known from its in-progress
# snapshot (``response.created``) on:
IN_PROGRESS: dict[str, Any] = {
    "gen_ai.response.id": "resp_1",
    "gen_ai.response.model": "gpt-4o-2024-08-06",
    "openai.response.service_tier": "default",
}
# Known once it is complete:
REPLY_ATTRS: dict[str, Any] = {
    **IN_PROGRESS,
    "gen_ai.response.finish_reasons": ("stop",),
    "gen_ai.usage.input_tokens": 6,
    "gen_ai.usage.output_tokens": 6,
    "gen_ai.usage.cache_read.input_tokens": 0,
    "gen_ai.usage.reasoning.output_tokens": 0,
}
FUNCTION_CALL_ATTRS: dict[str, Any] = {
    **REPLY_ATTRS,
    "gen_ai.response.finish_reasons": ("tool_calls",),
    "agentotel.response.tool_calls.names": ("get_weather",),
    "agentotel.response.tool_calls.ids": ("call_1",),
    "gen_ai.usage.output_tokens": 2,
}


# --------------------------------------------------------------------------- helpers


def attributes(span: ReadableSpan) -> dict[str, Any]:
    """The span's attributes without ``gen_ai.response.time_to_first_chunk`` (checked positive)."""
    attrs = dict(span.attributes or {})
    ttfc = attrs.pop("gen_ai.response.time_to_first_chunk", None)
    if ttfc is not None:
        assert ttfc > 0
    return attrs


@pytest.fixture
def base(fake_llm: FakeLLMServer) -> dict[str, Any]:
    """Request-side attributes of a Responses API ``chat gpt-4o`` span."""
    return span_base(fake_llm, "responses")


@pytest.fixture
def stream_base(base: dict[str, Any]) -> dict[str, Any]:
    """Request-side attributes of a streamed Responses API ``chat gpt-4o`` span."""
    return {**base, "gen_ai.request.stream": True}


# --------------------------------------------------------------------------- responses.create


def test_responses_create_span(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI, base: dict[str, Any]
) -> None:
    response = openai_client.responses.create(model="gpt-4o", input=QUESTION, instructions="Be brief.")

    assert type(response) is Response
    assert response.output_text == REPLY
    span = client_span(openai_instrumented)
    assert span.name == "chat gpt-4o"
    assert span.status.status_code is StatusCode.UNSET
    assert dict(span.attributes or {}) == priced({**base, **REPLY_ATTRS, "gen_ai.usage.input_tokens": 8})


def test_responses_create_metrics(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI, metric_base: dict[str, Any]
) -> None:
    openai_client.responses.create(model="gpt-4o", input=QUESTION)

    cap = openai_instrumented
    assert_usage_and_duration(cap, metric_base)
    assert cap.metric_points(TIME_TO_FIRST_CHUNK) == []
    assert cap.metric_points(TIME_PER_OUTPUT_CHUNK) == []


async def test_async_responses_create(
    openai_instrumented: TelemetryCapture, async_openai_client: openai.AsyncOpenAI, base: dict[str, Any]
) -> None:
    response = await async_openai_client.responses.create(model="gpt-4o", input=QUESTION)

    assert type(response) is Response
    assert dict(client_span(openai_instrumented).attributes or {}) == priced({**base, **REPLY_ATTRS})
    assert token_sums(openai_instrumented) == {"input": 6, "output": 6}


def test_responses_request_parameters(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI, base: dict[str, Any]
) -> None:
    openai_client.responses.create(
        model="gpt-4o", input=QUESTION, max_output_tokens=100, temperature=0.5, top_p=0.9
    )

    assert dict(client_span(openai_instrumented).attributes or {}) == priced(
        {
            **base,
            "gen_ai.request.max_tokens": 100,
            "gen_ai.request.temperature": 0.5,
            "gen_ai.request.top_p": 0.9,
            **REPLY_ATTRS,
        }
    )


@pytest.mark.skipif(
    "service_tier" not in inspect.signature(Responses.create).parameters,
    reason="responses.create(service_tier=): openai>=1.75.0",
)
def test_responses_request_service_tier(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI, base: dict[str, Any]
) -> None:
    openai_client.responses.create(model="gpt-4o", input=QUESTION, service_tier="flex")

    assert dict(client_span(openai_instrumented).attributes or {}) == priced(
        {
            **base,
            "openai.request.service_tier": "flex",
            **REPLY_ATTRS,
            "openai.response.service_tier": "flex",
        }
    )


@pytest.mark.parametrize(
    ("text_format", "output_type"),
    [
        pytest.param({"type": "json_object"}, "json", id="json_object"),
        pytest.param(
            {"type": "json_schema", "name": "answer", "schema": {"type": "object"}}, "json", id="json_schema"
        ),
        pytest.param({"type": "text"}, "text", id="text"),
    ],
)
def test_responses_output_type_from_text_format(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI, text_format: Any, output_type: str
) -> None:
    openai_client.responses.create(model="gpt-4o", input=QUESTION, text={"format": text_format})

    assert (client_span(openai_instrumented).attributes or {})["gen_ai.output.type"] == output_type


def test_responses_cached_and_reasoning_tokens(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI, base: dict[str, Any]
) -> None:
    openai_client.responses.create(
        model="gpt-4o", input=f"{QUESTION} [[scenario:cached:5]] [[scenario:reasoning:2]]"
    )

    assert dict(client_span(openai_instrumented).attributes or {}) == priced(
        {
            **base,
            **REPLY_ATTRS,
            "gen_ai.usage.input_tokens": 8,
            "gen_ai.usage.output_tokens": 8,
            "gen_ai.usage.cache_read.input_tokens": 5,
            "gen_ai.usage.reasoning.output_tokens": 2,
        }
    )


def test_responses_function_call_round_trip(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI, base: dict[str, Any]
) -> None:
    first = openai_client.responses.create(model="gpt-4o", input=QUESTION, tools=RESP_TOOLS)
    call = first.output[0]
    assert call.type == "function_call"
    follow_up: Any = [{"type": "function_call_output", "call_id": call.call_id, "output": "Sunny, 22 C"}]
    second = openai_client.responses.create(
        model="gpt-4o", input=follow_up, tools=RESP_TOOLS, previous_response_id=first.id
    )

    assert second.output_text == REPLY
    asked, tool, answered = openai_instrumented.spans()
    assert dict(asked.attributes or {}) == priced({**base, **FUNCTION_CALL_ATTRS})
    # The tool run between the two calls is inferred from the function_call_output item.
    assert (tool.name, (tool.attributes or {})["gen_ai.tool.call.id"]) == (
        "execute_tool get_weather",
        call.call_id,
    )
    assert dict(answered.attributes or {}) == priced(
        {
            **base,
            **REPLY_ATTRS,
            "gen_ai.response.id": "resp_2",
            "gen_ai.usage.input_tokens": 3,
        }
    )
    assert token_sums(openai_instrumented) == {"input": 9, "output": 8}


async def test_responses_parse_with_text_format_class(
    openai_instrumented: TelemetryCapture, client: Any, base: dict[str, Any]
) -> None:
    # The fake server's text is not JSON; with a strict tool the model calls it instead.
    response = await resolve(
        client.responses.parse(model="gpt-4o", input=QUESTION, text_format=Answer, tools=STRICT_TOOLS)
    )

    assert isinstance(response, ParsedResponse)
    span = client_span(openai_instrumented)
    assert span.name == "chat gpt-4o"
    assert dict(span.attributes or {}) == priced(
        {**base, "gen_ai.output.type": "json", **FUNCTION_CALL_ATTRS}
    )


async def test_responses_rate_limit(
    openai_instrumented: TelemetryCapture,
    client: Any,
    base: dict[str, Any],
    metric_base: dict[str, Any],
) -> None:
    with pytest.raises(openai.RateLimitError) as info:
        await resolve(client.responses.create(model="gpt-4o", input=f"{QUESTION} [[scenario:rate_limit]]"))

    assert_rate_limited(client_span(openai_instrumented), info.value, base)
    assert points(openai_instrumented, DURATION) == [
        ({**metric_base, "error.type": "openai.RateLimitError"}, 1)
    ]
    assert openai_instrumented.metric_points(TOKENS) == []


# --------------------------------------------------------------------------- responses streams


async def test_responses_stream_exhausted(
    openai_instrumented: TelemetryCapture,
    client: Any,
    stream_base: dict[str, Any],
    metric_base: dict[str, Any],
) -> None:
    stream = await resolve(client.responses.create(model="gpt-4o", input=QUESTION, stream=True))
    assert isinstance(stream, openai.AsyncStream if is_async(client) else openai.Stream)
    assert stream.response.status_code == 200
    events = await drain(stream, client)

    assert len(events) == 14
    assert (events[0].type, events[-1].type) == ("response.created", "response.completed")
    span = client_span(openai_instrumented)
    assert span.status.status_code is StatusCode.UNSET
    assert "gen_ai.response.time_to_first_chunk" in (span.attributes or {})
    assert attributes(span) == priced({**stream_base, **REPLY_ATTRS, "agentotel.stream.end": "exhausted"})
    attrs = {**metric_base, "gen_ai.response.model": "gpt-4o-2024-08-06"}
    assert token_sums(openai_instrumented) == {"input": 6, "output": 6}
    assert points(openai_instrumented, DURATION) == [(attrs, 1)]
    assert points(openai_instrumented, TIME_TO_FIRST_CHUNK) == [(attrs, 1)]
    assert points(openai_instrumented, TIME_PER_OUTPUT_CHUNK) == [(attrs, 1)]


async def test_responses_stream_function_call(
    openai_instrumented: TelemetryCapture, client: Any, stream_base: dict[str, Any]
) -> None:
    stream = await resolve(
        client.responses.create(model="gpt-4o", input=QUESTION, tools=RESP_TOOLS, stream=True)
    )
    await drain(stream, client)

    assert attributes(client_span(openai_instrumented)) == priced(
        {
            **stream_base,
            **FUNCTION_CALL_ATTRS,
            "agentotel.stream.end": "exhausted",
        }
    )


def test_responses_stream_closed_early_has_no_finish_reason(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI, stream_base: dict[str, Any]
) -> None:
    stream = openai_client.responses.create(model="gpt-4o", input=QUESTION, stream=True)
    assert next(stream).type == "response.created"
    stream.close()

    # Only the in-progress snapshot was seen: the model has not finished, so no finish reason.
    span = client_span(openai_instrumented)
    assert span.status.status_code is StatusCode.UNSET
    assert attributes(span) == priced({**stream_base, **IN_PROGRESS, "agentotel.stream.end": "closed"})
    assert openai_instrumented.metric_points(TOKENS) == []


def test_responses_stream_abandoned(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI
) -> None:
    stream = openai_client.responses.create(model="gpt-4o", input=QUESTION, stream=True)
    next(stream)
    del stream
    gc.collect()

    span = client_span(openai_instrumented)
    assert span.status.status_code is StatusCode.UNSET
    assert (span.attributes or {})["agentotel.stream.end"] == "abandoned"


async def test_responses_stream_disconnect(
    openai_instrumented: TelemetryCapture, client: Any, stream_base: dict[str, Any]
) -> None:
    stream = await resolve(
        client.responses.create(model="gpt-4o", input=f"{QUESTION} [[scenario:disconnect]]", stream=True)
    )
    received: list[Any] = []
    with pytest.raises(DISCONNECT):
        await drain(stream, client, received)

    assert [event.type for event in received] == ["response.created", "response.in_progress"]
    span = client_span(openai_instrumented)
    assert span.status.status_code is StatusCode.ERROR
    assert attributes(span) == priced(
        {
            **stream_base,
            **IN_PROGRESS,
            "agentotel.stream.end": "error",
            "error.type": DISCONNECT_TYPE,
        }
    )


async def test_responses_stream_rate_limit(
    openai_instrumented: TelemetryCapture, client: Any, stream_base: dict[str, Any]
) -> None:
    with pytest.raises(openai.RateLimitError) as info:
        await resolve(
            client.responses.create(model="gpt-4o", input=f"{QUESTION} [[scenario:rate_limit]]", stream=True)
        )

    assert_rate_limited(client_span(openai_instrumented), info.value, stream_base)


async def test_responses_stream_helper(
    openai_instrumented: TelemetryCapture, client: Any, stream_base: dict[str, Any]
) -> None:
    async with entered(client.responses.stream(model="gpt-4o", input=QUESTION), client) as stream:
        final = await resolve(stream.get_final_response())

    assert final.output_text == REPLY
    assert attributes(client_span(openai_instrumented)) == priced(
        {
            **stream_base,
            **REPLY_ATTRS,
            "agentotel.stream.end": "exhausted",
        }
    )


def test_responses_with_raw_response(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI, base: dict[str, Any]
) -> None:
    raw = openai_client.responses.with_raw_response.create(model="gpt-4o", input=QUESTION)
    assert openai_instrumented.spans() == []
    assert raw.headers["x-request-id"] == "req_1"

    assert type(raw.parse()) is Response
    assert dict(client_span(openai_instrumented).attributes or {}) == priced({**base, **REPLY_ATTRS})
