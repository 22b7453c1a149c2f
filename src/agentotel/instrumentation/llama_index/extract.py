"""Pure reads of the LlamaIndex objects the dispatcher hands its span handlers: the workflow a
run span runs, the event a step receives, the outcome a tool step returns.

No OpenTelemetry here, and no LlamaIndex import: the classes to recognise are given (see
:class:`Kinds`), so the module loads without LlamaIndex and its functions are tested alone.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

RUN_ARGUMENT = "init_state"
"""A parameter of the function whose dispatcher span is a workflow run (``run_workflow(init_state,
start_event, tags)`` in ``llama-index-workflows``): only a run's span has it."""

EVENT_ARGUMENT = "ev"
"""The parameter a workflow step receives its event in (``async def call_tool(self, ctx, ev)``)."""

ERROR_RESULT = "the tool returned an error result"
"""The status message of a tool whose ``ToolOutput`` is an error without an exception (a tool the
agent does not have): the output itself is content, recorded only with content capture on."""


@dataclass(frozen=True)
class Kinds:
    """The LlamaIndex classes the bridge recognises."""

    agent: type
    """``BaseWorkflowAgent``: ``FunctionAgent``, ``ReActAgent``, ``CodeActAgent`` (one agent, run alone)."""
    multi: type
    """``AgentWorkflow``: several agents handing off to each other."""
    tool_call: type
    """``ToolCall``: the event of the ``call_tool`` step, one per tool call."""

    @classmethod
    def load(cls) -> Kinds:
        workflow = importlib.import_module("llama_index.core.agent.workflow")
        events = importlib.import_module("llama_index.core.agent.workflow.workflow_events")
        return cls(workflow.BaseWorkflowAgent, workflow.AgentWorkflow, events.ToolCall)


def run_name(instance: Any) -> str:
    """An agent's ``name`` (LlamaIndex's default is ``Agent``), a multi-agent workflow's class name."""
    name = getattr(instance, "name", None)
    return name if isinstance(name, str) and name else type(instance).__name__


def description(agent: Any) -> str | None:
    """An agent's ``description``, None when empty."""
    value = getattr(agent, "description", None)
    return value if isinstance(value, str) and value else None


def agent_name(event: Any) -> str | None:
    """The agent an event is for (``AgentInput``, ``AgentSetup``, ``AgentOutput`` carry
    ``current_agent_name``; tool events do not)."""
    name = getattr(event, "current_agent_name", None)
    return name if isinstance(name, str) and name else None


def tool_call(event: Any, content: bool) -> tuple[str, str | None, Any]:
    """A ``ToolCall`` event -> (tool name, call id, arguments, or None without ``content``: each read
    of a pydantic event's field costs several type lookups, work for nothing unless content
    capture is on)."""
    call_id = getattr(event, "tool_id", None)
    arguments = getattr(event, "tool_kwargs", None) if content else None
    return str(event.tool_name), (str(call_id) if call_id else None), arguments


def tool_description(tool: Any) -> str | None:
    """A tool's ``metadata.description``, None when empty."""
    value = getattr(getattr(tool, "metadata", None), "description", None)
    return value if isinstance(value, str) and value else None


def agent_tool_description(agent: Any, name: str) -> str | None:
    """The description of ``agent``'s own tool called ``name`` (``tools=[...]``, made ``BaseTool``
    by LlamaIndex; of two of that name the last, as LlamaIndex's ``call_tool`` picks), None when it
    has none or is not one of them (a tool retriever's tool, known only once the step has
    retrieved it; ``AgentWorkflow``'s handoff tool)."""
    tools = getattr(agent, "tools", None)
    if not isinstance(tools, list):
        return None
    for tool in reversed(tools):
        if getattr(getattr(tool, "metadata", None), "name", None) == name:
            return tool_description(tool)
    return None


def tool_outcome(result: Any, content: bool = True) -> tuple[bool, BaseException | None, Any]:
    """The ``ToolCallResult`` a ``call_tool`` step returned -> (is an error, the exception the tool
    raised if any, the output's content, or None without ``content``: LlamaIndex's ``content``
    joins the output's blocks, work for nothing unless content capture is on). LlamaIndex turns
    what a tool raises into an error output that the model reads; a step that returns no result
    (waiting for an event) is no error."""
    output = getattr(result, "tool_output", None)
    if output is None:
        return False, None, None
    failed = bool(getattr(output, "is_error", False))
    # Read only for an error: LlamaIndex's ``exception`` reads a pydantic private attribute, which
    # goes through pydantic's ``__getattr__`` (about 55 bytecodes per tool call).
    exception = getattr(output, "exception", None) if failed else None
    return (
        failed,
        (exception if isinstance(exception, BaseException) else None),
        getattr(output, "content", None) if content else None,
    )
