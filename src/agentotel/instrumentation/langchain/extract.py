"""Pure reads of LangChain tool calls and LangGraph runs: names, call ids, arguments, outcomes.

No OpenTelemetry here; each function takes what the patched method received or returned.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langchain_core.messages import ToolMessage

DEFAULT_GRAPH_NAME = "LangGraph"
"""LangGraph's own default for ``CompiledStateGraph.name``, used when a graph has no usable name."""

HIDDEN_TAG = "langsmith:hidden"
"""``langgraph.constants.TAG_HIDDEN``: LangGraph's own bookkeeping tasks (``__start__``) carry it."""


def tool_call(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> tuple[Any, str | None]:
    """``BaseTool.run`` / ``arun`` arguments -> (tool input, tool call id).

    ``invoke(ToolCall)`` reaches ``run`` with the call's ``args`` as input and its ``id`` as
    ``tool_call_id``.
    """

    def _bind(tool_input: Any, *_args: Any, tool_call_id: Any = None, **_kwargs: Any) -> tuple[Any, Any]:
        return tool_input, tool_call_id

    tool_input, call_id = _bind(*args, **kwargs)
    return tool_input, (str(call_id) if call_id is not None else None)


def tool_arguments(tool: Any, tool_input: Any) -> Any:
    """The arguments the caller (usually a model) gave: values LangChain injects itself (graph
    state, store, the call id) are left out, as LangChain leaves them out of its own callbacks."""
    if isinstance(tool_input, dict):
        drop_injected = getattr(tool, "_filter_injected_args", None)
        if callable(drop_injected):
            return drop_injected(tool_input)
    return tool_input


def tool_outcome(value: Any) -> tuple[Any, bool]:
    """A tool's return value -> (result to record, whether the caller got an error back).

    A ``ToolMessage`` is recorded by its content; ``status="error"`` is what ``handle_tool_error``
    / ``handle_validation_error`` return (only when the tool was given a call id).
    """
    if isinstance(value, ToolMessage):
        return value.content, value.status == "error"
    return value, False


def graph_name(graph: Any) -> str:
    """The compiled graph's ``name`` (``compile(name=...)``), or LangGraph's default."""
    name = getattr(graph, "name", None)
    return name if isinstance(name, str) and name else DEFAULT_GRAPH_NAME


def node_name(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> str | None:
    """``run_with_retry(task, ...)`` arguments -> the node the task runs; None for LangGraph's
    hidden tasks (the input mapping ``__start__``), which are not steps of the user's graph."""
    task = args[0] if args else kwargs.get("task")
    config = getattr(task, "config", None)
    tags = config.get("tags") if isinstance(config, Mapping) else None
    if tags and HIDDEN_TAG in tags:
        return None
    name = getattr(task, "name", None)
    return name if isinstance(name, str) and name else None
