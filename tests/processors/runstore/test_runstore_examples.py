"""The examples under ``opentelemetry-instrument`` with ``AGENTOTEL_RUNS_DIR`` set, offline against
the fake LLM server they start: the plain SDK agent (no agent span) is one run, the planner one
run per agent round.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from helpers import DEMO_PROVIDERS
from runstore_helpers import events_of, names, run_ids, summary_of

ROOT = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent
OTEL_INSTRUMENT = BIN / "opentelemetry-instrument"
# The example's one call through each other provider whose SDK is installed (all in .venv).
OTHER_PROVIDER_SPANS = [p.span for p in DEMO_PROVIDERS if p.installed]
ONLINE_KEYS = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GOOGLE_API_KEY", "GEMINI_API_KEY")


def run_example(name: str, runs_dir: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OTEL_", "AGENTOTEL_", "AWS_")) and k not in ONLINE_KEYS
    }
    env.update(
        PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        AGENTOTEL_EXAMPLE_OFFLINE="1",
        AGENTOTEL_RUNS_DIR=str(runs_dir),
        OTEL_TRACES_EXPORTER="none",
        OTEL_METRICS_EXPORTER="none",
        OTEL_LOGS_EXPORTER="none",
    )
    done = subprocess.run(
        [str(OTEL_INSTRUMENT), "python", str(ROOT / "examples" / name)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_the_plain_sdk_agent_is_one_run(tmp_path: Path) -> None:
    run_example("agent.py", tmp_path)
    [rid] = run_ids(tmp_path)
    summary = summary_of(tmp_path, rid)
    assert names(events_of(tmp_path, rid)) == [
        "chat gpt-4o-mini",
        "execute_tool get_weather",  # inferred from the tool result sent back
        "chat gpt-4o-mini",
        "chat gpt-4o-mini",  # the stream
        "chat gpt-4o-mini",  # answered 429, handled
        "embeddings text-embedding-3-small",
        "chat claude-opus-5",
        "execute_tool get_weather",
        "chat claude-opus-5",
        "chat claude-opus-5",  # messages.stream()
        *OTHER_PROVIDER_SPANS,
    ]
    assert {k: summary[k] for k in ("status", "implicit", "span_count", "error_count", "tool_calls")} == {
        "status": "ok",
        "implicit": True,
        "span_count": 10 + len(OTHER_PROVIDER_SPANS),
        "error_count": 1,
        "tool_calls": {"ok": 2, "failed": 0},
    }
    assert len(set(summary["trace_ids"])) == 10 + len(OTHER_PROVIDER_SPANS)
    assert summary["trace_id"] == summary["trace_ids"][0] == rid.partition("_")[2] + summary["trace_id"][16:]


def test_the_planner_is_one_run_per_agent_round(tmp_path: Path) -> None:
    run_example("planner.py", tmp_path)
    first, second = (summary_of(tmp_path, rid) for rid in run_ids(tmp_path))
    assert [(s["root"]["name"], s["implicit"], s["status"], s["span_count"]) for s in (first, second)] == [
        ("invoke_agent planner", False, "ok", 19),  # with the MCP server's spans
        ("invoke_agent planner", False, "ok", 2),  # blocked by the guard
    ]
    assert [len(s["trace_ids"]) for s in (first, second)] == [1, 1]
    assert sorted(names(events_of(tmp_path, run_ids(tmp_path)[0]))) == [
        "approval book_table",
        "assemble_context",
        "chat gpt-4o-mini",
        "chat gpt-4o-mini",
        "execute_tool book_table",
        "execute_tool book_table",
        "execute_tool get_weather",
        "execute_tool search_docs",
        "guardrail prompt-policy",
        "invoke_agent planner",
        "plan planner",
        "step ask model",
        "step book",
        "step research",
        "step venue lookup",
        "tools/call venue_info",  # the MCP client's span (the execute_tool operation)
        "tools/call venue_info",  # the MCP server's, its child through params._meta
        "tools/list",  # the client reads the tool's output schema: a span on each side
        "tools/list",
    ]
