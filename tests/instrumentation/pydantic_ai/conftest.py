"""Fixtures of the Pydantic AI tests: real ``pydantic-ai`` agents on the real ``openai`` /
``anthropic`` SDKs against the fake LLM server, with the provider instrumentors on."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from helpers import instrumented

from agentotel.instrumentation.anthropic import AnthropicInstrumentor
from agentotel.instrumentation.openai import OpenAIInstrumentor
from agentotel.instrumentation.pydantic_ai import PydanticAIInstrumentor
from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture

pytest.importorskip("pydantic_ai", reason="pydantic-ai is not installed (agentotel[pydantic-ai])")
from pai_helpers import MODELS, ModelFactory


@pytest.fixture
def pai(cap: TelemetryCapture) -> Iterator[TelemetryCapture]:
    """The OpenAI, Anthropic and Pydantic AI instrumentors active on ``cap``."""
    with instrumented(cap, OpenAIInstrumentor, AnthropicInstrumentor, PydanticAIInstrumentor):
        yield cap


@pytest.fixture
def providers_only(cap: TelemetryCapture) -> Iterator[TelemetryCapture]:
    """The OpenAI and Anthropic instrumentors only: what the bridge is compared with."""
    with instrumented(cap, OpenAIInstrumentor, AnthropicInstrumentor):
        yield cap


@pytest.fixture(params=sorted(MODELS))
def provider(request: pytest.FixtureRequest) -> str:
    """Each test using it runs once with the OpenAI model and once with the Anthropic one."""
    return str(request.param)


@pytest.fixture
def make_model(provider: str, fresh_fake_llm: FakeLLMServer) -> ModelFactory:
    """A new model (with a new SDK client: one per event loop) of ``provider`` on the fake server."""
    factory = MODELS[provider][0]
    fresh_fake_llm.clear()  # the requests this test makes, counted
    return lambda: factory(fresh_fake_llm)


@pytest.fixture
def chat_span(provider: str) -> str:
    """The name of ``provider``'s LLM span."""
    return MODELS[provider][1]
