"""Cost: the price table, its override file, and the cost of real calls on spans and in metrics."""

from __future__ import annotations

import json
import logging
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
    assert table.lookup("chatgpt-4o-latest") is gpt4o
    assert table.lookup("gpt-4o-mini-2024-07-18") == Price(0.15, 0.6, 0.075, None, "2024-07-18")
    assert table.lookup("claude-sonnet-4-5-20250929") == Price(3.0, 15.0, 0.3, 3.75, "2025-09-29")
    assert table.lookup("claude-sonnet-4-20250514") is table.lookup("claude-sonnet-4-0")
    assert table.lookup("text-embedding-3-small") == Price(0.02, 0.0, None, None, "2024-01-25")
    # No guessing: an unknown name, or a known prefix of it, has no price.
    assert table.lookup("gpt-4o-turbo-ultra") is None
    assert table.lookup("claude-opus-5") is None


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
            model="claude-sonnet-4-5-20250929",
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
