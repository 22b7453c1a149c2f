"""The metrics as Prometheus users see them: names, labels and values in the exposition, after
real instrumented calls against the fake LLM server, through agentotel's endpoint and through
``opentelemetry-instrument --metrics_exporter prometheus``.

Expositions are parsed with ``prometheus_client``'s parsers. The fake server counts one token per
word: ``QUESTION`` is 6 tokens, its ``REPLY`` 6 tokens.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from typing import Any

import pytest
from helpers import GPT, QUESTION, user
from prometheus_helpers import (
    OPENMETRICS,
    App,
    by_label,
    families,
    free_port,
    get,
    listening_addresses,
    names,
    total,
)

import agentotel
from agentotel.config import METRICS_FILE, METRICS_FILE_INTERVAL, METRICS_SERVER, ConfigError
from agentotel.endpoints import _prometheus as prometheus
from agentotel.testing._capture import TelemetryCapture

# Labels of one gpt-4o chat call against the fake server, as Prometheus labels.
CHAT = {"gen_ai_operation_name": "chat", "gen_ai_provider_name": "openai", "gen_ai_request_model": GPT}


@pytest.fixture
def exposed(openai_instrumented: TelemetryCapture, agent_layer: TelemetryCapture) -> Iterator[Any]:
    """agentotel's endpoint on a free port, reading the instrumented providers of ``cap``."""
    endpoint = prometheus.serve("127.0.0.1", 0, meter_provider=openai_instrumented.meter_provider)
    yield endpoint
    endpoint.close()


def _chat_twice(client: Any) -> None:
    for _ in range(2):
        client.chat.completions.create(model=GPT, messages=user(QUESTION))


def test_token_usage_and_duration_are_exposed_under_their_prometheus_names(
    exposed: Any, openai_client: Any
) -> None:
    _chat_twice(openai_client)

    status, headers, body = get(f"{exposed.server.url}/metrics")

    assert status == 200
    assert headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    found = families(body)
    assert total(found, "gen_ai_client_token_usage_sum", gen_ai_token_type="input", **CHAT) == 12
    assert total(found, "gen_ai_client_token_usage_sum", gen_ai_token_type="output", **CHAT) == 12
    assert total(found, "gen_ai_client_token_usage_count", gen_ai_token_type="input", **CHAT) == 2
    assert total(found, "gen_ai_client_token_usage_bucket", le="4", **CHAT) == 0
    assert total(found, "gen_ai_client_token_usage_bucket", le="16", gen_ai_token_type="input") == 2
    assert total(found, "gen_ai_client_operation_duration_seconds_count", **CHAT) == 2
    assert total(found, "gen_ai_client_operation_duration_seconds_bucket", le="+Inf", **CHAT) == 2
    [family] = [f for f in found if f.name == "gen_ai_client_operation_duration_seconds"]
    assert family.type == "histogram"
    assert family.documentation == "GenAI operation duration."


def test_every_series_carries_the_scope_and_the_server_labels(exposed: Any, openai_client: Any) -> None:
    _chat_twice(openai_client)

    found = families(get(f"{exposed.server.url}/metrics")[2])

    [sample] = [
        s for f in found for s in f.samples if s.name == "gen_ai_client_operation_duration_seconds_count"
    ]
    assert sample.labels == {
        **CHAT,
        "gen_ai_response_model": "gpt-4o-2024-08-06",
        "server_address": "127.0.0.1",
        "server_port": sample.labels["server_port"],
        "otel_scope_name": "agentotel",
        "otel_scope_version": agentotel.__version__,
        "otel_scope_schema_url": "",
    }
    assert sample.labels["server_port"].isdigit()


def test_tool_executions_are_counted_by_name_and_error_type(exposed: Any) -> None:
    @agentotel.tool()
    def lookup(city: str) -> str:
        """Look a city up."""
        if city == "Atlantis":
            raise LookupError(city)
        return city

    lookup("Paris")
    lookup("Lyon")
    with pytest.raises(LookupError):
        lookup("Atlantis")

    found = families(get(f"{exposed.server.url}/metrics")[2])

    count = "agentotel_tool_duration_seconds_count"
    assert by_label(found, count, "error_type", gen_ai_tool_name="lookup") == {"": 2, "LookupError": 1}
    assert total(found, count, gen_ai_tool_type="function") == 3
    assert "agentotel_tool_duration_seconds_bucket" in names(found)
    assert "agentotel_tool_duration_seconds_sum" in names(found)


def test_openmetrics_is_served_when_the_accept_header_asks_for_it(exposed: Any, openai_client: Any) -> None:
    _chat_twice(openai_client)

    status, headers, body = get(f"{exposed.server.url}/metrics", accept=OPENMETRICS)

    assert status == 200
    assert headers["Content-Type"].startswith("application/openmetrics-text; version=1.0.0; charset=utf-8")
    assert body.endswith(b"# EOF\n")
    found = families(body, openmetrics=True)
    assert total(found, "gen_ai_client_token_usage_sum", gen_ai_token_type="input", **CHAT) == 12
    [cost] = [f for f in found if f.name == "agentotel_llm_cost_usd"]
    assert cost.type == "counter"
    assert {s.name for s in cost.samples} >= {"agentotel_llm_cost_usd_total"}


def test_the_cost_counter_is_a_total_in_dollars(exposed: Any, openai_client: Any) -> None:
    _chat_twice(openai_client)

    found = families(get(f"{exposed.server.url}/metrics")[2])

    costs = by_label(found, "agentotel_llm_cost_usd_total", "gen_ai_token_type", gen_ai_request_model=GPT)
    assert sorted(costs) == ["input", "output"]
    assert all(value > 0 for value in costs.values())


def test_metrics_are_gzipped_when_the_client_accepts_it(exposed: Any, openai_client: Any) -> None:
    import urllib.request

    _chat_twice(openai_client)
    request = urllib.request.Request(f"{exposed.server.url}/metrics", headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(request, timeout=10) as response:
        encoding, body = response.headers["Content-Encoding"], response.read()

    assert encoding == "gzip"
    found = families(gzip.decompress(body))
    assert total(found, "gen_ai_client_token_usage_sum", gen_ai_token_type="output", **CHAT) == 12


def test_the_endpoint_binds_127_0_0_1_by_default(openai_instrumented: TelemetryCapture) -> None:
    endpoint = prometheus.serve(port=0, meter_provider=openai_instrumented.meter_provider)
    try:
        assert endpoint.server is not None
        assert endpoint.server.host == "127.0.0.1"
        assert listening_addresses(endpoint.server.port) == {"127.0.0.1"}
    finally:
        endpoint.close()


def test_a_closed_endpoint_takes_its_reader_off_the_provider(
    openai_instrumented: TelemetryCapture, openai_client: Any
) -> None:
    endpoint = prometheus.serve("127.0.0.1", 0, meter_provider=openai_instrumented.meter_provider)
    endpoint.close()

    openai_client.chat.completions.create(model=GPT, messages=user(QUESTION))

    assert endpoint.exposition.meter_provider is None
    assert families(endpoint.exposition.text()) == []


def test_an_unknown_path_is_404(exposed: Any) -> None:
    assert get(f"{exposed.server.url}/nothing")[0] == 404


# --- AGENTOTEL_METRICS_SERVER / AGENTOTEL_METRICS_FILE --------------------------------------------
def test_attach_from_env_does_nothing_without_the_variables(cap: TelemetryCapture) -> None:
    assert prometheus.attach_from_env(cap.meter_provider, environ={}) is None


@pytest.mark.parametrize("value", ["9464", "localhost", "127.0.0.1:http", "127.0.0.1:70000", "host:0"])
def test_a_malformed_server_address_names_the_variable(cap: TelemetryCapture, value: str) -> None:
    with pytest.raises(ConfigError) as info:
        prometheus.attach_from_env(cap.meter_provider, environ={METRICS_SERVER: value})

    assert str(info.value) == (
        f"{METRICS_SERVER}={value!r} is not valid: expected host:port, e.g. 127.0.0.1:9464"
    )
    assert prometheus.active() is None


def test_an_address_in_use_is_one_warning_naming_the_variable_and_the_port(
    cap: TelemetryCapture, tmp_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    holder = prometheus.serve("127.0.0.1", port, meter_provider=cap.meter_provider)
    environ = {METRICS_SERVER: f"127.0.0.1:{port}", METRICS_FILE: str(tmp_path / "agent.prom")}
    try:
        exposed = prometheus.attach_from_env(cap.meter_provider, environ=environ)
    finally:
        holder.close()

    assert exposed is not None and prometheus.active() is exposed
    try:
        assert exposed.server is None
        assert exposed.textfile is not None and (tmp_path / "agent.prom").exists()  # the rest carries on
    finally:
        exposed.close()
    assert [r.getMessage() for r in caplog.records if r.name == "agentotel"] == [
        f"agentotel: {METRICS_SERVER}=127.0.0.1:{port}: port {port} is in use "
        "([Errno 98] Address already in use); carrying on without /metrics, /healthz and /readyz"
    ]


def test_an_address_in_use_alone_leaves_no_reader_on_the_provider(cap: TelemetryCapture) -> None:
    port = free_port()
    holder = prometheus.serve("127.0.0.1", port, meter_provider=cap.meter_provider)
    try:
        exposed = prometheus.attach_from_env(
            cap.meter_provider, environ={METRICS_SERVER: f"127.0.0.1:{port}"}
        )
    finally:
        holder.close()

    assert exposed is not None
    try:
        assert (exposed.server, exposed.textfile, exposed.exposition.meter_provider) == (None, None, None)
    finally:
        exposed.close()
    assert prometheus.active() is None


def test_an_unusable_textfile_path_names_the_variable(cap: TelemetryCapture, tmp_path: Any) -> None:
    path = tmp_path / "missing" / "agent.prom"

    with pytest.raises(ConfigError) as info:
        prometheus.attach_from_env(cap.meter_provider, environ={METRICS_FILE: str(path)})

    assert str(info.value).startswith(f"{METRICS_FILE}: cannot use {str(path)!r} (")


def test_a_bad_textfile_interval_names_the_variable(cap: TelemetryCapture, tmp_path: Any) -> None:
    environ = {METRICS_FILE: str(tmp_path / "agent.prom"), METRICS_FILE_INTERVAL: "soon"}

    with pytest.raises(ConfigError, match=METRICS_FILE_INTERVAL):
        prometheus.attach_from_env(cap.meter_provider, environ=environ)


def test_attach_from_env_starts_once_per_process(cap: TelemetryCapture, tmp_path: Any) -> None:
    environ = {METRICS_SERVER: f"127.0.0.1:{free_port()}", METRICS_FILE: str(tmp_path / "agent.prom")}

    first = prometheus.attach_from_env(cap.meter_provider, environ=environ)
    try:
        assert first is not None and first.server is not None and first.textfile is not None
        assert prometheus.attach_from_env(cap.meter_provider, environ=environ) is first
        assert prometheus.active() is first
        assert get(f"{first.server.url}/healthz")[0] == 200
        assert (tmp_path / "agent.prom").exists()
    finally:
        if first is not None:
            first.close()
    assert prometheus.active() is None


# --- opentelemetry-instrument --metrics_exporter prometheus ---------------------------------------
# prometheus_app.py runs the OpenAI part of examples/agent.py: a tool loop (2 chat calls, the tool
# run between them inferred), a stream of 20 words, a chat answered 429, an embedding.
def _scrape_upstream_reader(app: App, port: int) -> list[Any]:
    status, _, body = get(f"http://127.0.0.1:{port}/metrics")
    assert status == 200
    return families(body)


def test_opentelemetry_instrument_prometheus_exporter_serves_our_metrics() -> None:
    port = free_port()
    app = App("agent", OTEL_METRICS_EXPORTER="prometheus", OTEL_EXPORTER_PROMETHEUS_PORT=str(port)).start()
    try:
        found = _scrape_upstream_reader(app, port)
        bound = listening_addresses(port)
    finally:
        stderr = app.stop()
    assert app.returncode == 0, stderr

    assert bound == {"127.0.0.1"}
    mini = {"gen_ai_request_model": "gpt-4o-mini"}
    tokens = "gen_ai_client_token_usage_sum"
    assert total(found, tokens, gen_ai_operation_name="chat", gen_ai_token_type="input", **mini) == 26
    assert total(found, tokens, gen_ai_operation_name="chat", gen_ai_token_type="output", **mini) == 28
    assert total(found, tokens, gen_ai_operation_name="embeddings", gen_ai_token_type="input") == 20
    calls = by_label(found, "gen_ai_client_operation_duration_seconds_count", "error_type", **mini)
    assert calls == {"": 3, "openai.RateLimitError": 1}
    assert total(found, "gen_ai_client_operation_time_to_first_chunk_seconds_count", **mini) == 1
    assert total(found, "gen_ai_client_operation_time_per_output_chunk_seconds_count", **mini) == 1
    assert by_label(found, "agentotel_tool_duration_seconds_count", "gen_ai_tool_name") == {"get_weather": 1}


def test_opentelemetry_instrument_prometheus_exporter_honours_the_host_variable() -> None:
    port = free_port("127.0.0.2")
    app = App(
        "agent",
        OTEL_METRICS_EXPORTER="prometheus",
        OTEL_EXPORTER_PROMETHEUS_HOST="127.0.0.2",
        OTEL_EXPORTER_PROMETHEUS_PORT=str(port),
    ).start()
    try:
        bound = listening_addresses(port)
        status = get(f"http://127.0.0.2:{port}/metrics")[0]
    finally:
        stderr = app.stop()
    assert app.returncode == 0, stderr

    assert bound == {"127.0.0.2"}
    assert status == 200


def test_a_provider_that_takes_no_reader_is_warned_about_once(caplog: pytest.LogCaptureFixture) -> None:
    from opentelemetry.metrics import NoOpMeterProvider

    environ = {METRICS_SERVER: f"127.0.0.1:{free_port()}"}
    prometheus._warned.clear()

    first = prometheus.attach_from_env(NoOpMeterProvider(), environ=environ)
    second = prometheus.attach_from_env(NoOpMeterProvider(), environ=environ)

    assert (first, second, prometheus.active()) == (None, None, None)
    [record] = [r for r in caplog.records if r.name == "agentotel"]
    assert record.getMessage() == (
        f"agentotel: {METRICS_SERVER} is set, but NoOpMeterProvider takes no metric reader after "
        "construction (an OpenTelemetry SDK MeterProvider >= 1.43 does): pass Exposition().reader to "
        "MeterProvider(metric_readers=[...])"
    )


def test_agentotel_metrics_server_from_the_environment_under_opentelemetry_instrument() -> None:
    port = free_port()
    app = App("agent", AGENTOTEL_METRICS_SERVER=f"127.0.0.1:{port}").start()
    try:
        status, _, body = get(f"http://127.0.0.1:{port}/metrics")
        ready = get(f"http://127.0.0.1:{port}/readyz")[0]
        bound = listening_addresses(port)
    finally:
        stderr = app.stop()
    assert app.returncode == 0, stderr

    assert (status, ready, bound) == (200, 200, {"127.0.0.1"})
    found = families(body)
    mini = {"gen_ai_request_model": "gpt-4o-mini"}
    tokens = "gen_ai_client_token_usage_sum"
    assert total(found, tokens, gen_ai_operation_name="chat", gen_ai_token_type="input", **mini) == 26
    assert by_label(found, "agentotel_tool_duration_seconds_count", "gen_ai_tool_name") == {"get_weather": 1}
