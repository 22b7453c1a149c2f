"""The demo and ``examples/agent.py`` use priced models: a cost for every LLM call, no "no price" warning,
but for the Gemini and Bedrock calls (no price of theirs is shipped) where their SDKs are installed."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

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
# majors rows). Gemini and Bedrock models have no shipped price; LiteLLM's is a gpt-4o-mini chat.
GEMINI = find_spec("google") is not None and find_spec("google.genai") is not None
BEDROCK = find_spec("boto3") is not None
LITELLM = find_spec("litellm") is not None

# Per model: priced calls, input and output tokens, USD. The fake tokens are words; the prices are
# the table's: gpt-4o-mini $0.15 / $0.60, claude-opus-5 $5 / $25, text-embedding-3-small $0.02 per million.
COSTS = [
    # 2 planner chats, 3 plain chats (the 4th is rate limited), LiteLLM's chat (6 words in, 6 out)
    ("gpt-4o-mini", 6, 102, 42, "0.00004050") if LITELLM else ("gpt-4o-mini", 5, 96, 36, "0.00003600"),
    ("text-embedding-3-small", 1, 20, 0, "0.00000040"),
    ("claude-opus-5", 3, 24, 13, "0.00044500"),
]
TOTAL = (
    f"total cost: ${0.00048590 if LITELLM else 0.00048140:.8f} over {10 if LITELLM else 9} priced LLM calls, "
    f"{GEMINI + BEDROCK} unpriced"
)
UNPRICED = ["gemini-2.5-flash-001"] * GEMINI + ["amazon.nova-lite-v1:0"] * BEDROCK


def test_the_demo_shows_what_its_llm_calls_cost_and_warns_only_of_the_unpriced_providers() -> None:
    done = _run(sys.executable, "-m", "agentotel.cli", "demo")
    said = " ".join((done.stdout + done.stderr).split())  # the log lines are wrapped
    assert re.findall(r"no price for model '([^']+)'", said) == UNPRICED
    assert said.count("no price") == len(UNPRICED)
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
    assert re.findall(r"no price for model '([^']+)'", done.stdout + done.stderr) == UNPRICED
    spans = [json.loads(s) for s in re.findall(r"^\{\n.*?^\}$", done.stdout, flags=re.MULTILINE | re.DOTALL)]
    llm = [s for s in spans if s["name"].startswith(("chat ", "embeddings ", "generate_content "))]
    with_usage = [s for s in llm if "gen_ai.usage.input_tokens" in s["attributes"]]
    assert len(with_usage) == 7 + GEMINI + BEDROCK + LITELLM
    unpriced = [s["name"] for s in with_usage if "agentotel.usage.cost_usd" not in s["attributes"]]
    assert (
        unpriced == ["generate_content gemini-2.5-flash"] * GEMINI + ["chat amazon.nova-lite-v1:0"] * BEDROCK
    )


def test_the_example_stays_offline_when_only_an_aws_profile_is_set() -> None:
    # A shell's AWS_PROFILE is no key: the example still talks to the fake server only.
    done = _run(sys.executable, "examples/agent.py", AWS_PROFILE="a-profile-this-machine-lacks")
    lines = done.stdout.splitlines()
    assert lines[0] == "agent: Hello from the fake LLM server."
    assert ("bedrock: Hello from the fake LLM server." in lines) is BEDROCK
