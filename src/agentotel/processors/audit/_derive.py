"""Audit records from ended spans: a pure function, ``derive(span) -> AuditRecord | None``.

The default policy (the manual: docs/audit-log.md; adding an event type: docs/architecture.md) records:

=====================  ===================  ===================  ============================
span                   event_type           resource             outcome
=====================  ===================  ===================  ============================
``execute_tool``       ``tool_call``        tool name            ``success`` / ``failure``
``guardrail`` /        ``guard_violation``  guard name           ``blocked`` / ``flagged``
``apply_guardrail``    ``guard_check``      guard name           ``allowed`` (only with
                                                                 ``guard_checks``) or
                                                                 ``failure`` (the guard raised)
``approval``           ``approval_decision`` approval action     ``approved`` / ``denied`` /
                                                                 ``timed_out``
LLM call               ``llm_call``         request model        ``success`` / ``failure``
(``LLM_OPERATIONS``)   (only with ``llm_calls``)
``agentotel.audit``    ``custom``           tool / agent /       ``success`` / ``failure``
``=true``                                   workflow / step /
                                            model name
=====================  ===================  ===================  ============================

Both convention modes (docs/conventions.md) give the same records: a guard span is ``guardrail``
in the default mode and ``apply_guardrail`` in the latest, with the same ``agentotel.guard.*``
attributes; ``action`` (the operation name) is the only difference.

A span marked with ``agentotel.audit=true`` is always recorded: with its own type when it is one of
the kinds above (an allowed guard check or an LLM call included), else as ``custom``. ``action`` is
the span's ``gen_ai.operation.name`` (its name when it has none); ``failure`` means status ERROR
or an ``error.type``, which then goes in ``metadata``.

Actor: ``agent`` is the span's ``gen_ai.agent.name`` or, since tool, guard and approval spans do
not carry it, the ``agent`` the caller found on the nearest ancestor (the processor remembers
agent names by span id); ``user`` is ``user.id``, which sessions stamp on every span below them,
as they stamp ``gen_ai.conversation.id``. ``metadata`` holds the relevant low-cardinality
attributes under their own names. Content (``gen_ai.tool.call.arguments`` / ``.result``) is in it
only when the span has it, which is only when content capture is on. The timestamp is the span's
end time.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode

from agentotel import semconv

TOOL_CALL: Final = "tool_call"
GUARD_VIOLATION: Final = "guard_violation"
GUARD_CHECK: Final = "guard_check"
APPROVAL_DECISION: Final = "approval_decision"
LLM_CALL: Final = "llm_call"
CUSTOM: Final = "custom"
AUDIT_GAP: Final = "audit_gap"
EVENT_TYPES: Final = (TOOL_CALL, GUARD_VIOLATION, GUARD_CHECK, APPROVAL_DECISION, LLM_CALL, CUSTOM, AUDIT_GAP)

SUCCESS: Final = "success"
FAILURE: Final = "failure"

LLM_OPERATIONS: Final = frozenset(
    {
        semconv.OP_CHAT,
        semconv.OP_EMBEDDINGS,
        semconv.OP_TEXT_COMPLETION,
        semconv.OP_GENERATE_CONTENT,
        semconv.OP_RERANK,
    }
)
"""The operations of a model call (``llm_call``): the conventions' four, and Cohere's ``rerank``
(an operation of ours: a call of a rerank model, recorded as an embeddings call is)."""

_TOOL_KEYS: Final = (
    semconv.GEN_AI_TOOL_CALL_ID,
    semconv.GEN_AI_TOOL_TYPE,
    semconv.AGENTOTEL_TOOL_INFERRED,
    semconv.AGENTOTEL_MCP_SERVER_NAME,
    semconv.ERROR_TYPE,
    semconv.GEN_AI_TOOL_CALL_ARGUMENTS,
    semconv.GEN_AI_TOOL_CALL_RESULT,
)
_GUARD_KEYS: Final = (semconv.AGENTOTEL_GUARD_REASON, semconv.ERROR_TYPE)
_APPROVAL_KEYS: Final = (
    semconv.AGENTOTEL_APPROVAL_APPROVER,
    semconv.AGENTOTEL_APPROVAL_REASON,
    semconv.ERROR_TYPE,
)
_LLM_KEYS: Final = (
    semconv.GEN_AI_PROVIDER_NAME,
    semconv.GEN_AI_RESPONSE_MODEL,
    semconv.GEN_AI_USAGE_INPUT_TOKENS,
    semconv.GEN_AI_USAGE_OUTPUT_TOKENS,
    semconv.GEN_AI_RESPONSE_FINISH_REASONS,
    semconv.SERVER_ADDRESS,
    semconv.ERROR_TYPE,
)
_CUSTOM_KEYS: Final = (semconv.ERROR_TYPE,)
_CUSTOM_RESOURCES: Final = (
    semconv.GEN_AI_TOOL_NAME,
    semconv.GEN_AI_AGENT_NAME,
    semconv.GEN_AI_WORKFLOW_NAME,
    semconv.AGENTOTEL_STEP_NAME,
    semconv.AGENTOTEL_GUARD_NAME,
    semconv.AGENTOTEL_APPROVAL_ACTION,
    semconv.GEN_AI_REQUEST_MODEL,
)


@dataclass(frozen=True)
class AuditPolicy:
    """What is recorded besides tool calls, guard violations, approvals and marked spans."""

    guard_checks: bool = False
    """Allowed guard checks (``guard_check``)."""
    llm_calls: bool = False
    """LLM calls (``llm_call``)."""


DEFAULT_POLICY: Final = AuditPolicy()


@dataclass(slots=True)
class AuditRecord:
    """One audit record before the chain gives it ``seq``, ``prev_hash`` and ``hash``.

    Treat it as immutable; it is not frozen because a frozen dataclass costs the span-ending
    thread over a microsecond more to build.
    """

    time_unix_nano: int
    event_type: str
    action: str
    outcome: str
    agent: str | None = None
    user: str | None = None
    resource: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    trace_id: str | None = None
    span_id: str | None = None
    conversation_id: str | None = None

    @property
    def timestamp(self) -> str:
        """RFC 3339 UTC with microseconds: ``2026-11-21T10:00:00.123456Z``."""
        return rfc3339(self.time_unix_nano)

    def fields(self, seq: int, prev_hash: str) -> dict[str, Any]:
        """The JSON record (docs/audit-log.md) without ``hash``."""
        return {
            "seq": seq,
            "timestamp": rfc3339(self.time_unix_nano),
            "event_type": self.event_type,
            "actor": {"agent": self.agent, "user": self.user},
            "action": self.action,
            "resource": self.resource,
            "outcome": self.outcome,
            "metadata": self.metadata if type(self.metadata) is dict else dict(self.metadata),
            "trace_id": self.trace_id,
            "span_id": self.span_id,
            "conversation_id": self.conversation_id,
            "prev_hash": prev_hash,
        }


_second: tuple[int, str] = (-1, "")  # the last second formatted (records come in bursts)


def rfc3339(time_unix_nano: int) -> str:
    """``time_unix_nano`` as RFC 3339 UTC with microseconds."""
    global _second
    seconds, nanos = divmod(time_unix_nano, 1_000_000_000)
    cached, prefix = _second
    if cached != seconds:
        prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
        _second = (seconds, prefix)
    return f"{prefix}.{nanos // 1000:06d}Z"


Attrs = Mapping[str, Any]
_PLAIN: Final = (str, int, bool)
_Kind = tuple[str, str | None, str, tuple[str, ...]]  # event_type, resource, outcome, metadata keys


def _failed(span: ReadableSpan, attrs: Attrs) -> bool:
    return span.status.status_code is StatusCode.ERROR or semconv.ERROR_TYPE in attrs


def _success(span: ReadableSpan, attrs: Attrs) -> str:
    return FAILURE if _failed(span, attrs) else SUCCESS


def _tool(span: ReadableSpan, attrs: Attrs, policy: AuditPolicy, marked: bool) -> _Kind | None:
    return TOOL_CALL, _str(attrs.get(semconv.GEN_AI_TOOL_NAME)), _success(span, attrs), _TOOL_KEYS


def _guard(span: ReadableSpan, attrs: Attrs, policy: AuditPolicy, marked: bool) -> _Kind | None:
    name = _str(attrs.get(semconv.AGENTOTEL_GUARD_NAME))
    outcome = attrs.get(semconv.AGENTOTEL_GUARD_OUTCOME)
    if outcome in (semconv.GUARD_BLOCKED, semconv.GUARD_FLAGGED):
        return GUARD_VIOLATION, name, str(outcome), _GUARD_KEYS
    if outcome == semconv.GUARD_ALLOWED:
        return (GUARD_CHECK, name, str(outcome), _GUARD_KEYS) if policy.guard_checks or marked else None
    return GUARD_CHECK, name, FAILURE, _GUARD_KEYS  # no verdict: the guard itself raised


def _approval(span: ReadableSpan, attrs: Attrs, policy: AuditPolicy, marked: bool) -> _Kind | None:
    outcome = attrs.get(semconv.AGENTOTEL_APPROVAL_OUTCOME)
    resource = _str(attrs.get(semconv.AGENTOTEL_APPROVAL_ACTION))
    return APPROVAL_DECISION, resource, str(outcome) if outcome else FAILURE, _APPROVAL_KEYS


def _llm(span: ReadableSpan, attrs: Attrs, policy: AuditPolicy, marked: bool) -> _Kind | None:
    if not (policy.llm_calls or marked):
        return None
    model = attrs.get(semconv.GEN_AI_REQUEST_MODEL) or attrs.get(semconv.GEN_AI_RESPONSE_MODEL)
    return LLM_CALL, _str(model), _success(span, attrs), _LLM_KEYS


_KINDS: Final[dict[Any, Callable[[ReadableSpan, Attrs, AuditPolicy, bool], _Kind | None]]] = {
    semconv.OP_EXECUTE_TOOL: _tool,
    semconv.OP_GUARDRAIL: _guard,
    semconv.OP_APPLY_GUARDRAIL: _guard,
    semconv.OP_APPROVAL: _approval,
    **dict.fromkeys(LLM_OPERATIONS, _llm),
}


def derive(
    span: ReadableSpan, policy: AuditPolicy = DEFAULT_POLICY, agent: str | None = None
) -> AuditRecord | None:
    """The audit record of ``span`` under ``policy``, or None when it is not audited.

    ``agent`` is the agent name found on an ancestor; the span's own ``gen_ai.agent.name`` wins.
    """
    view = span.attributes
    if not view:
        return None
    op = view.get(semconv.GEN_AI_OPERATION_NAME)
    marked = view.get(semconv.AGENTOTEL_AUDIT) is True
    build = _KINDS.get(op)
    if not marked and (build is None or (build is _llm and not policy.llm_calls)):
        return None
    attrs = _plain_attributes(span)
    kind = build(span, attrs, policy, marked) if build is not None else None
    if kind is None:
        if not marked:
            return None
        resource = next((_str(attrs[k]) for k in _CUSTOM_RESOURCES if k in attrs), None)
        kind = CUSTOM, resource, _success(span, attrs), _CUSTOM_KEYS
    event_type, resource, outcome, keys = kind
    ctx = span.context
    own_agent = attrs.get(semconv.GEN_AI_AGENT_NAME)
    metadata = {}
    for key in keys:
        if key in attrs:
            value = attrs[key]
            metadata[key] = value if type(value) in _PLAIN else _json_value(value)
    return AuditRecord(
        span.end_time or time.time_ns(),
        event_type,
        str(op) if op else span.name,
        outcome,
        _str(own_agent) if own_agent is not None else agent,
        _str(attrs.get(semconv.USER_ID)),
        resource,
        metadata,
        format(ctx.trace_id, "032x") if ctx is not None else None,
        format(ctx.span_id, "016x") if ctx is not None else None,
        _str(attrs.get(semconv.GEN_AI_CONVERSATION_ID)),
    )


def _plain_attributes(span: ReadableSpan) -> Mapping[str, Any]:
    """The span's attributes as a dict, read-only. The SDK's mapping answers each lookup in Python
    (a dozen of them cost more than the rest of ``derive``): use the dict inside an ended span's
    ``BoundedAttributes`` when there is one, else one copy."""
    inner = getattr(getattr(span, "_attributes", None), "_dict", None)
    return inner if type(inner) is dict else dict(span.attributes or {})


def _str(value: Any) -> str | None:
    return value if value is None or type(value) is str else str(value)


def _json_value(value: Any) -> Any:
    """An attribute value as JSON data: sequences as lists, non-finite floats as strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, (tuple, list)):
        return [_json_value(v) for v in value]
    return value
