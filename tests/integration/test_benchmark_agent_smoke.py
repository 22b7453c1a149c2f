"""The agent-layer overhead benchmark still runs and measures what it claims (no timing is asserted
here: speed lives in benchmarks/agent_overhead.py, never in a timed test)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOOL_MODES = ["none", "hand_span", "hand_span_hist", "agentotel"]
SESSION_MODES = ["plain_provider", "no_session", "session", "session_per_tree", "hand"]
STAMP = {"gen_ai.conversation.id": "conv-1", "user.id": "u-1"}
TOOL_SPAN = {
    "gen_ai.operation.name": "execute_tool",
    "gen_ai.tool.name": "add",
    "gen_ai.tool.type": "function",
}


def _number(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def test_smoke_agent_benchmark_run_reports_every_workload(tmp_path: Path) -> None:
    out = tmp_path / "agent_bench.json"
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "agent_overhead.py"),
            "--smoke",
            "--no-callgrind",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text())
    assert "instructions_per_call" not in result
    cpu = result["cpu_us_per_call"]
    assert sorted(cpu) == ["session", "tool"]

    tool = cpu["tool"]
    assert list(tool["per_call"]) == TOOL_MODES
    assert all(_number(v) for v in tool["per_call"].values())
    assert all(_number(v) for v in tool["overhead"].values())
    for key in ("ratio_vs_hand_span_hist", "ratio_vs_hand_span"):
        assert tool[key] is None or _number(tool[key]), key  # None only when CPU noise ate the floor
    assert tool["target"] == 1.3
    modes = tool["modes"]
    assert modes["none"]["spans_per_call"] == 0.0
    assert modes["none"]["metrics"] == []
    assert modes["hand_span"]["metrics"] == []
    for mode in ("hand_span", "hand_span_hist", "agentotel"):
        assert modes[mode]["spans_per_call"] == 1.0, mode
        assert modes[mode]["check"]["span_names"] == ["execute_tool add"], mode
        assert modes[mode]["check"]["span_attributes"] == [TOOL_SPAN], mode
    for mode in ("hand_span_hist", "agentotel"):
        assert modes[mode]["metrics"] == ["agentotel.tool.duration"], mode

    session = cpu["session"]
    assert list(session["per_tree"]) == SESSION_MODES
    for key in ("per_tree", "per_span", "vs_no_session_per_tree", "vs_no_session_per_span"):
        assert all(_number(v) for v in session[key].values()), key
    for key in (
        "stamping_per_span",
        "hand_per_span",
        "idle_processor_per_span",
        "session_open_close_per_tree",
    ):
        assert _number(session[key]), key
    assert session["spans_per_tree"] == 50
    for mode in SESSION_MODES:
        measured = session["modes"][mode]
        assert measured["spans_per_call"] == 50.0, mode
        assert measured["check"]["spans"] == 50, mode
        stamped = mode in ("session", "session_per_tree", "hand")
        assert (measured["check"]["span_attributes"] == [STAMP]) is stamped, mode

    assert "tool: CPU time per call" in done.stdout
    assert "session: CPU time per call" in done.stdout
    assert "Command: " in done.stdout
