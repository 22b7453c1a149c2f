"""What the Anthropic test modules share: one model, expected attributes, and the helpers that let
one test body drive the sync and the async client alike."""

from __future__ import annotations

import importlib.util
from typing import Any

import anthropic
import pytest
from anthropic.resources.beta.messages import Messages as BetaMessages
from anthropic.resources.messages import Messages
from helpers import Failure

from agentotel.testing import FakeLLMServer

MODEL = "claude-opus-5"
SPAN_NAME = "chat claude-opus-5"
MAX_TOKENS = 100
API_KEY = "sk-ant-test-key"

# What the SDK raises, and the span's error.type, when the fake server answers an HTTP error.
RATE_LIMIT = pytest.param(
    Failure("[[scenario:rate_limit]]", anthropic.RateLimitError, "anthropic.RateLimitError"), id="rate_limit"
)
SERVER_ERROR = pytest.param(
    Failure("[[scenario:server_error]]", anthropic.InternalServerError, "anthropic.InternalServerError"),
    id="server_error",
)
# A 529 raises OverloadedError from anthropic 0.47.0 on, InternalServerError (any 5xx) before.
OVERLOADED_ERROR: type[anthropic.APIStatusError] = getattr(
    anthropic, "OverloadedError", anthropic.InternalServerError
)
OVERLOADED = pytest.param(
    Failure("[[scenario:overloaded]]", OVERLOADED_ERROR, f"anthropic.{OVERLOADED_ERROR.__name__}"),
    id="overloaded",
)
BAD_REQUEST = pytest.param(
    Failure("[[scenario:bad_request]]", anthropic.BadRequestError, "anthropic.BadRequestError"),
    id="bad_request",
)
HTTP_ERRORS = [RATE_LIMIT, SERVER_ERROR, OVERLOADED, BAD_REQUEST]


# Features of the SDK that appeared after the supported floor (anthropic 0.40.0), or went away:
# a test of one is skipped where the installed SDK lacks it, the reason naming where it appeared.
SDK_TRACING = importlib.util.find_spec("anthropic._tracing") is not None
requires_sdk_tracing = pytest.mark.skipif(
    not SDK_TRACING, reason="the SDK's own tracing (open_telemetry=, its span): anthropic>=1.14.0"
)
requires_parse = pytest.mark.skipif(
    not hasattr(Messages, "parse"), reason="messages.parse: anthropic>=0.77.0"
)
requires_beta_stream = pytest.mark.skipif(
    not hasattr(BetaMessages, "stream"), reason="beta.messages.stream: anthropic>=0.43.0"
)
requires_count_tokens = pytest.mark.skipif(
    not hasattr(Messages, "count_tokens"), reason="messages.count_tokens: anthropic>=0.41.0"
)
requires_thinking = pytest.mark.skipif(
    not hasattr(anthropic.types, "ThinkingBlock"), reason="thinking blocks: anthropic>=0.47.0"
)
PROMPT_CACHING = importlib.util.find_spec("anthropic.resources.beta.prompt_caching") is not None
requires_prompt_caching = pytest.mark.skipif(
    not PROMPT_CACHING, reason="beta.prompt_caching.messages: anthropic 0.40 only (removed in 0.41.0)"
)


def is_async(client: Any) -> bool:
    return isinstance(client, anthropic.AsyncAnthropic)


def request_attrs(server: FakeLLMServer, *, stream: bool = False) -> dict[str, Any]:
    """Request-side attributes of a ``chat claude-opus-5`` span (``max_tokens=MAX_TOKENS``)."""
    attrs: dict[str, Any] = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "anthropic",
        "gen_ai.request.model": MODEL,
        "gen_ai.request.max_tokens": MAX_TOKENS,
        "server.address": "127.0.0.1",
        "server.port": server.port,
    }
    if stream:
        attrs["gen_ai.request.stream"] = True
    return attrs


def metric_attrs(server: FakeLLMServer, **extra: Any) -> dict[str, Any]:
    """Attributes of the metric points of a ``claude-opus-5`` call, plus ``extra``."""
    return {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "anthropic",
        "gen_ai.request.model": MODEL,
        "server.address": "127.0.0.1",
        "server.port": server.port,
        **extra,
    }


def reply_attrs(
    server: FakeLLMServer,
    *,
    stream: bool = False,
    finish: str = "end_turn",
    input_tokens: int = 6,
    output_tokens: int = 6,
    cache_read: int = 0,
    cache_creation: int = 0,
) -> dict[str, Any]:
    """Every attribute of the span of a call answered ``msg_1`` (by default: the 6-token reply to
    the 6-token question), its cost at claude-opus-5's list price included."""
    uncached = input_tokens - cache_read - cache_creation
    usd = (uncached * 5.0 + cache_read * 0.5 + cache_creation * 6.25 + output_tokens * 25.0) / 1e6
    return {
        **request_attrs(server, stream=stream),
        "gen_ai.response.id": "msg_1",
        "gen_ai.response.model": MODEL,
        "gen_ai.response.finish_reasons": (finish,),
        "gen_ai.usage.input_tokens": input_tokens,
        "gen_ai.usage.cache_read.input_tokens": cache_read,
        "gen_ai.usage.cache_creation.input_tokens": cache_creation,
        "gen_ai.usage.output_tokens": output_tokens,
        "agentotel.usage.cost_usd": pytest.approx(usd, rel=1e-12),
    }


def tool_use_attrs(server: FakeLLMServer, *, stream: bool = False) -> dict[str, Any]:
    """Every attribute of the span of a call answered ``msg_1`` with a ``get_weather`` tool use
    (its input '{"city": "Paris"}' is 2 words)."""
    return {
        **reply_attrs(server, stream=stream, finish="tool_use", output_tokens=2),
        "agentotel.response.tool_calls.names": ("get_weather",),
        "agentotel.response.tool_calls.ids": ("toolu_1",),
    }
