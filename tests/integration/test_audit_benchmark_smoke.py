"""The audit benchmark still runs and checks its own audit log (no timing is asserted here: speed
lives in benchmarks/audit_throughput.py, never in a timed test)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_small_audit_benchmark_run_reports_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "audit_bench.json"
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "audit_throughput.py"),
            "--records",
            "3000",
            "--repeats",
            "2",
            "--calls",
            "2000",
            "--dir",
            str(tmp_path),
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert done.returncode in (0, 1), done.stderr
    results = json.loads(out.read_text())
    runs = results["throughput"]["runs"]
    assert [(r["records"], r["verify"]) for r in runs] == [
        (3000, "chain intact: 3000 records, seq 1..3000, 1 file, SHA-256")
    ] * 2
    assert all(r["records_per_s"] > 0 and r["records_per_cpu_s"] > 0 for r in runs)
    assert results["on_end_audited"]["calls"] == results["on_end_not_audited"]["calls"] == 2000
    assert results["targets_met"] is (done.returncode == 0)
    assert done.stdout.splitlines()[-1].startswith("command: ")
