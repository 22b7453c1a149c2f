"""``/healthz`` and ``/readyz``: liveness while the process serves; readiness following the audit
writer, the textfile writer and the exporters as they fail and recover.

Failures are real where the machine allows: a folder that disappears under the textfile writer,
an OTLP exporter whose collector answers 400, a tiny tmpfs filled to the last byte under the run
store (root only). The audit log's disk is a stand-in: an ``opener`` (the audit processor's test
seam) whose files raise ENOSPC while ``full`` is set.
"""

from __future__ import annotations

import contextlib
import errno
import json
import shutil
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from audit_helpers import SwitchableDisk, fill_disk, tiny_tmpfs
from helpers import LocalHTTPServer, QuietHandler, serve_in_background, stop_serving
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from prometheus_helpers import get, wait_until
from runstore_helpers import run_store

import agentotel
from agentotel._files import failure_reason
from agentotel.endpoints import _health as health
from agentotel.endpoints._health import EXPORTERS, ExportHealth, HealthChecks, Status
from agentotel.endpoints._server import MetricsServer
from agentotel.endpoints._textfile import TextfileWriter
from agentotel.processors.audit import AuditSpanProcessor
from agentotel.testing._capture import TelemetryCapture


@pytest.fixture
def checks() -> HealthChecks:
    return HealthChecks()


@pytest.fixture
def server(checks: HealthChecks) -> Iterator[MetricsServer]:
    """Health endpoints only (no /metrics), reading ``checks``."""
    endpoint = MetricsServer(None, "127.0.0.1", 0, checks=checks).start()
    yield endpoint
    endpoint.close()


def readyz(server: MetricsServer) -> tuple[int, Any]:
    status, headers, body = get(f"{server.url}/readyz")
    assert headers["Content-Type"] == "application/json"
    return status, json.loads(body)


def test_healthz_is_200_while_the_process_serves(server: MetricsServer) -> None:
    status, headers, body = get(f"{server.url}/healthz")

    assert (status, body) == (200, b"ok\n")
    assert headers["Content-Type"] == "text/plain; charset=utf-8"


def test_readyz_is_200_with_nothing_to_check(server: MetricsServer) -> None:
    assert readyz(server) == (200, {"status": "ready", "checks": {}})


def test_readyz_names_the_failing_component_and_its_reason(
    server: MetricsServer, checks: HealthChecks
) -> None:
    checks.register("audit", lambda: (False, "OSError: disk full"))
    checks.register("runstore", lambda: True)

    assert readyz(server) == (
        503,
        {
            "status": "not ready",
            "failing": {"audit": "OSError: disk full"},
            "checks": {"audit": {"ok": False, "reason": "OSError: disk full"}, "runstore": {"ok": True}},
        },
    )


def test_a_check_that_raises_counts_as_failing(checks: HealthChecks) -> None:
    def broken() -> bool:
        raise RuntimeError("no answer")

    checks.register("broken", broken)
    checks.register("plain", lambda: False)

    assert checks.run() == {
        "broken": Status(False, "check raised RuntimeError: no answer"),
        "plain": Status(False, "not healthy"),
    }


def test_head_readyz_answers_the_status_without_a_body(server: MetricsServer, checks: HealthChecks) -> None:
    checks.register("audit", lambda: False)

    assert get(f"{server.url}/readyz", method="HEAD")[::2] == (503, b"")


def test_without_metrics_the_endpoint_serves_health_only(server: MetricsServer) -> None:
    assert get(f"{server.url}/metrics")[0] == 404


# --- the audit writer -----------------------------------------------------------------------------
def test_readiness_follows_the_audit_writer_through_a_full_disk_and_back(
    agent_layer: TelemetryCapture, tmp_path: Path, server: MetricsServer, checks: HealthChecks
) -> None:
    disk = SwitchableDisk()
    path = tmp_path / "audit.jsonl"
    processor = AuditSpanProcessor(path, opener=disk)
    agent_layer.tracer_provider.add_span_processor(processor)
    checks.register("audit", health.healthy_of(processor))
    try:
        agentotel.tool("lookup")(lambda: "ok")()
        assert processor.force_flush(5000)
        assert readyz(server)[0] == 200

        disk.full = True
        agentotel.tool("lookup")(lambda: "ok")()
        wait_until(lambda: readyz(server)[0] == 503, "/readyz to turn 503")
        assert readyz(server)[1] == {
            "status": "not ready",
            "failing": {"audit": f"disk full at {path}"},
            "checks": {"audit": {"ok": False, "reason": f"disk full at {path}"}},
        }

        disk.full = False
        wait_until(lambda: readyz(server)[0] == 200, "/readyz to turn 200 again")
        assert readyz(server)[1] == {"status": "ready", "checks": {"audit": {"ok": True}}}
    finally:
        disk.full = False
        processor.shutdown()


def test_readiness_names_a_full_run_store_disk_and_its_path(
    cap: TelemetryCapture, tmp_path: Path, server: MetricsServer, checks: HealthChecks
) -> None:
    with contextlib.ExitStack() as stack:
        try:
            directory = stack.enter_context(tiny_tmpfs(tmp_path / "small", "64k"))
        except OSError as exc:
            pytest.skip(str(exc))
        runs = directory / "runs"
        filler = fill_disk(directory)
        processor = stack.enter_context(run_store(cap, runs))
        checks.register("run_store", health.healthy_of(processor))
        cap.tracer_provider.get_tracer("test").start_span(
            "invoke_agent helper", attributes={"gen_ai.operation.name": "invoke_agent"}
        ).end()
        wait_until(lambda: readyz(server)[0] == 503, "/readyz to turn 503")
        assert readyz(server)[1] == {
            "status": "not ready",
            "failing": {"run_store": f"disk full at {runs}"},
            "checks": {"run_store": {"ok": False, "reason": f"disk full at {runs}"}},
        }

        filler.unlink()
        wait_until(lambda: readyz(server)[0] == 200, "/readyz to turn 200 again")


def test_the_reason_names_the_cause_by_error_number_and_the_path() -> None:
    assert [
        failure_reason(error, "/var/log/agent/audit.jsonl")
        for error in (
            OSError(errno.ENOSPC, "No space left on device"),
            PermissionError(errno.EACCES, "Permission denied", "/var/log/agent/audit.jsonl.1"),
            OSError(errno.EROFS, "Read-only file system"),
            OSError(errno.ENAMETOOLONG, "File name too long"),
            ValueError("bad record"),
        )
    ] == [
        "disk full at /var/log/agent/audit.jsonl",
        "permission denied at /var/log/agent/audit.jsonl",
        "read-only file system at /var/log/agent/audit.jsonl",
        "file name too long at /var/log/agent/audit.jsonl",
        "ValueError: bad record at /var/log/agent/audit.jsonl",
    ]


# --- the textfile writer --------------------------------------------------------------------------
def test_readiness_follows_the_textfile_writer_when_its_folder_disappears(
    tmp_path: Path, server: MetricsServer, checks: HealthChecks
) -> None:
    folder = tmp_path / "textfiles"
    folder.mkdir()
    writer = TextfileWriter(folder / "agent.prom", lambda: b"up 1\n", interval=3600)
    checks.register("textfile", health.healthy_of(writer))
    writer.start()
    try:
        assert readyz(server)[0] == 200

        shutil.rmtree(folder)
        assert writer.flush() is False
        status, body = readyz(server)
        assert status == 503
        assert body["failing"]["textfile"].startswith(
            "FileNotFoundError: [Errno 2] No such file or directory"
        )

        folder.mkdir()
        assert writer.flush() is True
        assert readyz(server)[0] == 200
        assert (folder / "agent.prom").read_bytes() == b"up 1\n"
    finally:
        writer.close()


# --- exporters ------------------------------------------------------------------------------------
class Collector:
    """An OTLP/HTTP endpoint on 127.0.0.1 that accepts (200, empty response) or rejects (400)."""

    def __init__(self) -> None:
        self.status = 200
        owner = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                self.read_body()
                self.send_response(owner.status)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

        handler: type[BaseHTTPRequestHandler] = Handler
        self._httpd = LocalHTTPServer(handler)
        self._thread = serve_in_background(self._httpd)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def stop(self) -> None:
        stop_serving(self._httpd, self._thread)


@pytest.fixture
def collector() -> Iterator[Collector]:
    c = Collector()
    yield c
    c.stop()


def test_readiness_follows_the_last_span_export(
    collector: Collector, server: MetricsServer, checks: HealthChecks
) -> None:
    exports = ExportHealth(checks)
    exporter = OTLPSpanExporter(endpoint=f"{collector.url}/v1/traces", timeout=5)
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(health.TrackedSpanExporter(exporter, exports)))
    tracer = provider.get_tracer("test")
    try:
        tracer.start_span("one").end()
        provider.force_flush()
        assert readyz(server) == (200, {"status": "ready", "checks": {EXPORTERS: {"ok": True}}})

        collector.status = 400
        tracer.start_span("two").end()
        provider.force_flush()
        status, body = readyz(server)
        assert status == 503
        assert body["failing"] == {EXPORTERS: "OTLPSpanExporter: export failed"}

        collector.status = 200
        tracer.start_span("three").end()
        provider.force_flush()
        assert readyz(server)[0] == 200
    finally:
        provider.shutdown()
    assert exports() == (True, "")


def test_the_configurator_hooks_track_what_they_build(collector: Collector) -> None:
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    spans = health.tracked_span_processor(OTLPSpanExporter(endpoint=f"{collector.url}/v1/traces"))
    logs = health.tracked_log_processor(OTLPLogExporter(endpoint=f"{collector.url}/v1/logs"))
    try:
        assert isinstance(spans, BatchSpanProcessor)
        assert isinstance(logs, BatchLogRecordProcessor)
        assert EXPORTERS in health.CHECKS.names()
        assert health.CHECKS.run()[EXPORTERS] == Status(True)
    finally:
        spans.shutdown()
        logs.shutdown()
        health.unregister(EXPORTERS)


def test_metric_exporters_of_an_sdk_provider_are_tracked_in_place(
    collector: Collector, server: MetricsServer, checks: HealthChecks
) -> None:
    exporter = OTLPMetricExporter(endpoint=f"{collector.url}/v1/metrics", timeout=5)
    reader = PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)
    provider = MeterProvider(metric_readers=[reader])
    provider.get_meter("test").create_counter("requests").add(1)
    exports = ExportHealth(checks)
    try:
        assert health.track_metric_exporters(provider, exports) == 1
        assert health.track_metric_exporters(provider, exports) == 0  # already tracked
        collector.status = 400
        provider.force_flush()
        assert readyz(server)[1]["failing"] == {EXPORTERS: "OTLPMetricExporter: export failed"}

        collector.status = 200
        provider.force_flush()
        assert readyz(server)[0] == 200
    finally:
        provider.shutdown()
