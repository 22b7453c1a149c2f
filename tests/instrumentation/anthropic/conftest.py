"""Fixtures of the Anthropic tests: the instrumentor on ``cap``, a sync and an async client."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from helpers import instrumented

from agentotel.instrumentation.anthropic import AnthropicInstrumentor
from agentotel.testing._capture import TelemetryCapture


@pytest.fixture
def anthropic_instrumented(cap: TelemetryCapture) -> Iterator[TelemetryCapture]:
    """The Anthropic instrumentor active on ``cap``'s providers."""
    with instrumented(cap, AnthropicInstrumentor):
        yield cap


@pytest.fixture(params=["sync", "async"])
def client(request: pytest.FixtureRequest, anthropic_client: Any, async_anthropic_client: Any) -> Any:
    return anthropic_client if request.param == "sync" else async_anthropic_client
