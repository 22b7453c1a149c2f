"""Fixtures of the Google GenAI tests: the instrumentor on ``cap``, ``client.models`` and
``client.aio.models`` on the fake server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from google_genai_helpers import gemini_client
from helpers import instrumented

from agentotel.instrumentation.google_genai import GoogleGenAIInstrumentor
from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture


@pytest.fixture
def genai_instrumented(cap: TelemetryCapture) -> Iterator[TelemetryCapture]:
    """The Google GenAI instrumentor active on ``cap``'s providers."""
    with instrumented(cap, GoogleGenAIInstrumentor):
        yield cap


@pytest.fixture
def gclient(fresh_fake_llm: FakeLLMServer) -> Any:
    """A Gemini API client on the fake server (ids counted from 1, requests cleared)."""
    fresh_fake_llm.clear()
    return gemini_client(fresh_fake_llm)


@pytest.fixture(params=["sync", "async"])
def models(request: pytest.FixtureRequest, gclient: Any) -> Any:
    """``client.models`` or ``client.aio.models``: one test body for both (see ``resolve``)."""
    return gclient.models if request.param == "sync" else gclient.aio.models
