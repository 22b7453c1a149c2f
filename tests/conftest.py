"""Shared fixtures: the fake LLM server, in-memory telemetry, instrumented SDKs."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from helpers import FAKE_ANTHROPIC_KEY, FAKE_OPENAI_KEY, instrumented

from agentotel.agent._layer import reset, select
from agentotel.instrumentation.openai import OpenAIInstrumentor
from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture


def pytest_collection_finish(session: pytest.Session) -> None:
    """Freeze what imports and collection made (SDK types, parameters): a test's gc.collect() (the
    abandoned-stream tests) and the collector's own full passes then scan only what tests create,
    not the whole heap again each time (0.5-0.9 s per abandoned-stream test before)."""
    gc.collect()
    gc.freeze()


@pytest.fixture(scope="session")
def fake_llm() -> Iterator[FakeLLMServer]:
    """One fake OpenAI/Anthropic server on 127.0.0.1 for the whole session."""
    with FakeLLMServer() as server:
        yield server


@pytest.fixture
def cap() -> Iterator[TelemetryCapture]:
    """Fresh in-memory tracer/meter/logger providers for one test (so a telemetry holder of their
    own: no pending tool calls or metric labels left by an earlier test)."""
    capture = TelemetryCapture()
    yield capture
    capture.shutdown()


@pytest.fixture
def agent_layer(cap: TelemetryCapture) -> Iterator[TelemetryCapture]:
    """The agent API (``agentotel.tool``, ...) recording to ``cap``, through the one telemetry
    holder of ``cap``'s providers that instrumentors on them get too. The holder is built on first
    use, so a test may set the environment first."""
    select(**cap.providers)
    yield cap
    reset()


@pytest.fixture
def openai_instrumented(cap: TelemetryCapture) -> Iterator[TelemetryCapture]:
    """The OpenAI instrumentor active on ``cap``'s providers (settings read from the env now)."""
    with instrumented(cap, OpenAIInstrumentor):
        yield cap


@pytest.fixture
def fresh_fake_llm(fake_llm: FakeLLMServer) -> FakeLLMServer:
    """``fake_llm`` with its state reset: ids count from 1 again (``chatcmpl-1``, ``msg_1``, ``req_1``...).

    Modules whose expected values assume this use it for every test:
    ``pytestmark = pytest.mark.usefixtures("fresh_fake_llm")``.
    """
    fake_llm.state.reset()
    return fake_llm


@pytest.fixture
def openai_client(fake_llm: FakeLLMServer):  # type: ignore[no-untyped-def]
    import openai

    return openai.OpenAI(base_url=fake_llm.openai_base_url, api_key=FAKE_OPENAI_KEY, max_retries=0)


@pytest.fixture
def async_openai_client(fake_llm: FakeLLMServer):  # type: ignore[no-untyped-def]
    import openai

    return openai.AsyncOpenAI(base_url=fake_llm.openai_base_url, api_key=FAKE_OPENAI_KEY, max_retries=0)


@pytest.fixture
def anthropic_client(fake_llm: FakeLLMServer):  # type: ignore[no-untyped-def]
    import anthropic

    return anthropic.Anthropic(
        base_url=fake_llm.anthropic_base_url, api_key=FAKE_ANTHROPIC_KEY, max_retries=0
    )
