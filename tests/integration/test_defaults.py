"""The defaults the manual states (docs/), as literal numbers (never compared with the code's own
constants, so a changed default fails here until the manual says the new value)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from prometheus_helpers import wait_until

from agentotel import _shutdown
from agentotel.config import Settings
from agentotel.endpoints._health import HealthChecks
from agentotel.endpoints._prometheus import serve
from agentotel.processors import RunStoreSpanProcessor
from agentotel.processors._writer import FullPolicy, WriterSettings
from agentotel.processors.audit import AuditSettings, Fsync

MiB = 1024 * 1024


@pytest.fixture(autouse=True)
def _no_agentotel_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("AGENTOTEL_"):
            monkeypatch.delenv(name)


def test_the_settings_defaults_are_the_readmes() -> None:
    settings = Settings.from_env({})

    assert (
        settings.content_max_length,
        settings.cardinality_limit,
        settings.tool_pending_max,
        settings.tool_pending_ttl,
    ) == (16384, 100, 1000, 600)


def test_the_audit_defaults_are_the_readmes() -> None:
    audit = AuditSettings.from_env({})

    assert (audit.anchor_every, audit.anchor_seconds) == (1000, 60)
    assert (audit.queue_policy, audit.queue_size) == (FullPolicy.BLOCK, 10000)
    assert (audit.max_bytes, audit.keep_files) == (50 * MiB, 10)
    assert audit.fsync is Fsync.BATCH


def test_the_writer_timeouts_default_to_5_s_each() -> None:
    assert WriterSettings.from_env({}) == WriterSettings(block_timeout=5, shutdown_timeout=5)


def test_the_run_store_defaults_are_the_readmes(tmp_path: Path) -> None:
    processor = RunStoreSpanProcessor(tmp_path / "runs")
    try:
        writer = processor._writer
        assert (processor.keep, processor.idle_gap) == (100, 30)
        assert (writer._queue.maxsize, writer.policy) == (10000, FullPolicy.BLOCK)
        assert (writer.block_timeout, writer.shutdown_timeout) == (5, 5)
    finally:
        processor.shutdown()


def test_the_shutdown_timeout_defaults_to_4_s() -> None:
    assert _shutdown.timeout() == 4


def test_the_metrics_endpoint_closes_a_silent_connection_after_5_s_by_default() -> None:
    # The server as AGENTOTEL_METRICS_SERVER starts it (no read timeout given); the timeout each
    # accepted connection gets is read back rather than waited for.
    exposed = serve("127.0.0.1", 0, meter_provider=MeterProvider(), checks=HealthChecks())
    assert exposed.server is not None
    httpd = exposed.server._httpd
    try:
        with socket.create_connection(("127.0.0.1", exposed.server.port)):
            wait_until(lambda: len(httpd._connections) == 1, "the connection to be accepted", timeout=10)
            [connection] = list(httpd._connections)
            assert connection.gettimeout() == 5
        assert httpd.max_connections == 64
    finally:
        exposed.close()
