"""What the OpenAI test modules share: expected attributes of the fake server's answers, span and
metric helpers, and the request failures the fake server can be asked for."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import openai
import pytest
from helpers import (
    DURATION,
    GPT,
    QUESTION,
    TELEMETRY_ERRORS,
    TOKENS,
    Failure,
    assert_raised_outside_agentotel,
    frame_modules,
    http_library,
    in_package,
    only_span,
    priced,
    stream_disconnect_error,
    token_sums,
    user,
)
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode
from pydantic import BaseModel

from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture


def class_name(cls: type[BaseException]) -> str:
    """``module.Class``, as ``error.type`` names an exception class."""
    return f"{cls.__module__}.{cls.__qualname__}"


# What the installed major raises, and how ``error.type`` names it: the HTTP library of its
# transport (httpx up to 2.x, httpx2 from 3.0), and what a connection dropped mid-stream raises
# (openai.APIConnectionError on 3.x, the HTTP library's RemoteProtocolError on 1.x/2.x).
HTTP = http_library(openai)
DISCONNECT: type[BaseException] = stream_disconnect_error(openai)
DISCONNECT_TYPE = class_name(DISCONNECT)


def chat_parse(client: Any) -> Any:
    """``chat.completions.parse`` (openai>=1.92.0), else where it was: ``beta.chat.completions.parse``."""
    completions = client.chat.completions
    return completions.parse if hasattr(completions, "parse") else client.beta.chat.completions.parse


def chat_stream(client: Any) -> Any:
    """``chat.completions.stream`` (openai>=1.92.0), else ``beta.chat.completions.stream``."""
    completions = client.chat.completions
    return completions.stream if hasattr(completions, "stream") else client.beta.chat.completions.stream


def is_async(client: Any) -> bool:
    return isinstance(client, openai.AsyncOpenAI)


async def drain(stream: Any, client: Any, into: list[Any] | None = None) -> list[Any]:
    """Every chunk or event of ``stream``, appended to ``into`` as it comes (``async for`` if async)."""
    items = [] if into is None else into
    if is_async(client):
        async for item in stream:
            items.append(item)
    else:
        for item in stream:
            items.append(item)
    return items


@contextlib.asynccontextmanager
async def entered(manager: Any, client: Any) -> AsyncIterator[Any]:
    """``with manager as value`` (``async with`` for the async client)."""
    if is_async(client):
        async with manager as value:
            yield value
    else:
        with manager as value:
            yield value


# The first chat completion after a reset, to ``user(QUESTION)`` on gpt-4o.
# Known from the first chunk of a stream on:
CHAT_FIRST_CHUNK: dict[str, Any] = {
    "gen_ai.response.id": "chatcmpl-1",
    "gen_ai.response.model": "gpt-4o-2024-08-06",
    "openai.response.service_tier": "default",
    "openai.response.system_fingerprint": "fp_fake",
}
# Known once the whole reply (a stream's finish and usage chunks) has been read:
CHAT_REPLY_ATTRS: dict[str, Any] = {
    **CHAT_FIRST_CHUNK,
    "gen_ai.response.finish_reasons": ("stop",),
    "gen_ai.usage.input_tokens": 6,
    "gen_ai.usage.output_tokens": 6,
    "gen_ai.usage.cache_read.input_tokens": 0,
    "gen_ai.usage.reasoning.output_tokens": 0,
}

# The same first completion when it calls ``get_weather`` (its arguments are 2 tokens).
CHAT_TOOL_CALL_ATTRS: dict[str, Any] = {
    **CHAT_REPLY_ATTRS,
    "gen_ai.response.finish_reasons": ("tool_calls",),
    "agentotel.response.tool_calls.names": ("get_weather",),
    "agentotel.response.tool_calls.ids": ("call_1",),
    "gen_ai.usage.output_tokens": 2,
}


class Answer(BaseModel):
    """A structured-output class; the fake server's plain-text reply never parses as one."""

    text: str


def span_base(server: FakeLLMServer, api_type: str, *, stream: bool = False) -> dict[str, Any]:
    """Request-side attributes of a ``chat gpt-4o`` span against the fake server."""
    attrs: dict[str, Any] = {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": GPT,
        "openai.api.type": api_type,
        "gen_ai.provider.name": "openai",
        "server.address": "127.0.0.1",
        "server.port": server.port,
    }
    if stream:
        attrs["gen_ai.request.stream"] = True
    return attrs


def one_span(cap: TelemetryCapture) -> ReadableSpan:
    """The single finished span (and agentotel swallowed no error of its own)."""
    span = only_span(cap)
    assert cap.metric_points(TELEMETRY_ERRORS) == []
    return span


def client_span(cap: TelemetryCapture) -> ReadableSpan:
    """The single finished span, a client span (and agentotel swallowed no error of its own)."""
    span = one_span(cap)
    assert span.kind is SpanKind.CLIENT
    return span


def assert_rate_limited(span: ReadableSpan, exc: BaseException, attributes: dict[str, Any]) -> None:
    assert type(exc) is openai.RateLimitError
    assert exc.__traceback__ is not None
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == f"openai.RateLimitError: {exc}"
    assert dict(span.attributes or {}) == priced({**attributes, "error.type": "openai.RateLimitError"})
    (event,) = span.events
    assert event.name == "exception"
    assert (event.attributes or {})["exception.message"] == str(exc)


def attributes(span: ReadableSpan) -> dict[str, Any]:
    """The span's attributes without ``gen_ai.response.time_to_first_chunk``, which is checked
    here: a positive number of seconds no longer than the span."""
    attrs = dict(span.attributes or {})
    ttfc = attrs.pop("gen_ai.response.time_to_first_chunk", None)
    if ttfc is not None:
        assert span.start_time is not None and span.end_time is not None
        assert 0 < ttfc <= (span.end_time - span.start_time) / 1e9
    return attrs


def points(cap: TelemetryCapture, name: str) -> list[tuple[dict[str, Any], int]]:
    """(attributes, count) of each point of histogram ``name``, input tokens before output."""
    found = [(dict(p.attributes), p.count) for p in cap.metric_points(name)]
    return sorted(found, key=lambda p: str(p[0].get("gen_ai.token.type")))


def assert_usage_and_duration(cap: TelemetryCapture, metric_base: dict[str, Any]) -> dict[str, Any]:
    """The metrics of the standard reply (6 input, 6 output tokens) to a gpt-4o call answered by
    gpt-4o-2024-08-06: one point per token type, one duration. The attributes of those points."""
    attrs = {**metric_base, "gen_ai.response.model": "gpt-4o-2024-08-06"}
    assert points(cap, TOKENS) == [
        ({**attrs, "gen_ai.token.type": "input"}, 1),
        ({**attrs, "gen_ai.token.type": "output"}, 1),
    ]
    assert token_sums(cap) == {"input": 6, "output": 6}
    assert points(cap, DURATION) == [(attrs, 1)]
    return attrs


def assert_both_choices_called_get_weather(span: ReadableSpan) -> None:
    """An ``n=2`` completion whose two choices both call ``get_weather``: every call is on the span."""
    attrs = span.attributes or {}
    assert attrs["gen_ai.response.finish_reasons"] == ("tool_calls", "tool_calls")
    assert attrs["agentotel.response.tool_calls.names"] == ("get_weather", "get_weather")
    assert attrs["agentotel.response.tool_calls.ids"] == ("call_1", "call_2")


def assert_raised_by_sdk(exc: BaseException) -> None:
    """``exc`` is the SDK's own exception object: its traceback starts where the SDK raised it."""
    assert any(in_package(module, "openai") for module in frame_modules(exc)), frame_modules(exc)
    assert_raised_outside_agentotel(exc)


# --------------------------------------------------------------------------- failures


# Failures of the request itself: no response body (stream or not) is ever read.
REQUEST_FAILURES = [
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
]


def failing_request(failure: Failure) -> dict[str, Any]:
    """``chat.completions.create`` arguments that make the fake server fail as ``failure`` says."""
    return {"model": GPT, "messages": user(f"{QUESTION} {failure.marker}"), **failure.options}
