"""A gateway on 127.0.0.1 (uvicorn in a thread) in front of the fake LLM server, recording to ``cap``."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest

from agentotel._telemetry import telemetry_for
from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture

pytest.importorskip("uvicorn")

from gateway_helpers import fake_upstreams

from agentotel.gateway import Gateway, GatewayConfig, uvicorn_config


@dataclass
class RunningGateway:
    """A gateway serving in a background thread."""

    app: Gateway
    server: Any
    thread: threading.Thread

    @property
    def url(self) -> str:
        sock = self.server.servers[0].sockets[0]
        host, port = sock.getsockname()[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def start_gateway(config: GatewayConfig, cap: TelemetryCapture) -> RunningGateway:
    import uvicorn

    telemetry = telemetry_for(cap.tracer_provider, cap.meter_provider, cap.logger_provider)
    app = Gateway(config, telemetry=telemetry)
    server = uvicorn.Server(uvicorn_config(replace(config, port=0), app))
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]  # uvicorn < 0.29
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the gateway did not start")
        time.sleep(0.01)
    return RunningGateway(app, server, thread)


@pytest.fixture
def gateway_factory(
    fresh_fake_llm: FakeLLMServer, cap: TelemetryCapture
) -> Iterator[Callable[..., RunningGateway]]:
    """Start gateways (on the fake server unless told otherwise); all stopped after the test."""
    started: list[RunningGateway] = []

    def make(**options: Any) -> RunningGateway:
        upstreams = options.pop("upstreams", None) or fake_upstreams(fresh_fake_llm)
        gw = start_gateway(GatewayConfig(upstreams=upstreams, **options), cap)
        started.append(gw)
        return gw

    yield make
    for gw in started:
        gw.stop()


@pytest.fixture
def gateway(gateway_factory: Callable[..., RunningGateway]) -> RunningGateway:
    return gateway_factory()
