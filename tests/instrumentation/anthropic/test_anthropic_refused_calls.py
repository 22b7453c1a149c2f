"""A call the ``anthropic`` SDK refuses before sending any HTTP request makes no LLM span.

One LLM span per HTTP call: a call that never reaches the SDK's request method (a missing required
argument, a non-stream call whose ``max_tokens`` the SDK says needs streaming) makes no span, no
metric point and nothing for the audit log or the run store, and the app gets the SDK's exception
as it is. A call that reached it keeps its span however it fails (``test_connection_refused`` in
``test_anthropic_messages.py``: the request was attempted).
"""

from __future__ import annotations

from typing import Any

import anthropic
import pytest
from anthropic_helpers import MODEL
from helpers import (
    QUESTION,
    StartedSpans,
    araised_by,
    assert_raised_outside_agentotel,
    instrumented,
    recorded_metrics,
    resolve,
    user,
)

from agentotel.instrumentation.anthropic import AnthropicInstrumentor
from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture

# The SDK's check that a non-stream call's max_tokens can finish in 10 minutes: anthropic>=0.47.0.
requires_streaming_check = pytest.mark.skipif(
    not hasattr(anthropic.Anthropic, "_calculate_nonstreaming_timeout"),
    reason="the SDK's 'Streaming is required' check of max_tokens: anthropic>=0.47.0",
)
TOO_MANY_TOKENS = 64_000  # a non-stream call the SDK refuses: it may take longer than 10 minutes


async def refused(client: Any, **kwargs: Any) -> BaseException:
    """The exception of ``messages.create(**kwargs)`` (sync or async client)."""
    return await araised_by(lambda: resolve(client.messages.create(**kwargs)))


CALLS = [
    pytest.param(
        {"model": MODEL, "messages": user(QUESTION)},
        TypeError,
        id="missing_max_tokens",
    ),
    pytest.param(
        {"model": MODEL, "messages": user(QUESTION), "max_tokens": TOO_MANY_TOKENS},
        ValueError,
        id="max_tokens_needs_streaming",
        marks=requires_streaming_check,
    ),
]


@pytest.mark.parametrize(("request_kwargs", "error"), CALLS)
async def test_a_call_refused_before_any_request_makes_no_span(
    cap: TelemetryCapture,
    started: StartedSpans,
    client: Any,
    fake_llm: FakeLLMServer,
    request_kwargs: dict[str, Any],
    error: type[Exception],
) -> None:
    fake_llm.clear()
    bare = await refused(client, **request_kwargs)

    with instrumented(cap, AnthropicInstrumentor):
        exc = await refused(client, **request_kwargs)

    assert type(exc) is type(bare) is error
    assert exc.args == bare.args
    assert_raised_outside_agentotel(exc)
    assert fake_llm.requests == []
    assert started.names == []
    assert cap.spans() == []
    assert recorded_metrics(cap) == []


@requires_streaming_check
async def test_the_same_call_streamed_has_its_one_span(
    cap: TelemetryCapture, started: StartedSpans, client: Any, fake_llm: FakeLLMServer
) -> None:
    """What Pydantic AI does after the refusal: the request, streamed, makes one span."""
    fake_llm.clear()
    with instrumented(cap, AnthropicInstrumentor):
        await refused(client, model=MODEL, messages=user(QUESTION), max_tokens=TOO_MANY_TOKENS)
        stream = await resolve(
            client.messages.create(
                model=MODEL, messages=user(QUESTION), max_tokens=TOO_MANY_TOKENS, stream=True
            )
        )
        if isinstance(client, anthropic.AsyncAnthropic):
            async for _ in stream:
                pass
        else:
            for _ in stream:
                pass

    assert len(fake_llm.requests) == 1
    assert started.names == [f"chat {MODEL}"]
    assert [s.name for s in cap.spans()] == [f"chat {MODEL}"]
