"""Thin ``wrapt`` wrappers: each LangChain tool run, LangGraph graph run and node execution is
one agent-layer block (:class:`~agentotel.agent.Tool`, :class:`~agentotel.agent.Workflow`,
:class:`~agentotel.agent.Step`), which owns the span, the metrics, content capture and the safety
boundary. The wrapped method runs exactly once, outside the boundary; its result and exceptions
pass through unchanged.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from agentotel import semconv
from agentotel._safe import Boundary
from agentotel._telemetry import Telemetry
from agentotel.agent import Step, Tool, Workflow
from agentotel.instrumentation.langchain import extract
from agentotel.instrumentation.langchain.stream import AsyncRunStream, SyncRunStream

Wrapper = Callable[[Callable[..., Any], Any, tuple[Any, ...], dict[str, Any]], Any]

COMPONENT = "langchain"
"""The instrumentor's component: errors of its blocks are counted under it."""

STEP_TYPE_NODE = "node"
"""``agentotel.step.type`` of a LangGraph node execution."""


def _control_flow() -> tuple[type[BaseException], ...]:
    try:
        from langgraph.errors import GraphBubbleUp
    except ImportError:
        return ()
    return (GraphBubbleUp,)


CONTROL_FLOW = _control_flow()
"""LangGraph's interrupts, drains and ``Command(graph=PARENT)`` travel up as exceptions
(``GraphBubbleUp``): they end a block without failing it."""


def _failure(exc: BaseException | None) -> BaseException | None:
    return None if isinstance(exc, CONTROL_FLOW) else exc


# --- blocks ----------------------------------------------------------------------------------------
class ToolRun(Tool):
    """One ``BaseTool.run`` / ``arun``: its verdict is what the caller receives.

    An exception is a failure; so is a ``ToolMessage`` with ``status="error"`` (an error the tool
    handled itself), recorded with ``error.type`` = ``tool_error`` while the message is returned
    unchanged.
    """

    __slots__ = ()
    component = COMPONENT

    def __init__(
        self, name: str, description: str | None, call_id: str | None, arguments: Any, layer: Telemetry
    ) -> None:
        super().__init__(name, semconv.TOOL_TYPE_FUNCTION, description, call_id, arguments, layer)

    def _returned(self, value: Any) -> None:
        result, error_result = extract.tool_outcome(value)
        self.set_result(result)
        if error_result:
            self.mark_error_result(semconv.TOOL_RESULT_ERROR, "the tool returned an error result")

    def _close(self, layer: Telemetry, exc: BaseException | None) -> None:
        super()._close(layer, _failure(exc))


class GraphRun(Workflow):
    """One run of a compiled graph (``invoke_workflow {graph name}``)."""

    __slots__ = ()
    component = COMPONENT

    def _close(self, layer: Telemetry, exc: BaseException | None) -> None:
        super()._close(layer, _failure(exc))


class NodeStep(Step):
    """One execution of a graph node (``step {node}``, type ``node``), retries included."""

    __slots__ = ()
    component = COMPONENT

    def _close(self, layer: Telemetry, exc: BaseException | None) -> None:
        super()._close(layer, _failure(exc))


# --- tools -----------------------------------------------------------------------------------------
def _tool_run(layer: Telemetry, tool: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> ToolRun:
    tool_input, call_id = extract.tool_call(args, kwargs)
    arguments = extract.tool_arguments(tool, tool_input) if layer.settings.capture.on_span else None
    return ToolRun(str(tool.name), tool.description or None, call_id, arguments, layer)


def tool_run(layer: Telemetry, boundary: Boundary) -> Wrapper:
    """Wrapper of ``BaseTool.run`` (``invoke`` calls it)."""

    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        block = boundary.call(None, _tool_run, layer, instance, args, kwargs)
        if block is None:
            return wrapped(*args, **kwargs)
        with block:
            result = wrapped(*args, **kwargs)
            block._deliver(result)
        return result

    return wrapper


def tool_arun(layer: Telemetry, boundary: Boundary) -> Wrapper:
    """Wrapper of ``BaseTool.arun`` (``ainvoke`` calls it); :func:`tool_run` with ``await``."""

    async def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        block = boundary.call(None, _tool_run, layer, instance, args, kwargs)
        if block is None:
            return await wrapped(*args, **kwargs)
        async with block:
            result = await wrapped(*args, **kwargs)
            block._deliver(result)
        return result

    return wrapper


# --- graphs ----------------------------------------------------------------------------------------
def _traced(layer: Telemetry, graph: Any, stream: Any) -> Any:
    """``stream`` inside a graph-run block that covers the whole iteration."""
    run = GraphRun(extract.graph_name(graph), layer)
    if inspect.isgenerator(stream):
        return SyncRunStream(stream, run)
    if inspect.isasyncgen(stream):
        return AsyncRunStream(stream, run)
    return stream


def graph_stream(layer: Telemetry, boundary: Boundary) -> Wrapper:
    """Wrapper of ``Pregel.stream`` / ``astream`` (``invoke`` / ``ainvoke`` iterate them): calling
    either only creates the generator, so one wrapper serves both."""

    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        stream = wrapped(*args, **kwargs)
        return boundary.call(stream, _traced, layer, instance, stream)

    return wrapper


# --- nodes -----------------------------------------------------------------------------------------
def node_run(layer: Telemetry, boundary: Boundary) -> Wrapper:
    """Wrapper of LangGraph's ``run_with_retry(task, ...)``: one task = one node execution."""

    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        name = boundary.call(None, extract.node_name, args, kwargs)
        if name is None:
            return wrapped(*args, **kwargs)
        with NodeStep(name, STEP_TYPE_NODE, layer):
            return wrapped(*args, **kwargs)

    return wrapper


def node_arun(layer: Telemetry, boundary: Boundary) -> Wrapper:
    """Wrapper of ``arun_with_retry``; differs from :func:`node_run` only by ``await``."""

    async def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        name = boundary.call(None, extract.node_name, args, kwargs)
        if name is None:
            return await wrapped(*args, **kwargs)
        async with NodeStep(name, STEP_TYPE_NODE, layer):
            return await wrapped(*args, **kwargs)

    return wrapper
