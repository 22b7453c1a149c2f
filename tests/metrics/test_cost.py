"""Cost: the price table, its override file, and the cost of real calls on spans and in metrics."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import pytest
from helpers import QUESTION, attrs_of, expected_cost, instrumented, user

import agentotel
from agentotel.config import ConfigError
from agentotel.instrumentation.anthropic import AnthropicInstrumentor
from agentotel.instrumentation.openai import OpenAIInstrumentor
from agentotel.metrics import cost as cost_module
from agentotel.pricing import Price, load, parse
from agentotel.testing._capture import TelemetryCapture

COST = "agentotel.llm.cost.usd"
UNPRICED = "agentotel.llm.cost.unpriced"

pytestmark = pytest.mark.usefixtures("fresh_fake_llm")


@pytest.fixture(autouse=True)
def _no_warnings_yet() -> None:
    cost_module._warned.clear()


# --------------------------------------------------------------------------- arithmetic
def test_each_price_kind_is_charged_per_million_tokens() -> None:
    price = Price(input=3.0, output=15.0, cache_read=0.3, cache_write=3.75)
    # 1,000 input tokens of which 200 read from cache and 100 written to it; 500 output tokens.
    assert price.cost(1000, 500, cache_read=200, cache_write=100) == pytest.approx(
        (700 * 3.0 + 200 * 0.3 + 100 * 3.75 + 500 * 15.0) / 1e6, rel=1e-12
    )
    assert price.cost(1_000_000, 0) == pytest.approx(3.0)
    assert price.cost(0, 1_000_000) == pytest.approx(15.0)


def test_missing_cache_prices_fall_back_to_the_input_price() -> None:
    price = Price(input=2.0, output=8.0)
    assert price.cost(100, 0, cache_read=40, cache_write=10) == pytest.approx(100 * 2.0 / 1e6, rel=1e-12)


def test_shipped_table_resolves_snapshots_and_aliases() -> None:
    table = load(None)
    gpt4o = table.lookup("gpt-4o")
    assert gpt4o == Price(2.5, 10.0, 1.25, None, "2024-11-20")
    assert table.lookup("gpt-4o-2024-08-06") is gpt4o
    assert table.lookup("gpt-4o-mini-2024-07-18") == Price(0.15, 0.6, 0.075, None, "2024-07-18")
    pricing_page = "https://platform.claude.com/docs/en/docs/about-claude/pricing"
    assert table.lookup("claude-sonnet-4-5-20250929") == Price(
        3.0, 15.0, 0.3, 3.75, "2026-12-02", pricing_page
    )
    assert table.lookup("claude-sonnet-4-20250514") is table.lookup("claude-sonnet-4-0")
    assert table.lookup("text-embedding-3-small") == Price(0.02, 0.0, None, None, "2024-01-25")
    # No guessing: an unknown name, or a known prefix of it, has no price.
    assert table.lookup("gpt-4o-turbo-ultra") is None
    assert table.lookup("claude-opus-9") is None


def test_every_shipped_entry_is_dated_and_complete() -> None:
    table = load(None)
    for name, price in table.models.items():
        assert price.as_of is not None and len(price.as_of) == 10, name
        assert price.input > 0, name
    for alias, target in table.aliases.items():
        assert target in table.models, alias


# --------------------------------------------------------------------------- the override file
def _pricing_file(tmp_path: Path, data: Any) -> str:
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return str(path)


def test_pricing_file_overrides_and_extends(tmp_path: Path) -> None:
    path = _pricing_file(
        tmp_path,
        {
            "models": {
                "gpt-4o": {"input": 2.0, "output": 8.0},
                "my-local-model": {"input": 0.1, "output": 0.2, "as_of": "2026-11-01"},
            },
            "aliases": {"local": "my-local-model", "fast": "gpt-4o-mini"},
        },
    )
    table = load(path)
    assert table.lookup("gpt-4o") == Price(2.0, 8.0)
    assert table.lookup("local") == Price(0.1, 0.2, None, None, "2026-11-01")
    assert table.lookup("fast") == load(None).lookup("gpt-4o-mini")
    assert table.lookup("claude-haiku-4-5") == load(None).lookup("claude-haiku-4-5")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"models": {"m": {"input": -1, "output": 1}}}, "models['m'].input: expected a price"),
        ({"models": {"m": {"input": "cheap", "output": 1}}}, "models['m'].input: expected a price"),
        ({"models": {"m": {"output": 1}}}, "models['m'].input: expected a price"),
        ({"models": {"m": {"input": 1, "output": True}}}, "models['m'].output: expected a price"),
        ({"models": {"m": {"input": 1, "outptu": 2}}}, "models['m']: unknown field(s) ['outptu']"),
        ({"models": {"m": 3}}, "models['m']: expected an object"),
        ({"models": [1, 2]}, "expected an object with a 'models' object"),
        ({"models": {}, "aliases": {"a": "nowhere"}}, "aliases['a'] names an unknown model 'nowhere'"),
        ("{not json", "not valid JSON"),
    ],
)
def test_a_bad_pricing_file_names_the_variable_and_the_entry(tmp_path: Path, data: Any, message: str) -> None:
    path = _pricing_file(tmp_path, data)
    with pytest.raises(ConfigError) as raised:
        load(path)
    assert str(raised.value).startswith(f"AGENTOTEL_PRICING_FILE={path}")
    assert message in str(raised.value)


def test_an_unreadable_pricing_file_fails_at_instrument_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cap: TelemetryCapture
) -> None:
    missing = tmp_path / "nope.json"
    monkeypatch.setenv("AGENTOTEL_PRICING_FILE", str(missing))
    with pytest.raises(ConfigError, match=f"AGENTOTEL_PRICING_FILE={missing}: cannot read the file"):
        OpenAIInstrumentor().instrument(**cap.providers)
    OpenAIInstrumentor().uninstrument()


def test_parse_rejects_a_non_object() -> None:
    with pytest.raises(ConfigError, match="source: expected an object"):
        parse([], "source")


# --------------------------------------------------------------------------- real calls
def test_openai_call_carries_its_cost_and_counts_it_by_token_type(
    openai_instrumented: TelemetryCapture, openai_client: Any
) -> None:
    openai_client.chat.completions.create(model="gpt-4o", messages=user(QUESTION))  # 6 in, 6 out

    [span] = openai_instrumented.spans()
    assert attrs_of(span)["agentotel.usage.cost_usd"] == pytest.approx((6 * 2.5 + 6 * 10.0) / 1e6, rel=1e-12)
    labels = {"gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o"}
    assert openai_instrumented.metric_sum(COST, {**labels, "gen_ai.token.type": "input"}) == pytest.approx(
        6 * 2.5 / 1e6, rel=1e-12
    )
    assert openai_instrumented.metric_sum(COST, {**labels, "gen_ai.token.type": "output"}) == pytest.approx(
        6 * 10.0 / 1e6, rel=1e-12
    )
    assert openai_instrumented.metric_points(UNPRICED) == []


def test_anthropic_cache_reads_and_writes_are_priced_at_their_own_rates(
    monkeypatch: pytest.MonkeyPatch, cap: TelemetryCapture, anthropic_client: Any
) -> None:
    monkeypatch.setenv("ANTHROPIC_OPEN_TELEMETRY", "false")
    with instrumented(cap, AnthropicInstrumentor):
        anthropic_client.messages.create(
            model="claude-sonnet-4-6",
            max_tokens=64,
            messages=user(f"{QUESTION} [[scenario:cached:4]] [[scenario:cache_write:3]]"),
        )

    [span] = cap.spans()
    attrs = attrs_of(span)
    i, o = attrs["gen_ai.usage.input_tokens"], attrs["gen_ai.usage.output_tokens"]
    read, write = (
        attrs["gen_ai.usage.cache_read.input_tokens"],
        attrs["gen_ai.usage.cache_creation.input_tokens"],
    )
    assert (read, write) == (4, 3)
    assert attrs["agentotel.usage.cost_usd"] == pytest.approx(
        ((i - read - write) * 3.0 + read * 0.3 + write * 3.75 + o * 15.0) / 1e6, rel=1e-12
    )


def test_an_unknown_model_gets_no_cost_one_warning_and_a_count(
    openai_instrumented: TelemetryCapture, openai_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="agentotel")
    for _ in range(2):
        openai_client.chat.completions.create(model="my-fine-tune", messages=user(QUESTION))

    assert all("agentotel.usage.cost_usd" not in attrs_of(s) for s in openai_instrumented.spans())
    warnings = [r.getMessage() for r in caplog.records if "no price" in r.getMessage()]
    assert warnings == [
        "agentotel: no price for model 'my-fine-tune-2024-08-06': its calls get no cost "
        "(add it with AGENTOTEL_PRICING_FILE)"
    ]
    assert (
        openai_instrumented.metric_sum(
            UNPRICED, {"gen_ai.provider.name": "openai", "gen_ai.request.model": "my-fine-tune"}
        )
        == 2
    )
    assert openai_instrumented.metric_points(COST) == []


def test_an_unpriced_model_is_looked_up_once_and_counted_on_every_call(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The unpriced path is cached per model like the priced one: the table is asked once (response
    model, then request model), every call is still counted, one warning in all."""
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    from agentotel.metrics._cardinality import CardinalityGuard
    from agentotel.pricing import PriceTable

    asked: list[str] = []

    class Table(PriceTable):
        def lookup(self, model: str, provider: str | None = None) -> Price | None:
            asked.append(model)
            return super().lookup(model, provider)

    caplog.set_level(logging.WARNING, logger="agentotel")
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    costing = cost_module.Costing(
        meter_provider.get_meter("test"), Table({}, {}), CardinalityGuard(10), meter_provider
    )
    start = {"gen_ai.provider.name": "gcp.gemini", "gen_ai.request.model": "gemini-x"}
    for _ in range(3):
        assert costing.record(start, None, 5, 6, "gemini-x-001") is None

    assert asked == ["gemini-x-001", "gemini-x"]
    assert [r.getMessage() for r in caplog.records if "no price" in r.getMessage()] == [
        "agentotel: no price for model 'gemini-x-001': its calls get no cost "
        "(add it with AGENTOTEL_PRICING_FILE)"
    ]
    data = reader.get_metrics_data()
    assert data is not None
    found = [
        (dict(point.attributes or {}), point.value, metric.unit, metric.data.is_monotonic)
        for rm in data.resource_metrics
        for sm in rm.scope_metrics
        for metric in sm.metrics
        if metric.name == UNPRICED
        for point in metric.data.data_points
    ]
    assert found == [(start, 3, "{call}", True)]


def test_a_pricing_file_prices_a_model_the_table_lacks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cap: TelemetryCapture, openai_client: Any
) -> None:
    monkeypatch.setenv(
        "AGENTOTEL_PRICING_FILE",
        _pricing_file(tmp_path, {"models": {"my-fine-tune": {"input": 1, "output": 2}}}),
    )
    with instrumented(cap, OpenAIInstrumentor):
        openai_client.chat.completions.create(model="my-fine-tune", messages=user(QUESTION))

    assert attrs_of(cap.spans()[0])["agentotel.usage.cost_usd"] == pytest.approx(
        (6 * 1 + 6 * 2) / 1e6, rel=1e-12
    )


def test_agent_round_sums_the_cost_of_its_calls(agent_layer: TelemetryCapture, openai_client: Any) -> None:
    with instrumented(agent_layer, OpenAIInstrumentor), agentotel.agent("helper"):
        openai_client.chat.completions.create(model="gpt-4o", messages=user(QUESTION))  # 6 + 6
        openai_client.chat.completions.create(model="gpt-4o-mini", messages=user("Hi [[words:20]]"))

    spans = {s.name: s for s in agent_layer.spans()}
    mini = attrs_of(spans["chat gpt-4o-mini"])
    expected = expected_cost("gpt-4o", 6, 6) + expected_cost(
        "gpt-4o-mini", mini["gen_ai.usage.input_tokens"], mini["gen_ai.usage.output_tokens"]
    )
    assert attrs_of(spans["invoke_agent helper"])["agentotel.usage.cost_usd"] == pytest.approx(
        expected, rel=1e-12
    )


def _cost_points(cap: TelemetryCapture) -> dict[tuple[str, str, str], float]:
    return {
        (
            p.attributes["gen_ai.provider.name"],
            p.attributes["gen_ai.request.model"],
            p.attributes["gen_ai.token.type"],
        ): p.value
        for p in cap.metric_points(COST)
    }


def test_one_provider_keeps_one_set_of_cost_totals_across_instrumentors_and_reinstrumentation(
    monkeypatch: pytest.MonkeyPatch, cap: TelemetryCapture, openai_client: Any, anthropic_client: Any
) -> None:
    monkeypatch.setenv("ANTHROPIC_OPEN_TELEMETRY", "false")
    with instrumented(cap, OpenAIInstrumentor, AnthropicInstrumentor):
        openai_client.chat.completions.create(model="gpt-4o", messages=user(QUESTION))  # 6 in, 6 out
        message = anthropic_client.messages.create(
            model="claude-sonnet-4-6", max_tokens=64, messages=user(QUESTION)
        )
    with instrumented(cap, OpenAIInstrumentor):
        openai_client.chat.completions.create(model="gpt-4o", messages=user(QUESTION))
    openai_client.chat.completions.create(model="gpt-4o", messages=user(QUESTION))  # not instrumented

    i, o = message.usage.input_tokens, message.usage.output_tokens
    assert _cost_points(cap) == {
        ("openai", "gpt-4o", "input"): pytest.approx(2 * 6 * 2.5 / 1e6, rel=1e-12),
        ("openai", "gpt-4o", "output"): pytest.approx(2 * 6 * 10.0 / 1e6, rel=1e-12),
        ("anthropic", "claude-sonnet-4-6", "input"): pytest.approx(i * 3.0 / 1e6, rel=1e-12),
        ("anthropic", "claude-sonnet-4-6", "output"): pytest.approx(o * 15.0 / 1e6, rel=1e-12),
    }
    [metric] = [
        m
        for rm in cap.metric_reader.get_metrics_data().resource_metrics
        for sm in rm.scope_metrics
        for m in sm.metrics
        if m.name == COST
    ]
    assert (metric.unit, metric.data.is_monotonic) == ("{USD}", True)


def test_separate_providers_count_cost_separately(openai_client: Any) -> None:
    first, second = TelemetryCapture(), TelemetryCapture()
    try:
        with instrumented(first, OpenAIInstrumentor):
            openai_client.chat.completions.create(model="gpt-4o", messages=user(QUESTION))
        with instrumented(second, OpenAIInstrumentor):
            for _ in range(3):
                openai_client.chat.completions.create(model="gpt-4o", messages=user(QUESTION))

        assert _cost_points(first)[("openai", "gpt-4o", "output")] == pytest.approx(6 * 10.0 / 1e6, rel=1e-12)
        assert _cost_points(second)[("openai", "gpt-4o", "output")] == pytest.approx(
            3 * 6 * 10.0 / 1e6, rel=1e-12
        )
    finally:
        first.shutdown()
        second.shutdown()


_GLOBAL_LATER = """
import json, sys
from opentelemetry import metrics
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
import anthropic, openai
from agentotel.instrumentation.anthropic import AnthropicInstrumentor
from agentotel.instrumentation.openai import OpenAIInstrumentor
from agentotel.testing import FakeLLMServer

OpenAIInstrumentor().instrument()  # no meter provider yet: the API's proxy
reader = InMemoryMetricReader()
metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
AnthropicInstrumentor().instrument()  # the real global provider
with FakeLLMServer() as server:
    o = openai.OpenAI(base_url=server.openai_base_url, api_key="sk-x", max_retries=0)
    a = anthropic.Anthropic(base_url=server.anthropic_base_url, api_key="sk-x", max_retries=0)
    ask = [{"role": "user", "content": "What is the capital of France?"}]
    ru = o.chat.completions.create(model="gpt-4o", messages=ask).usage
    au = a.messages.create(model="claude-sonnet-4-6", max_tokens=64, messages=ask).usage
points = [
    [dict(p.attributes), p.value]
    for rm in reader.get_metrics_data().resource_metrics
    for sm in rm.scope_metrics
    for m in sm.metrics
    if m.name == "agentotel.llm.cost.usd"
    for p in m.data.data_points
]
usage = {"openai": [ru.prompt_tokens, ru.completion_tokens], "anthropic": [au.input_tokens, au.output_tokens]}
print(json.dumps({"points": points, "usage": usage}))
"""


def test_cost_is_counted_when_the_global_meter_provider_is_set_between_instrumentors(tmp_path: Path) -> None:
    import subprocess
    import sys

    script = tmp_path / "app.py"
    script.write_text(_GLOBAL_LATER)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AGENTOTEL_"))}
    env["ANTHROPIC_OPEN_TELEMETRY"] = "false"
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=False, env=env
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.splitlines()[-1])
    (oi, oo), (ai, ao) = out["usage"]["openai"], out["usage"]["anthropic"]
    got = {(a["gen_ai.provider.name"], a["gen_ai.token.type"]): v for a, v in out["points"]}
    assert len(out["points"]) == 4
    assert got == {
        ("openai", "input"): pytest.approx(oi * 2.5 / 1e6, rel=1e-12),
        ("openai", "output"): pytest.approx(oo * 10.0 / 1e6, rel=1e-12),
        ("anthropic", "input"): pytest.approx(ai * 3.0 / 1e6, rel=1e-12),
        ("anthropic", "output"): pytest.approx(ao * 15.0 / 1e6, rel=1e-12),
    }


def test_the_cost_totals_never_go_down() -> None:
    totals = cost_module.CostTotals()
    totals.add("openai", "gpt-4o", 1e-5, 2e-5)
    totals.add("openai", "gpt-4o", -5e-5, float("nan"))  # never priced so, but never added either

    observed = {dict(o.attributes or {})["gen_ai.token.type"]: o.value for o in totals.observe(None)}
    assert observed == {"input": 1e-5, "output": 2e-5}
