"""``agentotel top`` and ``agentotel tools report`` against a real ``/metrics`` endpoint and a run store.

The endpoint is ``prometheus_client``'s ``/metrics`` handler on 127.0.0.1, serving the registry an
OpenTelemetry ``PrometheusMetricReader`` fills from instrumented OpenAI calls (the fake LLM server)
and agent-layer tools and workflows. Durations there are real, so only counts, rates, success rates
and scores are checked exactly; the run-store tests read hand-made runs with fixed durations. Every
test of that page runs in both convention modes (docs/conventions.md): the default one, and
``OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental``, whose metric names differ; the
commands show the same.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
from helpers import GPT, QUESTION, LocalHTTPServer, closed_port, serve_in_background, stop_serving, user
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CollectorRegistry, MetricsHandler
from prometheus_client.parser import text_string_to_metric_families
from runstore_helpers import (
    INFO_A,
    INFO_B,
    INFO_C,
    events_a,
    events_b,
    events_c,
    run_ids,
    run_store,
    write_run,
)

import agentotel
from agentotel._telemetry import telemetry_for
from agentotel.agent import configure
from agentotel.agent._layer import reset
from agentotel.cli import _top as top_cli
from agentotel.cli import main
from agentotel.cli._board import Targets
from agentotel.cli._sources import RunStoreSource
from agentotel.instrumentation.openai import OpenAIInstrumentor
from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture


def agentotel_cli(*argv: str) -> int:
    """``agentotel ARGV``."""
    return main(list(argv))


@pytest.fixture(autouse=True)
def wide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str], str]:
    """Exit code, stdout lines (right-stripped) and stderr."""
    code = agentotel_cli(*argv)
    out, err = capsys.readouterr()
    return code, [line.rstrip() for line in out.splitlines()], err


def row(lines: list[str], first: str, second: str | None = None) -> list[str]:
    """The fields of the line whose first (and second) field are given."""
    for line in lines:
        fields = line.split()
        if fields[:1] == [first] and (second is None or fields[1:2] == [second]):
            return fields
    raise AssertionError(f"no line {first} {second or ''} in {lines}")


def exported_cost(url: str, model: str) -> float:
    """The sum of the ``agentotel_llm_cost_usd_total`` series of ``model`` on the page."""
    with urllib.request.urlopen(url, timeout=5) as response:
        text = response.read().decode()
    cost = sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "agentotel_llm_cost_usd_total" and sample.labels["gen_ai_request_model"] == model
    )
    assert cost > 0, "gpt-4o has a price"
    return float(cost)


# --- a process exposing our metrics ---------------------------------------------------------------
@pytest.fixture(params=[False, True], ids=["default", "latest"])
def latest(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    """The convention mode of the process (read when its telemetry is set up)."""
    if request.param:
        monkeypatch.setenv("OTEL_SEMCONV_STABILITY_OPT_IN", "gen_ai_latest_experimental")
    else:
        monkeypatch.delenv("OTEL_SEMCONV_STABILITY_OPT_IN", raising=False)
    return bool(request.param)


@pytest.fixture
def metrics_url(fake_llm: FakeLLMServer, latest: bool) -> Iterator[str]:
    """/metrics of a "process" that made 3 good and 1 rate-limited gpt-4o calls and ran the
    ``research`` workflow: ``search`` 3 times ok and once failing, ``lookup`` twice."""
    registry = CollectorRegistry()
    reader = PrometheusMetricReader(registry=registry)
    meter_provider = MeterProvider(metric_readers=[reader])
    tracer_provider = TracerProvider()
    instrumentor = OpenAIInstrumentor()
    instrumentor.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
    configure(tracer_provider=tracer_provider, meter_provider=meter_provider)
    # prometheus_client's own start_http_server polls for shut-down every 0.5 s: serve its handler
    # from a server that polls every 0.05 s.
    server = LocalHTTPServer(MetricsHandler.factory(registry))
    thread = serve_in_background(server, "metrics")
    try:
        client = openai.OpenAI(base_url=fake_llm.openai_base_url, api_key="sk-test", max_retries=0)
        with agentotel.workflow("research"):
            for _ in range(3):
                client.chat.completions.create(model=GPT, messages=user(QUESTION))
            with pytest.raises(openai.RateLimitError):
                client.chat.completions.create(
                    model=GPT, messages=user(f"{QUESTION} [[scenario:rate_limit]]")
                )
            for _ in range(3):
                with agentotel.tool("search"):
                    pass
            with pytest.raises(ValueError), agentotel.tool("search"):
                raise ValueError("no results")
            for _ in range(2):
                with agentotel.tool("lookup"):
                    pass
        yield f"http://127.0.0.1:{server.server_port}/metrics"
    finally:
        stop_serving(server, thread)
        reset()
        instrumentor.uninstrument()
        meter_provider.shutdown()
        tracer_provider.shutdown()


# The metric families of each mode that the commands read (Prometheus names; counters without _total).
DEFAULT_FAMILIES = {
    "gen_ai_client_operation_duration_seconds",
    "gen_ai_client_token_usage",
    "agentotel_tool_duration_seconds",
    "agentotel_workflow_duration_seconds",
}
LATEST_FAMILIES = {
    "gen_ai_client_inference_duration_seconds",
    "gen_ai_client_inference_usage_input_tokens",
    "gen_ai_client_inference_usage_output_tokens",
    "gen_ai_execute_tool_duration_seconds",
    "gen_ai_invoke_workflow_duration_seconds",
}


def test_the_page_has_the_metric_names_of_its_mode(metrics_url: str, latest: bool) -> None:
    with urllib.request.urlopen(metrics_url, timeout=5) as response:
        families = {f.name for f in text_string_to_metric_families(response.read().decode()) if f.samples}
    own, other = (LATEST_FAMILIES, DEFAULT_FAMILIES) if latest else (DEFAULT_FAMILIES, LATEST_FAMILIES)
    assert own <= families
    assert not other & families


def test_tools_report_json(metrics_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, lines, err = run(capsys, "tools", "report", "--url", metrics_url, "--json")
    assert (code, err) == (0, "")
    document: dict[str, Any] = json.loads("\n".join(lines))
    assert document["source"] == metrics_url
    search, lookup = document["tools"]
    assert {k: search[k] for k in ("tool", "calls", "failures", "calls_per_s", "success_rate")} == {
        "tool": "search",
        "calls": 4,
        "failures": 1,
        "calls_per_s": None,
        "success_rate": 0.75,
    }
    # One read and no target: the tool is its own target, speed 1, score 0.8 * 0.75 + 0.2.
    assert (search["target_p95_s"], search["speed"], search["reliability"]) == (search["p95_s"], 1.0, 0.8)
    assert search["p50_s"] <= search["p95_s"] <= search["p99_s"]
    assert (lookup["tool"], lookup["calls"], lookup["success_rate"], lookup["reliability"]) == (
        "lookup",
        2,
        1.0,
        1.0,
    )


def test_tools_report_with_a_target_the_tools_beat(
    metrics_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Every call of these empty tools took far less than the highest bucket bound (300 s).
    code, lines, _ = run(capsys, "tools", "report", "--url", metrics_url, "--json", "--p95-target", "300")
    assert code == 0
    search, lookup = json.loads("\n".join(lines))["tools"]
    assert (search["target_p95_s"], search["speed"], search["reliability"]) == (300.0, 1.0, 0.8)
    assert (lookup["target_p95_s"], lookup["speed"], lookup["reliability"]) == (300.0, 1.0, 1.0)


def test_tools_report_text(metrics_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, lines, _ = run(capsys, "tools", "report", "--url", metrics_url)
    assert code == 0
    assert lines[0] == "tools"
    assert lines[1].split() == [
        "tool", "calls", "calls/s", "success", "p50", "p95", "p99", "target", "p95", "speed", "score"
    ]  # fmt: skip
    assert row(lines, "search")[:4] == ["search", "4", "-", "75.0%"]
    assert row(lines, "search")[-2:] == ["1.00", "0.80"]
    assert row(lines, "lookup")[:4] + row(lines, "lookup")[-2:] == [
        "lookup",
        "2",
        "-",
        "100.0%",
        "1.00",
        "1.00",
    ]


def test_top_once(metrics_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    with agentotel.workflow("background"):  # running while the dashboard reads
        code, lines, err = run(capsys, "top", "--once", "--url", metrics_url)
    assert (code, err) == (0, "")
    assert re.fullmatch(
        rf"agentotel top  {re.escape(metrics_url)}  \d\d:\d\d:\d\d UTC  rates need two reads", lines[0]
    )
    assert lines[1].startswith("requests/s -  tokens/s -  cost ")
    assert lines[1].endswith("  active workflows 1")
    # provider, model, requests, req/s, errors, tokens in/out (6 + 6 per good call), tok/s, cost
    assert row(lines, "openai", GPT)[:7] == ["openai", GPT, "4", "-", "1", "18/18", "-"]
    assert row(lines, "openai", GPT)[7] == f"${exported_cost(metrics_url, GPT):.6f}"
    assert row(lines, "search")[:4] + row(lines, "search")[-2:] == [
        "search",
        "4",
        "-",
        "75.0%",
        "1.00",
        "0.80",
    ]
    assert row(lines, "invoke_workflow", "background")[2:5] == ["1", "0", "0"]
    assert row(lines, "invoke_workflow", "research")[2:5] == ["0", "1", "0"]
    errors = [line.split()[2:] for line in lines if line.startswith("since start")]
    assert errors == [["llm", GPT, "openai.RateLimitError", "1"], ["tool", "search", "ValueError", "1"]]


def test_top_live_refreshes_until_interrupted(
    metrics_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pauses: list[float] = []

    def sleep(seconds: float) -> None:
        pauses.append(seconds)
        if len(pauses) == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(top_cli, "_sleep", sleep)
    code, lines, err = run(capsys, "top", "--url", metrics_url, "--interval", "0.5")
    assert (code, err, pauses) == (0, "", [0.5, 0.5, 0.5])
    # The last frame has rates: nothing happened between the reads.
    assert row(lines, "openai", GPT)[:7] == ["openai", GPT, "4", "0.00", "1", "18/18", "0.00"]
    assert row(lines, "search")[:3] == ["search", "4", "0.00"]


def test_top_live_shows_a_status_line_while_the_url_is_unreachable(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def sleep(seconds: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(top_cli, "_sleep", sleep)
    url = f"http://127.0.0.1:{closed_port()}/metrics"
    code, lines, err = run(capsys, "top", "--url", url)
    assert (code, err) == (0, "")
    assert lines[2].startswith(f"cannot scrape {url}: ")
    assert lines[2].endswith(" (retrying)")
    assert "models: no LLM calls yet" in lines


# --- errors ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("command", [("top", "--once"), ("tools", "report")])
def test_an_unreachable_url_is_a_one_line_error(
    command: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"http://127.0.0.1:{closed_port()}/metrics"
    code, lines, err = run(capsys, *command, "--url", url)
    assert (code, lines) == (1, [])
    assert err.startswith(f"error: cannot scrape {url}: ")
    assert "refused" in err.lower()
    assert err.count("\n") == 1 and err.endswith("\n")


def test_a_page_that_is_not_there_is_a_one_line_error(
    fake_llm: FakeLLMServer, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"{fake_llm.openai_base_url.rstrip('/')}/no-metrics-here"
    code, _, err = run(capsys, "tools", "report", "--url", url)
    assert code == 1
    assert err == f"error: cannot scrape {url}: HTTP 404 Not Found\n"


def test_a_bad_p95_target_is_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "tools", "report", "--p95-target", "fast")
    assert (code, err) == (1, "error: bad --p95-target 'fast': use NAME=SECONDS or SECONDS (> 0)\n")


# --- a run store ----------------------------------------------------------------------------------
@pytest.fixture
def store(tmp_path: Path) -> Path:
    """Run A: an agent round (gpt-4o 400 ms and 800 ms; get_weather ok 12 ms, broken failed 1 ms);
    run B: a failed workflow (search TimeoutError 20 ms); run C, still running: search ok 3 ms."""
    root = tmp_path / "runs"
    write_run(root, INFO_A, events_a())
    write_run(root, INFO_B, events_b())
    write_run(root, INFO_C, events_c(), running=True)
    return root


def test_tools_report_from_a_run_store(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, lines, err = run(capsys, "tools", "report", "--runs", str(store), "--json")
    assert (code, err) == (0, "")
    search, broken, weather = json.loads("\n".join(lines))["tools"]
    # search: 3 ms in (0.0025, 0.005], 20 ms in (0.01, 0.025] of the tool buckets.
    p95 = 0.01 + (0.025 - 0.01) * ((0.95 * 2 - 1) / 1)
    assert search == {
        "tool": "search",
        "calls": 2,
        "failures": 1,
        "calls_per_s": None,
        "success_rate": 0.5,
        "p50_s": 0.0025 + (0.005 - 0.0025) * ((1 - 0) / 1),
        "p95_s": p95,
        "p99_s": 0.01 + (0.025 - 0.01) * ((0.99 * 2 - 1) / 1),
        "target_p95_s": p95,
        "observed_p95_s": p95,
        "speed": 1.0,
        "reliability": 0.6,
    }
    assert (broken["tool"], broken["success_rate"], broken["reliability"]) == ("broken", 0.0, 0.2)
    assert (weather["tool"], weather["success_rate"], weather["reliability"]) == ("get_weather", 1.0, 1.0)


def test_top_once_from_a_run_store(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, lines, err = run(capsys, "top", "--once", "--runs", str(store))
    assert (code, err) == (0, "")
    assert lines[0].startswith(f"agentotel top  {store}  ")
    assert lines[1] == "requests/s -  tokens/s -  cost $0.000300  active workflows 1"
    # gpt-4o: 400 ms in (0.32, 0.64], 800 ms in (0.64, 1.28]: p50 640 ms, p95 0.64 + 0.64 * 0.9 s
    assert row(lines, "openai", GPT) == [
        "openai", GPT, "2", "-", "0", "18/8", "-", "$0.000300", "640.0", "ms", "1.22", "s"
    ]  # fmt: skip
    assert row(lines, "invoke_agent", "live")[2:5] == ["1", "0", "0"]
    assert row(lines, "invoke_agent", "helper")[2:5] == ["0", "1", "0"]
    errors = [line.split()[2:] for line in lines if line.startswith("since start")]
    assert errors == [
        ["tool", "broken", "ValueError", "1"],
        ["tool", "search", "TimeoutError", "1"],
        ["workflow", "-", "TimeoutError", "1"],
    ]


def test_a_missing_run_store_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "top", "--once", "--runs", str(tmp_path / "nowhere"))
    assert code == 1
    assert err == f"error: no runs directory at {tmp_path / 'nowhere'}\n"


def test_run_store_rates_stay_right_once_the_store_deletes_old_runs(
    latest: bool, agent_layer: TelemetryCapture, tmp_path: Path
) -> None:
    """The store keeps 2 runs: the third run deletes the first, whose calls still count, so the
    rates are the third run's calls over the 10 s between the reads, and its error is new. The
    same in both convention modes (the agent layer reads the mode when it first records)."""
    times = iter([100.0, 110.0])
    monitor = top_cli.Monitor(RunStoreSource(tmp_path, clock=lambda: next(times)), Targets())

    @agentotel.tool()
    def search(query: str) -> str:
        return "found"

    @agentotel.tool()
    def broken() -> None:
        raise ValueError("boom")

    def agent_round() -> None:
        with agentotel.agent("helper"):
            search("lunch")
            with pytest.raises(ValueError):
                broken()

    with run_store(agent_layer, tmp_path, keep=2) as processor:
        agent_round()
        agent_round()
        assert processor.force_flush()
        first = monitor.tick()
        agent_round()
        assert processor.force_flush()
    assert len(run_ids(tmp_path)) == 2
    frame = monitor.tick()
    assert [(t.name, t.calls, t.calls_per_s) for t in first.tools] == [
        ("broken", 2, None),
        ("search", 2, None),
    ]
    assert [(t.name, t.calls, t.failures, t.calls_per_s) for t in frame.tools] == [
        ("broken", 3, 3, 0.1),
        ("search", 3, 0, 0.1),
    ]
    assert [(w.operation, w.name, w.runs) for w in frame.workflows] == [("invoke_agent", "helper", 3)]
    assert telemetry_for(**agent_layer.providers).conventions.latest is latest
    assert [(e.source, e.subject, e.error_type, e.count, e.at) for e in frame.errors] == [
        ("tool", "broken", "ValueError", 1, 110.0),
        ("tool", "broken", "ValueError", 2, None),
    ]


def test_a_run_being_rewritten_keeps_counting_what_it_had(tmp_path: Path) -> None:
    """A run that cannot be read this time (its summary half written) is not left out: the counts
    it had at the last read stay in, so no counter goes down."""
    write_run(tmp_path, INFO_A, events_a())
    times = iter([100.0, 110.0])
    source = RunStoreSource(tmp_path, clock=lambda: next(times))
    before = source.snapshot()
    (tmp_path / INFO_A.run_id / "summary.json").write_text("{half")
    after = source.snapshot()
    assert after.tools == before.tools
    assert after.llm == before.llm
    assert after.time == 110.0


def test_q_quits_top_on_a_terminal(store: Path) -> None:
    """``agentotel top`` in a pseudo-terminal: typing ``q`` ends it, and the terminal's settings
    (echo, line mode) are as they were."""
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 200, 120, 0, 0))
    before = termios.tcgetattr(terminal)
    # The terminal becomes the controlling terminal of top's own session, as in a shell.
    as_in_a_shell = (
        "import fcntl, os, sys, termios; os.setsid(); fcntl.ioctl(0, termios.TIOCSCTTY, 0); "
        "os.execv(sys.executable, [sys.executable, '-m', 'agentotel.cli', *sys.argv[1:]])"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", as_in_a_shell, "top", "--runs", str(store), "--interval", "0.2"],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        # pytest-xdist workers inherit LINES=24: a screen cut short ends in "..." instead of its
        # last table (recent errors), so the terminal and LINES both say 200.
        env={**os.environ, "TERM": "xterm", "COLUMNS": "120", "LINES": "200"},
    )
    try:
        shown = read_terminal(controller, process, until=b"recent errors")
        os.write(controller, b"q")
        shown += read_terminal(controller, process)
        code = process.wait(timeout=5)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    after = termios.tcgetattr(terminal)
    os.close(controller)
    os.close(terminal)
    assert code == 0, shown.decode(errors="replace")
    assert after == before


def read_terminal(controller: int, process: subprocess.Popen[bytes], until: bytes | None = None) -> bytes:
    """What the pseudo-terminal shows until ``until`` appears, or else until the process ends
    (an AssertionError after 30 s)."""
    shown = b""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        ready, _, _ = select.select([controller], [], [], 0.1)
        if ready:
            shown += os.read(controller, 65536)
            if until is not None and until in shown:
                return shown
        elif until is None and process.poll() is not None:
            return shown
    raise AssertionError(f"still running, waiting for {until!r}; shown: {shown[-500:]!r}")


def test_q_quits_top_from_a_pipe(
    store: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def sleep(seconds: float) -> None:
        raise AssertionError("waited without reading the keys")

    monkeypatch.setattr(top_cli, "_sleep", sleep)
    reader, writer = os.pipe()
    os.write(writer, b"q")
    with os.fdopen(reader) as stdin:
        monkeypatch.setattr("sys.stdin", stdin)
        code, lines, err = run(capsys, "top", "--runs", str(store))
    os.close(writer)
    assert (code, err) == (0, "")
    assert lines[0].startswith(f"agentotel top  {store}  ")


def test_top_goes_on_after_the_end_of_its_input(
    store: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing more to read (``< /dev/null``): it refreshes every interval until Ctrl-C."""
    pauses: list[float] = []

    def sleep(seconds: float) -> None:
        pauses.append(seconds)
        if len(pauses) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(top_cli, "_sleep", sleep)
    with open(os.devnull) as stdin:
        monkeypatch.setattr("sys.stdin", stdin)
        code, _, err = run(capsys, "top", "--runs", str(store), "--interval", "0.5")
    assert (code, err, pauses) == (0, "", [0.5, 0.5])
