"""Fixtures of the Mistral tests: the instrumentor on ``cap``, a ``Mistral`` client on the fake
server. Where ``mistralai`` is not installed (the SDK-major rows of noxfile.py) nothing here is
collected."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from helpers import instrumented, sdk_installed

from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture

if not sdk_installed("mistralai"):
    # Not ``importorskip``: this folder is itself a namespace package named ``mistralai``.
    collect_ignore_glob = ["test_*.py"]
else:

    @pytest.fixture
    def mistral_instrumented(cap: TelemetryCapture) -> Iterator[TelemetryCapture]:
        """The Mistral instrumentor active on ``cap``'s providers (settings read from the env now)."""
        from agentotel.instrumentation.mistralai import MistralInstrumentor

        with instrumented(cap, MistralInstrumentor):
            yield cap

    @pytest.fixture
    def fake(fresh_fake_llm: FakeLLMServer) -> FakeLLMServer:
        """The fake server, ids counted from 1 (``cmpl-fake1``, ``fakecall1``), requests cleared."""
        fresh_fake_llm.clear()
        return fresh_fake_llm

    @pytest.fixture
    def client(fake: FakeLLMServer) -> Any:
        """A ``Mistral`` client on the fake server."""
        from mistralai_helpers import mistral_client

        return mistral_client(fake)

    @pytest.fixture(params=["sync", "async"])
    def mode(request: pytest.FixtureRequest) -> str:
        """``sync`` or ``async``: one test body for ``complete``/``complete_async`` (see ``call``)."""
        return str(request.param)
