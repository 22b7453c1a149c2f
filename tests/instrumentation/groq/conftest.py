"""Fixtures of the Groq tests: the instrumentor on ``cap``, ``Groq`` and ``AsyncGroq`` on the fake
server. Where ``groq`` is not installed (the SDK-major rows of noxfile.py) nothing here is collected."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from helpers import instrumented, sdk_installed

from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture

if not sdk_installed("groq"):
    # Not ``importorskip``: this folder is itself a namespace package named ``groq``.
    collect_ignore_glob = ["test_*.py"]
else:

    @pytest.fixture
    def groq_instrumented(cap: TelemetryCapture) -> Iterator[TelemetryCapture]:
        """The Groq instrumentor active on ``cap``'s providers (settings read from the env now)."""
        from agentotel.instrumentation.groq import GroqInstrumentor

        with instrumented(cap, GroqInstrumentor):
            yield cap

    @pytest.fixture
    def fake(fresh_fake_llm: FakeLLMServer) -> FakeLLMServer:
        """The fake server, ids counted from 1 (``chatcmpl-1``, ``req_1``), requests cleared."""
        fresh_fake_llm.clear()
        return fresh_fake_llm

    @pytest.fixture(params=["sync", "async"])
    def client(request: pytest.FixtureRequest, fake: FakeLLMServer) -> Any:
        """``Groq`` or ``AsyncGroq`` on the fake server: one test body for both (``resolve``)."""
        from groq_helpers import groq_client

        return groq_client(fake, is_async=request.param == "async")
