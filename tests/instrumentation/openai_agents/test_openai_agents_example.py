"""``examples/openai_agents_agent.py`` under the real ``opentelemetry-instrument``, offline."""

from __future__ import annotations

import inspect

import pytest
from helpers import run_example

agents = pytest.importorskip("agents")
pytestmark = pytest.mark.skipif(
    "run_in_parallel" not in inspect.signature(agents.input_guardrail).parameters,
    reason="the example's guardrail runs before the model call: openai-agents>=0.6.0",
)


def test_the_example_runs_offline_and_exports_the_agent_tree() -> None:
    lines, spans, stderr = run_example("openai_agents_agent.py", timeout=120)
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
    assert "skipping trace export" not in stderr
