"""collector-config/: what can be checked without Docker.

Prometheus' own ``promtool`` checks prometheus.yml and rules.yml and runs the rules' unit tests
(rules.test.yml). No Collector, Jaeger or Grafana binary can run here, so their configuration is
checked for structure: every component a Collector pipeline names is defined, the redaction
processor deletes exactly the content attributes, the compose file mounts files that exist and
publishes ports on 127.0.0.1 only, and every dashboard query is valid PromQL (through promtool)
over series that rules.yml records or agentotel exposes. The same for the files of agents run with
OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental (rules.latest.yml, rules.latest.test.yml,
grafana/dashboards/agentotel-latest.json) over the metric names that mode exports.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_helpers import DASHBOARD, DASHBOARD_LATEST, EXPOSED, EXPOSED_LATEST, ROOT

from agentotel import semconv

CONFIG = ROOT / "collector-config"
PIPELINE_TYPES = {"traces", "metrics", "logs"}
CONTENT_ATTRIBUTES = {
    semconv.GEN_AI_SYSTEM_INSTRUCTIONS,
    semconv.GEN_AI_INPUT_MESSAGES,
    semconv.GEN_AI_OUTPUT_MESSAGES,
    semconv.GEN_AI_TOOL_DEFINITIONS,
    semconv.GEN_AI_TOOL_CALL_ARGUMENTS,
    semconv.GEN_AI_TOOL_CALL_RESULT,
}
RECORDED = {
    "agentotel:llm_requests:rate5m",
    "agentotel:llm_errors:rate5m",
    "agentotel:llm_error_ratio:rate5m",
    "agentotel:llm_error_ratio:rate1h",
    "agentotel:llm_latency_seconds:p95_5m",
    "agentotel:llm_tokens:rate5m",
    "agentotel:llm_cost_usd:rate5m",
    "agentotel:llm_cost_usd_per_hour:rate1h",
    "agentotel:tool_calls:rate5m",
    "agentotel:tool_success_ratio:rate5m",
    "agentotel:tool_latency_seconds:p95_5m",
}
ALERTS = {
    "AgentLLMErrorBudgetBurn",
    "AgentLLMLatencyP95High",
    "AgentLLMCostPerHourHigh",
    "AgentAuditRecordsDropped",
}
RECORDED_LATEST = RECORDED | {
    "agentotel:llm_cache_tokens:rate5m",
    "agentotel:agent_rounds:rate5m",
    "agentotel:agent_latency_seconds:p95_5m",
    "agentotel:agent_inference_calls_per_round:mean5m",
    "agentotel:agent_tool_calls_per_round:mean5m",
}


@dataclass(frozen=True)
class Mode:
    """The rules, their unit test and the dashboard of one conventions mode, and what it exposes."""

    rules: str
    test: str
    dashboard: Path
    exposed: frozenset[str]
    recorded: set[str]
    panels: int
    llm_calls: str
    """The LLM-call counter the rules read (for the fallback test's series)."""


DEFAULT = Mode(
    "rules.yml",
    "rules.test.yml",
    DASHBOARD,
    EXPOSED,
    RECORDED,
    16,
    "gen_ai_client_operation_duration_seconds_count",
)
LATEST = Mode(
    "rules.latest.yml",
    "rules.latest.test.yml",
    DASHBOARD_LATEST,
    EXPOSED_LATEST,
    RECORDED_LATEST,
    20,
    "gen_ai_client_inference_duration_seconds_count",
)
modes = pytest.mark.parametrize("mode", [DEFAULT, LATEST], ids=["default", "latest"])


def load(name: str) -> Any:
    return yaml.safe_load((CONFIG / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.fail(
            "promtool is missing: install Debian's prometheus package (apt-get install -y prometheus)"
        )
    return found


def run(promtool: str, *args: str, cwd: Path = CONFIG) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [promtool, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


# --- Prometheus -----------------------------------------------------------------------------------
def test_promtool_accepts_prometheus_yml(promtool: str) -> None:
    proc = run(promtool, "check", "config", "prometheus.yml")

    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SUCCESS: prometheus.yml is valid prometheus config file syntax" in proc.stdout


@modes
def test_promtool_accepts_the_rules(promtool: str, mode: Mode) -> None:
    proc = run(promtool, "check", "rules", mode.rules)

    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"SUCCESS: {len(mode.recorded) + len(ALERTS)} rules found" in proc.stdout


@modes
def test_the_rules_unit_tests_pass(promtool: str, mode: Mode) -> None:
    proc = run(promtool, "test", "rules", mode.test)

    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SUCCESS" in proc.stdout
    assert load(mode.test)["rule_files"] == [mode.rules]


@modes
def test_the_rules_record_and_alert_what_the_readme_lists(mode: Mode) -> None:
    rules = [rule for group in load(mode.rules)["groups"] for rule in group["rules"]]

    assert {r["record"] for r in rules if "record" in r} == mode.recorded
    assert {r["alert"] for r in rules if "alert" in r} == ALERTS
    assert all(r["labels"]["severity"] in ("page", "ticket") for r in rules if "alert" in r)


@modes
def test_the_rules_read_only_series_agentotel_exposes(mode: Mode) -> None:
    exprs = [rule["expr"] for group in load(mode.rules)["groups"] for rule in group["rules"]]

    assert _raw_names(exprs) <= mode.exposed
    assert _recorded_names(exprs) <= mode.recorded


def test_both_modes_alert_alike() -> None:
    """The alerts read recorded series only, which both rule files record: the same alerts."""

    def alerts(name: str) -> list[dict[str, Any]]:
        return [rule for group in load(name)["groups"] for rule in group["rules"] if "alert" in rule]

    assert alerts(LATEST.rules) == alerts(DEFAULT.rules)


def test_prometheus_yml_scrapes_the_collector_and_loads_the_rules() -> None:
    config = load("prometheus.yml")

    assert config["rule_files"] == ["rules.yml"]
    [job] = config["scrape_configs"]
    assert job["static_configs"] == [{"targets": ["collector:8889"]}]
    assert load("otelcol.yaml")["exporters"]["prometheus"]["endpoint"].endswith(":8889")


# --- the Collector --------------------------------------------------------------------------------
def _merged(*names: str) -> dict[str, Any]:
    """The Collector's merge of several --config files: maps merged key by key, lists replaced."""

    def merge(base: Any, over: Any) -> Any:
        if isinstance(base, dict) and isinstance(over, dict):
            return {**base, **{k: merge(base.get(k), v) for k, v in over.items()}}
        return over

    merged: dict[str, Any] = {}
    for name in names:
        merged = merge(merged, load(name))
    return merged


def _unused_components(config: dict[str, Any]) -> set[str]:
    pipelines = config["service"]["pipelines"]
    used = {name for p in pipelines.values() for kind in p.values() for name in kind}
    defined = {name for kind in ("receivers", "processors", "exporters") for name in config[kind]}
    return defined - used


@pytest.mark.parametrize("files", [("otelcol.yaml",), ("otelcol.yaml", "otelcol.remote-write.yaml")])
def test_every_component_a_pipeline_names_is_defined(files: tuple[str, ...]) -> None:
    config = _merged(*files)

    for name, pipeline in config["service"]["pipelines"].items():
        assert name.split("/")[0] in PIPELINE_TYPES, name
        assert pipeline["receivers"] and pipeline["exporters"], name
        for kind in ("receivers", "processors", "exporters"):
            missing = [c for c in pipeline.get(kind, []) if c not in config[kind]]
            assert missing == [], f"{name}: undefined {kind} {missing}"
        assert pipeline["processors"][0] == "memory_limiter", name
        assert pipeline["processors"][-1] == "batch", name
    assert all(e in config["extensions"] for e in config["service"]["extensions"])


def test_the_scrape_and_the_remote_write_variants_each_use_one_prometheus_exporter() -> None:
    assert _unused_components(_merged("otelcol.yaml")) == {"prometheusremotewrite"}
    remote = _merged("otelcol.yaml", "otelcol.remote-write.yaml")
    assert _unused_components(remote) == {"prometheus"}
    assert remote["service"]["pipelines"]["metrics"]["exporters"] == ["prometheusremotewrite"]
    assert remote["exporters"]["prometheusremotewrite"]["endpoint"] == "http://prometheus:9090/api/v1/write"
    prometheus_command = load("docker-compose.yaml")["services"]["prometheus"]["command"]
    assert "--web.enable-remote-write-receiver" in prometheus_command


def test_otlp_is_received_over_grpc_and_http() -> None:
    protocols = load("otelcol.yaml")["receivers"]["otlp"]["protocols"]

    assert protocols == {"grpc": {"endpoint": "0.0.0.0:4317"}, "http": {"endpoint": "0.0.0.0:4318"}}


def test_traces_go_to_jaeger_without_content_attributes() -> None:
    config = load("otelcol.yaml")
    traces = config["service"]["pipelines"]["traces"]

    assert traces["exporters"] == ["otlp_grpc/jaeger"]
    assert config["exporters"]["otlp_grpc/jaeger"] == {"endpoint": "jaeger:4317", "tls": {"insecure": True}}
    assert "attributes/drop_content" in traces["processors"]
    actions = config["processors"]["attributes/drop_content"]["actions"]
    assert {a["action"] for a in actions} == {"delete"}
    assert {a["key"] for a in actions} == CONTENT_ATTRIBUTES


def test_audit_records_alone_go_to_the_audit_file() -> None:
    config = load("otelcol.yaml")
    audit = config["service"]["pipelines"]["logs/audit"]

    assert audit["processors"] == ["memory_limiter", "filter/audit_only", "batch"]
    conditions = config["processors"]["filter/audit_only"]["logs"]["log_record"]
    assert conditions == [f'log.event_name != "{semconv.EVENT_AUDIT}"']
    assert audit["exporters"] == ["file/audit"]
    assert config["exporters"]["file/audit"]["format"] == "json"


def test_audit_checkpoints_alone_go_to_the_anchor_file() -> None:
    config = load("otelcol.yaml")
    anchors = config["service"]["pipelines"]["logs/anchors"]

    assert anchors["processors"] == ["memory_limiter", "filter/checkpoints_only", "batch"]
    conditions = config["processors"]["filter/checkpoints_only"]["logs"]["log_record"]
    assert conditions == [f'log.event_name != "{semconv.EVENT_AUDIT_CHECKPOINT}"']
    assert anchors["exporters"] == ["file/anchors"]
    assert config["exporters"]["file/anchors"] == {"path": "/tmp/agentotel/anchors.jsonl", "format": "json"}


# --- docker compose -------------------------------------------------------------------------------
def test_the_compose_stack_has_the_five_services() -> None:
    services = load("docker-compose.yaml")["services"]

    assert set(services) == {"collector", "jaeger", "prometheus", "grafana", "agent"}


def test_every_published_port_is_on_127_0_0_1() -> None:
    services = load("docker-compose.yaml")["services"]

    published = [port for service in services.values() for port in service.get("ports", [])]
    assert published
    assert all(port.startswith("127.0.0.1:") for port in published), published


def test_every_mounted_file_exists() -> None:
    services = load("docker-compose.yaml")["services"]

    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            assert (CONFIG / source).exists(), f"{name}: {source}"


def test_each_container_reads_the_file_mounted_for_it() -> None:
    services = load("docker-compose.yaml")["services"]

    collector_mounts = {v.split(":")[1] for v in services["collector"]["volumes"]}
    [config_arg] = services["collector"]["command"]
    assert config_arg.removeprefix("--config=") in collector_mounts
    prometheus_mounts = dict(v.split(":")[:2] for v in services["prometheus"]["volumes"])
    assert prometheus_mounts["./prometheus.yml"] == "/etc/prometheus/prometheus.yml"
    assert prometheus_mounts["./rules.yml"] == "/etc/prometheus/rules.yml"  # beside it: rule_files
    assert "--config.file=/etc/prometheus/prometheus.yml" in services["prometheus"]["command"]


def test_the_latest_override_switches_the_agent_the_rules_and_the_dashboard() -> None:
    """docker-compose.latest.yaml, merged over docker-compose.yaml (Compose merges volumes by their
    path in the container, environment maps key by key)."""
    base = load("docker-compose.yaml")["services"]
    latest = load("docker-compose.latest.yaml")["services"]

    assert set(latest) == {"prometheus", "grafana", "agent"} <= set(base)
    assert latest["agent"] == {"environment": {"OTEL_SEMCONV_STABILITY_OPT_IN": "gen_ai_latest_experimental"}}
    [volume] = latest["prometheus"]["volumes"]
    source, target, _ = volume.split(":")
    assert (source, target) == ("./rules.latest.yml", "/etc/prometheus/rules.yml")
    assert target in {v.split(":")[1] for v in base["prometheus"]["volumes"]}  # replaces rules.yml
    home = latest["grafana"]["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    [dashboards] = [v for v in base["grafana"]["volumes"] if v.split(":")[1] == "/var/lib/grafana/dashboards"]
    assert home == "/var/lib/grafana/dashboards/" + DASHBOARD_LATEST.name
    assert (CONFIG / dashboards.split(":")[0] / DASHBOARD_LATEST.name).exists()


def test_the_agent_sends_otlp_to_the_collector_and_probes_readyz() -> None:
    agent = load("docker-compose.yaml")["services"]["agent"]
    env = agent["environment"]

    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://collector:4317"
    assert env["OTEL_EXPORTER_OTLP_PROTOCOL"] == "grpc"
    assert "/src/collector-config/demo_agent.py" in agent["command"][-1]
    assert (CONFIG / "demo_agent.py").exists()
    assert env["AGENTOTEL_METRICS_SERVER"] == "127.0.0.1:9464"
    assert "http://127.0.0.1:9464/readyz" in agent["healthcheck"]["test"][-1]


def test_the_demo_agent_compiles() -> None:
    compile((CONFIG / "demo_agent.py").read_text(encoding="utf-8"), "demo_agent.py", "exec")


# --- Grafana --------------------------------------------------------------------------------------
def _dashboard(path: Path = DASHBOARD) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _queries(path: Path = DASHBOARD) -> list[str]:
    return [t["expr"] for p in _dashboard(path)["panels"] for t in p.get("targets", [])]


@modes
def test_the_dashboard_reads_the_provisioned_datasource(mode: Mode) -> None:
    [source] = load("grafana/provisioning/datasources/prometheus.yaml")["datasources"]
    dashboard = _dashboard(mode.dashboard)

    assert source["url"] == "http://prometheus:9090"
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    assert len(panels) == mode.panels
    assert {p["datasource"]["uid"] for p in panels} == {source["uid"]}
    [provider] = load("grafana/provisioning/dashboards/agentotel.yaml")["providers"]
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards"


@modes
def test_every_dashboard_query_is_valid_promql(promtool: str, tmp_path: Path, mode: Mode) -> None:
    """promtool has no query checker: the queries become recording rules, which it parses."""
    rules = {
        "groups": [
            {
                "name": "dashboard",
                "rules": [
                    {"record": f"dashboard:query_{i}", "expr": expr.replace("$__rate_interval", "5m")}
                    for i, expr in enumerate(_queries(mode.dashboard))
                ],
            }
        ]
    }
    (tmp_path / "dashboard.rules.yml").write_text(yaml.safe_dump(rules))

    proc = run(promtool, "check", "rules", "dashboard.rules.yml", cwd=tmp_path)

    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"SUCCESS: {len(_queries(mode.dashboard))} rules found" in proc.stdout


@modes
def test_the_dashboard_shows_recorded_series_and_exposed_metrics_only(mode: Mode) -> None:
    queries = _queries(mode.dashboard)

    assert _recorded_names(queries) == mode.recorded - {"agentotel:llm_cost_usd:rate5m"}
    assert _raw_names(queries) <= mode.exposed


def test_the_latest_dashboard_is_the_default_one_and_a_row_of_its_own() -> None:
    """Both rule files record the same series: the default dashboard's panels, then a row over
    the series only the latest conventions' metrics give; provisioned side by side (own uid)."""
    default, latest = _dashboard(DEFAULT.dashboard), _dashboard(LATEST.dashboard)
    shared = len(default["panels"])

    assert latest["panels"][:shared] == default["panels"]
    [row, *extra] = latest["panels"][shared:]
    assert row["type"] == "row"
    assert {p["type"] for p in extra} == {"timeseries"}
    assert (default["uid"], latest["uid"]) == ("agentotel", "agentotel-latest")
    assert "rules.latest.yml" in latest["description"]


# Series for the fallback test, one sample per minute: 60 of our errors, 120 audit drops, 30
# unpriced calls, 90 successful and 30 rate-limited LLM calls per minute.
_FALLBACK_SERIES = {
    'agentotel_telemetry_errors_total{agentotel_component="openai",error_type="KeyError"}': "0+60x20",
    'agentotel_telemetry_dropped_total{agentotel_component="audit",agentotel_drop_reason="full"}': "0+120x20",
    'agentotel_llm_cost_unpriced_total{gen_ai_provider_name="x",gen_ai_request_model="gpt-9"}': "0+30x20",
    'LLM_CALLS{gen_ai_provider_name="openai"}': "0+90x20",
    'LLM_CALLS{gen_ai_provider_name="openai",error_type="E"}': "0+30x20",
}
# What each panel with a fallback shows over them at 10m, keyed by a part of its query.
_FALLBACK_EXPECTED = {
    "(rate(agentotel_telemetry_errors_total": [('{agentotel_component="openai",error_type="KeyError"}', 1.0)],
    "(rate(agentotel_telemetry_dropped_total": [('{agentotel_component="audit"}', 2.0)],
    'agentotel_telemetry_dropped_total{agentotel_component="audit"}) or': [("{}", 1200.0)],
    "agentotel_llm_cost_unpriced_total": [('{gen_ai_request_model="gpt-9"}', 0.5)],
    "sum by (error_type) (agentotel:llm_errors:rate5m)": [('{error_type="E"}', 0.5)],
    "/ sum(agentotel:llm_requests:rate5m)": [("{}", 0.25)],
}


@modes
def test_a_dashboard_fallback_to_0_adds_nothing_beside_real_series(
    promtool: str, tmp_path: Path, mode: Mode
) -> None:
    """A panel falls back to 0 when its series do not exist yet (test_real_prometheus.py); once
    they do, it shows them alone, without an extra 0 series."""
    fallbacks = [q for q in _queries(mode.dashboard) if "vector(0)" in q]
    keys = {query: [k for k in _FALLBACK_EXPECTED if k in query] for query in fallbacks}
    assert sorted(k for found in keys.values() for k in found) == sorted(_FALLBACK_EXPECTED)
    assert all(len(found) == 1 for found in keys.values()), keys
    shutil.copy(CONFIG / mode.rules, tmp_path / mode.rules)
    series = {k.replace("LLM_CALLS", mode.llm_calls): v for k, v in _FALLBACK_SERIES.items()}
    test = {
        "rule_files": [mode.rules],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [{"series": k, "values": v} for k, v in series.items()],
                "promql_expr_test": [
                    {
                        "expr": query.replace("$__rate_interval", "5m"),
                        "eval_time": "10m",
                        "exp_samples": [
                            {"labels": labels, "value": value} for labels, value in _FALLBACK_EXPECTED[key]
                        ],
                    }
                    for query, [key] in keys.items()
                ],
            }
        ],
    }
    (tmp_path / "fallback.test.yml").write_text(yaml.safe_dump(test))

    proc = run(promtool, "test", "rules", "fallback.test.yml", cwd=tmp_path)

    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SUCCESS" in proc.stdout


_KEYWORDS = {"sum", "by", "rate", "increase", "histogram_quantile", "vector", "or", "and", "scalar", "le"}
_KEYWORDS |= {"label_replace"}


def _names(exprs: list[str]) -> set[str]:
    """Metric names in PromQL ``exprs``: identifiers outside label matchers, ranges, ``by (...)``
    and strings."""
    found: set[str] = set()
    for expr in exprs:
        bare = re.sub(r"\{[^}]*\}|\[[^\]]*\]|by\s*\([^)]*\)|\"[^\"]*\"", " ", expr)
        found |= {m for m in re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", bare) if m not in _KEYWORDS}
    return {n for n in found if "_" in n or ":" in n}


def _recorded_names(exprs: list[str]) -> set[str]:
    return {n for n in _names(exprs) if n.startswith("agentotel:")}


def _raw_names(exprs: list[str]) -> set[str]:
    return {n for n in _names(exprs) if ":" not in n}
