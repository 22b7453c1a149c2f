"""A task with ``human_input=True``: each answer the human gives CrewAI on the agent's final answer
is one ``approval {task}`` span under the agent's span (approved when the human gives no feedback,
CrewAI's "happy with the result"; denied with the feedback otherwise) and one audit
``approval_decision`` record. The human's answers are fed on stdin, which CrewAI's default human
input provider reads (``input()``; the async path reads stdin too)."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any

import pytest
from helpers import CREWAI_INSTALLED

if not CREWAI_INSTALLED:
    pytest.skip("crewai is not installed: nox -s 'majors(crewai)'", allow_module_level=True)

from audit_helpers import records
from crewai import Crew, Task
from crewai_helpers import (
    AGENT,
    ANSWER,
    CLIENT,
    INTERNAL,
    LLM_SPAN,
    TOOL_THEN_ANSWER,
    TREE,
    forecaster,
    llm_requests,
    named,
    tree,
)
from helpers import attrs_of, instrumented

import agentotel
from agentotel.instrumentation.crewai import CrewAIInstrumentor
from agentotel.instrumentation.openai import OpenAIInstrumentor
from agentotel.processors import AuditSpanProcessor
from agentotel.testing import FakeLLMServer, Reply
from agentotel.testing._capture import TelemetryCapture

CAPTURE = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
APPROVAL = "approval forecast"
FEEDBACK = "Give the temperature too."
REVISED = "It is sunny and 21 degrees in Paris."
DECISIONS = "agentotel.approval.decisions"


@pytest.fixture(autouse=True)
def _no_capture_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CAPTURE, raising=False)


def human_says(monkeypatch: pytest.MonkeyPatch, *answers: str) -> None:
    """The human's answers, one line each, on stdin."""
    monkeypatch.setattr("sys.stdin", io.StringIO("".join(f"{a}\n" for a in answers)))


def reviewed_crew(fake: FakeLLMServer) -> Any:
    agent = forecaster(fake)
    task = Task(
        name="forecast",
        description="Weather in Paris?",
        expected_output="One sentence.",
        agent=agent,
        human_input=True,
    )
    return Crew(name="weather crew", agents=[agent], tasks=[task], verbose=False)


def audited(cap: TelemetryCapture, path: Path) -> AuditSpanProcessor:
    audit = AuditSpanProcessor(path, meter_provider=cap.meter_provider, logger_provider=cap.logger_provider)
    cap.tracer_provider.add_span_processor(audit)
    return audit


# The tree of a run whose human first gives feedback, then accepts the revised answer.
REVIEWED_TREE = [
    *TREE,
    (APPROVAL, AGENT, INTERNAL),
    (LLM_SPAN, AGENT, CLIENT),
    (APPROVAL, AGENT, INTERNAL),
]


def test_each_human_answer_is_an_approval_span_and_an_audit_record(
    bridged: TelemetryCapture, fake: FakeLLMServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "audit.jsonl"
    audit = audited(bridged, path)
    fake.script([*TOOL_THEN_ANSWER, Reply.text(REVISED)])
    human_says(monkeypatch, FEEDBACK, "")

    with agentotel.session("conv-9", user_id="u-9"):
        result = reviewed_crew(fake).kickoff()
    assert audit.force_flush()
    audit.shutdown()

    # The feedback made the agent answer again (crewai 1.15.0 does not show the model the feedback
    # itself: its rerun's request carries the task alone).
    assert (result.raw, llm_requests(fake), len(fake.requests)) == (REVISED, 3, 3)
    assert tree(bridged) == REVIEWED_TREE
    feedback, accepted = named(bridged, APPROVAL)
    session = {"gen_ai.conversation.id": "conv-9", "user.id": "u-9"}
    assert attrs_of(feedback) == {
        "gen_ai.operation.name": "approval",
        "agentotel.approval.action": "forecast",
        "agentotel.approval.approver": "human",
        "agentotel.approval.outcome": "denied",
        "agentotel.approval.reason": "feedback",  # the feedback is content: capture is off
        **session,
    }
    assert attrs_of(accepted) == {
        "gen_ai.operation.name": "approval",
        "agentotel.approval.action": "forecast",
        "agentotel.approval.approver": "human",
        "agentotel.approval.outcome": "approved",
        **session,
    }
    found = [r for r in records(path) if r["event_type"] == "approval_decision"]
    fields = ("resource", "outcome", "actor", "conversation_id", "metadata")
    assert [tuple(r[f] for f in fields) for r in found] == [
        (
            "forecast",
            "denied",
            {"agent": "forecaster", "user": "u-9"},
            "conv-9",
            {"agentotel.approval.approver": "human", "agentotel.approval.reason": "feedback"},
        ),
        (
            "forecast",
            "approved",
            {"agent": "forecaster", "user": "u-9"},
            "conv-9",
            {"agentotel.approval.approver": "human"},
        ),
    ]
    denied = {"agentotel.approval.action": "forecast", "agentotel.approval.outcome": "denied"}
    approved = {"agentotel.approval.action": "forecast", "agentotel.approval.outcome": "approved"}
    assert (bridged.metric_sum(DECISIONS, denied), bridged.metric_sum(DECISIONS, approved)) == (1, 1)


def test_a_human_happy_with_the_answer_is_one_approved_span(
    bridged: TelemetryCapture, fake: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.script(TOOL_THEN_ANSWER)
    human_says(monkeypatch, "")

    result = reviewed_crew(fake).kickoff()

    assert result.raw == ANSWER
    assert tree(bridged) == [*TREE, (APPROVAL, AGENT, INTERNAL)]
    [span] = named(bridged, APPROVAL)
    assert attrs_of(span)["agentotel.approval.outcome"] == "approved"


def test_an_async_kickoff_reads_the_human_the_same_way(
    bridged: TelemetryCapture, fake: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.script([*TOOL_THEN_ANSWER, Reply.text(REVISED)])
    human_says(monkeypatch, FEEDBACK, "")

    result = asyncio.run(reviewed_crew(fake).akickoff())

    assert result.raw == REVISED
    assert tree(bridged) == REVIEWED_TREE
    assert [attrs_of(s)["agentotel.approval.outcome"] for s in named(bridged, APPROVAL)] == [
        "denied",
        "approved",
    ]


def test_with_content_capture_on_the_feedback_is_the_reason(
    cap: TelemetryCapture, fake: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CAPTURE, "SPAN_ONLY")
    fake.script([*TOOL_THEN_ANSWER, Reply.text(REVISED)])
    human_says(monkeypatch, FEEDBACK, "")

    with instrumented(cap, OpenAIInstrumentor, CrewAIInstrumentor):
        reviewed_crew(fake).kickoff()

    feedback, accepted = named(cap, APPROVAL)
    assert attrs_of(feedback)["agentotel.approval.reason"] == FEEDBACK
    assert "agentotel.approval.reason" not in attrs_of(accepted)


def test_the_human_gets_the_same_questions_and_the_app_the_same_result_without_the_bridge(
    cap: TelemetryCapture, fake: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def run(*instrumentors: Any) -> Any:
        fake.state.reset()
        fake.clear()
        fake.script([*TOOL_THEN_ANSWER, Reply.text(REVISED)])
        stdin = io.StringIO(f"{FEEDBACK}\n\nleft unread\n")
        monkeypatch.setattr("sys.stdin", stdin)
        with instrumented(cap, *instrumentors):
            result = reviewed_crew(fake).kickoff()
        return result.raw, [r.body for r in fake.requests], stdin.read()

    assert run(OpenAIInstrumentor, CrewAIInstrumentor) == run(OpenAIInstrumentor)
