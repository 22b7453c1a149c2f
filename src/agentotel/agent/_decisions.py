"""``agentotel.guard`` and ``agentotel.approval``: decisions, one span each, counted by outcome.

A guard's span is ``guardrail {name}`` in v1.41.1 mode (which has no guardrail convention); in
latest mode ``apply_guardrail {name}`` (operation ``apply_guardrail``, gen-ai-guardrails.md) with
the ``gen_ai.guardrail.*`` attributes and one ``gen_ai.guardrail.result`` event. The conventions'
span is CLIENT with a required ``gen_ai.provider.name``, for a remote guardrail service; an
``agentotel.guard`` runs in the process, so its span stays INTERNAL, without a provider (a
documented deviation). The result is the guard's own outcome, recorded as it is
(``gen_ai.guardrail.result.type=outcome``): no verdict is inferred.

A guard that is left without a verdict allowed what it checked (it found nothing to object to);
an approval left without a decision timed out. As decorators, the function's return value is the
verdict: ``True`` allows / approves, ``False`` blocks / denies.
"""

from __future__ import annotations

import time
from typing import Any

from opentelemetry import trace
from opentelemetry._logs import SeverityNumber

from agentotel import semconv
from agentotel._lifecycle import Attributes
from agentotel._telemetry import Telemetry
from agentotel.agent._span import SpanBlock


class Guard(SpanBlock):
    """A guardrail check (see :func:`agentotel.guard`)."""

    __slots__ = ("name", "op", "outcome", "reason")
    operation = semconv.OP_GUARDRAIL

    def __init__(self, name: str, layer: Telemetry | None = None) -> None:
        super().__init__(layer)
        self.name = name
        self.op = self.operation
        self.outcome: str | None = None
        self.reason: str | None = None

    def allow(self) -> None:
        """The checked content or action passes."""
        self.outcome, self.reason = semconv.GUARD_ALLOWED, None

    def flag(self, reason: str) -> None:
        """It passes, but is flagged for review (an audit ``guard_violation``)."""
        self.outcome, self.reason = semconv.GUARD_FLAGGED, reason

    def block(self, reason: str) -> None:
        """It is stopped. Recording only: what to do next is the app's decision."""
        self.outcome, self.reason = semconv.GUARD_BLOCKED, reason

    def _fresh(self) -> Guard:
        return Guard(self.name, self._layer)

    def _returned(self, value: Any) -> None:
        if self.outcome is None and isinstance(value, bool):
            if value:
                self.allow()
            else:
                self.block("returned False")

    def _name(self) -> str:
        return f"{self.op} {self.name}"

    def _open(self, layer: Telemetry) -> None:
        self.op = layer.conventions.op_guardrail
        super()._open(layer)

    def _attributes(self, layer: Telemetry) -> Attributes:
        attrs: Attributes = {semconv.GEN_AI_OPERATION_NAME: self.op, semconv.AGENTOTEL_GUARD_NAME: self.name}
        if layer.conventions.latest:
            attrs[semconv.GEN_AI_GUARDRAIL_COMPONENT_NAME] = self.name
        return attrs

    def _end_attributes(self, layer: Telemetry, failed: bool) -> Attributes | None:
        if self.outcome is None and not failed:
            self.allow()
        if self.outcome is None:
            return None
        attrs: Attributes = {semconv.AGENTOTEL_GUARD_OUTCOME: self.outcome}
        if self.reason is not None:
            attrs[semconv.AGENTOTEL_GUARD_REASON] = self.reason
        if layer.conventions.latest:
            result = self._result()
            attrs.update(result)
            self._emit_result(layer, result)
        return attrs

    def _result(self) -> Attributes:
        """The ``gen_ai.guardrail.*`` attributes of the outcome (span and event)."""
        result: Attributes = {
            semconv.GEN_AI_GUARDRAIL_COMPONENT_NAME: self.name,
            semconv.GEN_AI_GUARDRAIL_RESULT_TYPE: semconv.GUARDRAIL_RESULT_TYPE_OUTCOME,
            semconv.GEN_AI_GUARDRAIL_RESULT_VALUE: str(self.outcome),
        }
        if self.reason is not None:
            result[semconv.GEN_AI_GUARDRAIL_RESULT_REASON] = self.reason
        return result

    def _emit_result(self, layer: Telemetry, result: Attributes) -> None:
        """The ``gen_ai.guardrail.result`` event, in the guard span's context."""
        now = time.time_ns()
        layer.logger.emit(
            timestamp=now,
            observed_timestamp=now,
            severity_number=SeverityNumber.INFO,
            severity_text="INFO",
            event_name=semconv.EVENT_GUARDRAIL_RESULT,
            attributes=result,
            context=trace.set_span_in_context(self.span),
        )

    def _record(self, layer: Telemetry, seconds: float, etype: str | None) -> None:
        if self.outcome is not None:
            layer.agent_instruments.guard_decisions.add(
                1,
                {
                    semconv.AGENTOTEL_GUARD_NAME: layer.cardinality(semconv.AGENTOTEL_GUARD_NAME, self.name),
                    semconv.AGENTOTEL_GUARD_OUTCOME: self.outcome,
                },
            )


class Approval(SpanBlock):
    """An approval decision (see :func:`agentotel.approval`)."""

    __slots__ = ("action", "approver", "outcome", "reason")
    operation = semconv.OP_APPROVAL

    def __init__(self, action: str, approver: str | None = None, layer: Telemetry | None = None) -> None:
        super().__init__(layer)
        self.action = action
        self.approver = approver
        self.outcome: str | None = None
        self.reason: str | None = None

    def approve(self, approver: str | None = None) -> None:
        """The action is approved (by ``approver``, if not given up front)."""
        self.outcome = semconv.APPROVAL_APPROVED
        if approver is not None:
            self.approver = approver

    def deny(self, reason: str, approver: str | None = None) -> None:
        """The action is denied."""
        self.outcome, self.reason = semconv.APPROVAL_DENIED, reason
        if approver is not None:
            self.approver = approver

    def _fresh(self) -> Approval:
        return Approval(self.action, self.approver, self._layer)

    def _returned(self, value: Any) -> None:
        if self.outcome is None and isinstance(value, bool):
            if value:
                self.approve()
            else:
                self.deny("returned False")

    def _name(self) -> str:
        return f"{self.operation} {self.action}"

    def _attributes(self, layer: Telemetry) -> Attributes:
        attrs: Attributes = {
            semconv.GEN_AI_OPERATION_NAME: self.operation,
            semconv.AGENTOTEL_APPROVAL_ACTION: self.action,
        }
        if self.approver is not None:
            attrs[semconv.AGENTOTEL_APPROVAL_APPROVER] = self.approver
        return attrs

    def _end_attributes(self, layer: Telemetry, failed: bool) -> Attributes | None:
        if self.outcome is None:
            self.outcome = semconv.APPROVAL_TIMED_OUT
        attrs: Attributes = {semconv.AGENTOTEL_APPROVAL_OUTCOME: self.outcome}
        if self.approver is not None:
            attrs[semconv.AGENTOTEL_APPROVAL_APPROVER] = self.approver
        if self.reason is not None:
            attrs[semconv.AGENTOTEL_APPROVAL_REASON] = self.reason
        return attrs

    def _record(self, layer: Telemetry, seconds: float, etype: str | None) -> None:
        layer.agent_instruments.approval_decisions.add(
            1,
            {
                semconv.AGENTOTEL_APPROVAL_ACTION: layer.cardinality(
                    semconv.AGENTOTEL_APPROVAL_ACTION, self.action
                ),
                semconv.AGENTOTEL_APPROVAL_OUTCOME: str(self.outcome),
            },
        )


def guard(name: str) -> Guard:
    """A ``guardrail {name}`` span (latest conventions: ``apply_guardrail {name}``) recording one
    guardrail decision::

        with agentotel.guard("pii") as g:
            if contains_pii(text):
                g.block("PII in the prompt")
            else:
                g.allow()

    Outcome ``allowed``, ``flagged`` or ``blocked`` (``agentotel.guard.outcome``), counted in
    ``agentotel.guard.decisions``. No verdict means allowed.
    """
    return Guard(name)


def approval(action: str, *, approver: str | None = None) -> Approval:
    """An ``approval {action}`` span recording a (human) approval decision::

        with agentotel.approval("send_email", approver="ops") as a:
            a.approve() if ask_user() else a.deny("user said no")

    Leaving the block without a decision records ``timed_out``.
    """
    return Approval(action, approver)
