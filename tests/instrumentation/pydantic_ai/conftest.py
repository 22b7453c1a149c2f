"""Fixtures of the Pydantic AI tests: real ``pydantic-ai`` agents on the real ``openai`` /
``anthropic`` SDKs against the fake LLM server, with the provider instrumentors on."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from helpers import CLAUDE, FAKE_ANTHROPIC_KEY, FAKE_OPENAI_KEY, GPT, instrumented

from agentotel.instrumentation.anthropic import AnthropicInstrumentor
from agentotel.instrumentation.openai import OpenAIInstrumentor
from agentotel.instrumentation.pydantic_ai import PydanticAIInstrumentor
from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture

pytest.importorskip("pydantic_ai", reason="pydantic-ai is not installed (agentotel[pydantic-ai])")

MAX_TOKENS = 1024
"""Set on the Anthropic model: with the model's default (64,000) the ``anthropic`` SDK refuses a
non-streaming request before sending it (``ValueError``), which Pydantic AI then streams."""

ModelFactory = Callable[[], Any]


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


def openai_model(server: FakeLLMServer) -> Any:
    import openai
    from pydantic_ai.models.openai import OpenAIChatModel
    from pydantic_ai.providers.openai import OpenAIProvider

    client = openai.AsyncOpenAI(base_url=server.openai_base_url, api_key=FAKE_OPENAI_KEY, max_retries=0)
    return OpenAIChatModel(GPT, provider=OpenAIProvider(openai_client=client))


def anthropic_model(server: FakeLLMServer) -> Any:
    import anthropic
    from pydantic_ai.models.anthropic import AnthropicModel
    from pydantic_ai.providers.anthropic import AnthropicProvider

    client = anthropic.AsyncAnthropic(
        base_url=server.anthropic_base_url, api_key=FAKE_ANTHROPIC_KEY, max_retries=0
    )
    return AnthropicModel(
        CLAUDE, provider=AnthropicProvider(anthropic_client=client), settings={"max_tokens": MAX_TOKENS}
    )


MODELS = {"openai": (openai_model, f"chat {GPT}"), "anthropic": (anthropic_model, f"chat {CLAUDE}")}


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
