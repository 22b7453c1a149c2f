"""The bridge: one span handler on the instrumentation dispatchers of LlamaIndex's workflow engine
(``llama-index-workflows``, which traces every workflow run and step) that turns the dispatcher
spans of agent runs into agent-layer blocks.

=============================================  ==================================================
dispatcher span                                agentotel
=============================================  ==================================================
the run of a ``FunctionAgent`` / ``ReActAgent``  ``invoke_agent {agent name}``
/ ``CodeActAgent`` (any ``BaseWorkflowAgent``)
the run of an ``AgentWorkflow``                ``invoke_workflow {class name}``, and below it one
                                               ``invoke_agent {agent name}`` per agent's turn
                                               (an ``agentotel.handoff`` event when the next
                                               agent takes over)
a step receiving a ``ToolCall`` (``call_tool``)  ``execute_tool {tool name}`` with the call id,
                                               and the description of the agent's tool of that
                                               name (``tools=[...]``)
other steps of these runs                      no span: their context is the agent's
LLM, tool, retriever and other spans           not heard (other dispatchers): the provider
                                               instrumentor's LLM CLIENT span (one per HTTP
                                               request) is the agent's child
=============================================  ==================================================

Why only the workflow engine's dispatchers, not the root one: LlamaIndex calls every handler of a
span's dispatcher and of its parents, so a handler on the root hears every LLM, tool, retriever
and embedding span of the app (three LLM spans per model call) only to pass them by. A tool's
description is read from the agent's own tools (the ones LlamaIndex looks the called name up in)
when its step starts, so the span starts whole; a tool a tool retriever or ``AgentWorkflow``'s
handoff supplies has none.

Context: the dispatcher calls a handler's ``span_enter`` and ``span_exit`` / ``span_drop`` in the
task (or thread) that runs the span's function, around it. The handler attaches the block's
context on enter and detaches it on exit, so everything the step runs (the LLM call, the tool
function, the app's own spans) nests under the right block, and tasks the run starts inherit it.
Workflow steps run in tasks of their own: a step's context is set from the run the dispatcher
says it belongs to (its parent span), not from the task it happens to run in.

The handler is a plain object with the methods the dispatcher calls (``span_enter``,
``span_exit``, ``span_drop``, ``capture_propagation_context``, ``restore_propagation_context``,
``close``, ``open_spans``): no pydantic model to validate for each of the dispatcher's spans, and
nothing of LlamaIndex imported to build it.
"""

from __future__ import annotations

import contextvars
import sys
from collections.abc import Callable
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry.context import Context

from agentotel._context import attach, current
from agentotel._safe import Boundary
from agentotel._telemetry import Telemetry
from agentotel.agent._block import Block
from agentotel.instrumentation.llama_index import extract
from agentotel.instrumentation.llama_index.blocks import AgentRun, ToolRun, WorkflowRun

_AGENTS_MODULE = "llama_index.core.agent.workflow"
_EVENT = extract.EVENT_ARGUMENT
_RUN = extract.RUN_ARGUMENT


# OpenTelemetry's context read and set in one C call each (``agentotel._context``): the handler
# reads it on every workflow step.
_current = current
_attach = attach


class _NoEvent:
    """No event is one of these: the tool-call event class until LlamaIndex's is loaded."""


class _Run:
    """An agent or agent-workflow run: its block, the context of its children, the current
    agent's block and context (the run's own for a single agent)."""

    __slots__ = (
        "agent",
        "agent_ctx",
        "agent_name",
        "agents",
        "block",
        "ctx",
        "layer",
        "multi",
        "token",
        "workflow",
    )

    def __init__(
        self, layer: Telemetry, block: Block | None, ctx: Context, multi: bool, workflow: Any
    ) -> None:
        self.layer = layer
        self.block = block
        self.ctx = ctx
        self.multi = multi
        self.workflow = workflow  # the agent (run alone) or the AgentWorkflow
        self.agents: Any = None  # an AgentWorkflow's agents by name
        self.agent: AgentRun | None = None
        self.agent_name: str | None = None
        self.agent_ctx = ctx
        self.token: object | None = None

    def current_agent(self) -> Any:
        """The agent whose turn it is (the one run alone, or an AgentWorkflow's current one)."""
        if not self.multi:
            return self.workflow
        agents = self.agents
        return agents.get(self.agent_name) if isinstance(agents, dict) else None


class _Step:
    """A step of a run: its tool block (a ``call_tool`` step) and the token of its context."""

    __slots__ = ("token", "tool")

    def __init__(self, tool: ToolRun | None) -> None:
        self.tool = tool
        self.token: object | None = None


def _open(block: Block, parent: Context) -> tuple[bool, Context]:
    """Open ``block`` as a child of ``parent``; whether it opened, and the context of its children."""
    token = None if _current() is parent else _attach(parent)
    try:
        if not block._start():
            return False, parent
        ctx = block._context()
    finally:
        if token is not None:
            _detach(token)
    return True, ctx if ctx is not None else parent


def _detach(token: object | None) -> None:
    """Undo an attachment, silently if the span ends in another context than it began in (the
    dispatcher ends a span whose function returned a future in that future's callback)."""
    if isinstance(token, contextvars.Token):
        try:  # noqa: SIM105  (contextlib.suppress: three calls more, on every run and tool step)
            token.var.reset(token)
        except (ValueError, RuntimeError):
            pass
    elif token is not None:
        otel_context.detach(token)  # type: ignore[arg-type]


class SpanHandler:
    """The span handler that records LlamaIndex agent runs through one telemetry holder.

    Armed, it opens blocks for the runs that start; disarmed (``uninstrument()``), it opens none,
    still ends those it opened, and calls ``release`` (which takes it off the dispatcher) once
    none is open.
    """

    def __init__(self, telemetry: Telemetry, boundary: Boundary) -> None:
        self.telemetry: Telemetry | None = telemetry
        self.boundary = boundary
        self.release: Callable[[], None] | None = None
        self.open_spans: dict[str, Any] = {}  # the dispatcher's shutdown() drops these: none
        self._kinds: extract.Kinds | None = None
        self._tool_call: type = _NoEvent  # LlamaIndex's ToolCall event class, once loaded
        # The runs and steps open, by dispatcher span id: one lookup tells what a span's parent is
        # and one what a span's end ends (nothing, for most: a span we do not map costs that).
        self._open: dict[str | None, _Run | _Step] = {}

    def arm(self, telemetry: Telemetry, boundary: Boundary) -> None:
        self.telemetry, self.boundary = telemetry, boundary

    def disarm(self) -> None:
        self.telemetry = None
        self._idle()

    # --- what the dispatcher calls -----------------------------------------------------------------
    # Called for every span of the workflow engine (runs and steps): a span we map nothing to
    # costs a few tests on enter and one dictionary test on exit. Our own errors are
    # reported through the boundary (``report``; a ``try`` here rather than ``boundary.call``, one
    # Python call fewer on every step and tool).
    def span_enter(
        self,
        id_: str,
        bound_args: Any,
        instance: Any = None,
        parent_id: str | None = None,
        tags: Any = None,
        **kwargs: Any,
    ) -> None:
        if instance is None:  # a workflow step is a function: its run is its parent span
            parent = self._open.get(parent_id)
            if parent.__class__ is _Run:
                # Most steps of a single agent need nothing: their task has the agent's context.
                if parent.multi or _current() is not parent.agent_ctx:
                    self._step(parent, id_, bound_args.arguments.get(_EVENT))
                else:
                    event = bound_args.arguments.get(_EVENT)
                    if isinstance(event, self._tool_call):
                        self._step(parent, id_, event)
            return
        if _RUN in bound_args.arguments and self.telemetry is not None:  # a workflow's run
            try:
                self._run_start(self.telemetry, id_, instance)
            except Exception as bug:
                self.boundary.report(bug)

    def span_exit(
        self, id_: str, bound_args: Any, instance: Any = None, result: Any = None, **kwargs: Any
    ) -> None:
        if id_ in self._open:
            self._end(id_, result, None)

    def span_drop(
        self, id_: str, bound_args: Any, instance: Any = None, err: BaseException | None = None, **kwargs: Any
    ) -> None:
        if id_ in self._open:
            self._end(id_, None, err)

    def capture_propagation_context(self) -> dict[str, Any]:
        """Nothing to carry: a run's task inherits the caller's OpenTelemetry context."""
        return {}

    def restore_propagation_context(self, context: dict[str, Any]) -> None:
        """Nothing to restore (see :meth:`capture_propagation_context`)."""

    def close(self) -> None:
        """Nothing to flush: the spans go through the OpenTelemetry providers."""

    # --- runs ------------------------------------------------------------------------------------
    def _kinds_loaded(self) -> extract.Kinds | None:
        """The agent classes, once the app has imported them (no run is an agent's before that)."""
        kinds = self._kinds
        if kinds is None and _AGENTS_MODULE in sys.modules:
            kinds = self._kinds = extract.Kinds.load()
            self._tool_call = kinds.tool_call
        return kinds

    def _run_start(self, layer: Telemetry, id_: str, instance: Any) -> None:
        kinds = self._kinds_loaded()
        if kinds is None:
            return
        multi = isinstance(instance, kinds.multi)
        if not multi and not isinstance(instance, kinds.agent):
            return  # a workflow of the app's own: its steps' spans pass through
        name = extract.run_name(instance)
        block: WorkflowRun | AgentRun
        if multi:
            block = WorkflowRun(name, layer)
        else:
            block = AgentRun(name, None, extract.description(instance), layer)
        ctx = _current()  # the run's parent: current already, nothing to attach
        opened = block._start()
        own = block._context() if opened else None
        if own is not None:
            ctx = own
        run = _Run(layer, block if opened else None, ctx, multi, instance)
        if multi:
            run.agents = getattr(instance, "agents", None)
        else:
            run.agent = block if opened and isinstance(block, AgentRun) else None
            run.agent_name = name
        self._open[id_] = run
        run.token = _attach(ctx)

    def _run_end(self, run: _Run, err: BaseException | None) -> None:
        _detach(run.token)
        if run.multi and run.agent is not None:
            run.agent._finish(err)
        if run.block is not None:
            run.block._finish(err)

    # --- steps -----------------------------------------------------------------------------------
    def _step(self, run: _Run, id_: str, event: Any) -> None:
        try:
            self._step_start(run, id_, event)
        except Exception as bug:
            self.boundary.report(bug)

    def _step_start(self, run: _Run, id_: str, event: Any) -> None:
        if run.multi:
            name = extract.agent_name(event)
            if name is not None and name != run.agent_name:
                self._switch(run, name)
        ctx = run.agent_ctx
        tool: ToolRun | None = None
        if isinstance(event, self._tool_call):
            tool = ToolRun(event, run.layer, run.current_agent())
            opened, ctx = _open(tool, ctx)
            if not opened:
                tool = None
        if tool is None and _current() is ctx:
            return  # a single agent's step: its task has the agent's context already, nothing to end
        step = self._open[id_] = _Step(tool)
        step.token = _attach(ctx)

    def _switch(self, run: _Run, name: str) -> None:
        """The workflow hands the conversation to agent ``name``: the previous agent's turn ends."""
        previous = run.agent
        if previous is not None:
            previous.hand_off(name)
            previous._finish(None)
        agents = run.agents
        agent = agents.get(name) if isinstance(agents, dict) else None
        block = AgentRun(name, None, extract.description(agent), run.layer)
        opened, run.agent_ctx = _open(block, run.ctx)
        run.agent = block if opened else None
        run.agent_name = name

    def _step_end(self, step: _Step, result: Any, err: BaseException | None) -> None:
        _detach(step.token)
        tool = step.tool
        if tool is None:
            return
        try:
            if err is None:
                err = tool.settle(result)
        finally:  # a bug of ours in reading the result still ends the span
            tool._finish(err)

    # --- ends ------------------------------------------------------------------------------------
    def _end(self, id_: str, result: Any, err: BaseException | None) -> None:
        ended = self._open.pop(id_, None)
        try:
            if ended.__class__ is _Step:
                self._step_end(ended, result, err)
            elif isinstance(ended, _Run):
                self._run_end(ended, err)
        except Exception as bug:
            self.boundary.report(bug)
        if self.telemetry is None:
            self._idle()

    def _idle(self) -> None:
        """Disarmed with nothing open: off the dispatcher."""
        release = self.release
        if release is not None and not self._open:
            self.release = None
            self.boundary.call(None, release)
