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
SOURCE_HOSTS = {
    "openai": "developers.openai.com",
    "anthropic": "platform.claude.com",
    "gcp.gemini": "ai.google.dev",
    "aws.bedrock": "aws.amazon.com",
    "cohere": "cohere.com",
    "groq": "groq.com",
    "mistral_ai": "mistral.ai",
}
# Mistral Small 4's price is its model card's (docs.mistral.ai), the others' Mistral's pricing page's.
SOURCE_HOST_BY_MODEL = {"mistral-small-latest": "docs.mistral.ai", "mistral-small-2603": "docs.mistral.ai"}
# The day each transcription of a provider's page was made (not the day we read the transcription):
# the Gemini API pricing page on 2026-10-07, the AWS Price List (us-east-1) on 2026-09-01, Cohere's
# pricing page (captured) on 2026-11-11.
READ_ON_BY_PROVIDER = {"gcp.gemini": "2026-10-07", "aws.bedrock": "2026-09-01", "cohere": "2026-11-11"}
# Mistral's and Groq's pages, each on the day a dated third-party reading quotes it (docs/cost.md).
READ_ON_BY_MODEL = {
    "mistral-small-latest": "2026-08-27",
    "mistral-small-2603": "2026-08-27",
    "mistral-large-latest": "2026-06-17",
    "mistral-large-2512": "2026-06-17",
    "ministral-8b-latest": "2026-06-17",
    "ministral-3b-latest": "2026-06-17",
    "llama-3.3-70b-versatile": "2026-06-08",
    "llama-3.1-8b-instant": "2026-06-08",
    "openai/gpt-oss-120b": "2026-01-18",
    "openai/gpt-oss-20b": "2026-01-18",
}
GEMINI_PRICING = "https://ai.google.dev/gemini-api/docs/pricing"
BEDROCK_PRICING = "https://aws.amazon.com/bedrock/pricing/"
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
        host = SOURCE_HOST_BY_MODEL.get(name, SOURCE_HOSTS[entry["provider"]])
        assert (url.scheme, url.netloc) == ("https", host), name
        read_on = READ_ON_BY_MODEL.get(name) or READ_ON_BY_PROVIDER.get(entry["provider"], READ_ON)
        assert entry["as_of"] == read_on, name
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


GEMINI = {  # USD per million tokens, standard (paid) tier, text input; no cache price on the page read
    "gemini-3.5-flash": (1.5, 9.0),
    "gemini-3.5-flash-lite": (0.3, 2.5),
    "gemini-2.5-flash": (0.3, 2.5),
    "gemini-2.5-flash-lite": (0.1, 0.4),
}
NOVA = {  # USD per million tokens, us-east-1 on-demand
    "amazon.nova-micro-v1:0": (0.035, 0.14),
    "amazon.nova-lite-v1:0": (0.06, 0.24),
    "amazon.nova-pro-v1:0": (0.8, 3.2),
    "amazon.nova-premier-v1:0": (2.5, 12.5),
}


@pytest.mark.parametrize(("model", "prices"), GEMINI.items())
def test_gemini_api_models_are_priced_for_gemini_api_calls_only(
    model: str, prices: tuple[float, float]
) -> None:
    table = load(None)
    price = Price(*prices, None, None, "2026-10-07", GEMINI_PRICING)
    assert table.lookup(model, "gcp.gemini") == price
    # The model version a response names (the fake server's "-001", a real "gemini-2.5-flash-001").
    assert table.lookup(f"{model}-001", "gcp.gemini") == price
    assert table.lookup(f"models/{model}", "gcp.gemini") == price
    # Vertex AI prices the same names on its own page, which could not be read: no price.
    assert table.lookup(model, "gcp.vertex_ai") is None
    assert table.lookup(f"publishers/google/models/{model}", "gcp.vertex_ai") is None


@pytest.mark.parametrize(("model", "prices"), NOVA.items())
def test_nova_models_are_priced_for_bedrock_calls_in_us_east_1_terms(
    model: str, prices: tuple[float, float]
) -> None:
    table = load(None)
    price = Price(*prices, None, None, "2026-09-01", BEDROCK_PRICING)
    assert table.lookup(model, "aws.bedrock") == price
    # The US cross-region inference profile is charged at its source region's price (us-east-1's).
    assert table.lookup(f"us.{model}", "aws.bedrock") == price
    # An ARN names the model or the profile after its last "/".
    assert table.lookup(f"arn:aws:bedrock:us-east-1::foundation-model/{model}", "aws.bedrock") == price
    arn = f"arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.{model}"
    assert table.lookup(arn, "aws.bedrock") == price
    # Other geographies and the global profile cost otherwise (not read): no price, none guessed.
    for prefix in ("eu.", "apac.", "jp.", "au.", "us-gov.", "global."):
        assert table.lookup(f"{prefix}{model}", "aws.bedrock") is None, prefix
    assert table.lookup(model, "gcp.gemini") is None


MISTRAL_AND_GROQ = {  # USD per million tokens: input, output, cache read (None: the input price)
    ("mistral_ai", "mistral-small-latest"): (0.15, 0.6, None),
    ("mistral_ai", "mistral-small-2603"): (0.15, 0.6, None),
    ("mistral_ai", "mistral-large-latest"): (0.5, 1.5, None),
    ("mistral_ai", "mistral-large-2512"): (0.5, 1.5, None),
    ("mistral_ai", "ministral-8b-latest"): (0.15, 0.15, None),
    ("mistral_ai", "ministral-3b-latest"): (0.1, 0.1, None),
    ("groq", "llama-3.3-70b-versatile"): (0.59, 0.79, None),
    ("groq", "llama-3.1-8b-instant"): (0.05, 0.08, None),
    ("groq", "openai/gpt-oss-120b"): (0.15, 0.6, 0.075),
    ("groq", "openai/gpt-oss-20b"): (0.075, 0.3, 0.0375),
}


@pytest.mark.parametrize(("key", "prices"), MISTRAL_AND_GROQ.items())
def test_mistral_and_groq_models_are_priced_for_their_provider_only(
    key: tuple[str, str], prices: tuple[float, float, float | None]
) -> None:
    provider, model = key
    table = load(None)
    price = table.lookup(model, provider)
    assert price is not None
    assert (price.input, price.output, price.cache_read, price.cache_write) == (*prices, None)
    assert price.as_of == READ_ON_BY_MODEL[model]
    # The same open model served elsewhere (another provider's Llama or GPT-OSS) costs otherwise.
    assert table.lookup(model, "openai") is None


def test_mistral_and_groq_models_without_a_dated_price_are_left_unpriced() -> None:
    table = load(None)
    for model in ("mistral-medium-latest", "mistral-embed", "codestral-latest", "magistral-medium-latest"):
        assert table.lookup(model, "mistral_ai") is None, model
    for model in ("qwen/qwen3-32b", "meta-llama/llama-4-scout-17b-16e-instruct"):
        assert table.lookup(model, "groq") is None, model


@pytest.mark.parametrize(
    ("model", "short", "long"),
    [("gemini-3.1-pro-preview", (2.0, 12.0), (4.0, 18.0)), ("gemini-2.5-pro", (1.25, 10.0), (2.5, 15.0))],
)
def test_gemini_pro_models_are_priced_in_their_two_prompt_length_tiers(
    model: str, short: tuple[float, float], long: tuple[float, float]
) -> None:
    price = load(None).lookup(model, "gcp.gemini")
    assert price == Price(*short, None, None, "2026-10-07", GEMINI_PRICING, 200_000, Price(*long))
    assert price is not None
    # Up to 200K input tokens the whole call at the short prices, above them the whole call at the long ones.
    assert price.cost(200_000, 1_000) == pytest.approx(
        (200_000 * short[0] + 1_000 * short[1]) / 1e6, rel=1e-12
    )
    assert price.cost(200_001, 1_000) == pytest.approx((200_001 * long[0] + 1_000 * long[1]) / 1e6, rel=1e-12)
    assert price.split(200_001, 1_000) == price.long.split(200_001, 1_000)  # type: ignore[union-attr]


def test_a_pricing_file_may_give_a_long_prompt_tier(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    entry = {
        "input": 1,
        "output": 2,
        "long_prompt": {"above": 100, "input": 3, "output": 4, "cache_read": 0.5},
    }
    path.write_text(json.dumps({"models": {"m": entry}}))
    assert load(str(path)).lookup("m") == Price(1.0, 2.0, long_above=100, long=Price(3.0, 4.0, 0.5))
    for bad, message in [
        (
            {"input": 3, "output": 4},
            "expected an object with 'above' (a number of input tokens > 0) and prices",
        ),
        (
            {"above": 0, "input": 3},
            "expected an object with 'above' (a number of input tokens > 0) and prices",
        ),
        ({"above": 10, "input": 3, "as_of": "x"}, "unknown field(s) ['as_of']; accepted: input, output"),
        ({"above": 10, "input": -3}, "models['m'].long_prompt.input: expected a price"),
    ]:
        path.write_text(json.dumps({"models": {"m": {"input": 1, "output": 2, "long_prompt": bad}}}))
        with pytest.raises(ConfigError) as raised:
            load(str(path))
        assert message in str(raised.value), bad


def test_models_left_out_of_the_google_and_aws_prices() -> None:
    table = load(None)
    # A price that changes on 2027-01-01 (3.8 Flash); models the transcription read does not list.
    for model in ("gemini-3.8-flash", "gemini-3.1-flash-lite", "gemini-3-flash-preview"):
        assert table.lookup(model, "gcp.gemini") is None, model
    # Claude and Llama on Bedrock: no page of their Bedrock prices could be read; the direct
    # Anthropic price is not Bedrock's (regional endpoints cost more).
    for model in ("anthropic.claude-sonnet-4-5-20250929-v1:0", "meta.llama3-8b-instruct-v1:0"):
        assert table.lookup(model, "aws.bedrock") is None, model
    assert table.lookup("claude-sonnet-4-5-20250929", "aws.bedrock") is None
    assert table.lookup("claude-sonnet-4-5-20250929", "anthropic") is not None


def test_an_entry_with_a_provider_prices_only_that_providers_calls(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    entries = {
        "scoped": {"input": 1, "output": 2, "provider": "gcp.vertex_ai"},
        "any": {"input": 3, "output": 4},
    }
    path.write_text(json.dumps({"models": entries, "aliases": {"scoped-alias": "scoped"}}))
    table = load(str(path))
    assert table.lookup("scoped", "gcp.vertex_ai") == Price(1.0, 2.0)
    assert table.lookup("scoped-alias", "gcp.vertex_ai") == Price(1.0, 2.0)
    assert table.lookup("scoped", "gcp.gemini") is None
    assert table.lookup("scoped") == Price(1.0, 2.0)  # no provider named: every entry
    assert table.lookup("any", "gcp.gemini") == table.lookup("any") == Price(3.0, 4.0)
    # An override entry without a provider replaces the shipped one for every provider.
    path.write_text(json.dumps({"models": {"gemini-2.5-flash": {"input": 5, "output": 6}}}))
    assert load(str(path)).lookup("gemini-2.5-flash", "gcp.vertex_ai") == Price(5.0, 6.0)


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
    Price(2.0, 12.0, long_above=1000, long=Price(4.0, 18.0, cache_read=0.4)),
    Price(3.0, 15.0, cache_read=0.3, cache_write=3.75),
    Price(0.15, 0.6, cache_read=0.075),
]


@pytest.mark.parametrize(("input_tokens", "output_tokens", "cache_read", "cache_write"), SPLIT_USAGE)
@pytest.mark.parametrize("price", SPLIT_PRICES)
def test_split_is_the_same_two_floats_as_cost(
    price: Price, input_tokens: int, output_tokens: int, cache_read: int, cache_write: int
) -> None:
    inputs, outputs = price.split(input_tokens, output_tokens, cache_read, cache_write)
    # The prices of the call's prompt-length tier (the long ones above long_above input tokens).
    tier = price.long if price.long is not None and input_tokens > price.long_above else price
    # repr: the very same float (0.0 and -0.0 compare equal, their reprs do not).
    assert repr(inputs) == repr(price.cost(input_tokens, 0, cache_read, cache_write))
    assert repr(outputs) == repr(tier.cost(0, output_tokens))
