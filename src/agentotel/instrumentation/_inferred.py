"""Inferred ``execute_tool`` spans: the tool executions between an LLM response and the next request.

A response that asked for tool calls leaves them pending (:mod:`agentotel._toolcalls`). When a later
request sends their results back, each pending call it answers becomes an ``execute_tool`` span,
timed from the end of the response that asked for it to the start of that request, and marked
``agentotel.tool.inferred``; a result sent back as an error makes the span an ERROR.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from opentelemetry.trace import SpanKind, Status, StatusCode

from agentotel import semconv
from agentotel._lifecycle import agent_round
from agentotel._telemetry import Telemetry


def infer_tool_spans(telemetry: Telemetry, results: Sequence[tuple[str, bool]]) -> None:
    """Emit an inferred ``execute_tool`` span for each ``(call_id, is_error)`` result whose call is
    pending, parented like the request about to start (the current context)."""
    if not results:
        return
    calls = telemetry.pending.take([call_id for call_id, _ in results])
    if not calls:
        return
    failed = {call_id for call_id, is_error in results if is_error}
    now = time.time_ns()
    # Latest mode: the nearest agent round names the tool's agent and counts its tool calls.
    nearest = agent_round() if telemetry.conventions.latest else None
    for call in calls:
        attrs: dict[str, Any] = {
            semconv.GEN_AI_OPERATION_NAME: semconv.OP_EXECUTE_TOOL,
            semconv.GEN_AI_TOOL_NAME: call.name,
            semconv.GEN_AI_TOOL_CALL_ID: call.call_id,
            semconv.GEN_AI_TOOL_TYPE: semconv.TOOL_TYPE_FUNCTION,
            semconv.AGENTOTEL_TOOL_INFERRED: True,
        }
        if nearest is not None and nearest.name:
            attrs[semconv.GEN_AI_AGENT_NAME] = nearest.name
        start = min(call.requested_ns, now)
        span = telemetry.tracer.start_span(
            f"{semconv.OP_EXECUTE_TOOL} {call.name}",
            kind=SpanKind.INTERNAL,
            attributes=attrs,
            start_time=start,
        )
        metric_attrs = {
            semconv.GEN_AI_TOOL_NAME: telemetry.cardinality(semconv.GEN_AI_TOOL_NAME, call.name),
            semconv.GEN_AI_TOOL_TYPE: semconv.TOOL_TYPE_FUNCTION,
        }
        if nearest is not None:
            nearest.count_tool()
            if nearest.name:
                metric_attrs[semconv.GEN_AI_AGENT_NAME] = telemetry.cardinality(
                    semconv.GEN_AI_AGENT_NAME, nearest.name
                )
        if call.call_id in failed:
            span.set_attribute(semconv.ERROR_TYPE, semconv.TOOL_RESULT_ERROR)
            span.set_status(Status(StatusCode.ERROR, "the tool result was sent back marked as an error"))
            metric_attrs[semconv.ERROR_TYPE] = semconv.TOOL_RESULT_ERROR
        span.end(end_time=now)
        telemetry.tool_duration.record((now - start) / 1e9, metric_attrs)
