"""Fixtures of the LiteLLM tests: the instrumentor on ``cap``, and no network.

LiteLLM would fetch its model cost map at import and tiktoken its encodings on first use: the
cost map is read from LiteLLM's local copy (``LITELLM_LOCAL_MODEL_COST_MAP``, set before any
test module imports ``litellm``), the tests call nothing that counts tokens locally (usage always
comes from the fake server), and every test runs with outbound connections to anything but
127.0.0.1 refused (:func:`no_network`), so a download would fail the test rather than happen.
"""

from __future__ import annotations

import os

os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from helpers import instrumented

from agentotel.instrumentation.litellm import LiteLLMInstrumentor
from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Connections anywhere but the loopback fake server raise (and are remembered in the error)."""
    real_connect = socket.socket.connect

    def connect(sock: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else address
        if host not in ("127.0.0.1", "::1", "localhost") and sock.family in (socket.AF_INET, socket.AF_INET6):
            raise AssertionError(f"a LiteLLM test tried to reach the network: {address!r}")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)


@pytest.fixture(autouse=True)
def no_cached_routes() -> None:
    """Each test reads LiteLLM's routes afresh (a test that patches an extractor sees it called)."""
    from agentotel.instrumentation.litellm import patch

    patch.ROUTES.clear()


@pytest.fixture
def fresh_server(fresh_fake_llm: FakeLLMServer) -> FakeLLMServer:
    """The fake server with its ids counting from 1 and no request recorded yet."""
    fresh_fake_llm.clear()
    return fresh_fake_llm


@pytest.fixture
def litellm_instrumented(cap: TelemetryCapture) -> Iterator[TelemetryCapture]:
    """The LiteLLM instrumentor active on ``cap``'s providers."""
    with instrumented(cap, LiteLLMInstrumentor):
        yield cap


@pytest.fixture(params=["sync", "async"])
def flavour(request: pytest.FixtureRequest) -> str:
    """Each test body runs through the sync and the async LiteLLM function."""
    return str(request.param)
