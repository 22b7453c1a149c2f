"""A real Prometheus scrapes a real agent in the latest convention mode, with rules.latest.yml.

As test_real_prometheus.py (same planner run, same Prometheus), with the agent run under
``OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental`` (docs/conventions.md) and
collector-config/rules.latest.yml loaded: the series have the latest metric names only, PromQL
gives the run's exact counts from them, every recording rule evaluates, and every query of the
``agentotel-latest`` dashboard shows a value.

The planner's run: a session of two rounds of the ``planner`` agent; the first makes two
``gpt-4o-mini`` chat calls (70 input, 8 output tokens) and runs search_docs, get_weather,
book_table twice (the first raises TimeoutError) and venue_info over MCP; the guard blocks the
second round before any call.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from prometheus_helpers import (
    DASHBOARD_LATEST,
    EXPOSED,
    EXPOSED_LATEST,
    App,
    dashboard_queries,
    free_port,
    wait_until,
)
from test_real_prometheus import Prometheus, _ready

from agentotel.config import METRICS_SERVER, SEMCONV_STABILITY_OPT_IN


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prometheus]:
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.fail(
            "prometheus is missing: install Debian's prometheus package (apt-get install -y prometheus)"
        )
    agent = f"127.0.0.1:{free_port()}"
    server = Prometheus(binary, tmp_path_factory.mktemp("prometheus"), rules="rules.latest.yml")
    try:
        env = {METRICS_SERVER: agent, SEMCONV_STABILITY_OPT_IN: "gen_ai_latest_experimental"}
        app = App("planner", "--attach", **env).start()
        try:
            server.scrape(agent)
            wait_until(lambda: _ready(server), "Prometheus to start")
            wait_until(
                lambda: server.query('agentotel_session_count_total{job="agent"}'), "a scrape of the agent"
            )
            yield server
        finally:
            stderr = app.stop()
        assert app.returncode == 0, stderr
    finally:
        server.stop()


def test_the_series_have_the_latest_names_only(prometheus: Prometheus) -> None:
    names = set(prometheus.api("label/__name__/values", **{"match[]": '{job="agent"}'}))
    exposed = {n for n in names if n != "up" and not n.startswith("scrape_")}

    assert exposed <= EXPOSED_LATEST
    assert {
        "gen_ai_client_inference_duration_seconds_count",
        "gen_ai_client_inference_usage_input_tokens_total",
        "gen_ai_client_inference_operation_input_tokens_count",
        "gen_ai_execute_tool_duration_seconds_count",
        "gen_ai_invoke_agent_duration_seconds_count",
        "gen_ai_invoke_agent_inference_calls_count",
        "gen_ai_invoke_agent_tool_calls_count",
        "agentotel_workflow_duration_seconds_count",  # the plan
    } <= exposed
    assert not exposed & (EXPOSED - EXPOSED_LATEST)


def test_token_and_call_counts_are_exact(prometheus: Prometheus) -> None:
    assert prometheus.query("sum(gen_ai_client_inference_usage_input_tokens_total)") == {"": 70.0}
    assert prometheus.query("sum(gen_ai_client_inference_usage_output_tokens_total)") == {"": 8.0}
    assert prometheus.query("sum(gen_ai_client_inference_operation_input_tokens_sum)") == {"": 70.0}
    calls = 'sum by (gen_ai_request_model) (gen_ai_client_inference_duration_seconds_count{error_type=""})'
    assert prometheus.query(calls) == {"gen_ai_request_model=gpt-4o-mini": 2.0}


def test_tool_and_agent_round_counts_are_exact(prometheus: Prometheus) -> None:
    calls = "sum by (gen_ai_tool_name, error_type) (gen_ai_execute_tool_duration_seconds_count)"

    assert prometheus.query(calls) == {
        "gen_ai_tool_name=search_docs": 1.0,
        "gen_ai_tool_name=get_weather": 1.0,
        "gen_ai_tool_name=book_table": 1.0,
        "error_type=TimeoutError,gen_ai_tool_name=book_table": 1.0,
        "gen_ai_tool_name=venue_info": 2.0,
    }
    rounds = "sum by (gen_ai_agent_name) (gen_ai_invoke_agent_duration_seconds_count)"
    assert prometheus.query(rounds) == {"gen_ai_agent_name=planner": 2.0}
    # The LLM calls the rounds made: two in the first, none in the blocked second.
    assert prometheus.query("sum(gen_ai_invoke_agent_inference_calls_sum)") == {"": 2.0}
    plans = "sum by (gen_ai_operation_name) (agentotel_workflow_duration_seconds_count)"
    assert prometheus.query(plans) == {"gen_ai_operation_name=plan": 1.0}


def test_the_latest_recording_rules_evaluate_over_the_real_series(prometheus: Prometheus) -> None:
    def evaluated() -> list[dict[str, object]]:
        rules = [r for g in prometheus.api("rules")["groups"] for r in g["rules"]]
        done = all(r["lastEvaluation"] != "0001-01-01T00:00:00Z" for r in rules)
        return [r for r in rules if r["type"] == "recording"] if done else []

    recording = wait_until(evaluated, "every rule to be evaluated once")
    assert {r["name"]: r["health"] for r in recording} == {r["name"]: "ok" for r in recording}
    # rate() needs two scrapes; the planner ran before the first, so the rates are 0.
    tokens = wait_until(
        lambda: prometheus.query("agentotel:llm_tokens:rate5m"), "agentotel:llm_tokens:rate5m"
    )
    assert sorted(tokens) == [
        f"__name__=agentotel:llm_tokens:rate5m,gen_ai_provider_name=openai,gen_ai_request_model=gpt-4o-mini,"
        f"gen_ai_token_type={kind}"
        for kind in ("input", "output")
    ]
    assert set(tokens.values()) == {0.0}
    ratio = wait_until(
        lambda: prometheus.query("agentotel:tool_success_ratio:rate5m"), "agentotel:tool_success_ratio:rate5m"
    )
    assert sorted(ratio) == [
        f"__name__=agentotel:tool_success_ratio:rate5m,gen_ai_tool_name={name}"
        for name in ("book_table", "get_weather", "search_docs", "venue_info")
    ]
    rounds = wait_until(
        lambda: prometheus.query("agentotel:agent_rounds:rate5m"), "agentotel:agent_rounds:rate5m"
    )
    assert rounds == {"__name__=agentotel:agent_rounds:rate5m,gen_ai_agent_name=planner": 0.0}
    assert [a for a in prometheus.api("alerts")["alerts"] if a["state"] == "firing"] == []


def test_every_latest_dashboard_query_shows_a_value(prometheus: Prometheus) -> None:
    """Each query of the latest dashboard shows a value over the real series, the prompt-cache
    panel too: the usage counters record every call, 0 when it reported no such tokens."""
    wait_until(
        lambda: prometheus.query("agentotel:agent_latency_seconds:p95_5m"), "two scrapes under the rules"
    )
    wait_until(lambda: prometheus.query("rate(agentotel_session_count_total[1m])"), "two scrapes")
    values = {
        query: prometheus.query(query.replace("$__rate_interval", "1m"))
        for query in dashboard_queries(DASHBOARD_LATEST)
    }

    assert [query for query, value in values.items() if not value] == []
    cache = "sum by (gen_ai_request_model, cache) (agentotel:llm_cache_tokens:rate5m)"
    assert values[cache] == {
        "cache=read,gen_ai_request_model=gpt-4o-mini": 0.0,
        "cache=write,gen_ai_request_model=gpt-4o-mini": 0.0,
    }
