"""``benchmarks/llama_index_bridge.py --smoke``: every workload runs in every mode, and each child
first checks that the hand-written floor and the bridge make the same spans (it fails otherwise)."""

from __future__ import annotations

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


@pytest.mark.skipif(
    not LLAMA_INDEX_INSTALLED or not _mock_llm_scripts_replies(),
    reason="the benchmark's MockFunctionCallingLLM(response_generator=...): llama-index-core>=0.14.12",
)
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
