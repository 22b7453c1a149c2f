"""The demo and ``examples/agent.py`` use priced models: a cost for every LLM call, the Gemini,
Bedrock, Mistral, Cohere and Groq calls (where their SDKs are installed) included, except
Ollama's (local models, no shipped price): one "no price" warning, and the total counts it as
unpriced."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import BEDROCK_INSTALLED, DEMO_PROVIDERS, GEMINI_INSTALLED, LITELLM_INSTALLED

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def _run(*argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AGENTOTEL_"))}
    for key in (
        "OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
        "GEMINI_API_KEY",
        "GOOGLE_API_KEY",
        "AWS_ACCESS_KEY_ID",
    ):
        environ.pop(key, None)
    environ.pop("AWS_BEARER_TOKEN_BEDROCK", None)
    environ.update(COLUMNS="200", ANTHROPIC_OPEN_TELEMETRY="false", **env)
    return subprocess.run(
        argv, cwd=ROOT, env=environ, capture_output=True, text=True, timeout=180, check=True
    )


# The other providers' calls run where their SDKs are installed (.venv; not the openai/anthropic
# majors rows). LiteLLM's is a gpt-4o-mini chat.
GEMINI = GEMINI_INSTALLED
BEDROCK = BEDROCK_INSTALLED
LITELLM = LITELLM_INSTALLED

# Per model: priced calls, input and output tokens, USD. The fake tokens are words; the prices are
# the table's: gpt-4o-mini $0.15 / $0.60, claude-opus-5 $5 / $25, text-embedding-3-small $0.02,
# gemini-2.5-flash (Gemini API) $0.30 / $2.50, amazon.nova-lite-v1:0 $0.06 / $0.24 per million.
COSTS = [
    # 2 planner chats, 3 plain chats (the 4th is rate limited), LiteLLM's chat (6 words in, 6 out)
    ("gpt-4o-mini", 6, 102, 42, "0.00004050") if LITELLM else ("gpt-4o-mini", 5, 96, 36, "0.00003600"),
    ("text-embedding-3-small", 1, 20, 0, "0.00000040"),
    ("claude-opus-5", 3, 24, 13, "0.00044500"),
    *[("gemini-2.5-flash", 1, 6, 6, "0.00001680")] * GEMINI,
    *[("amazon.nova-lite-v1:0", 1, 6, 6, "0.00000180")] * BEDROCK,
    # mistral-small-latest: $0.15 / $0.60 per million
    *[("mistral-small-latest", 1, 6, 6, "0.00000450")]
    * any(p.installed for p in DEMO_PROVIDERS if p.said == "mistral"),
    # command-r-08-2024: $0.15 / $0.60 per million
    *[("command-r-08-2024", 1, 6, 6, "0.00000450")]
    * any(p.installed for p in DEMO_PROVIDERS if p.said == "cohere"),
    # llama-3.3-70b-versatile (Groq): $0.59 / $0.79 per million
    *[("llama-3.3-70b-versatile", 1, 6, 6, "0.00000828")]
    * any(p.installed for p in DEMO_PROVIDERS if p.said == "groq"),
]
# The demo's models with no shipped price (Ollama's), where their SDKs are installed.
UNPRICED = [p.model for p in DEMO_PROVIDERS if p.installed and p.said == "ollama"]
NO_PRICE = [
    f"agentotel: no price for model '{model}': its calls get no cost (add it with AGENTOTEL_PRICING_FILE)"
    for model in UNPRICED
]
# The sum of the rows, in units of 1e-8 USD (no float rounding in the expected text).
_TOTAL = sum(int(usd.replace(".", "")) for *_, usd in COSTS)
CALLS = sum(row[1] for row in COSTS)
TOTAL = f"total cost: ${_TOTAL // 10**8}.{_TOTAL % 10**8:08d} over {CALLS} priced LLM calls, {len(UNPRICED)} unpriced"  # noqa: E501


def test_the_demo_shows_what_its_llm_calls_cost_and_warns_of_no_model() -> None:
    done = _run(sys.executable, "-m", "agentotel.cli", "demo")
    said = " ".join((done.stdout + done.stderr).split())  # the log lines are wrapped
    assert said.count("no price") == len(NO_PRICE)
    assert all(warning in said for warning in NO_PRICE)
    rows = re.findall(
        r"^│ (\S+)\s+│\s+(\d+) │\s+(\d+) │\s+(\d+) │\s+\$(\d+\.\d{8}) │$", done.stdout, re.MULTILINE
    )
    assert [(m, int(c), int(i), int(o), usd) for m, c, i, o, usd in rows] == COSTS
    assert TOTAL in done.stdout


def test_the_example_agent_prices_every_call_under_opentelemetry_instrument() -> None:
    done = _run(
        str(VENV_BIN / "opentelemetry-instrument"),
        "--traces_exporter",
        "console",
        "--metrics_exporter",
        "none",
        "--logs_exporter",
        "none",
        sys.executable,
        "examples/agent.py",
        AGENTOTEL_EXAMPLE_OFFLINE="1",
    )
    warnings = [line for line in (done.stdout + done.stderr).splitlines() if "no price" in line]
    assert warnings == NO_PRICE
    spans = [json.loads(s) for s in re.findall(r"^\{\n.*?^\}$", done.stdout, flags=re.MULTILINE | re.DOTALL)]
    llm = [s for s in spans if s["name"].startswith(("chat ", "embeddings ", "generate_content "))]
    with_usage = [s for s in llm if "gen_ai.usage.input_tokens" in s["attributes"]]
    assert len(with_usage) == 7 + sum(p.installed for p in DEMO_PROVIDERS)
    unpriced = [s["name"] for s in with_usage if "agentotel.usage.cost_usd" not in s["attributes"]]
    assert unpriced == [f"chat {model}" for model in UNPRICED]
    costs = {
        s["name"]: s["attributes"]["agentotel.usage.cost_usd"]
        for s in with_usage
        if s["name"] not in unpriced
    }
    if GEMINI:
        assert costs["generate_content gemini-2.5-flash"] == pytest.approx(
            (6 * 0.3 + 6 * 2.5) / 1e6, rel=1e-12
        )
    if BEDROCK:
        assert costs["chat amazon.nova-lite-v1:0"] == pytest.approx((6 * 0.06 + 6 * 0.24) / 1e6, rel=1e-12)


def test_the_example_stays_offline_when_only_an_aws_profile_is_set() -> None:
    # A shell's AWS_PROFILE is no key: the example still talks to the fake server only.
    done = _run(sys.executable, "examples/agent.py", AWS_PROFILE="a-profile-this-machine-lacks")
    lines = done.stdout.splitlines()
    assert lines[0] == "agent: Hello from the fake LLM server."
    assert ("bedrock: Hello from the fake LLM server." in lines) is BEDROCK
