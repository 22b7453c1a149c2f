"""Fixtures of the CrewAI tests: real ``crewai`` crews whose LLM (CrewAI's native OpenAI class, on
the real ``openai`` SDK) calls the fake LLM server, with the provider instrumentors on; CrewAI's
own telemetry and tracing off, and no network.

CrewAI cannot live in ``.venv`` (it needs ``mcp<2`` and ``openai<3``): these tests run in their
own virtualenv (``nox -s "majors(crewai)"``); elsewhere each module skips itself before it
imports crewai (``helpers.CREWAI_INSTALLED``).
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest
from helpers import instrumented

from agentotel.instrumentation.crewai import CrewAIInstrumentor
from agentotel.instrumentation.openai import OpenAIInstrumentor
from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture

# Before any test module imports crewai: its telemetry reads these when it is first set up; and
# its kickoff records go to a folder of this session, not the user's (``~/.local/share/<cwd>``).
os.environ["CREWAI_DISABLE_TELEMETRY"] = "true"
os.environ["CREWAI_TRACING_ENABLED"] = "false"
STORAGE = os.environ["CREWAI_STORAGE_DIR"] = tempfile.mkdtemp(prefix="agentotel-crewai-")

LOOPBACK = ("127.0.0.1", "::1", "localhost")


@pytest.fixture(scope="session", autouse=True)
def _crewai_storage() -> Iterator[None]:
    yield
    shutil.rmtree(STORAGE, ignore_errors=True)


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Connections anywhere but the loopback fake server are refused and remembered: the test
    fails at teardown if anything (CrewAI's telemetry or tracing included, whose exporters swallow
    errors on their own threads) tried to send."""
    tried: list[Any] = []
    real_connect = socket.socket.connect

    def connect(sock: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else address
        if host not in LOOPBACK and sock.family in (socket.AF_INET, socket.AF_INET6):
            tried.append(address)
            raise OSError(f"a CrewAI test tried to reach the network: {address!r}")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    yield tried
    assert tried == []


@pytest.fixture
def fake(fresh_fake_llm: FakeLLMServer) -> FakeLLMServer:
    """The fake server with ids from 1, no script left and no request recorded."""
    fresh_fake_llm.clear()
    return fresh_fake_llm


@pytest.fixture
def bridged(cap: TelemetryCapture) -> Iterator[TelemetryCapture]:
    """The CrewAI bridge and the OpenAI instrumentor on ``cap``."""
    with instrumented(cap, OpenAIInstrumentor, CrewAIInstrumentor):
        yield cap


@pytest.fixture
def providers_only(cap: TelemetryCapture) -> Iterator[TelemetryCapture]:
    """The OpenAI instrumentor only: what the bridge is compared with."""
    with instrumented(cap, OpenAIInstrumentor):
        yield cap
