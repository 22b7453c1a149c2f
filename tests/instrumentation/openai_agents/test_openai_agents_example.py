"""``examples/openai_agents_agent.py`` under the real ``opentelemetry-instrument``, offline."""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

agents = pytest.importorskip("agents")
pytestmark = pytest.mark.skipif(
    "run_in_parallel" not in inspect.signature(agents.input_guardrail).parameters,
    reason="the example's guardrail runs before the model call: openai-agents>=0.6.0",
)

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "openai_agents_agent.py"
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
        timeout=120,
        check=False,
    )

    assert proc.returncode == 0, proc.stderr
    lines, spans = console_spans(proc.stdout)
    assert lines == ["billing: Your bill is 42 EUR."]
    names = {s["context"]["span_id"]: s["name"] for s in spans}
    ordered = sorted(spans, key=lambda s: s["start_time"])
    assert [(s["name"], names.get(s["parent_id"]), s["kind"]) for s in ordered] == [
        ("invoke_workflow Agent workflow", None, "SpanKind.INTERNAL"),
        ("invoke_agent triage", "invoke_workflow Agent workflow", "SpanKind.INTERNAL"),
        ("guardrail no_secrets", "invoke_agent triage", "SpanKind.INTERNAL"),
        ("chat gpt-4o-mini", "invoke_agent triage", "SpanKind.CLIENT"),
        ("execute_tool get_weather", "invoke_agent triage", "SpanKind.INTERNAL"),
        ("chat gpt-4o-mini", "invoke_agent triage", "SpanKind.CLIENT"),
        ("invoke_agent billing", "invoke_workflow Agent workflow", "SpanKind.INTERNAL"),
        ("chat gpt-4o-mini", "invoke_agent billing", "SpanKind.CLIENT"),
    ]
    assert {s["attributes"]["gen_ai.conversation.id"] for s in spans} == {"conv-1"}
    # Only agentotel's processor is left in the SDK: its exporter did not even try.
    assert "skipping trace export" not in proc.stderr
