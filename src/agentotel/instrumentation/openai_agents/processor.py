"""The bridge: one ``TracingProcessor`` of the OpenAI Agents SDK that turns the SDK's traces and
spans into agent-layer blocks, next to the SDK's own processors (its exporter keeps receiving
everything it did).

=====================  =================================================================
SDK trace / span       agentotel
=====================  =================================================================
trace                  ``invoke_workflow {workflow name}`` (``group_id`` is the
                       conversation id when no ``agentotel.session`` is open)
agent                  ``invoke_agent {agent name}`` (token usage and cost of the LLM
                       spans below summed onto it)
function               ``execute_tool {tool name}`` with the call id of the LLM's tool call
guardrail              ``guardrail {name}``, ``blocked`` when the tripwire triggered
handoff                ``agentotel.handoff`` event (from / to agent) on the handing agent
custom                 ``step {name}`` of type ``custom``
response, generation   no span: the provider instrumentor's LLM CLIENT span (one per HTTP
                       request) is the agent's child
task, turn, others     no span: their children go to the enclosing block
=====================  =================================================================

While an SDK span is open, the context of its block (or of the enclosing one) is the current
OpenTelemetry context, so spans made inside it (the LLM call, the app's own spans in a tool) nest
under it. The SDK begins and ends each span in one task; should it ever end one elsewhere, the
context is left as that task has it rather than reset from a foreign one.
"""

from __future__ import annotations

import contextlib
import contextvars
from types import SimpleNamespace
from typing import Any

from agents.handoffs import Handoff
from agents.tracing import TracingProcessor
from opentelemetry import context as otel_context
from opentelemetry import trace as otel_trace
from opentelemetry.context import Context

from agentotel import semconv
from agentotel._safe import Boundary
from agentotel._telemetry import Telemetry
from agentotel.agent._block import Block
from agentotel.agent._layer import ensure_session_processor
from agentotel.agent._session_state import SESSION_KEY, SessionState, current_session
from agentotel.instrumentation.openai_agents.blocks import (
    STEP_TYPE_CUSTOM,
    AgentBlock,
    CustomBlock,
    FunctionBlock,
    GuardBlock,
    RunBlock,
    error_message,
    record_handoff,
)

_FAILS_RUN = frozenset({"agent", "task", "turn", "response", "generation"})
"""SDK spans whose error is the run's: the SDK attaches one when the run raises (a guardrail
tripwire, too many turns, a failed model call)."""


class _Entry:
    """An open SDK trace or span: its block (None when it has none of its own), the context its
    children run in, the token of that context's attachment, the block that owns the context
    and, for a span, its trace's entry."""

    __slots__ = ("block", "ctx", "failed", "owner", "run", "token")

    def __init__(self, block: Block | None, ctx: Context, owner: Block | None, run: _Entry | None) -> None:
        self.block = block
        self.ctx = ctx
        self.owner = owner
        self.run = run
        self.token: object | None = None
        self.failed: str | None = None


def _open(block: Block, parent: Context) -> tuple[bool, Context]:
    """Open ``block`` as a child of ``parent``; whether it opened, and the context of its children."""
    # Usually the SDK starts a span where its parent's context is current already.
    token = None if otel_context.get_current() is parent else otel_context.attach(parent)
    try:
        if not block._start():
            return False, parent
        ctx = block._context()
    finally:
        if token is not None:
            otel_context.detach(token)
    return True, ctx if ctx is not None else parent


def _detach(token: object | None) -> None:
    """Undo an attachment, silently if the SDK ends the span in another context than it began
    it in (``opentelemetry.context.detach`` would log that as an error)."""
    if isinstance(token, contextvars.Token):
        with contextlib.suppress(ValueError, RuntimeError):
            token.var.reset(token)
    elif token is not None:
        otel_context.detach(token)  # type: ignore[arg-type]


def _block_for(data: Any, layer: Telemetry) -> Block | None:
    kind = data.type
    if kind == "agent":
        return AgentBlock(str(data.name), layer=layer)
    if kind == "function":
        return FunctionBlock(str(data.name), layer)
    if kind == "guardrail":
        return GuardBlock(str(data.name), layer)
    if kind == "custom":
        return CustomBlock(str(data.name), STEP_TYPE_CUSTOM, layer)
    return None


def _handoff_tool(to_agent: Any) -> str | None:
    """The name the SDK gives the tool of a handoff to ``to_agent`` by default."""
    if not to_agent:
        return None
    return Handoff.default_tool_name(SimpleNamespace(name=str(to_agent)))  # type: ignore[arg-type]


class Bridge(TracingProcessor):
    """The SDK processor that records its traces through one telemetry holder.

    Armed, it opens blocks for the traces and spans that start; disarmed
    (``uninstrument()``: the SDK has no way to remove a processor but to replace them all), it
    opens none, and still ends those it opened.
    """

    def __init__(self, telemetry: Telemetry, boundary: Boundary) -> None:
        self.telemetry: Telemetry | None = telemetry
        self.boundary = boundary
        self._spans: dict[str, _Entry] = {}
        self._traces: dict[str, _Entry] = {}

    def arm(self, telemetry: Telemetry, boundary: Boundary) -> None:
        self.telemetry, self.boundary = telemetry, boundary

    def disarm(self) -> None:
        self.telemetry = None

    # --- TracingProcessor ------------------------------------------------------------------------
    def on_trace_start(self, trace: Any) -> None:
        layer = self.telemetry
        if layer is not None:
            self.boundary.call(None, self._trace_start, layer, trace)

    def on_trace_end(self, trace: Any) -> None:
        if self._traces:
            self.boundary.call(None, self._trace_end, trace)

    def on_span_start(self, span: Any) -> None:
        layer = self.telemetry
        if layer is not None:
            self.boundary.call(None, self._span_start, layer, span)

    def on_span_end(self, span: Any) -> None:
        if self._spans:
            self.boundary.call(None, self._span_end, span)

    def shutdown(self) -> None:
        """Nothing to flush: the spans go through the OpenTelemetry providers."""

    def force_flush(self) -> None:
        """Nothing to flush: the spans go through the OpenTelemetry providers."""

    # --- traces ----------------------------------------------------------------------------------
    def _trace_start(self, layer: Telemetry, trace: Any) -> None:
        parent = otel_context.get_current()
        group = getattr(trace, "group_id", None)
        if group and current_session(parent) is None:
            ensure_session_processor(layer.tracer_provider)
            parent = otel_context.set_value(SESSION_KEY, SessionState(str(group), None), parent)
        block = RunBlock(str(trace.name) or None, layer)
        opened, ctx = _open(block, parent)
        run: RunBlock | None = block if opened else None
        entry = _Entry(run, ctx, run, None)
        self._traces[trace.trace_id] = entry
        entry.token = otel_context.attach(ctx)

    def _trace_end(self, trace: Any) -> None:
        entry = self._traces.pop(trace.trace_id, None)
        if entry is None:
            return
        _detach(entry.token)
        block = entry.block
        if isinstance(block, RunBlock):
            if entry.failed is not None:
                block.mark_error_result(semconv.OTHER_VALUE, entry.failed)
            block._finish(None)

    # --- spans -----------------------------------------------------------------------------------
    def _parent(self, span: Any) -> _Entry | None:
        parent_id = span.parent_id
        if parent_id:
            found = self._spans.get(parent_id)
            if found is not None:
                return found
        return self._traces.get(span.trace_id)

    def _span_start(self, layer: Telemetry, span: Any) -> None:
        parent = self._parent(span)
        parent_ctx = parent.ctx if parent is not None else otel_context.get_current()
        owner = parent.owner if parent is not None else None
        run = (parent.run or parent) if parent is not None else None
        block = _block_for(span.span_data, layer)
        ctx = parent_ctx
        if block is not None:
            opened, ctx = _open(block, parent_ctx)
            if opened:
                owner = block
            else:
                block = None
        entry = _Entry(block, ctx, owner, run)
        self._spans[span.span_id] = entry
        entry.token = otel_context.attach(ctx)

    def _span_end(self, span: Any) -> None:
        entry = self._spans.pop(span.span_id, None)
        if entry is None:
            return
        _detach(entry.token)
        block = entry.block
        try:
            self._settle(entry, span)
        finally:  # a bug of ours in reading the SDK span still ends the block
            if block is not None:
                block._finish(None)

    def _settle(self, entry: _Entry, span: Any) -> None:
        """What the ended SDK span says: a tool's or guardrail's outcome, a handoff, a run's error."""
        data = span.span_data
        kind = data.type
        block = entry.block
        if kind == "handoff" and entry.owner is not None:
            layer = entry.owner.layer
            record_handoff(layer, otel_trace.get_current_span(entry.ctx), span, _handoff_tool(data.to_agent))
        if isinstance(block, FunctionBlock | GuardBlock):
            block.settle(span)
            return
        message = error_message(span)
        if message is not None and kind in _FAILS_RUN:
            failing = block if block is not None else entry.owner
            if isinstance(failing, AgentBlock | RunBlock):
                failing.mark_error_result(semconv.OTHER_VALUE, message)
            if entry.run is not None:
                entry.run.failed = message
