"""Shared fixtures: the fake LLM server, in-memory telemetry, instrumented SDKs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture

FAKE_OPENAI_KEY = "sk-test-0123456789abcdefSECRET"
FAKE_ANTHROPIC_KEY = "sk-ant-test-0123456789abcdefSECRET"


@pytest.fixture(scope="session")
def fake_llm() -> Iterator[FakeLLMServer]:
    """One fake OpenAI/Anthropic server on 127.0.0.1 for the whole session."""
    with FakeLLMServer() as server:
        yield server


@pytest.fixture
def cap() -> Iterator[TelemetryCapture]:
    """Fresh in-memory tracer/meter/logger providers for one test."""
    capture = TelemetryCapture()
    yield capture
    capture.shutdown()


@pytest.fixture
def openai_instrumented(cap: TelemetryCapture) -> Iterator[TelemetryCapture]:
    """The OpenAI instrumentor active on ``cap``'s providers (settings read from the env now)."""
    from agentotel.instrumentation.openai import OpenAIInstrumentor

    instrumentor = OpenAIInstrumentor()
    instrumentor.instrument(**cap.providers)
    yield cap
    instrumentor.uninstrument()


@pytest.fixture
def anthropic_instrumented(cap: TelemetryCapture) -> Iterator[TelemetryCapture]:
    """The Anthropic instrumentor active on ``cap``'s providers."""
    from agentotel.instrumentation.anthropic import AnthropicInstrumentor

    instrumentor = AnthropicInstrumentor()
    instrumentor.instrument(**cap.providers)
    yield cap
    instrumentor.uninstrument()


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


@pytest.fixture
def async_anthropic_client(fake_llm: FakeLLMServer):  # type: ignore[no-untyped-def]
    import anthropic

    return anthropic.AsyncAnthropic(
        base_url=fake_llm.anthropic_base_url, api_key=FAKE_ANTHROPIC_KEY, max_retries=0
    )
