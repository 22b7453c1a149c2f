"""``benchmarks/gateway.py --smoke`` runs end to end (hey against the upstream and the gateway, the
memory run) and writes its results; no figure is judged here (benchmarks/README.md)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("hey") is None, reason="hey is not installed (make test installs it)")
def test_the_gateway_benchmark_runs() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "gateway.py"), "--smoke"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    results = json.loads((ROOT / "benchmarks" / "out" / "gateway.json").read_text())
    assert set(results) == {"plan", "command", "upstream", "gateway", "bare", "gateway_memory", "summary"}
    for target in ("upstream", "gateway", "bare"):
        for workload in ("chat", "chat_stream"):
            row = results[target][workload]
            assert row["saturation"]["requests"] > 0 and row["rate_200"]["p50_ms"] > 0
            assert row["rate_200_in_step"]["requests"] > 0 and row["rate_200_in_step"]["p50_ms"] > 0
    assert results["summary"]["realtime"] is False and len(results["summary"]["load_average"]) == 2
    assert results["gateway_memory"]["n"] == 200
    assert "| chat_stream |" in done.stdout
    assert results["summary"]["chat"]["bare_rps"] == results["bare"]["chat"]["saturation"]["rps"]
