"""``examples/llama_index_agent.py`` under the real ``opentelemetry-instrument``, offline."""

from __future__ import annotations

import pytest
from helpers import LLAMA_INDEX_INSTALLED, run_example

pytestmark = pytest.mark.skipif(
    not LLAMA_INDEX_INSTALLED, reason="llama-index-core and llama-index-llms-openai are not installed"
)


def test_the_example_runs_offline_and_exports_the_agent_tree() -> None:
    lines, spans, _ = run_example("llama_index_agent.py")
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
