"""Fixtures of the OpenAI tests: an unsampled tracer provider, the attributes of every metric point."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

from agentotel.instrumentation.openai import OpenAIInstrumentor
from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture


@pytest.fixture
def openai_unsampled(cap: TelemetryCapture) -> Iterator[InMemorySpanExporter]:
    """The OpenAI instrumentor on a tracer provider that samples nothing (metrics still go to ``cap``)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=ALWAYS_OFF)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    instrumentor = OpenAIInstrumentor()
    instrumentor.instrument(tracer_provider=provider, meter_provider=cap.meter_provider)
    yield exporter
    instrumentor.uninstrument()
    provider.shutdown()


@pytest.fixture
def metric_base(fake_llm: FakeLLMServer) -> dict[str, Any]:
    """Attributes of every metric point of an OpenAI ``gpt-4o`` chat call against the fake server."""
    return {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o",
        "server.address": "127.0.0.1",
        "server.port": fake_llm.port,
    }


@pytest.fixture(params=["sync", "async"])
def client(request: pytest.FixtureRequest, openai_client: Any, async_openai_client: Any) -> Any:
    """The sync and the async OpenAI client: one test body for both (see ``openai_helpers.is_async``)."""
    return openai_client if request.param == "sync" else async_openai_client
