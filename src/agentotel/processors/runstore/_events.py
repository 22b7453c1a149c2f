"""Pure conversions of the run store: an ended span to its ``events.jsonl`` line, and a run's
events to its ``summary.json``.

The summary is folded one event at a time (:class:`SummaryBuilder`), so the writer thread keeps a
few counters per live run rather than its events. What it holds:

* ``objective``: the root span's ``agentotel.run.objective`` when the app gave one; else the root
  span's name, followed, for an agent round, an LLM call or a request (the root of a request
  run), by the first user message of the run's first LLM call when content capture put it on
  the span (``invoke_agent helper: What is the weather in Paris?``);
* ``status``: ``running`` until the root ends, then ``error`` if the root span's status is ERROR,
  else ``ok``; for an implicit run (``implicit: true``, see the processor), the status of its
  top-level span that ended last, once the run is over; ``interrupted`` for a run the processor
  was shut down in the middle of (its ``end`` is then the shut-down time);
* ``trace_ids``: the run's traces, ``trace_id`` (the root's) first, then in the order their first
  span ended (several for an implicit run);
* ``tokens``: ``gen_ai.usage.input_tokens`` / ``output_tokens`` summed over the LLM spans (not the
  agent spans, which carry their children's sum); ``cost_usd``: ``agentotel.usage.cost_usd``
  summed over the LLM spans that have it, null when none has;
* ``tool_calls``: ``execute_tool`` spans, ``failed`` when they have ``error.type``;
* ``errors``: the spans with status ERROR (the first 20; ``error_count`` counts them all);
* ``models``: the request and response models of the LLM spans;
* ``parent_run``: the run a forked run came from (``agentotel.run.parent`` on its root).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import format_span_id, format_trace_id

from agentotel import semconv

AGENT_OPERATIONS = frozenset(
    {
        semconv.OP_INVOKE_AGENT,
        semconv.OP_INVOKE_WORKFLOW,
        semconv.OP_PLAN,
        semconv.OP_STEP,
        semconv.OP_EXECUTE_TOOL,
        semconv.OP_GUARDRAIL,
        semconv.OP_APPLY_GUARDRAIL,
        semconv.OP_APPROVAL,
        semconv.OP_ASSEMBLE_CONTEXT,
    }
)
"""``gen_ai.operation.name`` of the agent-layer spans (a guard's in either convention mode)."""

RUN_OPERATIONS = frozenset({semconv.OP_INVOKE_AGENT, semconv.OP_INVOKE_WORKFLOW, semconv.OP_PLAN})
"""The agent-layer spans that begin a run of their own when no run encloses them."""

_INPUT_OPERATIONS = frozenset({semconv.OP_INVOKE_AGENT, None})
"""Roots whose objective names the first user message: an agent round, or a span of another
instrumentation (the request of a request run, which has no operation)."""

RUNNING = "running"
OK = "ok"
ERROR = "error"
INTERRUPTED = "interrupted"
MAX_ERRORS = 20
OBJECTIVE_MAX = 200
_ERROR_STATUS = "ERROR"


def is_agent_span(attributes: Mapping[str, Any]) -> bool:
    """True for the spans of the agent layer (``invoke_agent``, ``execute_tool``, ...)."""
    return attributes.get(semconv.GEN_AI_OPERATION_NAME) in AGENT_OPERATIONS


def is_run_root(attributes: Mapping[str, Any]) -> bool:
    """True for the spans that are a run by themselves (``invoke_agent``, ``invoke_workflow``, ``plan``)."""
    return attributes.get(semconv.GEN_AI_OPERATION_NAME) in RUN_OPERATIONS


def is_llm_span(attributes: Mapping[str, Any]) -> bool:
    """True for an LLM call: a provider is named and the operation is not an agent-layer one."""
    return semconv.GEN_AI_PROVIDER_NAME in attributes and not is_agent_span(attributes)


def rfc3339(unix_nano: int) -> str:
    """``2026-11-21T10:15:02.123Z`` (UTC, milliseconds)."""
    moment = datetime.fromtimestamp(unix_nano // 1_000_000_000, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{unix_nano // 1_000_000 % 1000:03d}Z"


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def span_event(span: ReadableSpan) -> dict[str, Any]:
    """The ``events.jsonl`` line of an ended span (every attribute, span event and link)."""
    ctx = span.context
    parent = span.parent
    start = span.start_time or 0
    end = span.end_time or start
    event: dict[str, Any] = {
        "name": span.name,
        "trace_id": format_trace_id(ctx.trace_id) if ctx else None,
        "span_id": format_span_id(ctx.span_id) if ctx else None,
        "parent_span_id": format_span_id(parent.span_id) if parent is not None else None,
        "kind": span.kind.name,
        "start_time_unix_nano": start,
        "end_time_unix_nano": end,
        "duration_ms": round((end - start) / 1e6, 3),
        "status": span.status.status_code.name,
    }
    if span.status.description:
        event["status_message"] = span.status.description
    event["attributes"] = {k: _plain(v) for k, v in (span.attributes or {}).items()}
    if span.events:
        event["events"] = [
            {
                "name": e.name,
                "time_unix_nano": e.timestamp,
                "attributes": {k: _plain(v) for k, v in (e.attributes or {}).items()},
            }
            for e in span.events
        ]
    if span.links:
        event["links"] = [
            {
                "trace_id": format_trace_id(link.context.trace_id),
                "span_id": format_span_id(link.context.span_id),
            }
            for link in span.links
        ]
    return event


def first_user_text(input_messages: Any) -> str | None:
    """The text of the first ``user`` message of a ``gen_ai.input.messages`` JSON string."""
    if not isinstance(input_messages, str):
        return None
    try:
        messages = json.loads(input_messages)
    except ValueError:
        return None  # cut by the content length limit
    for message in messages if isinstance(messages, list) else ():
        if isinstance(message, dict) and message.get("role") == "user":
            texts = [
                str(part.get("content", ""))
                for part in message.get("parts") or ()
                if isinstance(part, dict) and part.get("type") == "text"
            ]
            text = " ".join(" ".join(texts).split())
            return text or None
    return None


def _shorten(text: str, limit: int = OBJECTIVE_MAX) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Ending:
    """How a run ended, when no root span's end says it: an implicit run closed, or any run cut
    short by shut-down. Set once by the processor before it queues the run's last item, read by
    the writer thread."""

    __slots__ = ("end_unix_nano", "status")

    def __init__(self) -> None:
        self.status: str | None = None
        self.end_unix_nano: int | None = None

    def set(self, status: str, end_unix_nano: int) -> None:
        self.end_unix_nano = end_unix_nano
        self.status = status


@dataclass(frozen=True)
class RunInfo:
    """What is known of a run when its root span starts."""

    run_id: str
    trace_id: str
    root_span_id: str
    root_name: str
    start_time_unix_nano: int
    root_is_llm: bool = False
    root_operation: str | None = None
    parent_run: str | None = None
    objective: str | None = None
    """The objective the app gave (``agentotel.run.objective``), if any."""
    implicit: bool = False
    """An implicit run: top-level spans of code without an agent span, from ``root_span_id`` on."""
    ending: Ending = field(default_factory=Ending, compare=False, repr=False)
    """Filled by the processor when it ends the run (implicit, or shut down before its root ended)."""


class SummaryBuilder:
    """A run's summary, folded one event at a time (see the module docstring)."""

    def __init__(self, info: RunInfo) -> None:
        self.info = info
        self.root: dict[str, Any] | None = None
        self.span_count = 0
        self.input_tokens = 0
        self.output_tokens = 0
        self.cost: float | None = None
        self.tools_ok = 0
        self.tools_failed = 0
        self.errors: list[dict[str, Any]] = []
        self.error_count = 0
        self.models: set[str] = set()
        self.trace_ids: dict[str, None] = {info.trace_id: None}
        self._first_input: tuple[int, str] | None = None
        self._written = False

    @property
    def finished(self) -> bool:
        """True once the root span's event was added, or once the processor ended the run and a
        summary of it was already made (so the writer has made its folder)."""
        return self.root is not None or (self._written and self.info.ending.status is not None)

    def add(self, event: Mapping[str, Any]) -> None:
        """Count one ended span of the run."""
        self.span_count += 1
        attrs: Mapping[str, Any] = event.get("attributes") or {}
        trace_id = event.get("trace_id")
        if isinstance(trace_id, str):
            self.trace_ids.setdefault(trace_id, None)
        if event.get("span_id") == self.info.root_span_id and not self.info.implicit:
            self.root = dict(event)
        if is_llm_span(attrs):
            self._add_llm(event, attrs)
        elif attrs.get(semconv.GEN_AI_OPERATION_NAME) == semconv.OP_EXECUTE_TOOL:
            if attrs.get(semconv.ERROR_TYPE) is None and event.get("status") != _ERROR_STATUS:
                self.tools_ok += 1
            else:
                self.tools_failed += 1
        if event.get("status") == _ERROR_STATUS:
            self.error_count += 1
            if len(self.errors) < MAX_ERRORS:
                self.errors.append(
                    {
                        "span": event.get("name"),
                        "span_id": event.get("span_id"),
                        "error_type": attrs.get(semconv.ERROR_TYPE),
                        "message": event.get("status_message"),
                    }
                )

    def _add_llm(self, event: Mapping[str, Any], attrs: Mapping[str, Any]) -> None:
        self.input_tokens += _int(attrs.get(semconv.GEN_AI_USAGE_INPUT_TOKENS))
        self.output_tokens += _int(attrs.get(semconv.GEN_AI_USAGE_OUTPUT_TOKENS))
        cost = attrs.get(semconv.AGENTOTEL_USAGE_COST_USD)
        if isinstance(cost, (int, float)) and not isinstance(cost, bool):
            self.cost = (self.cost or 0.0) + float(cost)
        for key in (semconv.GEN_AI_REQUEST_MODEL, semconv.GEN_AI_RESPONSE_MODEL):
            model = attrs.get(key)
            if isinstance(model, str) and model:
                self.models.add(model)
        start = _int(event.get("start_time_unix_nano"))
        if self._first_input is None or start < self._first_input[0]:
            text = first_user_text(attrs.get(semconv.GEN_AI_INPUT_MESSAGES))
            if text is not None:
                self._first_input = (start, text)

    def objective(self) -> str:
        info = self.info
        root_attrs: Mapping[str, Any] = (self.root or {}).get("attributes") or {}
        given = root_attrs.get(semconv.AGENTOTEL_RUN_OBJECTIVE) or info.objective
        if isinstance(given, str) and given:
            return _shorten(given)
        wants_input = info.implicit or info.root_is_llm or info.root_operation in _INPUT_OPERATIONS
        if wants_input and self._first_input is not None:
            return _shorten(f"{info.root_name}: {self._first_input[1]}")
        return info.root_name

    def _outcome(self) -> tuple[str, int | None]:
        root, ending = self.root, self.info.ending
        if root is not None:
            status = ERROR if root.get("status") == _ERROR_STATUS else OK
            return status, _int(root.get("end_time_unix_nano"))
        if ending.status is not None:
            return ending.status, ending.end_unix_nano
        return RUNNING, None

    def summary(self) -> dict[str, Any]:
        """The ``summary.json`` document as it stands (``status: running`` before the run ended)."""
        info = self.info
        status, end = self._outcome()
        self._written = True
        return {
            "run_id": info.run_id,
            "trace_id": info.trace_id,
            "trace_ids": list(self.trace_ids),
            "root": {
                "name": info.root_name,
                "span_id": info.root_span_id,
                "operation": info.root_operation,
                "llm": info.root_is_llm,
                "start_time_unix_nano": info.start_time_unix_nano,
            },
            "implicit": info.implicit,
            "objective": self.objective(),
            "status": status,
            "start": rfc3339(info.start_time_unix_nano),
            "end": rfc3339(end) if end is not None else None,
            "duration_s": round((end - info.start_time_unix_nano) / 1e9, 6) if end is not None else None,
            "tokens": {"input": self.input_tokens, "output": self.output_tokens},
            "cost_usd": round(self.cost, 10) if self.cost is not None else None,
            "tool_calls": {"ok": self.tools_ok, "failed": self.tools_failed},
            "errors": list(self.errors),
            "error_count": self.error_count,
            "models": sorted(self.models),
            "parent_run": info.parent_run,
            "span_count": self.span_count,
        }


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def info_from_summary(summary: Mapping[str, Any]) -> RunInfo:
    """The :class:`RunInfo` a stored summary was made from (to bring a live run's totals up to date)."""
    root = summary.get("root") or {}
    name = str(root.get("name", ""))
    objective = summary.get("objective")
    start = root.get("start_time_unix_nano")
    return RunInfo(
        run_id=str(summary.get("run_id", "")),
        trace_id=str(summary.get("trace_id", "")),
        root_span_id=str(root.get("span_id", "")),
        root_name=name,
        start_time_unix_nano=_int(start),
        root_is_llm=bool(root.get("llm", False)),
        root_operation=root.get("operation"),
        parent_run=summary.get("parent_run"),
        objective=objective if isinstance(objective, str) and objective != name else None,
        implicit=summary.get("implicit") is True,
    )


def summarize(info: RunInfo, events: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The summary of a run from its events."""
    builder = SummaryBuilder(info)
    for event in events:
        builder.add(event)
    return builder.summary()
