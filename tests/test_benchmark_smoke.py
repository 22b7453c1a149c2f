"""The overhead benchmark still runs and measures what it claims (no timing is asserted here:
speed lives in benchmarks/overhead.py, never in a timed test)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STREAM_METRICS = [
    "gen_ai.client.operation.duration",
    "gen_ai.client.operation.time_per_output_chunk",
    "gen_ai.client.operation.time_to_first_chunk",
    "gen_ai.client.token.usage",
]


def test_quick_benchmark_run_measures_every_mode(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "overhead.py"),
            "--quick",
            "--no-callgrind",
            "--no-memory",
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
    workloads = result["cpu_us_per_call"]
    assert sorted(workloads) == [
        "anthropic_messages",
        "anthropic_messages_stream",
        "openai_chat",
        "openai_chat_stream",
    ]
    for name, workload in workloads.items():
        modes = workload["modes"]
        assert modes["none"]["spans_per_call"] == 0.0, name
        assert modes["none"]["metrics"] == [], name
        assert modes["bare"]["spans_per_call"] == 1.0, name
        assert modes["agentotel"]["spans_per_call"] == 1.0, name
        expected = STREAM_METRICS if name.endswith("_stream") else STREAM_METRICS[::3]
        # Both benchmark models (gpt-4o, claude-sonnet-4-6) have a price.
        assert modes["agentotel"]["metrics"] == sorted(["agentotel.llm.cost.usd", *expected]), name
    assert "Command: " in done.stdout
