"""Thin ``wrapt`` wrappers: each Pydantic AI agent run is one agent-layer
:class:`~agentotel.agent.Agent` block (``invoke_agent {name}``), each tool execution one
:class:`~agentotel.agent.Tool` block (``execute_tool {tool}``). The blocks own the spans, the
metrics, content capture and the safety boundary; the wrapped method runs exactly once, outside
the boundary, and its result and exceptions pass through unchanged.

Ownership: inside a run of ours, Pydantic AI's own ``Instrumentation`` capability (switched on
by the app with ``agent.instrument``, ``Agent.instrument_all()`` or ``Instrumentation()``) steps
aside: its run, tool and output spans are ours already, and its model-request span and token
metrics are the provider instrumentor's for the models built on an SDK agentotel instruments.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any

import wrapt
from opentelemetry import context as otel_context

from agentotel import semconv
from agentotel._safe import Boundary
from agentotel._telemetry import Telemetry
from agentotel.agent import Agent, Approval, Tool
from agentotel.agent._layer import ensure_session_processor
from agentotel.agent._session_state import SESSION_KEY, SessionState, current_session
from agentotel.instrumentation.pydantic_ai import extract

Wrapper = Callable[[Callable[..., Any], Any, tuple[Any, ...], dict[str, Any]], Any]

COMPONENT = "pydantic_ai"
"""The instrumentor's component: errors of its blocks are counted under it."""

RUN_KEY = otel_context.create_key("agentotel-pydantic-ai-run")
"""Set in the context of a run of ours: Pydantic AI's own instrumentation steps aside below it."""


# --- blocks ----------------------------------------------------------------------------------------
class AgentRun(Agent):
    """One run of a Pydantic AI agent (``invoke_agent {name}``)."""

    __slots__ = ()
    component = COMPONENT

    def _extend(self, ctx: otel_context.Context) -> otel_context.Context:
        return otel_context.set_value(RUN_KEY, True, super()._extend(ctx))


class ToolRun(Tool):
    """One execution of a function tool: a ``ModelRetry`` (or ``ToolFailed``, or invalid
    arguments) fails it, named by the class the tool raised; deferrals do not."""

    __slots__ = ()
    component = COMPONENT

    def _close(self, layer: Telemetry, exc: BaseException | None) -> None:
        super()._close(layer, extract.tool_failure(exc))


# --- runs ------------------------------------------------------------------------------------------
def _agent_run(layer: Telemetry, agent: Any) -> AgentRun:
    return AgentRun(extract.agent_name(agent), None, extract.agent_description(agent), layer)


def _conversation(layer: Telemetry, block: AgentRun, agent_run: Any) -> object | None:
    """Pydantic AI's conversation id on the run span and, as a session would, on every span of the
    run (its LLM calls and tool calls, so their audit records name it); the token to detach.
    Inside an ``agentotel.session`` the app's conversation id is kept."""
    conversation_id = extract.conversation_id(agent_run)
    if not block._live or conversation_id is None or current_session() is not None:
        return None
    block.set_attribute(semconv.GEN_AI_CONVERSATION_ID, conversation_id)
    ensure_session_processor(layer.tracer_provider)
    return otel_context.attach(otel_context.set_value(SESSION_KEY, SessionState(conversation_id, None)))


def _approvals(layer: Telemetry, kwargs: dict[str, Any]) -> None:
    """One ``approval {tool}`` span per decision a resumed run is given (``deferred_tool_results``:
    Pydantic AI's human-in-the-loop approvals), under the run: audit ``approval_decision`` records.
    A denied call never runs: the denial sent back to the model is no tool execution to infer."""
    for call_id, tool, denial in extract.approvals(kwargs):
        with ApprovalDecision(tool, None, layer) as decision:
            if denial is None:
                decision.approve()
            else:
                decision.deny(denial)
                layer.pending.cover(call_id)


class ApprovalDecision(Approval):
    """An approval decision given to a resumed Pydantic AI run."""

    __slots__ = ()
    component = COMPONENT


class _RunManager(wrapt.ObjectProxy):  # type: ignore[type-arg]
    """``Agent.iter(...)``'s async context manager: the run block opens before Pydantic AI
    prepares the run and is current while the app iterates it; it ends when the manager exits.
    ``run``, ``run_sync``, ``run_stream`` and ``run_stream_events`` all go through ``iter``."""

    def __init__(
        self, manager: Any, block: AgentRun, layer: Telemetry, boundary: Boundary, kwargs: dict[str, Any]
    ) -> None:
        super().__init__(manager)
        self._self_kwargs = kwargs
        self._self_block = block
        self._self_layer = layer
        self._self_boundary = boundary
        self._self_token: object | None = None
        self._self_session: object | None = None

    async def __aenter__(self) -> Any:
        block = self._self_block
        self._self_token = block._attach() if block._start() else None
        if block._live:
            self._self_boundary.call(None, _approvals, self._self_layer, self._self_kwargs)
        try:
            agent_run = await self.__wrapped__.__aenter__()
        except BaseException as exc:
            self._self_end(exc)
            raise
        self._self_session = self._self_boundary.call(None, _conversation, self._self_layer, block, agent_run)
        return agent_run

    async def __aexit__(
        self, et: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> Any:
        try:
            suppressed = await self.__wrapped__.__aexit__(et, exc, tb)
        except BaseException as raised:
            self._self_end(raised)
            raise
        self._self_end(None if suppressed else exc)
        return suppressed

    def _self_end(self, exc: BaseException | None) -> None:
        session, self._self_session = self._self_session, None
        self._self_block._detach(session)
        token, self._self_token = self._self_token, None
        self._self_block._detach(token)
        self._self_block._finish(exc)


def agent_iter(layer: Telemetry, boundary: Boundary) -> Wrapper:
    """Wrapper of ``Agent.iter``: calling it only builds the manager, which runs on enter."""

    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        manager = wrapped(*args, **kwargs)
        block = boundary.call(None, _agent_run, layer, instance)
        if block is None:
            return manager
        return boundary.call(manager, _RunManager, manager, block, layer, boundary, kwargs)

    return wrapper


# --- tools -----------------------------------------------------------------------------------------
def _tool_run(layer: Telemetry, validated: Any) -> ToolRun:
    name, call_id, description, arguments = extract.tool_call(validated)
    if not layer.settings.capture.on_span:
        arguments = None
    return ToolRun(name, semconv.TOOL_TYPE_FUNCTION, description, call_id, arguments, layer)


def tool_execute(layer: Telemetry, boundary: Boundary) -> Wrapper:
    """Wrapper of ``ToolManager.execute_tool_call(validated)``: one function-tool execution (its
    capability hooks included), whichever node or stream of the run asks for it."""

    async def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        validated = args[0] if args else kwargs.get("validated")
        block = boundary.call(None, _tool_run, layer, validated)
        if block is None:
            return await wrapped(*args, **kwargs)
        async with block:
            result = await wrapped(*args, **kwargs)
            block._deliver(result)
        return result

    return wrapper


def _cover_output_call(layer: Telemetry, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    call_id = extract.output_call_id(args, kwargs)
    if call_id is not None:
        layer.pending.cover(call_id)


def output_validate(layer: Telemetry, boundary: Boundary) -> Wrapper:
    """Wrapper of ``ToolManager.validate_output_tool_call(call, ...)``: the model's structured
    answer (``final_result``) runs no tool; its call must not get an inferred tool span either."""

    async def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        boundary.call(None, _cover_output_call, layer, args, kwargs)
        return await wrapped(*args, **kwargs)

    return wrapper


# --- Pydantic AI's own instrumentation -----------------------------------------------------------
# Pydantic AI calls these hooks with keyword arguments; a call that lacks one runs as it would
# without us.
def _ours() -> bool:
    return otel_context.get_value(RUN_KEY) is True


def own_run(layer: Telemetry, boundary: Boundary) -> Wrapper:
    """Wrapper of ``Instrumentation.wrap_run``: inside our run, no second agent-run span."""

    async def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        if "handler" in kwargs and boundary.call(False, _ours):
            return await kwargs["handler"]()
        return await wrapped(*args, **kwargs)

    return wrapper


def own_tool(layer: Telemetry, boundary: Boundary) -> Wrapper:
    """Wrapper of ``Instrumentation.wrap_tool_execute``: inside our run, our tool span only."""

    async def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        if "handler" in kwargs and "args" in kwargs and boundary.call(False, _ours):
            return await kwargs["handler"](kwargs["args"])
        return await wrapped(*args, **kwargs)

    return wrapper


def own_tool_error(layer: Telemetry, boundary: Boundary) -> Wrapper:
    """Wrapper of ``Instrumentation.on_tool_validate_error``: inside our run the invalid call's
    span is our tool span (which fails with the ``ValidationError``), so theirs only re-raises."""

    async def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        if "error" in kwargs and boundary.call(False, _ours):
            raise kwargs["error"]
        return await wrapped(*args, **kwargs)

    return wrapper


def own_output(layer: Telemetry, boundary: Boundary) -> Wrapper:
    """Wrapper of ``Instrumentation.wrap_output_process``: inside our run, no output-function span."""

    async def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        if "handler" in kwargs and "output" in kwargs and boundary.call(False, _ours):
            return await kwargs["handler"](kwargs["output"])
        return await wrapped(*args, **kwargs)

    return wrapper


def _sdk_request(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    return _ours() and extract.sdk_model(extract.request_model(args, kwargs))


def own_request(layer: Telemetry, boundary: Boundary) -> Wrapper:
    """Wrapper of ``Instrumentation.wrap_model_request``: inside our run, a model on an SDK we
    instrument gets the provider instrumentor's LLM span and metrics only; other models keep
    Pydantic AI's ``chat`` span, their only LLM span."""

    async def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        if "handler" in kwargs and boundary.call(False, _sdk_request, args, kwargs):
            return await kwargs["handler"](kwargs["request_context"])
        return await wrapped(*args, **kwargs)

    return wrapper
