"""Fixtures of the instrumentation tests (all providers): DEBUG logs, the async Anthropic client,
the names of the spans started."""

from __future__ import annotations

import logging

import pytest
from helpers import FAKE_ANTHROPIC_KEY, StartedSpans

from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture


@pytest.fixture
def debug_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """``caplog``, recording logger ``agentotel`` from DEBUG up."""
    caplog.set_level(logging.DEBUG, logger="agentotel")
    return caplog


@pytest.fixture
def async_anthropic_client(fake_llm: FakeLLMServer):  # type: ignore[no-untyped-def]
    import anthropic

    return anthropic.AsyncAnthropic(
        base_url=fake_llm.anthropic_base_url, api_key=FAKE_ANTHROPIC_KEY, max_retries=0
    )


@pytest.fixture
def started(cap: TelemetryCapture) -> StartedSpans:
    """Every span started on ``cap``'s provider (ended or not)."""
    processor = StartedSpans()
    cap.tracer_provider.add_span_processor(processor)
    return processor
