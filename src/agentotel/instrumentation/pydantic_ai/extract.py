"""Pure reads of Pydantic AI runs, tool calls and model requests.

No OpenTelemetry here; each function takes what a patched method received or raised.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic_ai.exceptions import (
    ApprovalRequired,
    CallDeferred,
    SkipToolExecution,
    ToolFailedError,
    ToolRetryError,
)

DEFAULT_AGENT_NAME = "agent"
"""Pydantic AI's own name for an agent without one (its run span says ``agent run``)."""

CONTROL_FLOW: tuple[type[BaseException], ...] = (SkipToolExecution, CallDeferred, ApprovalRequired)
"""Exceptions that end a tool execution without failing it: a hook's replacement result, a call
deferred to the caller or waiting for approval."""

SDK_MODEL_MODULES = (
    "pydantic_ai.models.openai",
    "pydantic_ai.models.anthropic",
    "pydantic_ai.models.google",
    "pydantic_ai.models.bedrock",
)
"""Pydantic AI's models built on the SDKs agentotel instruments (``openai``, ``anthropic``,
``google-genai``, ``botocore``): their HTTP calls get the provider instrumentors' LLM span."""


def agent_name(agent: Any) -> str:
    """The agent's ``name``, or Pydantic AI's default for an unnamed agent."""
    name = getattr(agent, "name", None)
    return name if isinstance(name, str) and name else DEFAULT_AGENT_NAME


def agent_description(agent: Any) -> str | None:
    """The agent's ``description`` (a template as written: rendering it may need the run's deps)."""
    description = getattr(agent, "description", None)
    return description if isinstance(description, str) and description else None


def conversation_id(agent_run: Any) -> str | None:
    """The run's conversation id (``AgentRun.conversation_id``), None when it has none."""
    value = getattr(agent_run, "conversation_id", None)
    return value if isinstance(value, str) and value else None


def approvals(kwargs: Mapping[str, Any]) -> list[tuple[str, str, str | None]]:
    """``Agent.iter(..., deferred_tool_results=..., message_history=...)`` -> the approval decisions
    the run resumes with, as (call id, tool name, None when approved else the denial's message),
    in the order given. A decision whose call is not in the history is named by its call id."""
    results = kwargs.get("deferred_tool_results")
    given = getattr(results, "approvals", None)
    if not given:
        return []
    names: dict[str, str] = {}
    for message in kwargs.get("message_history") or ():
        for part in getattr(message, "parts", ()):
            call_id = getattr(part, "tool_call_id", None)
            if call_id and getattr(part, "part_kind", None) == "tool-call":
                names[call_id] = str(part.tool_name)
    decisions: list[tuple[str, str, str | None]] = []
    for call_id, decision in given.items():
        denied = decision is False or getattr(decision, "kind", None) == "tool-denied"
        message = getattr(decision, "message", None) if denied else None
        reason = (message if isinstance(message, str) and message else "denied") if denied else None
        decisions.append((str(call_id), names.get(call_id, str(call_id)), reason))
    return decisions


def tool_call(validated: Any) -> tuple[str, str | None, str | None, Any]:
    """``ToolManager.execute_tool_call``'s ``ValidatedToolCall`` -> (tool name, call id,
    description, arguments): the validated arguments, else the model's raw ones."""
    call = validated.call
    tool = validated.tool
    tool_def = getattr(tool, "tool_def", None)
    description = getattr(tool_def, "description", None) or None
    arguments = validated.validated_args
    if arguments is None:
        arguments = call.args
    call_id = call.tool_call_id
    return str(call.tool_name), (str(call_id) if call_id else None), description, arguments


def output_call_id(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> str | None:
    """``ToolManager.validate_output_tool_call(call, ...)`` arguments -> the call's id."""
    call = args[0] if args else kwargs.get("call")
    call_id = getattr(call, "tool_call_id", None)
    return str(call_id) if call_id else None


def tool_failure(exc: BaseException | None) -> BaseException | None:
    """What failed a tool execution, from what ``execute_tool_call`` raised.

    Control flow is no failure. Pydantic AI wraps what the tool raised (``ModelRetry``,
    ``ToolFailed``) or the arguments' ``ValidationError`` in ``ToolRetryError`` /
    ``ToolFailedError``, which the model sees as a retry prompt: the span names the original.
    """
    if exc is None or isinstance(exc, CONTROL_FLOW):
        return None
    if isinstance(exc, (ToolRetryError, ToolFailedError)) and exc.__cause__ is not None:
        return exc.__cause__
    return exc


def sdk_model(model: Any) -> bool:
    """Whether ``model`` (through any wrapper models) calls an SDK agentotel instruments."""
    seen = 0
    while model is not None and seen < 16:  # a wrapper chain, bounded against a cycle
        module = type(model).__module__
        if module.startswith(SDK_MODEL_MODULES):
            return True
        model = getattr(model, "wrapped", None)
        seen += 1
    return False


def request_model(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Any:
    """``Instrumentation.wrap_model_request(ctx, *, request_context, handler)`` -> the model."""
    request_context = kwargs.get("request_context")
    return getattr(request_context, "model", None)
