"""Fixtures of the OpenAI Agents SDK tests: the SDK's exporter never posts anywhere, the
instrumentors on ``cap``, agents whose model calls the fake server through the real ``openai``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from helpers import GPT, instrumented

from agentotel.instrumentation.openai import OpenAIInstrumentor
from agentotel.instrumentation.openai_agents import OpenAIAgentsInstrumentor
from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture


@pytest.fixture(autouse=True)
def _sdk_export_offline(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The SDK's default exporter posts to OpenAI's backend only with a key: none here (it logs
    that it skips the export). Its tracing stays on: the bridge reads it.

    After each test the SDK's processors are flushed here, so its background exporter thread has
    nothing left to export (and to log a warning about) while a later test on this worker
    checks its own log records."""
    for name in (
        "OPENAI_API_KEY",
        "OPENAI_AGENTS_DISABLE_TRACING",
        "OPENAI_AGENTS_TRACE_INCLUDE_SENSITIVE_DATA",
    ):
        monkeypatch.delenv(name, raising=False)
    yield
    from agents.tracing import get_trace_provider

    get_trace_provider().force_flush()


@pytest.fixture
def fake(fresh_fake_llm: FakeLLMServer) -> FakeLLMServer:
    """The fake server with ids from 1, no script left and no request recorded."""
    fresh_fake_llm.clear()
    return fresh_fake_llm


@pytest.fixture
def bridged(cap: TelemetryCapture) -> Iterator[TelemetryCapture]:
    """The OpenAI Agents bridge and the OpenAI instrumentor on ``cap``."""
    with instrumented(cap, OpenAIInstrumentor, OpenAIAgentsInstrumentor):
        yield cap


@pytest.fixture
def chat_model(async_openai_client: Any) -> Any:
    """The SDK's Chat Completions model on the fake server."""
    from agents import OpenAIChatCompletionsModel

    return OpenAIChatCompletionsModel(GPT, async_openai_client)
