"""``agentotel demo`` in both convention modes, as a user runs it: a subprocess, with and without
``OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental`` (docs/conventions.md). Each run must
print its mode's span and metric names and none of the other mode's.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from agentotel import semconv
from agentotel.cli._demo import table_metrics

# Names only one mode has: span names (as the tree prints them) and metrics (the metrics table).
DEFAULT_ONLY = {
    "span": ["guardrail prompt-policy"],
    "metric": [
        semconv.GEN_AI_CLIENT_TOKEN_USAGE,
        semconv.GEN_AI_CLIENT_OPERATION_DURATION,
        semconv.TOOL_DURATION,
    ],
}
LATEST_ONLY = {
    "span": ["apply_guardrail prompt-policy"],
    "metric": [
        semconv.GEN_AI_CLIENT_INFERENCE_USAGE_INPUT_TOKENS,
        semconv.GEN_AI_CLIENT_INFERENCE_USAGE_OUTPUT_TOKENS,
        semconv.GEN_AI_CLIENT_EMBEDDINGS_OPERATION_INPUT_TOKENS,
        semconv.GEN_AI_CLIENT_INFERENCE_DURATION,
        semconv.GEN_AI_CLIENT_EMBEDDINGS_DURATION,
        semconv.GEN_AI_EXECUTE_TOOL_DURATION,
        semconv.GEN_AI_INVOKE_WORKFLOW_DURATION,
        semconv.GEN_AI_INVOKE_AGENT_DURATION,
        semconv.GEN_AI_INVOKE_AGENT_INFERENCE_CALLS,
        semconv.GEN_AI_INVOKE_AGENT_TOOL_CALLS,
    ],
}


def demo(latest: bool) -> str:
    """``python -m agentotel.cli demo``'s output, 200 columns wide (one line per span)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AGENTOTEL_"))}
    env.update(COLUMNS="200", ANTHROPIC_OPEN_TELEMETRY="false", PYTHONUNBUFFERED="1")
    if latest:
        env["OTEL_SEMCONV_STABILITY_OPT_IN"] = "gen_ai_latest_experimental"
    proc = subprocess.run(
        [sys.executable, "-m", "agentotel.cli", "demo"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return proc.stdout


def span_names(out: str) -> list[str]:
    return re.findall(r"── (.+?)  \d+\.\d ms", out)


def metric_rows(out: str) -> set[str]:
    """The first column of the metrics table."""
    return set(re.findall(r"^│ ((?:gen_ai|agentotel)\.[a-z_.]+)\s+│", out, flags=re.MULTILINE))


@pytest.mark.parametrize("latest", [False, True], ids=["default", "latest"])
def test_the_demo_prints_the_names_of_its_mode(latest: bool) -> None:
    out = demo(latest)
    own, other = (LATEST_ONLY, DEFAULT_ONLY) if latest else (DEFAULT_ONLY, LATEST_ONLY)
    spans, metrics = span_names(out), metric_rows(out)

    assert set(own["span"]) <= set(spans)
    assert not set(other["span"]) & set(spans)
    assert set(own["metric"]) <= metrics
    assert not set(other["metric"]) & metrics
    # Plans keep agentotel.workflow.duration in both modes (the conventions have no plan metric).
    assert semconv.WORKFLOW_DURATION in metrics
    # Every metric the table lists for the mode was recorded by the demo.
    assert metrics == set(table_metrics(semconv.conventions(latest)))
    # The cost summary reads the spans' usage, the same in both modes.
    assert re.search(r"total cost: \$\d+\.\d{8} over \d+ priced LLM calls, \d+ unpriced", out)
