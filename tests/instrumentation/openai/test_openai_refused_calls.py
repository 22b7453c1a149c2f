"""A call the ``openai`` SDK refuses before sending any HTTP request makes no LLM span.

One LLM span per HTTP call: a call that never reaches the SDK's request method (a missing required
argument, a pydantic class passed to ``create`` as ``response_format``) makes no span, no metric
point and nothing for the audit log or the run store, and the app gets the SDK's exception as it
is. A call that reached it keeps its span however it fails (``test_connection_refused`` in
``test_openai_chat.py``: the request was attempted).
"""

from __future__ import annotations

from typing import Any

import openai
import pytest
from helpers import (
    EMBEDDING_MODEL,
    GPT,
    QUESTION,
    StartedSpans,
    araised_by,
    assert_raised_outside_agentotel,
    instrumented,
    recorded_metrics,
    resolve,
    user,
)
from packaging.version import Version
from pydantic import BaseModel

from agentotel.instrumentation.openai import OpenAIInstrumentor
from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture

# create() refusing a pydantic class as response_format (use parse()): openai>=1.40.2.
requires_response_format_check = pytest.mark.skipif(
    Version(openai.__version__) < Version("1.40.2"),
    reason="create() refusing a pydantic class as response_format: openai>=1.40.2",
)


class Weather(BaseModel):
    city: str


def chat_without_messages(client: Any) -> Any:
    return client.chat.completions.create(model=GPT)


def chat_with_a_pydantic_response_format(client: Any) -> Any:
    return client.chat.completions.create(model=GPT, messages=user(QUESTION), response_format=Weather)


def embeddings_without_input(client: Any) -> Any:
    return client.embeddings.create(model=EMBEDDING_MODEL)


CALLS = [
    pytest.param(chat_without_messages, TypeError, id="chat_missing_messages"),
    pytest.param(
        chat_with_a_pydantic_response_format,
        TypeError,
        id="chat_pydantic_response_format",
        marks=requires_response_format_check,
    ),
    # Python's own TypeError for the signature: raised in the calling frame (ours, once wrapped).
    pytest.param(embeddings_without_input, TypeError, id="embeddings_missing_input"),
]


@pytest.mark.parametrize(("call", "error"), CALLS)
async def test_a_call_refused_before_any_request_makes_no_span(
    cap: TelemetryCapture,
    started: StartedSpans,
    client: Any,
    fake_llm: FakeLLMServer,
    call: Any,
    error: type[Exception],
) -> None:
    fake_llm.clear()
    bare = await araised_by(lambda: resolve(call(client)))

    with instrumented(cap, OpenAIInstrumentor):
        exc = await araised_by(lambda: resolve(call(client)))

    assert type(exc) is type(bare) is error
    assert exc.args == bare.args
    if call is not embeddings_without_input:
        assert_raised_outside_agentotel(exc)
    assert fake_llm.requests == []
    assert started.names == []
    assert cap.spans() == []
    assert recorded_metrics(cap) == []


async def test_a_refused_call_then_a_sent_one_has_one_span(
    cap: TelemetryCapture, started: StartedSpans, client: Any, fake_llm: FakeLLMServer
) -> None:
    fake_llm.clear()
    with instrumented(cap, OpenAIInstrumentor):
        await araised_by(lambda: resolve(chat_without_messages(client)))
        await resolve(client.chat.completions.create(model=GPT, messages=user(QUESTION)))

    assert len(fake_llm.requests) == 1
    assert started.names == [f"chat {GPT}"]
    assert [s.name for s in cap.spans()] == [f"chat {GPT}"]
