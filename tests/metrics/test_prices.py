"""The shipped price table: every price dated and traced to the provider's own page."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlparse

import pytest

from agentotel.config import ConfigError
from agentotel.pricing import Price, load

READ_ON = "2026-12-02"  # the day the providers' pages were read for this table
SOURCE_HOSTS = {"openai": "developers.openai.com", "anthropic": "platform.claude.com"}
ANTHROPIC_PRICING = "https://platform.claude.com/docs/en/about-claude/pricing"
# Kept from the earlier table, with their earlier dates: no page of OpenAI's giving their price could
# be read for this one (OpenAI's pricing page no longer lists them); the test suite prices them.
UNSOURCED = {"gpt-4o", "gpt-4o-mini", "o3-mini", "text-embedding-3-small"}
SHIPPED = Path(__file__).resolve().parents[2] / "src" / "agentotel" / "pricing" / "prices.json"


def test_every_shipped_price_names_its_source_page_and_the_day_it_was_read() -> None:
    entries = json.loads(SHIPPED.read_text(encoding="utf-8"))["models"]
    unsourced = set()
    for name, entry in entries.items():
        assert entry["provider"] in SOURCE_HOSTS, name
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", entry["as_of"]), name
        if "source" not in entry:
            unsourced.add(name)
            continue
        url = urlparse(entry["source"])
        assert (url.scheme, url.netloc) == ("https", SOURCE_HOSTS[entry["provider"]]), name
        assert entry["as_of"] == READ_ON, name
    assert unsourced == UNSOURCED


def test_the_demo_models_and_current_models_are_priced() -> None:
    table = load(None)
    assert table.lookup("claude-opus-5") == Price(5.0, 25.0, 0.5, 6.25, READ_ON, ANTHROPIC_PRICING)
    assert table.lookup("claude-opus-5-5") == Price(
        4.0, 20.0, 0.2, 5.0, READ_ON, "https://platform.claude.com/docs/zh-CN/models/opus-5-5/overview"
    )
    assert table.lookup("claude-sonnet-5") == Price(
        2.0, 10.0, 0.2, 2.5, READ_ON, "https://platform.claude.com/docs/zh-CN/models/sonnet-5/overview"
    )
    assert table.lookup("gpt-6.2-sol") == Price(
        2.0, 10.0, 0.1, 2.5, READ_ON, "https://developers.openai.com/api/docs/models/gpt-6.2-sol"
    )
    assert table.lookup("claude-haiku-4-5-20251001") is table.lookup("claude-haiku-4-5")
    # Priced in tiers or with a cache price we could not settle: left out rather than guessed.
    for unpriced in ("claude-haiku-5-5", "claude-sonnet-5-5", "claude-fable-5-1", "gpt-6.2-astra", "gpt-4.1"):
        assert table.lookup(unpriced) is None, unpriced


def test_a_source_must_be_a_string(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    path.write_text(json.dumps({"models": {"m": {"input": 1, "output": 2, "source": 7}}}))
    with pytest.raises(ConfigError) as raised:
        load(str(path))
    assert str(raised.value) == (
        f"AGENTOTEL_PRICING_FILE={path}: models['m'].source: expected the URL of the price's page, got 7"
    )


def test_an_override_may_name_its_source(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    entry = {"input": 1, "output": 2, "as_of": "2026-11-30", "source": "https://example.com/our-contract"}
    path.write_text(json.dumps({"models": {"my-model": entry}}))
    assert load(str(path)).lookup("my-model") == Price(
        1.0, 2.0, None, None, "2026-11-30", "https://example.com/our-contract"
    )


SPLIT_USAGE = [(0, 0, 0, 0), (5, 20, 0, 0), (1_234_567, 89, 0, 0), (1000, 7, 600, 0), (1000, 7, 0, 300)]
SPLIT_PRICES = [
    Price(2.5, 10.0),
    Price(3.0, 15.0, cache_read=0.3, cache_write=3.75),
    Price(0.15, 0.6, cache_read=0.075),
]


@pytest.mark.parametrize(("input_tokens", "output_tokens", "cache_read", "cache_write"), SPLIT_USAGE)
@pytest.mark.parametrize("price", SPLIT_PRICES)
def test_split_is_the_same_two_floats_as_cost(
    price: Price, input_tokens: int, output_tokens: int, cache_read: int, cache_write: int
) -> None:
    inputs, outputs = price.split(input_tokens, output_tokens, cache_read, cache_write)
    # repr: the very same float (0.0 and -0.0 compare equal, their reprs do not).
    assert repr(inputs) == repr(price.cost(input_tokens, 0, cache_read, cache_write))
    assert repr(outputs) == repr(price.cost(0, output_tokens))
