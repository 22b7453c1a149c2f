"""Bedrock instrumentor, streams: ``converse_stream`` and ``invoke_model_with_response_stream``
(botocore ``EventStream``s in the response dict), every way to leave one, against the fake server
over HTTP. Each stream ends exactly one span, with ``agentotel.stream.end`` telling how."""

from __future__ import annotations

import gc
import json
from collections.abc import Callable
from typing import Any

import pytest
import urllib3
from bedrock_helpers import (
    CLAUDE,
    LLAMA,
    NOVA,
    OTHER,
    WEATHER_TOOL,
    anthropic_body,
    converse_usage,
    nova_pro_cost,
    request_attrs,
    said,
)
from botocore.eventstream import ChecksumMismatch, EventStream
from botocore.exceptions import EventStreamError
from helpers import (
    DURATION,
    REPLY,
    TIME_PER_OUTPUT_CHUNK,
    TIME_TO_FIRST_CHUNK,
    attrs_of,
    instrumented,
    only_span,
    token_sums,
)
from opentelemetry.trace import StatusCode

from agentotel.instrumentation.bedrock import BedrockInstrumentor
from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture

QUESTION = "What is the weather in Paris?"  # 6 tokens
STREAMED = {"gen_ai.request.stream": True}
USAGE = {
    "gen_ai.usage.input_tokens": 6,
    "gen_ai.usage.cache_read.input_tokens": 0,
    "gen_ai.usage.cache_creation.input_tokens": 0,
    "gen_ai.usage.output_tokens": 6,
}


def converse_stream(client: Any, text: str = QUESTION, **kw: Any) -> Any:
    return client.converse_stream(modelId=NOVA, messages=said(text), **kw)["stream"]


def _end(span: Any) -> Any:
    return attrs_of(span)["agentotel.stream.end"]


def without_timing(attrs: dict[str, Any]) -> dict[str, Any]:
    ttfc = attrs.pop("gen_ai.response.time_to_first_chunk", None)
    assert ttfc is None or ttfc > 0
    return attrs


# --- exhausted -------------------------------------------------------------------------------------
def test_converse_stream_read_to_the_end(
    bedrock_instrumented: TelemetryCapture, bedrock: Any, fresh_fake_llm: FakeLLMServer
) -> None:
    stream = converse_stream(bedrock)

    assert isinstance(stream, EventStream)
    events = list(stream)
    text = "".join(e["contentBlockDelta"]["delta"]["text"] for e in events if "contentBlockDelta" in e)
    assert text == REPLY
    span = only_span(bedrock_instrumented)
    assert span.name == f"chat {NOVA}"
    assert span.status.status_code is StatusCode.UNSET
    assert without_timing(attrs_of(span)) == {
        **request_attrs(fresh_fake_llm, NOVA, **STREAMED),
        "gen_ai.response.finish_reasons": ("end_turn",),
        **converse_usage(6, 6),
        **nova_pro_cost(6, 6),
        "agentotel.stream.end": "exhausted",
    }
    assert token_sums(bedrock_instrumented) == {"input": 6, "output": 6}
    # 6 text deltas + start, block stop, message stop, metadata: 10 events.
    assert len(events) == 10
    assert bedrock_instrumented.metric_count(TIME_TO_FIRST_CHUNK) == 1
    assert bedrock_instrumented.metric_count(TIME_PER_OUTPUT_CHUNK) == 1
    assert len(fresh_fake_llm.requests) == 1


def test_converse_stream_tool_use(bedrock_instrumented: TelemetryCapture, bedrock: Any) -> None:
    events = list(converse_stream(bedrock, toolConfig={"tools": [WEATHER_TOOL]}))

    deltas = "".join(
        e["contentBlockDelta"]["delta"]["toolUse"]["input"] for e in events if "contentBlockDelta" in e
    )
    assert json.loads(deltas) == {"city": "Paris"}
    attrs = attrs_of(only_span(bedrock_instrumented))
    assert attrs["gen_ai.response.finish_reasons"] == ("tool_use",)
    assert attrs["agentotel.response.tool_calls.names"] == ("get_weather",)
    assert attrs["agentotel.response.tool_calls.ids"] == ("tooluse_1",)


INVOKE_STREAMS = [
    pytest.param(
        CLAUDE,
        anthropic_body(QUESTION),
        {
            "gen_ai.request.max_tokens": 100,
            "gen_ai.response.id": "msg_1",
            "gen_ai.response.model": "claude-3-5-sonnet-20240620-v1:0",
            "gen_ai.response.finish_reasons": ("end_turn",),
            **USAGE,
        },
        id="anthropic",
    ),
    pytest.param(
        NOVA,
        json.dumps({"schemaVersion": "messages-v1", "messages": said(QUESTION)}),
        {
            "gen_ai.response.finish_reasons": ("end_turn",),
            "gen_ai.usage.input_tokens": 6,
            "gen_ai.usage.output_tokens": 6,
            **nova_pro_cost(6, 6),
        },
        id="nova",
    ),
    pytest.param(
        LLAMA,
        json.dumps({"prompt": QUESTION}),
        {
            "gen_ai.response.finish_reasons": ("stop",),
            "gen_ai.usage.input_tokens": 6,
            "gen_ai.usage.output_tokens": 6,
        },
        id="llama",
    ),
    pytest.param(
        OTHER,
        json.dumps({"inputText": QUESTION}),
        {"gen_ai.usage.input_tokens": 6, "gen_ai.usage.output_tokens": 6},
        id="unknown-family",
    ),
]


@pytest.mark.parametrize(("model", "body", "expected"), INVOKE_STREAMS)
def test_invoke_stream_read_to_the_end(
    bedrock_instrumented: TelemetryCapture,
    bedrock: Any,
    fresh_fake_llm: FakeLLMServer,
    model: str,
    body: str,
    expected: dict[str, Any],
) -> None:
    response = bedrock.invoke_model_with_response_stream(modelId=model, body=body)

    chunks = [json.loads(e["chunk"]["bytes"]) for e in response["body"]]
    assert chunks[-1]["amazon-bedrock-invocationMetrics"]["outputTokenCount"] == 6
    span = only_span(bedrock_instrumented)
    assert without_timing(attrs_of(span)) == {
        **request_attrs(fresh_fake_llm, model, **STREAMED),
        **expected,
        "agentotel.stream.end": "exhausted",
    }


# --- closed, abandoned -----------------------------------------------------------------------------
def test_closed_after_a_break(bedrock_instrumented: TelemetryCapture, bedrock: Any) -> None:
    stream = converse_stream(bedrock)
    for _event in stream:
        break
    assert bedrock_instrumented.spans() == []

    stream.close()
    stream.close()

    span = only_span(bedrock_instrumented)
    assert _end(span) == "closed"
    assert span.status.status_code is StatusCode.UNSET
    # Only the message start was read: no usage yet.
    assert "gen_ai.usage.input_tokens" not in attrs_of(span)
    assert bedrock_instrumented.metric_count(DURATION) == 1


def test_closed_unread(bedrock_instrumented: TelemetryCapture, bedrock: Any) -> None:
    converse_stream(bedrock).close()

    span = only_span(bedrock_instrumented)
    assert _end(span) == "closed"
    assert "gen_ai.response.time_to_first_chunk" not in attrs_of(span)


def test_closed_after_the_end_ends_once(bedrock_instrumented: TelemetryCapture, bedrock: Any) -> None:
    stream = converse_stream(bedrock)
    list(stream)
    stream.close()

    assert _end(only_span(bedrock_instrumented)) == "exhausted"
    assert bedrock_instrumented.metric_count(DURATION) == 1


def test_abandoned_after_a_break(bedrock_instrumented: TelemetryCapture, bedrock: Any) -> None:
    response = bedrock.converse_stream(modelId=NOVA, messages=said(QUESTION))
    for _event in response["stream"]:
        break
    del response, _event
    gc.collect()

    assert _end(only_span(bedrock_instrumented)) == "abandoned"


def test_abandoned_unread(bedrock_instrumented: TelemetryCapture, bedrock: Any) -> None:
    bedrock.invoke_model_with_response_stream(modelId=LLAMA, body=json.dumps({"prompt": QUESTION}))
    gc.collect()

    span = only_span(bedrock_instrumented)
    assert _end(span) == "abandoned"
    assert span.status.status_code is StatusCode.UNSET


def test_two_loops_over_one_stream_end_once(bedrock_instrumented: TelemetryCapture, bedrock: Any) -> None:
    stream = converse_stream(bedrock)
    first = []
    for event in stream:
        first.append(event)
        if len(first) == 3:
            break
    rest = list(stream)

    assert len(first) + len(rest) == 10
    span = only_span(bedrock_instrumented)
    assert _end(span) == "exhausted"
    assert attrs_of(span)["gen_ai.usage.output_tokens"] == 6


def test_next_on_the_event_stream_raises_what_botocore_raises(cap: TelemetryCapture, bedrock: Any) -> None:
    """An ``EventStream`` is iterable, not an iterator: ``next()`` on it raises TypeError. Through
    our proxy the app gets that same TypeError, and the stream is left as it was: read later, it
    ends its span as usual."""
    with pytest.raises(TypeError) as plain:
        next(converse_stream(bedrock))
    with instrumented(cap, BedrockInstrumentor):
        stream = converse_stream(bedrock)
        with pytest.raises(TypeError) as ours:
            next(stream)
        assert cap.spans() == []  # the span is still open
        events = list(stream)

    assert (type(ours.value), str(ours.value)) == (TypeError, str(plain.value))
    assert str(plain.value) == "'EventStream' object is not an iterator"
    assert len(events) == 10
    span = only_span(cap)
    assert span.status.status_code is StatusCode.UNSET
    assert _end(span) == "exhausted"
    assert attrs_of(span)["gen_ai.usage.output_tokens"] == 6


# --- errors ----------------------------------------------------------------------------------------
def _plain_error(
    fake: FakeLLMServer, bedrock: Any, read: Callable[[Any], Any], text: str
) -> type[BaseException]:
    with pytest.raises(Exception) as info:
        read(converse_stream(bedrock, text))
    return type(info.value)


@pytest.mark.parametrize(
    ("marker", "error", "error_type"),
    [
        pytest.param(
            "[[scenario:malformed]]",
            ChecksumMismatch,
            "botocore.eventstream.ChecksumMismatch",
            id="malformed",
        ),
        pytest.param(
            "[[scenario:disconnect]] [[words:20]]",
            urllib3.exceptions.ProtocolError,
            "urllib3.exceptions.ProtocolError",
            id="disconnect",
        ),
    ],
)
def test_error_mid_stream(
    cap: TelemetryCapture,
    bedrock: Any,
    fresh_fake_llm: FakeLLMServer,
    marker: str,
    error: type[BaseException],
    error_type: str,
) -> None:
    assert _plain_error(fresh_fake_llm, bedrock, list, marker) is error
    with instrumented(cap, BedrockInstrumentor):
        stream = converse_stream(bedrock, marker)
        with pytest.raises(error):
            list(stream)

    span = only_span(cap)
    assert span.status.status_code is StatusCode.ERROR
    assert attrs_of(span)["error.type"] == error_type
    assert _end(span) == "error"
    assert cap.metric_count(DURATION, {"error.type": error_type}) == 1


@pytest.mark.parametrize("api", ["converse_stream", "invoke_model_with_response_stream"])
def test_exception_event_mid_stream(
    cap: TelemetryCapture, bedrock: Any, fresh_fake_llm: FakeLLMServer, api: str
) -> None:
    model = "amazon.nova-stream-exception-v1:0"

    def read() -> list[Any]:
        if api == "converse_stream":
            response = bedrock.converse_stream(modelId=model, messages=said(QUESTION))
            return list(response["stream"])
        body = json.dumps({"schemaVersion": "messages-v1", "messages": said(QUESTION)})
        return list(bedrock.invoke_model_with_response_stream(modelId=model, body=body)["body"])

    with pytest.raises(EventStreamError) as plain:
        read()
    with instrumented(cap, BedrockInstrumentor), pytest.raises(EventStreamError) as traced:
        read()

    assert str(traced.value) == str(plain.value)
    assert traced.value.response["Error"]["Code"] == "modelStreamErrorException"
    span = only_span(cap)
    assert span.status.status_code is StatusCode.ERROR
    assert attrs_of(span)["error.type"] == "botocore.exceptions.EventStreamError"
    assert _end(span) == "error"


def test_http_error_before_the_stream(bedrock_instrumented: TelemetryCapture, bedrock: Any) -> None:
    with pytest.raises(bedrock.exceptions.ThrottlingException):
        converse_stream(bedrock, "[[scenario:rate_limit]]")

    span = only_span(bedrock_instrumented)
    assert attrs_of(span)["error.type"] == "botocore.errorfactory.ThrottlingException"
    assert "agentotel.stream.end" not in attrs_of(span)


def test_one_span_per_stream(
    bedrock_instrumented: TelemetryCapture, bedrock: Any, fresh_fake_llm: FakeLLMServer
) -> None:
    for _ in range(3):
        list(converse_stream(bedrock))
    converse_stream(bedrock).close()

    assert len(fresh_fake_llm.requests) == 4
    assert [_end(s) for s in bedrock_instrumented.spans()] == ["exhausted"] * 3 + ["closed"]
