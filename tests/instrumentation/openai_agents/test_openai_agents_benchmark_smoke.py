"""``benchmarks/openai_agents.py --smoke --no-callgrind`` runs every workload and mode, each child
checking its spans first (the measurement itself is not a test)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("agents")

ROOT = Path(__file__).resolve().parents[3]


def test_the_benchmark_runs_every_mode() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "openai_agents.py"), "--smoke", "--no-callgrind"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert proc.returncode == 0, proc.stderr
    tables = [line for line in proc.stdout.splitlines() if line.startswith(("tool:", "run:", "ratio"))]
    assert [line.split(" = ")[0] for line in tables] == [
        "tool: CPU µs per tool call",
        "ratio (agentotel - sdk) / (hand - sdk)",
        "run: CPU µs per agent run (trace + agent span)",
        "ratio (agentotel - sdk) / (hand - sdk)",
    ]
