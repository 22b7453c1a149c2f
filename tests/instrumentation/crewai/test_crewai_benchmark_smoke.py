"""``benchmarks/crewai_bridge.py --smoke``: every workload runs in every mode, and each child first
checks that the hand-written floor and the bridge make the same spans (it fails otherwise)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import CREWAI_INSTALLED

if not CREWAI_INSTALLED:
    pytest.skip("crewai is not installed: nox -s 'majors(crewai)'", allow_module_level=True)

SCRIPT = Path(__file__).resolve().parents[3] / "benchmarks" / "crewai_bridge.py"


def test_the_benchmark_runs_every_mode(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--smoke", "--no-callgrind"],
        capture_output=True,
        text=True,
        timeout=600,  # six children each importing crewai, on a loaded machine
        check=False,
        env={**os.environ, "CREWAI_STORAGE_DIR": str(tmp_path)},
    )

    assert done.returncode == 0, done.stderr[-3000:]

    assert "CPU µs per agent run (a run whose model answers at once)" in done.stdout
    assert "CPU µs per tool call (the tool run minus the plain run)" in done.stdout
    for workload in ("run", "tool"):
        for mode in ("none", "hand", "agentotel"):
            assert f"cpu {workload:<4} {mode:<10}" in done.stderr
