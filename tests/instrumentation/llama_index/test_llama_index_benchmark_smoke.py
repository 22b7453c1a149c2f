"""``benchmarks/llama_index_bridge.py --smoke``: every workload runs in every mode, and each child
first checks that the hand-written floor and the bridge make the same spans (it fails otherwise);
``--interleaved`` counts every call of every mode in one child under callgrind (``valgrind``,
installed by ``make test``)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import LLAMA_INDEX_INSTALLED

pytestmark = pytest.mark.skipif(
    not LLAMA_INDEX_INSTALLED, reason="llama-index-core and llama-index-llms-openai are not installed"
)


def _mock_llm_scripts_replies() -> bool:
    from llama_index.core.llms.mock import MockFunctionCallingLLM

    return "_response_generator" in MockFunctionCallingLLM.__private_attributes__


SCRIPT = Path(__file__).resolve().parents[3] / "benchmarks" / "llama_index_bridge.py"
scripted_mock = pytest.mark.skipif(
    not LLAMA_INDEX_INSTALLED or not _mock_llm_scripts_replies(),
    reason="the benchmark's MockFunctionCallingLLM(response_generator=...): llama-index-core>=0.14.12",
)


@scripted_mock
def test_the_benchmark_runs_every_mode() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--smoke", "--no-callgrind"],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )

    assert "CPU µs per agent run (a run whose model answers at once)" in done.stdout
    assert "CPU µs per tool call (the tool run minus the plain run)" in done.stdout
    for workload in ("run", "tool"):
        for mode in ("none", "hand", "agentotel"):
            assert f"cpu {workload:<4} {mode:<10}" in done.stderr


@scripted_mock
def test_the_interleaved_measure_counts_every_call_of_every_mode_under_callgrind(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--smoke", "--interleaved", "--callgrind-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=900,
        check=True,
    )

    # One child: each workload's modes in turn, every call counted alone (its dump read, then
    # removed); a mode's figure is the median of its calls, between their least and most.
    lines = re.findall(
        r"callgrind (\w+) +(\w+) +seed 0 ([\d,]+) instructions per run \(interleaved; ([\d,]+) to ([\d,]+)\)",
        done.stderr,
    )
    per_call = {(w, m): tuple(int(x.replace(",", "")) for x in figures) for w, m, *figures in lines}
    assert list(per_call) == [(w, m) for w in ("run", "tool") for m in ("none", "hand", "agentotel")]
    assert all(least <= median <= most for median, least, most in per_call.values())
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "callgrind.llama_index_bridge.interleaved.seed0.out"
    ]
    # A LlamaIndex run costs millions of instructions, one with a tool call more; every mode's
    # spans cost more than none.
    median = {key: figures[0] for key, figures in per_call.items()}
    assert all(ir > 1_000_000 for ir in median.values())
    for mode in ("none", "hand", "agentotel"):
        assert median[("tool", mode)] > median[("run", mode)]
    for workload in ("run", "tool"):
        assert median[(workload, "hand")] > median[(workload, "none")]
        assert median[(workload, "agentotel")] > median[(workload, "none")]
    assert "instructions per tool call (the tool run minus the plain run)" in done.stdout
