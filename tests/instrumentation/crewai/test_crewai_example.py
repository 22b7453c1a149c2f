"""``examples/crewai_agent.py`` under the real ``opentelemetry-instrument``, offline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers import CREWAI_INSTALLED

if not CREWAI_INSTALLED:
    pytest.skip("crewai is not installed: nox -s 'majors(crewai)'", allow_module_level=True)

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "crewai_agent.py"
OTEL_INSTRUMENT = Path(sys.executable).parent / "opentelemetry-instrument"
LLM = "chat gpt-4o-mini"


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


def test_the_example_runs_offline_and_exports_the_crew_tree(tmp_path: Path) -> None:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AGENTOTEL_", "OPENAI_", "CREWAI_"))
    }
    # CrewAI keeps its kickoff records in ~/.local/share/<cwd name> unless told otherwise.
    env.update(AGENTOTEL_EXAMPLE_OFFLINE="1", PYTHONUNBUFFERED="1", CREWAI_STORAGE_DIR=str(tmp_path))

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
        timeout=300,
        check=False,
    )

    assert proc.returncode == 0, proc.stderr
    lines, spans = console_spans(proc.stdout)
    # The app's line first (crewai 1.15.0 then prints a panel about its tracing on a first run).
    assert lines[0] == "stylist: A linen shirt and sunglasses."
    names = {s["context"]["span_id"]: s["name"] for s in spans}
    ordered = sorted(spans, key=lambda s: s["start_time"])
    crew, forecast, forecaster = "invoke_workflow weather crew", "step forecast", "invoke_agent forecaster"
    assert [(s["name"], names.get(s["parent_id"]), s["kind"]) for s in ordered] == [
        (crew, None, "SpanKind.INTERNAL"),
        (forecast, crew, "SpanKind.INTERNAL"),
        (forecaster, forecast, "SpanKind.INTERNAL"),
        (LLM, forecaster, "SpanKind.CLIENT"),
        ("execute_tool get_weather", forecaster, "SpanKind.INTERNAL"),
        (LLM, forecaster, "SpanKind.CLIENT"),
        ("step outfit", crew, "SpanKind.INTERNAL"),
        ("invoke_agent stylist", "step outfit", "SpanKind.INTERNAL"),
        (LLM, "invoke_agent stylist", "SpanKind.CLIENT"),
    ]
    llm_spans = [s for s in spans if s["name"] == LLM]
    [workflow] = [s for s in spans if s["name"] == crew]
    assert workflow["attributes"]["gen_ai.usage.input_tokens"] == sum(
        s["attributes"]["gen_ai.usage.input_tokens"] for s in llm_spans
    )
