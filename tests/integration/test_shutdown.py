"""Start-up and shut-down under ``opentelemetry-instrument`` with our distro: SIGTERM, exit with the
collector down, default exporters without a collector, OTEL_SDK_DISABLED, a busy metrics port.

Every test runs ``tests/integration/shutdown_app.py`` in a subprocess exporting OTLP/HTTP to the real receiver
of ``otlp_receiver.py``, or to a closed port on 127.0.0.1 ("the collector is down").
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from helpers import LocalHTTPServer, QuietHandler, closed_port, serve_in_background, stop_serving
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from otlp_receiver import OTLPReceiver, attributes
from prometheus_helpers import by_label, families, free_port, get, wait_until

from agentotel._exports import GuardedSpanExporter, Target

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
APP = Path(__file__).with_name("shutdown_app.py")
ROUNDS = 25  # agent rounds: 2 spans each


def _env(endpoint: str | None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AGENTOTEL_"))}
    env.update(
        PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        OTEL_PYTHON_DISTRO="agentotel",
        OTEL_PYTHON_CONFIGURATOR="agentotel",
        OTEL_SERVICE_NAME="agentotel-shutdown-test",
        PYTHONUNBUFFERED="1",
    )
    if endpoint is not None:
        env.update(
            OTEL_TRACES_EXPORTER="otlp",
            OTEL_METRICS_EXPORTER="none",
            OTEL_LOGS_EXPORTER="none",
            OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf",
            OTEL_EXPORTER_OTLP_ENDPOINT=endpoint,
        )
    env.update(extra)
    return env


def _start(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(BIN / "opentelemetry-instrument"), "python", str(APP), *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_line(proc: subprocess.Popen[str], expected: str) -> float:
    """Read stdout until ``expected``; the monotonic time it was read."""
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], 120)
    line = proc.stdout.readline() if ready else ""
    if line.strip() != expected:
        proc.kill()
        _, stderr = proc.communicate()
        raise AssertionError(f"the app printed {line!r}, not {expected!r}\n{stderr}")
    return time.monotonic()


def _finish(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    stdout, stderr = proc.communicate(timeout=120)
    return proc.returncode, stdout, stderr


# opentelemetry-instrument's note that opentelemetry-distro's configurator (installed for the
# wiring tests) was skipped in favour of ours.
_UPSTREAM_NOTE = "Configuration of configurator not loaded, agentotel already loaded"


def _lines(stderr: str) -> list[str]:
    """The lines of ``stderr``, minus opentelemetry-instrument's note."""
    return [line for line in stderr.splitlines() if line.strip() and line != _UPSTREAM_NOTE]


# --- SIGTERM -----------------------------------------------------------------------------------
def _log_events(receiver: OTLPReceiver) -> list[str]:
    return [
        record.event_name
        for request in receiver.requests("logs")
        for rl in request.resource_logs
        for sl in rl.scope_logs
        for record in sl.log_records
    ]


def test_sigterm_exports_every_ended_span_metric_and_log_record_then_the_process_dies_of_sigterm(
    receiver: OTLPReceiver, tmp_path: Path
) -> None:
    env = _env(
        receiver.endpoint,
        AGENTOTEL_RUNS_DIR=str(tmp_path / "runs"),
        AGENTOTEL_AUDIT_PATH=str(tmp_path / "audit.jsonl"),
        OTEL_METRICS_EXPORTER="otlp",
        OTEL_LOGS_EXPORTER="otlp",
        OTEL_METRIC_EXPORT_INTERVAL="3600000",  # no periodic export: only the SIGTERM flush sends
        OTEL_BLRP_SCHEDULE_DELAY="3600000",
    )
    proc = _start(env, "wait", str(ROUNDS))
    _wait_for_line(proc, "ready")
    assert (receiver.metrics(), _log_events(receiver)) == ([], [])

    proc.send_signal(signal.SIGTERM)
    returncode, _, stderr = _finish(proc)

    assert returncode == -signal.SIGTERM, stderr
    assert _lines(stderr) == []
    names = [s.name for s in receiver.spans()]
    assert sorted(names) == sorted(["execute_tool lookup", "invoke_agent shutdown"] * ROUNDS)
    [tool_duration] = [m for m in receiver.metrics() if m.name == "agentotel.tool.duration"]
    assert [
        (attributes(p.attributes)["gen_ai.tool.name"], p.count) for p in tool_duration.histogram.data_points
    ] == [("lookup", ROUNDS)]
    events = _log_events(receiver)
    assert [e for e in events if e != "agentotel.audit.checkpoint"] == ["agentotel.audit"] * ROUNDS
    assert events.count("agentotel.audit.checkpoint") == 1  # the one at shut-down


def test_a_sigterm_taken_by_another_thread_still_flushes_and_kills_a_main_thread_asleep(
    receiver: OTLPReceiver, tmp_path: Path
) -> None:
    env = _env(receiver.endpoint, AGENTOTEL_AUDIT_PATH=str(tmp_path / "audit.jsonl"))
    proc = _start(env, "wait-elsewhere", str(ROUNDS))
    _wait_for_line(proc, "ready")

    # Without help the main thread would sleep its 120 s: the handler waits for it.
    _, stderr = proc.communicate(timeout=30)

    assert (proc.returncode, _lines(stderr)) == (-signal.SIGTERM, [])
    assert len(receiver.spans()) == 2 * ROUNDS
    records = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert [r["event_type"] for r in records] == ["tool_call"] * ROUNDS


def test_sigterm_flushes_the_apps_own_provider_without_opentelemetry_instrument(
    receiver: OTLPReceiver,
) -> None:
    env = _env(receiver.endpoint, PYTHONPATH=str(APP.parent))
    proc = subprocess.Popen(
        [sys.executable, str(APP), "code-wait", str(ROUNDS)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _wait_for_line(proc, "ready")

    proc.send_signal(signal.SIGTERM)
    returncode, _, stderr = _finish(proc)

    assert (returncode, _lines(stderr)) == (-signal.SIGTERM, [])
    assert len(receiver.spans()) == 2 * ROUNDS


def test_sigterm_writes_the_metrics_textfile_a_last_time(receiver: OTLPReceiver, tmp_path: Path) -> None:
    path = tmp_path / "agent.prom"
    env = _env(receiver.endpoint, AGENTOTEL_METRICS_FILE=str(path), AGENTOTEL_METRICS_FILE_INTERVAL="3600")
    proc = _start(env, "wait", str(ROUNDS))
    _wait_for_line(proc, "ready")

    proc.send_signal(signal.SIGTERM)
    returncode, _, stderr = _finish(proc)

    assert (returncode, _lines(stderr)) == (-signal.SIGTERM, [])
    found = families(path.read_bytes())
    assert by_label(found, "agentotel_tool_duration_seconds_count", "gen_ai_tool_name") == {"lookup": ROUNDS}


def test_a_run_open_at_sigterm_ends_as_interrupted(receiver: OTLPReceiver, tmp_path: Path) -> None:
    env = _env(receiver.endpoint, AGENTOTEL_RUNS_DIR=str(tmp_path / "runs"))
    proc = _start(env, "wait-in-run", "1")
    _wait_for_line(proc, "ready")

    proc.send_signal(signal.SIGTERM)
    returncode, _, stderr = _finish(proc)

    assert returncode == -signal.SIGTERM, stderr
    statuses = sorted(
        json.loads((run / "summary.json").read_text())["status"] for run in (tmp_path / "runs").iterdir()
    )
    assert statuses == ["interrupted", "ok"]


def test_an_apps_own_sigterm_handler_is_left_alone(receiver: OTLPReceiver) -> None:
    proc = _start(_env(receiver.endpoint), "wait", str(ROUNDS), "--own-handler")
    _wait_for_line(proc, "ready")

    proc.send_signal(signal.SIGTERM)
    returncode, stdout, stderr = _finish(proc)

    assert (returncode, stdout, _lines(stderr)) == (3, "app handler\n", [])
    assert receiver.spans() == []  # the app's handler exits at once, as it would without agentotel


def test_an_apps_exit_handler_gets_a_bounded_exit_with_every_audit_record_shipped(
    receiver: OTLPReceiver, tmp_path: Path
) -> None:
    audit = tmp_path / "audit.jsonl"
    env = _env(
        None,
        OTEL_TRACES_EXPORTER="otlp",
        OTEL_LOGS_EXPORTER="otlp",
        OTEL_METRICS_EXPORTER="none",
        OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf",
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=f"http://127.0.0.1:{closed_port()}/v1/traces",
        OTEL_EXPORTER_OTLP_LOGS_ENDPOINT=f"{receiver.endpoint}/v1/logs",
        AGENTOTEL_AUDIT_PATH=str(audit),
        AGENTOTEL_SHUTDOWN_TIMEOUT="2",
    )
    proc = _start(env, "wait", str(ROUNDS), "--exit-handler")
    _wait_for_line(proc, "ready")

    proc.send_signal(signal.SIGTERM)
    sent = time.monotonic()
    returncode, _, stderr = _finish(proc)
    exit_took = time.monotonic() - sent

    assert returncode == 0, stderr
    assert exit_took < 2 + 3, f"exit took {exit_took:.1f} s"  # was 30 s: the span exporter's shutdown
    assert len(audit.read_text().splitlines()) == ROUNDS
    events = [
        record.event_name
        for request in receiver.requests("logs")
        for rl in request.resource_logs
        for sl in rl.scope_logs
        for record in sl.log_records
    ]
    assert [e for e in events if e != "agentotel.audit.checkpoint"] == ["agentotel.audit"] * ROUNDS
    assert _lines(stderr) == [
        "agentotel: exit: gave up exporting after 2 s (AGENTOTEL_SHUTDOWN_TIMEOUT): "
        f"{2 * ROUNDS} spans not sent"
    ]


def test_sigterm_while_audit_records_are_being_written_loses_none(
    receiver: OTLPReceiver, tmp_path: Path
) -> None:
    audit = tmp_path / "audit.jsonl"
    env = _env(
        receiver.endpoint,
        AGENTOTEL_AUDIT_PATH=str(audit),
        OTEL_BSP_SCHEDULE_DELAY="50",
        OTEL_BSP_MAX_QUEUE_SIZE="1000000",  # the tight loop must not overflow the span queue
    )
    for _ in range(5):
        audit.unlink(missing_ok=True)
        receiver.clear()
        proc = _start(env, "loop")
        _wait_for_line(proc, "ready")
        time.sleep(0.3)

        proc.send_signal(signal.SIGTERM)
        sent = time.monotonic()
        returncode, _, stderr = _finish(proc)
        elapsed = time.monotonic() - sent

        assert returncode == -signal.SIGTERM, stderr
        assert elapsed < 5, f"exit took {elapsed:.1f} s"
        records = [json.loads(line) for line in audit.read_text().splitlines()]
        tools = [s for s in receiver.spans() if s.name == "execute_tool lookup"]
        assert [r["seq"] for r in records] == list(range(1, len(records) + 1))
        assert len(records) == len(tools), stderr  # every tool span exported is audited too


# --- exit with the collector down ---------------------------------------------------------------
def test_exit_with_the_collector_down_is_bounded_and_says_what_was_dropped() -> None:
    env = _env(f"http://127.0.0.1:{closed_port()}", AGENTOTEL_SHUTDOWN_TIMEOUT="2")
    proc = _start(env, "exit", str(ROUNDS))
    ended = _wait_for_line(proc, "end")
    returncode, _, stderr = _finish(proc)
    exit_took = time.monotonic() - ended

    assert returncode == 0, stderr
    assert exit_took < 2 + 3, f"exit took {exit_took:.1f} s"
    assert _lines(stderr) == [
        f"agentotel: exit: gave up exporting after 2 s ({'AGENTOTEL_SHUTDOWN_TIMEOUT'}): "
        f"{2 * ROUNDS} spans not sent"
    ]


def test_exit_with_the_collector_down_takes_at_most_5_s_by_default() -> None:
    env = _env(f"http://127.0.0.1:{closed_port()}", OTEL_METRICS_EXPORTER="otlp")
    proc = _start(env, "exit", str(ROUNDS))
    ended = _wait_for_line(proc, "end")  # printed after the app's last call
    returncode, _, stderr = _finish(proc)
    exit_took = time.monotonic() - ended  # our shut-down and the interpreter's teardown

    assert returncode == 0, stderr
    assert exit_took < 5.0, f"exit took {exit_took:.2f} s"
    [line] = _lines(stderr)
    assert line.startswith(
        f"agentotel: exit: gave up exporting after 4 s (AGENTOTEL_SHUTDOWN_TIMEOUT): {2 * ROUNDS} spans and "
    ), stderr
    assert line.endswith(" metric points not sent"), stderr


class _Rejecting(QuietHandler):
    def do_POST(self) -> None:
        self.read_body()
        self.send_response(400)
        self.send_header("Content-Length", "0")
        self.end_headers()


def test_an_export_rejected_at_exit_is_one_line_and_no_wait() -> None:
    httpd = LocalHTTPServer(_Rejecting)
    thread = serve_in_background(httpd)
    try:
        env = _env(f"http://127.0.0.1:{httpd.server_address[1]}")
        proc = _start(env, "exit", str(ROUNDS))
        ended = _wait_for_line(proc, "end")
        returncode, _, stderr = _finish(proc)
        exit_took = time.monotonic() - ended
    finally:
        stop_serving(httpd, thread)

    assert returncode == 0, stderr
    assert _lines(stderr) == [f"agentotel: exit: the last export failed: {2 * ROUNDS} spans not sent"]
    assert exit_took < 3.5, f"exit took {exit_took:.1f} s"


def test_a_writer_still_busy_at_the_deadline_is_named_and_exit_is_bounded() -> None:
    env = _env(None, AGENTOTEL_AUDIT_PATH="/dev/full", AGENTOTEL_SHUTDOWN_TIMEOUT="1")  # a full disk
    env.update(OTEL_TRACES_EXPORTER="none", OTEL_METRICS_EXPORTER="none", OTEL_LOGS_EXPORTER="none")
    proc = _start(env, "exit", "3")
    ended = _wait_for_line(proc, "end")
    returncode, _, stderr = _finish(proc)
    exit_took = time.monotonic() - ended

    assert returncode == 0, stderr
    [writers_own, ours] = _lines(stderr)  # the audit writer says why it cannot write
    assert writers_own.startswith("agentotel: cannot write /dev/full")
    assert ours == (
        "agentotel: exit: gave up after 1 s (AGENTOTEL_SHUTDOWN_TIMEOUT) waiting for: AuditSpanProcessor"
    )
    assert exit_took < 1 + 3, f"exit took {exit_took:.1f} s"


# --- default exporters ---------------------------------------------------------------------------
def _default_collector_is_absent() -> bool:
    for port in (4317, 4318):
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return False
    return True


def test_default_exporters_without_a_collector_say_so_in_one_line() -> None:
    if not _default_collector_is_absent():
        pytest.skip("something listens on localhost:4317/4318 here")
    env = _env(None, OTEL_BSP_SCHEDULE_DELAY="100", OTEL_METRIC_EXPORT_INTERVAL="300")
    proc = _start(env, "linger", str(ROUNDS), "3")
    ended = _wait_for_line(proc, "end")
    returncode, _, stderr = _finish(proc)
    exit_took = time.monotonic() - ended

    assert returncode == 0, stderr
    assert _lines(stderr) == [
        "agentotel: no OpenTelemetry collector answers at localhost:4317 (the default OTLP endpoint): "
        "traces, metrics and logs are not exported. Set OTEL_EXPORTER_OTLP_ENDPOINT to your collector, "
        "or turn this off with OTEL_TRACES_EXPORTER=none OTEL_METRICS_EXPORTER=none OTEL_LOGS_EXPORTER=none"
    ]
    assert exit_took < 5 + 3, f"exit took {exit_took:.1f} s"


def test_default_exporters_without_a_collector_do_not_hold_up_the_exit() -> None:
    if not _default_collector_is_absent():
        pytest.skip("something listens on localhost:4317/4318 here")
    proc = _start(_env(None), "exit", str(ROUNDS))
    ended = _wait_for_line(proc, "end")
    returncode, _, stderr = _finish(proc)
    exit_took = time.monotonic() - ended

    assert returncode == 0, stderr
    assert len(_lines(stderr)) == 1, stderr
    assert exit_took < 3.5, f"exit took {exit_took:.1f} s"  # Python's own teardown is about 1 s here


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_default_exporters_to_a_user_set_endpoint_that_is_down_say_so_in_one_line(protocol: str) -> None:
    endpoint = f"http://127.0.0.1:{closed_port()}"
    env = _env(None, OTEL_BSP_SCHEDULE_DELAY="100", OTEL_METRIC_EXPORT_INTERVAL="300")
    env.update(OTEL_EXPORTER_OTLP_ENDPOINT=endpoint, OTEL_EXPORTER_OTLP_PROTOCOL=protocol)
    proc = _start(env, "linger", str(ROUNDS), "3")
    _wait_for_line(proc, "end")
    returncode, _, stderr = _finish(proc)

    assert returncode == 0, stderr
    assert _lines(stderr) == [
        f"agentotel: no OpenTelemetry collector answers at {endpoint} (OTEL_EXPORTER_OTLP_ENDPOINT): "
        "traces, metrics and logs are dropped until it does (each batch is retried quietly first). "
        "Turn this off with OTEL_TRACES_EXPORTER=none OTEL_METRICS_EXPORTER=none OTEL_LOGS_EXPORTER=none"
    ]


class _Flaky(SpanExporter):
    """An exporter whose collector is down, then answers, then is down again."""

    def __init__(self, results: list[SpanExportResult]) -> None:
        self.results = results

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self.results.pop(0)


def test_each_outage_of_a_user_set_endpoint_is_one_line(caplog: pytest.LogCaptureFixture) -> None:
    down, up = SpanExportResult.FAILURE, SpanExportResult.SUCCESS
    where = Target(f"http://127.0.0.1:{closed_port()}", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    exporter = GuardedSpanExporter(_Flaky([down, down, down, up, up, down, down]), where)

    with caplog.at_level("WARNING", logger="agentotel"):
        results = [exporter.export([]) for _ in range(7)]

    assert results == [down, down, down, up, up, down, down]
    assert caplog.messages == 2 * [
        f"agentotel: no OpenTelemetry collector answers at {where.where} "
        "(OTEL_EXPORTER_OTLP_TRACES_ENDPOINT): traces are dropped until it does (each batch is retried "
        "quietly first). Turn this off with OTEL_TRACES_EXPORTER=none"
    ]


def test_logs_follow_traces_when_traces_and_metrics_are_switched_off(tmp_path: Path) -> None:
    env = _env(None, AGENTOTEL_AUDIT_PATH=str(tmp_path / "audit.jsonl"))
    proc = subprocess.run(
        [
            str(BIN / "opentelemetry-instrument"),
            "--traces_exporter",
            "none",
            "--metrics_exporter",
            "none",
            "python",
            str(APP),
            "state",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert (proc.returncode, _lines(proc.stderr)) == (0, [])
    assert json.loads(proc.stdout)["logs_exporter"] == "none"
    assert len((tmp_path / "audit.jsonl").read_text().splitlines()) == 1


# --- OTEL_SDK_DISABLED ---------------------------------------------------------------------------
def test_otel_sdk_disabled_creates_no_file_no_port_no_thread(tmp_path: Path) -> None:
    port = closed_port()
    env = _env(
        None,
        OTEL_SDK_DISABLED="true",
        AGENTOTEL_AUDIT_PATH=str(tmp_path / "audit" / "audit.jsonl"),
        AGENTOTEL_RUNS_DIR=str(tmp_path / "runs"),
        AGENTOTEL_METRICS_FILE=str(tmp_path / "agent.prom"),
        AGENTOTEL_METRICS_SERVER=f"127.0.0.1:{port}",
    )
    proc = _start(env, "state")
    returncode, stdout, stderr = _finish(proc)

    assert (returncode, _lines(stderr)) == (0, [])
    assert json.loads(stdout) == {"threads": ["MainThread"], "sigterm": "default", "logs_exporter": "otlp"}
    assert list(tmp_path.iterdir()) == []
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0


def test_otel_sdk_disabled_in_code_starts_nothing(tmp_path: Path) -> None:
    env = _env(
        None,
        OTEL_SDK_DISABLED="true",
        AGENTOTEL_AUDIT_PATH=str(tmp_path / "audit.jsonl"),
        AGENTOTEL_RUNS_DIR=str(tmp_path / "runs"),
    )
    code = (
        "import json, agentotel, shutdown_app\n"
        "agentotel.instrument()\n"
        "shutdown_app.rounds(1)\n"
        "print(json.dumps(shutdown_app.state()))\n"
    )
    env["PYTHONPATH"] = str(APP.parent)
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, check=False
    )

    assert (proc.returncode, proc.stderr) == (0, "")
    assert json.loads(proc.stdout) == {"threads": ["MainThread"], "sigterm": "default", "logs_exporter": None}
    assert list(tmp_path.iterdir()) == []


# --- /readyz as the environment wires it ----------------------------------------------------------
def test_readyz_follows_the_audit_and_run_store_writers_the_environment_attached(
    receiver: OTLPReceiver, tmp_path: Path
) -> None:
    audit = tmp_path / "audit.jsonl"
    port = free_port()
    env = _env(
        receiver.endpoint,
        AGENTOTEL_AUDIT_PATH=str(audit),
        AGENTOTEL_RUNS_DIR=str(tmp_path / "runs"),
        AGENTOTEL_METRICS_SERVER=f"127.0.0.1:{port}",
    )
    proc = subprocess.Popen(
        [str(BIN / "opentelemetry-instrument"), "python", str(APP), "on-stdin", "1"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None
    try:
        _wait_for_line(proc, "ready")

        def readyz() -> tuple[int, Any]:
            status, headers, body = get(f"http://127.0.0.1:{port}/readyz")
            assert headers["Content-Type"] == "application/json"
            return status, json.loads(body)

        assert readyz() == (
            200,
            {
                "status": "ready",
                "checks": {"audit": {"ok": True}, "exporters": {"ok": True}, "run_store": {"ok": True}},
            },
        )

        audit.unlink()
        proc.stdin.write("round\n")
        proc.stdin.flush()
        _wait_for_line(proc, "done")
        wait_until(lambda: readyz()[0] == 503, "/readyz to turn 503", timeout=30)
        reason = (
            f"the audit file {audit} was deleted or replaced while in use: records seq 1..1 went with it; "
            "a new file continues the chain (audit_gap seq 2)"
        )
        assert readyz() == (
            503,
            {
                "status": "not ready",
                "failing": {"audit": reason},
                "checks": {
                    "audit": {"ok": False, "reason": reason},
                    "exporters": {"ok": True},
                    "run_store": {"ok": True},
                },
            },
        )
    finally:
        returncode, _, stderr = _finish(proc)  # closes stdin: the app returns
    assert (returncode, _lines(stderr)) == (0, [f"agentotel: {reason}"])


# --- a busy metrics port -------------------------------------------------------------------------
def test_a_busy_metrics_port_is_one_line_and_everything_else_works(
    receiver: OTLPReceiver, tmp_path: Path
) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        env = _env(
            receiver.endpoint,
            AGENTOTEL_METRICS_SERVER=f"127.0.0.1:{port}",
            AGENTOTEL_AUDIT_PATH=str(tmp_path / "audit.jsonl"),
        )
        proc = _start(env, "exit", "1")
        _wait_for_line(proc, "end")
        returncode, _, stderr = _finish(proc)

    assert returncode == 0, stderr
    assert _lines(stderr) == [
        f"agentotel: AGENTOTEL_METRICS_SERVER=127.0.0.1:{port}: port {port} is in use "
        "([Errno 98] Address already in use); carrying on without /metrics, /healthz and /readyz"
    ]
    assert sorted(s.name for s in receiver.spans()) == ["execute_tool lookup", "invoke_agent shutdown"]
    assert len((tmp_path / "audit.jsonl").read_text().splitlines()) == 1


# --- in-process ----------------------------------------------------------------------------------
def test_a_malformed_shutdown_timeout_fails_at_start_up_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from opentelemetry.sdk.trace import TracerProvider

    from agentotel._wiring import wire
    from agentotel.config import ConfigError

    monkeypatch.setenv("AGENTOTEL_SHUTDOWN_TIMEOUT", "soon")
    provider = TracerProvider()
    try:
        with pytest.raises(ConfigError) as info:
            wire(provider)
    finally:
        provider.shutdown()

    assert str(info.value) == (
        "AGENTOTEL_SHUTDOWN_TIMEOUT='soon' is not valid: expected a number of seconds greater than 0"
    )


def test_a_sigterm_handler_installed_before_agentotel_is_kept() -> None:
    from agentotel import _sigterm

    def apps_own(signum: int, frame: object) -> None: ...

    previous = signal.signal(signal.SIGTERM, apps_own)
    try:
        assert _sigterm.install() is False
        assert signal.getsignal(signal.SIGTERM) is apps_own
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_the_sigterm_handler_is_installed_only_over_the_default() -> None:
    from agentotel import _sigterm

    previous = signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        assert _sigterm.install() is True
        assert _sigterm.installed()
    finally:
        signal.signal(signal.SIGTERM, previous)
        signal.set_wakeup_fd(-1)  # the watch's (its thread stays blocked on a pipe nobody writes)


def test_a_wakeup_fd_set_before_agentotel_is_kept() -> None:
    from agentotel import _sigterm

    apps_own, other_end = socket.socketpair()
    apps_own.setblocking(False)
    previous = signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.set_wakeup_fd(apps_own.fileno())
    try:
        assert _sigterm.install() is True
        assert signal.set_wakeup_fd(-1) == apps_own.fileno()
    finally:
        signal.signal(signal.SIGTERM, previous)
        signal.set_wakeup_fd(-1)
        apps_own.close()
        other_end.close()


FORKING_APP = """
import os, signal, sys, time
from agentotel import _sigterm
assert _sigterm.install()
child = os.fork()
if child == 0:
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(10)
    os._exit(0)
_, status = os.waitpid(child, 0)
time.sleep(2)  # long enough for a watch that took the child's signal to kill this process
print(os.waitstatus_to_exitcode(status), "alive", flush=True)
"""


def test_a_forked_childs_sigterm_does_not_reach_the_parents_watch() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", FORKING_APP], capture_output=True, text=True, timeout=60, env=_env(None)
    )

    assert (proc.returncode, proc.stdout, proc.stderr) == (0, f"{-signal.SIGTERM} alive\n", "")
