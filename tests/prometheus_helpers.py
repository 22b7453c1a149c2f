"""Reading Prometheus expositions and running subprocesses for the Prometheus tests.

``scrape()`` is real HTTP; ``families()`` parses with ``prometheus_client``'s own parsers (text
0.0.4 and OpenMetrics); ``total()`` sums the samples of one name whose labels include the given
ones, as ``sum(name{...})`` would in PromQL.
"""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from prometheus_client.metrics_core import Metric
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families as parse_text

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
APP = Path(__file__).resolve().parent / "prometheus_app.py"
OPENMETRICS = "application/openmetrics-text; version=1.0.0"


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def get(url: str, accept: str | None = None, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) of one HTTP request; error statuses are returned, not raised."""
    request = urllib.request.Request(url, method=method, headers={"Accept": accept} if accept else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def families(body: bytes, openmetrics: bool = False) -> list[Metric]:
    """The metric families of an exposition."""
    text = body.decode("utf-8")
    return list(parse_openmetrics(text) if openmetrics else parse_text(text))


def total(found: Iterable[Metric], sample: str, **labels: str) -> float | None:
    """Sum of the samples named ``sample`` whose labels include ``labels``; None if there is none."""
    values = [
        s.value
        for family in found
        for s in family.samples
        if s.name == sample and all(s.labels.get(k) == v for k, v in labels.items())
    ]
    return sum(values) if values else None


def by_label(found: Iterable[Metric], sample: str, label: str, **labels: str) -> dict[str, float]:
    """``sum by (label) (sample{labels})``."""
    result: dict[str, float] = {}
    for family in found:
        for s in family.samples:
            if s.name == sample and all(s.labels.get(k) == v for k, v in labels.items()):
                result[s.labels.get(label, "")] = result.get(s.labels.get(label, ""), 0.0) + s.value
    return result


def names(found: Iterable[Metric]) -> set[str]:
    """Every sample name (``x_bucket``, ``x_count``, ``x_total``...)."""
    return {s.name for family in found for s in family.samples}


def listening_addresses(port: int) -> set[str]:
    """The local IPv4/IPv6 addresses with a socket listening on ``port`` (from /proc/net/tcp*)."""
    found: set[str] = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            address, port_hex = local.split(":")
            if state != "0A" or int(port_hex, 16) != port:  # 0A = LISTEN
                continue
            if width == 8:
                found.add(socket.inet_ntop(socket.AF_INET, bytes.fromhex(address)[::-1]))
            else:
                raw = b"".join(bytes.fromhex(address[i : i + 8])[::-1] for i in range(0, 32, 8))
                found.add(socket.inet_ntop(socket.AF_INET6, raw))
    return found


def app_env(**extra: str) -> dict[str, str]:
    """The environment of ``prometheus_app.py`` under ``opentelemetry-instrument``: no OTLP
    export, nothing inherited from the test runner's OTEL_/AGENTOTEL_ settings."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OTEL_", "AGENTOTEL_"))
        and k not in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_BASE_URL")
    }
    env.update(
        PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        OTEL_TRACES_EXPORTER="none",
        OTEL_METRICS_EXPORTER="none",
        OTEL_LOGS_EXPORTER="none",
        OTEL_SERVICE_NAME="agentotel-prometheus-test",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


class App:
    """``opentelemetry-instrument python tests/prometheus_app.py ARGS``; :meth:`start` returns once
    it printed ``ready`` (its agent has run). It lives until :meth:`stop` closes its stdin."""

    def __init__(self, *args: str, **env: str) -> None:
        self.args = args
        self.env = app_env(**env)
        self._stderr = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed by stop())
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> App:
        self.proc = subprocess.Popen(
            [str(BIN / "opentelemetry-instrument"), "python", str(APP), *self.args],
            cwd=ROOT,
            env=self.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
        )
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], 120)
        line = self.proc.stdout.readline() if ready else ""
        if line.strip() != "ready":
            raise AssertionError(f"the app did not get ready: {line!r}\n{self.stop()}")
        return self

    def stop(self) -> str:
        """Close the app's stdin and wait for it to exit; returns its stderr."""
        if self.proc is not None:
            if self.proc.stdin is not None and not self.proc.stdin.closed:
                self.proc.stdin.close()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            if self.proc.stdout is not None:
                self.proc.stdout.close()
        if self._stderr.closed:
            return ""
        self._stderr.seek(0)
        text = self._stderr.read()
        self._stderr.close()
        return text

    @property
    def returncode(self) -> int | None:
        return None if self.proc is None else self.proc.returncode


def wait_until(predicate: Any, what: str, timeout: float = 60.0) -> Any:
    """Poll ``predicate()`` until it returns something truthy (returned); fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.1)


# Every metric agentotel exposes, as Prometheus names it: histogram families (each with _bucket,
# _count and _sum samples), counters (their _total sample) and gauges. test_real_prometheus.py
# checks the names of a real scrape against these; docs/operations.md lists them.
HISTOGRAMS = (
    "gen_ai_client_token_usage",
    "gen_ai_client_operation_duration_seconds",
    "gen_ai_client_operation_time_to_first_chunk_seconds",
    "gen_ai_client_operation_time_per_output_chunk_seconds",
    "agentotel_tool_duration_seconds",
    "agentotel_workflow_duration_seconds",
    "agentotel_step_duration_seconds",
    "agentotel_session_messages",
    "agentotel_context_fragments",
    "agentotel_context_budget_utilization",
    "agentotel_context_duration_seconds",
    "mcp_client_operation_duration_seconds",
    "mcp_server_operation_duration_seconds",
    "mcp_client_session_duration_seconds",
    "mcp_server_session_duration_seconds",
)
COUNTERS = (
    "agentotel_llm_cost_usd_total",
    "agentotel_llm_cost_unpriced_total",
    "agentotel_session_count_total",
    "agentotel_guard_decisions_total",
    "agentotel_approval_decisions_total",
    "agentotel_telemetry_errors_total",
    "agentotel_telemetry_dropped_total",
)
GAUGES = ("agentotel_workflow_active", "agentotel_session_active", "target_info")
EXPOSED = frozenset(
    [f"{h}{suffix}" for h in HISTOGRAMS for suffix in ("_bucket", "_count", "_sum")] + [*COUNTERS, *GAUGES]
)

# The same under OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental (docs/conventions.md): the
# GenAI client metrics renamed and split, the token counters, the agent/tool/workflow metrics of
# the conventions in place of agentotel.tool.duration (agentotel.workflow.duration stays, for plans;
# gen_ai.client.operation.duration for operations neither inference nor embeddings, e.g. rerank).
_RENAMED = {
    "gen_ai_client_token_usage",
    "gen_ai_client_operation_time_to_first_chunk_seconds",
    "gen_ai_client_operation_time_per_output_chunk_seconds",
    "agentotel_tool_duration_seconds",
}
HISTOGRAMS_LATEST = (
    "gen_ai_client_inference_duration_seconds",
    "gen_ai_client_inference_time_to_first_chunk_seconds",
    "gen_ai_client_inference_time_per_output_chunk_seconds",
    "gen_ai_client_inference_operation_input_tokens",
    "gen_ai_client_inference_operation_output_tokens",
    "gen_ai_client_embeddings_duration_seconds",
    "gen_ai_client_embeddings_operation_input_tokens",
    "gen_ai_execute_tool_duration_seconds",
    "gen_ai_invoke_agent_duration_seconds",
    "gen_ai_invoke_agent_inference_calls",
    "gen_ai_invoke_agent_tool_calls",
    "gen_ai_invoke_workflow_duration_seconds",
    *(h for h in HISTOGRAMS if h not in _RENAMED),
)
COUNTERS_LATEST = (
    "gen_ai_client_inference_usage_input_tokens_total",
    "gen_ai_client_inference_usage_output_tokens_total",
    "gen_ai_client_inference_usage_cache_read_input_tokens_total",
    "gen_ai_client_inference_usage_cache_write_input_tokens_total",
    "gen_ai_client_inference_usage_reasoning_output_tokens_total",
    *COUNTERS,
)
EXPOSED_LATEST = frozenset(
    [f"{h}{suffix}" for h in HISTOGRAMS_LATEST for suffix in ("_bucket", "_count", "_sum")]
    + [*COUNTERS_LATEST, *GAUGES]
)

DASHBOARD = ROOT / "collector-config" / "grafana" / "dashboards" / "agentotel.json"
DASHBOARD_LATEST = ROOT / "collector-config" / "grafana" / "dashboards" / "agentotel-latest.json"


def dashboard_queries(path: Path = DASHBOARD) -> list[str]:
    """The PromQL of every target of every panel of a Grafana dashboard, in panel order."""
    panels = json.loads(path.read_text(encoding="utf-8"))["panels"]
    return [target["expr"] for panel in panels for target in panel.get("targets", [])]
