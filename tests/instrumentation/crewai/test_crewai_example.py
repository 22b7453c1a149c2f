"""``examples/crewai_agent.py`` under the real ``opentelemetry-instrument``, offline."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import CREWAI_INSTALLED, run_example

if not CREWAI_INSTALLED:
    pytest.skip("crewai is not installed: nox -s 'majors(crewai)'", allow_module_level=True)

LLM = "chat gpt-4o-mini"


def test_the_example_runs_offline_and_exports_the_crew_tree(tmp_path: Path) -> None:
    # CrewAI keeps its kickoff records in ~/.local/share/<cwd name> unless told otherwise.
    lines, spans, _ = run_example(
        "crewai_agent.py", drop=("CREWAI_",), timeout=300, CREWAI_STORAGE_DIR=str(tmp_path)
    )
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
