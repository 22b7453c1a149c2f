"""``examples/llama_index_agent.py`` under the real ``opentelemetry-instrument``, offline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers import LLAMA_INDEX_INSTALLED

pytestmark = pytest.mark.skipif(
    not LLAMA_INDEX_INSTALLED, reason="llama-index-core and llama-index-llms-openai are not installed"
)

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "llama_index_agent.py"
OTEL_INSTRUMENT = Path(sys.executable).parent / "opentelemetry-instrument"


def console_spans(stdout: str) -> tuple[list[str], list[dict[str, Any]]]:
    """The lines the app printed and the spans the console exporter printed between them."""
    lines: list[str] = []
    spans: list[dict[str, Any]] = []
    decoder = json.JSONDecoder()
    text = stdout
    while text:
        text = text.lstrip()
        if text.startswith("{"):
            span, end = decoder.raw_decode(text)
            spans.append(span)
            text = text[end:]
        elif text:
            line, _, text = text.partition("\n")
            lines.append(line)
    return lines, spans


def test_the_example_runs_offline_and_exports_the_agent_tree() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AGENTOTEL_", "OPENAI_"))}
    env.update(AGENTOTEL_EXAMPLE_OFFLINE="1", PYTHONUNBUFFERED="1")

    proc = subprocess.run(
        [
            str(OTEL_INSTRUMENT),
            "--traces_exporter",
            "console",
            "--metrics_exporter",
            "none",
            "--logs_exporter",
            "none",
            sys.executable,
            str(EXAMPLE),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )

    assert proc.returncode == 0, proc.stderr
    lines, spans = console_spans(proc.stdout)
    assert lines == ["writer: It is sunny in Paris."]
    names = {s["context"]["span_id"]: s["name"] for s in spans}
    ordered = sorted(spans, key=lambda s: s["start_time"])
    workflow, researcher, writer = (
        "invoke_workflow AgentWorkflow",
        "invoke_agent researcher",
        "invoke_agent writer",
    )
    assert [(s["name"], names.get(s["parent_id"]), s["kind"]) for s in ordered] == [
        (workflow, None, "SpanKind.INTERNAL"),
        (researcher, workflow, "SpanKind.INTERNAL"),
        ("chat gpt-4o-mini", researcher, "SpanKind.CLIENT"),
        ("execute_tool get_weather", researcher, "SpanKind.INTERNAL"),
        ("chat gpt-4o-mini", researcher, "SpanKind.CLIENT"),
        ("execute_tool handoff", researcher, "SpanKind.INTERNAL"),
        (writer, workflow, "SpanKind.INTERNAL"),
        ("chat gpt-4o-mini", writer, "SpanKind.CLIENT"),
    ]
    usage = {
        s["name"]: (
            s["attributes"]["gen_ai.usage.input_tokens"],
            s["attributes"]["gen_ai.usage.output_tokens"],
        )
        for s in spans
        if s["name"].startswith("invoke_")
    }
    # The fake server's counts of the researcher's two requests (21 + 24 input words, 2 + 7 output)
    # and the writer's one, summed onto each agent and onto the workflow.
    assert usage == {researcher: (45, 9), writer: (43, 5), workflow: (88, 14)}
