"""Audit record derivation: a pure function of an ended span (real SDK spans, no I/O)."""

from __future__ import annotations

from typing import Any

import pytest
from audit_helpers import TOOL_ATTRS, ended_span
from opentelemetry.sdk.trace import ReadableSpan

import agentotel
from agentotel.agent import configure
from agentotel.config import CaptureMode, Settings
from agentotel.processors.audit._derive import AuditPolicy, AuditRecord, _json_value, derive, rfc3339
from agentotel.testing._capture import TelemetryCapture

SESSION = {"gen_ai.conversation.id": "conv-1", "user.id": "u-1"}
CHAT = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o",
    "gen_ai.response.model": "gpt-4o-2024-08-06",
    "gen_ai.usage.input_tokens": 6,
    "gen_ai.usage.output_tokens": 2,
    "gen_ai.response.finish_reasons": ("stop",),
    "gen_ai.input.messages": '[{"role":"user"}]',
    "server.address": "127.0.0.1",
    "server.port": 8080,
}


def ids(span: ReadableSpan) -> dict[str, Any]:
    """The fields every record of ``span`` takes from the span itself."""
    ctx = span.context
    assert ctx is not None and span.end_time is not None
    return {
        "time_unix_nano": span.end_time,
        "trace_id": format(ctx.trace_id, "032x"),
        "span_id": format(ctx.span_id, "016x"),
    }


def by_name(cap: TelemetryCapture, name: str) -> ReadableSpan:
    [span] = [s for s in cap.spans() if s.name == name]
    return span


# --- tool calls ------------------------------------------------------------------------------------
def test_a_tool_span_in_a_session_is_a_tool_call_of_the_session_user(agent_layer: TelemetryCapture) -> None:
    with (
        agentotel.session("conv-1", user_id="u-1"),
        agentotel.agent("planner"),
        agentotel.tool("search", call_id="call-1"),
    ):
        pass
    span = by_name(agent_layer, "execute_tool search")

    assert derive(span, agent="planner") == AuditRecord(
        event_type="tool_call",
        action="execute_tool",
        outcome="success",
        agent="planner",
        user="u-1",
        resource="search",
        metadata={"gen_ai.tool.call.id": "call-1", "gen_ai.tool.type": "function"},
        conversation_id="conv-1",
        **ids(span),
    )


def test_a_failed_tool_call_has_outcome_failure_and_its_error_type(agent_layer: TelemetryCapture) -> None:
    with pytest.raises(ValueError), agentotel.tool("search", call_id="call-1"):
        raise ValueError("no")
    span = by_name(agent_layer, "execute_tool search")

    record = derive(span)

    assert record is not None
    assert (record.outcome, record.agent, record.user, record.conversation_id) == (
        "failure",
        None,
        None,
        None,
    )
    assert record.metadata == {
        "gen_ai.tool.call.id": "call-1",
        "gen_ai.tool.type": "function",
        "error.type": "ValueError",
    }


def test_tool_arguments_and_result_are_in_metadata_only_when_captured_on_the_span(
    agent_layer: TelemetryCapture,
) -> None:
    with agentotel.tool("search", call_id="call-1", arguments={"q": "paris"}) as t:
        t.set_result("sunny")
    configure(tracer_provider=agent_layer.tracer_provider, settings=Settings(capture=CaptureMode.SPAN_ONLY))
    with agentotel.tool("search", call_id="call-2", arguments={"q": "paris"}) as t:
        t.set_result("sunny")
    plain, captured = (derive(s) for s in agent_layer.spans())

    assert plain is not None and captured is not None
    assert plain.metadata == {"gen_ai.tool.call.id": "call-1", "gen_ai.tool.type": "function"}
    assert captured.metadata == {
        "gen_ai.tool.call.id": "call-2",
        "gen_ai.tool.type": "function",
        "gen_ai.tool.call.arguments": '{"q":"paris"}',
        "gen_ai.tool.call.result": '"sunny"',
    }


# --- guards ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("verdict", "outcome", "reason"),
    [("block", "blocked", "PII in the prompt"), ("flag", "flagged", "looks odd")],
)
def test_a_blocked_or_flagged_guard_is_a_guard_violation(
    agent_layer: TelemetryCapture, verdict: str, outcome: str, reason: str
) -> None:
    with agentotel.guard("pii") as g:
        getattr(g, verdict)(reason)
    [span] = agent_layer.spans()

    assert derive(span) == AuditRecord(
        event_type="guard_violation",
        action="guardrail",
        outcome=outcome,
        resource="pii",
        metadata={"agentotel.guard.reason": reason},
        **ids(span),
    )


def test_an_allowed_guard_check_is_recorded_only_when_configured(agent_layer: TelemetryCapture) -> None:
    with agentotel.guard("pii") as g:
        g.allow()
    [span] = agent_layer.spans()

    assert derive(span) is None
    assert derive(span, AuditPolicy(guard_checks=True)) == AuditRecord(
        event_type="guard_check", action="guardrail", outcome="allowed", resource="pii", **ids(span)
    )


def test_a_guard_that_raised_is_a_failed_guard_check_even_by_default(agent_layer: TelemetryCapture) -> None:
    with pytest.raises(RuntimeError), agentotel.guard("pii"):
        raise RuntimeError("classifier down")
    [span] = agent_layer.spans()

    assert derive(span) == AuditRecord(
        event_type="guard_check",
        action="guardrail",
        outcome="failure",
        resource="pii",
        metadata={"error.type": "RuntimeError"},
        **ids(span),
    )


# --- approvals -------------------------------------------------------------------------------------
def test_approval_decisions_record_outcome_approver_and_reason(agent_layer: TelemetryCapture) -> None:
    with agentotel.approval("send_email", approver="ops") as a:
        a.approve()
    with agentotel.approval("wire_money") as a:
        a.deny("over the limit", approver="cfo")
    with agentotel.approval("delete_repo"):
        pass
    approved, denied, timed_out = (derive(s) for s in agent_layer.spans())

    assert approved == AuditRecord(
        event_type="approval_decision",
        action="approval",
        outcome="approved",
        resource="send_email",
        metadata={"agentotel.approval.approver": "ops"},
        **ids(agent_layer.spans()[0]),
    )
    assert denied is not None and timed_out is not None
    assert (denied.outcome, denied.resource, dict(denied.metadata)) == (
        "denied",
        "wire_money",
        {"agentotel.approval.approver": "cfo", "agentotel.approval.reason": "over the limit"},
    )
    assert (timed_out.outcome, timed_out.resource, dict(timed_out.metadata)) == (
        "timed_out",
        "delete_repo",
        {},
    )


# --- LLM calls and marked spans ------------------------------------------------------------------------
def test_llm_calls_are_recorded_only_when_enabled_and_never_with_their_content() -> None:
    span = ended_span("chat gpt-4o", {**CHAT, **SESSION})

    assert derive(span) is None
    assert derive(span, AuditPolicy(llm_calls=True), agent="planner") == AuditRecord(
        event_type="llm_call",
        action="chat",
        outcome="success",
        agent="planner",
        user="u-1",
        resource="gpt-4o",
        metadata={
            "gen_ai.provider.name": "openai",
            "gen_ai.response.model": "gpt-4o-2024-08-06",
            "gen_ai.usage.input_tokens": 6,
            "gen_ai.usage.output_tokens": 2,
            "gen_ai.response.finish_reasons": ["stop"],
            "server.address": "127.0.0.1",
        },
        conversation_id="conv-1",
        **ids(span),
    )


def test_a_marked_llm_call_is_recorded_even_when_llm_calls_are_off() -> None:
    span = ended_span("chat gpt-4o", CHAT, error="openai.RateLimitError", marked=True)

    record = derive(span)

    assert record is not None
    assert (record.event_type, record.outcome, record.metadata["error.type"]) == (
        "llm_call",
        "failure",
        "openai.RateLimitError",
    )


def test_a_marked_span_of_another_kind_is_a_custom_record(agent_layer: TelemetryCapture) -> None:
    with (
        agentotel.session("conv-1", user_id="u-1"),
        agentotel.agent("planner"),
        agentotel.step("publish", type="action"),
    ):
        agentotel.mark_for_audit()
    step = by_name(agent_layer, "step publish")

    assert derive(step, agent="planner") == AuditRecord(
        event_type="custom",
        action="step",
        outcome="success",
        agent="planner",
        user="u-1",
        resource="publish",
        conversation_id="conv-1",
        **ids(step),
    )


def test_a_marked_agent_round_names_its_own_agent_and_a_plain_span_its_name() -> None:
    round_ = ended_span(
        "invoke_agent planner",
        {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "planner"},
        marked=True,
    )
    plain = ended_span("nightly export", {}, error="OSError", marked=True)

    first, second = derive(round_, agent="outer"), derive(plain)

    assert first is not None and second is not None
    assert (first.event_type, first.action, first.agent, first.resource) == (
        "custom",
        "invoke_agent",
        "planner",
        "planner",
    )
    assert (second.action, second.resource, second.outcome, dict(second.metadata)) == (
        "nightly export",
        None,
        "failure",
        {"error.type": "OSError"},
    )


@pytest.mark.parametrize(
    "attributes",
    [
        {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "planner"},
        {"gen_ai.operation.name": "step", "agentotel.step.name": "lookup"},
        {"gen_ai.operation.name": "assemble_context"},
        {},
    ],
    ids=["invoke_agent", "step", "assemble_context", "plain"],
)
def test_other_spans_are_not_audited(attributes: dict[str, Any]) -> None:
    assert derive(ended_span("x", attributes)) is None


# --- the record's own fields ---------------------------------------------------------------------------
def test_fields_are_the_design_record_without_hash() -> None:
    record = AuditRecord(
        time_unix_nano=1_763_719_200_123_456_789,
        event_type="tool_call",
        action="execute_tool",
        outcome="success",
        agent="planner",
        user="u-1",
        resource="search",
        metadata={"gen_ai.tool.call.id": "call-1"},
        trace_id="0af7651916cd43dd8448eb211c80319c",
        span_id="b7ad6b7169203331",
        conversation_id="conv-1",
    )

    assert record.fields(7, "ab" * 32) == {
        "seq": 7,
        "timestamp": "2025-11-21T10:00:00.123456Z",
        "event_type": "tool_call",
        "actor": {"agent": "planner", "user": "u-1"},
        "action": "execute_tool",
        "resource": "search",
        "outcome": "success",
        "metadata": {"gen_ai.tool.call.id": "call-1"},
        "trace_id": "0af7651916cd43dd8448eb211c80319c",
        "span_id": "b7ad6b7169203331",
        "conversation_id": "conv-1",
        "prev_hash": "ab" * 32,
    }


def test_timestamps_are_rfc3339_utc_with_microseconds() -> None:
    assert rfc3339(0) == "1970-01-01T00:00:00.000000Z"
    assert rfc3339(1_763_719_200_000_001_999) == "2025-11-21T10:00:00.000001Z"


def test_metadata_values_are_json_data() -> None:
    assert _json_value(("stop", "length")) == ["stop", "length"]
    assert _json_value(float("nan")) == "nan"
    assert _json_value((1.5, float("-inf"))) == [1.5, "-inf"]


def test_a_readable_span_made_from_a_plain_dict_derives_the_same_record() -> None:
    span = ended_span("execute_tool search", {**TOOL_ATTRS, "gen_ai.tool.call.id": "call-1"})
    copy = ReadableSpan(
        name=span.name,
        context=span.context,
        attributes=dict(span.attributes or {}),
        start_time=span.start_time,
        end_time=span.end_time,
        status=span.status,
    )

    record = derive(span)

    assert record is not None and derive(copy) == record
