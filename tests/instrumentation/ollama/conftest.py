"""Fixtures of the Ollama tests: the instrumentor on ``cap``, ``Client`` and ``AsyncClient`` on
the fake server. Skipped where the ``ollama`` SDK is not installed (the older-majors nox rows)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from helpers import instrumented, sdk_installed

from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture

if not sdk_installed("ollama"):
    collect_ignore_glob = ["test_*.py"]
else:
    from ollama_helpers import client

    from agentotel.instrumentation.ollama import OllamaInstrumentor

    @pytest.fixture
    def ollama_instrumented(cap: TelemetryCapture) -> Iterator[TelemetryCapture]:
        """The Ollama instrumentor active on ``cap``'s providers."""
        with instrumented(cap, OllamaInstrumentor):
            yield cap

    @pytest.fixture(params=["sync", "async"])
    def oclient(request: pytest.FixtureRequest, fresh_fake_llm: FakeLLMServer) -> Any:
        """A ``Client`` or an ``AsyncClient`` on the fake server (requests cleared): one test body
        for both (see ``helpers.resolve``)."""
        fresh_fake_llm.clear()
        return client(fresh_fake_llm, is_async=request.param == "async")
