"""A real Prometheus server scrapes a real agent.

The planner agent (``examples/planner.py``) runs under ``opentelemetry-instrument`` against the
fake LLM server, with ``AGENTOTEL_METRICS_SERVER`` on a free 127.0.0.1 port. Debian's
``prometheus`` 2.42 (installed by the test set-up: ``apt-get install -y prometheus``) is started
on another free 127.0.0.1 port with a scrape interval of 250 ms and collector-config/rules.yml
loaded; once it has scraped, PromQL through its HTTP API must give the agent's exact token and
tool-call counts, and the recording rules must evaluate without error over the real series.

The planner's run: a session of two rounds; the first makes two ``gpt-4o-mini`` chat calls
(70 input, 8 output tokens), runs search_docs, get_weather, book_table twice (the first raises
TimeoutError) and venue_info over MCP (one client and one server span); the guard blocks the
second round.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_helpers import EXPOSED, ROOT, App, dashboard_queries, free_port, get, wait_until

from agentotel.config import METRICS_SERVER

PLANNER_NAMES = EXPOSED - {
    # Not recorded by the planner's run: no stream, no unpriced model, no error or drop of ours.
    "gen_ai_client_operation_time_to_first_chunk_seconds_bucket",
    "gen_ai_client_operation_time_to_first_chunk_seconds_count",
    "gen_ai_client_operation_time_to_first_chunk_seconds_sum",
    "gen_ai_client_operation_time_per_output_chunk_seconds_bucket",
    "gen_ai_client_operation_time_per_output_chunk_seconds_count",
    "gen_ai_client_operation_time_per_output_chunk_seconds_sum",
    "agentotel_llm_cost_unpriced_total",
    "agentotel_telemetry_errors_total",
    "agentotel_telemetry_dropped_total",
    # The planner's MCP client and server talk the 2026-07-28 revision in process: no session.
    *(
        f"mcp_{side}_session_duration_seconds_{s}"
        for side in ("client", "server")
        for s in ("bucket", "count", "sum")
    ),
}
SCRAPE_INTERVAL = "250ms"


class Prometheus:
    """``prometheus`` on 127.0.0.1:<free port>, scraping every 250 ms the targets :meth:`scrape` names.

    Targets come from a file (``file_sd_configs``), so Prometheus can start before the agent: it
    takes about 5 s to hand a new target to its scraper (its discovery and scrape managers act on
    5 s ticks), which the agent's start-up then overlaps, and it never scrapes an agent that has not
    finished its run.
    """

    def __init__(self, binary: str, folder: Path, rules: str = "rules.yml") -> None:
        shutil.copy(ROOT / "collector-config" / rules, folder / "rules.yml")
        self._targets = folder / "targets.json"
        config = {
            "global": {"scrape_interval": SCRAPE_INTERVAL, "evaluation_interval": SCRAPE_INTERVAL},
            "rule_files": ["rules.yml"],
            "scrape_configs": [
                {
                    "job_name": "agent",
                    "scrape_timeout": SCRAPE_INTERVAL,
                    "file_sd_configs": [{"files": [str(self._targets)]}],
                }
            ],
        }
        (folder / "prometheus.yml").write_text(yaml.safe_dump(config))
        self.url = f"http://127.0.0.1:{free_port()}"
        self._log = (folder / "prometheus.log").open("w")
        self.proc = subprocess.Popen(
            [
                binary,
                f"--config.file={folder / 'prometheus.yml'}",
                f"--storage.tsdb.path={folder / 'data'}",
                f"--web.listen-address={self.url.removeprefix('http://')}",
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def scrape(self, target: str) -> None:
        """Start scraping ``target`` (host:port); the file is replaced whole, as file discovery wants."""
        partial = self._targets.with_suffix(".tmp")
        partial.write_text(json.dumps([{"targets": [target]}]))
        partial.replace(self._targets)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._log.close()

    def api(self, path: str, **params: str) -> Any:
        status, _, body = get(f"{self.url}/api/v1/{path}?{urllib.parse.urlencode(params)}")
        document = json.loads(body)
        assert status == 200 and document["status"] == "success", document
        return document["data"]

    def query(self, promql: str) -> dict[str, float]:
        """An instant vector: the value of each series, keyed by its labels as ``k=v,...``."""
        result = self.api("query", query=promql)["result"]
        return {
            ",".join(f"{k}={v}" for k, v in sorted(r["metric"].items())): float(r["value"][1]) for r in result
        }


@pytest.fixture(scope="module")
def agent() -> str:
    """host:port of the planner's process, which serves agentotel's endpoint there."""
    return f"127.0.0.1:{free_port()}"


@pytest.fixture(scope="module")
def prometheus(agent: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prometheus]:
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.fail(
            "prometheus is missing: install Debian's prometheus package (apt-get install -y prometheus)"
        )
    server = Prometheus(binary, tmp_path_factory.mktemp("prometheus"))
    try:
        app = App("planner", "--attach", **{METRICS_SERVER: agent}).start()
        try:
            server.scrape(agent)  # the planner has run: its first scrape already holds every count
            wait_until(lambda: _ready(server), "Prometheus to start")
            wait_until(
                lambda: server.query('up{job="agent"}') and _planner_scraped(server), "a scrape of the agent"
            )
            yield server
        finally:
            stderr = app.stop()
        assert app.returncode == 0, stderr
    finally:
        server.stop()


def _ready(server: Prometheus) -> bool:
    if server.proc.poll() is not None:
        raise AssertionError(f"prometheus exited with {server.proc.returncode}")
    try:
        return get(f"{server.url}/-/ready")[0] == 200
    except OSError:
        return False


def _planner_scraped(server: Prometheus) -> bool:
    return bool(server.query('agentotel_session_count_total{job="agent"}'))


def test_prometheus_scrapes_the_agents_endpoint(prometheus: Prometheus, agent: str) -> None:
    [target] = prometheus.api("targets")["activeTargets"]

    assert target["health"] == "up"
    assert target["lastError"] == ""
    assert target["scrapeUrl"] == f"http://{agent}/metrics"
    assert prometheus.query('up{job="agent"}') == {f"__name__=up,instance={agent},job=agent": 1.0}


def test_token_counts_are_exact(prometheus: Prometheus) -> None:
    assert prometheus.query("sum by (gen_ai_token_type) (gen_ai_client_token_usage_sum)") == {
        "gen_ai_token_type=input": 70.0,
        "gen_ai_token_type=output": 8.0,
    }
    assert prometheus.query('sum(gen_ai_client_token_usage_count{gen_ai_token_type="input"})') == {"": 2.0}
    calls = 'sum by (gen_ai_request_model) (gen_ai_client_operation_duration_seconds_count{error_type=""})'
    assert prometheus.query(calls) == {"gen_ai_request_model=gpt-4o-mini": 2.0}


def test_tool_call_counts_are_exact(prometheus: Prometheus) -> None:
    calls = "sum by (gen_ai_tool_name, error_type) (agentotel_tool_duration_seconds_count)"

    assert prometheus.query(calls) == {
        # Prometheus stores an empty label as no label: successes have no error_type.
        "gen_ai_tool_name=search_docs": 1.0,
        "gen_ai_tool_name=get_weather": 1.0,
        "gen_ai_tool_name=book_table": 1.0,
        "error_type=TimeoutError,gen_ai_tool_name=book_table": 1.0,
        "gen_ai_tool_name=venue_info": 2.0,
    }
    assert prometheus.query('sum(agentotel_tool_duration_seconds_bucket{le="+Inf"})') == {"": 6.0}


def test_agent_decisions_are_counted(prometheus: Prometheus) -> None:
    guard = "sum by (agentotel_guard_outcome) (agentotel_guard_decisions_total)"

    assert prometheus.query(guard) == {
        "agentotel_guard_outcome=allowed": 1.0,
        "agentotel_guard_outcome=blocked": 1.0,
    }
    assert prometheus.query("sum by (agentotel_approval_outcome) (agentotel_approval_decisions_total)") == {
        "agentotel_approval_outcome=approved": 1.0
    }
    assert prometheus.query("sum(agentotel_session_count_total)") == {"": 1.0}


def test_the_exposed_names_are_the_documented_ones(prometheus: Prometheus) -> None:
    names = set(prometheus.api("label/__name__/values", **{"match[]": '{job="agent"}'}))

    # up and scrape_* are Prometheus' own series about the scrape.
    assert {n for n in names if n != "up" and not n.startswith("scrape_")} == PLANNER_NAMES


def test_the_recording_rules_evaluate_over_the_real_series(prometheus: Prometheus) -> None:
    def evaluated() -> list[dict[str, Any]]:
        rules = [r for g in prometheus.api("rules")["groups"] for r in g["rules"]]
        recording = [r for r in rules if r["type"] == "recording"]
        return recording if all(r["lastEvaluation"] != "0001-01-01T00:00:00Z" for r in rules) else []

    recording = wait_until(evaluated, "every rule to be evaluated once")
    assert {r["name"]: r["health"] for r in recording} == {r["name"]: "ok" for r in recording}
    # rate() needs two scrapes; the planner ran before the first, so the rates are 0.
    tokens = wait_until(
        lambda: prometheus.query("agentotel:llm_tokens:rate5m"), "agentotel:llm_tokens:rate5m"
    )
    assert set(tokens.values()) == {0.0}
    ratio = wait_until(
        lambda: prometheus.query("agentotel:tool_success_ratio:rate5m"), "agentotel:tool_success_ratio:rate5m"
    )
    assert sorted(ratio) == [
        f"__name__=agentotel:tool_success_ratio:rate5m,gen_ai_tool_name={name}"
        for name in ("book_table", "get_weather", "search_docs", "venue_info")
    ]
    firing = [a for a in prometheus.api("alerts")["alerts"] if a["state"] == "firing"]
    assert firing == []


def test_every_dashboard_query_shows_a_value_when_nothing_failed(prometheus: Prometheus) -> None:
    """The planner's run had no LLM error, no unpriced model and no error or drop of agentotel's own:
    their series do not exist, and the panels over them show 0 instead of "No data"."""
    # The last recording rule has a value once the rules ran over two scrapes (rate() needs two).
    wait_until(
        lambda: prometheus.query("agentotel:tool_latency_seconds:p95_5m"), "two scrapes under the rules"
    )
    wait_until(lambda: prometheus.query("rate(agentotel_session_count_total[1m])"), "two scrapes")
    values = {
        query: prometheus.query(query.replace("$__rate_interval", "1m")) for query in dashboard_queries()
    }

    assert [query for query, value in values.items() if not value] == []
    absent = [query for query in values if _names_absent_from_the_run(query)]
    # No call in the last 5 minutes either (the planner ran before the first scrape): the error
    # ratio is 0 errors / 0 calls.
    [ratio] = [query for query in absent if "/ sum(agentotel:llm_requests:rate5m)" in query]
    assert [(labels, math.isnan(value)) for labels, value in values.pop(ratio).items()] == [("", True)]
    absent.remove(ratio)
    assert len(absent) == 5
    assert {query: values[query] for query in absent} == {query: {"": 0.0} for query in absent}


def _names_absent_from_the_run(query: str) -> bool:
    absent = ("agentotel:llm_errors:rate5m", *(EXPOSED - PLANNER_NAMES))
    return any(name in query for name in absent)
