"""Pure reads of CrewAI's crews, tasks, agents and tools.

No OpenTelemetry here; each function takes what a patched method received or returned.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Mapping
from typing import Any


def _optional(module: str, name: str) -> Any:
    """``module.name`` of the installed CrewAI, None where that release lacks it. (CrewAI is
    imported by name: agentotel is type-checked where CrewAI is not installed.)"""
    try:
        return getattr(importlib.import_module(module), name, None)
    except ImportError:  # pragma: no cover - every supported release has these modules
        return None


_sanitize: Any = _optional("crewai.utilities.string_utils", "sanitize_tool_name")
_authored: Any = _optional("crewai.tools.structured_tool", "strip_composite_description_prefix")
_FAILURE: Any = _optional("crewai.tools.tool_failure", "ToolFailure")
"""What a tool returns to report a failure without raising (crewai >= 1.15.9)."""
_COMPOSED, _AUTHORED = "Tool Name: ", "\nTool Description: "
"""How CrewAI renders a tool's description for the model: name, arguments, then the authored text."""

REJECTED = "rejected"
"""A blocked guardrail's reason when content capture is off (its message may quote the output)."""

DEFAULT_CREW_NAME = "crew"
"""CrewAI's own name for a crew without one."""

DEFAULT_TASK_NAME = "task"
"""The step name of a task without a name (its description is content: never in a name)."""


def crew_name(crew: Any) -> str:
    """The crew's ``name``, or CrewAI's default."""
    name = getattr(crew, "name", None)
    return name if isinstance(name, str) and name else DEFAULT_CREW_NAME


def task_name(task: Any) -> str:
    """The task's ``name``, or ``task`` for a task without one."""
    name = getattr(task, "name", None)
    return name if isinstance(name, str) and name else DEFAULT_TASK_NAME


def human_feedback(answer: Any) -> str | None:
    """What the human answered CrewAI's review of a final answer, stripped: empty when the human is
    happy with the result (CrewAI goes on only then); None when the answer is not text."""
    return answer.strip() if isinstance(answer, str) else None


def task_description(task: Any) -> str | None:
    """What the task asks (its description as interpolated with the crew's inputs)."""
    description = getattr(task, "description", None)
    return description if isinstance(description, str) and description else None


def agent_role(agent: Any) -> str:
    """The agent's ``role``: its name in CrewAI."""
    role = getattr(agent, "role", None)
    return role if isinstance(role, str) and role else "agent"


def agent_id(agent: Any) -> str | None:
    """The agent's id (a UUID CrewAI gives every agent)."""
    value = getattr(agent, "id", None)
    return str(value) if value is not None else None


@functools.lru_cache(maxsize=256)
def tool_name(name: str) -> str:
    """The name the model calls a tool by (CrewAI sanitizes names for the providers:
    ``Get Weather`` is offered as ``get_weather``)."""
    return str(_sanitize(name)) if _sanitize is not None else name


def tool_description(tool: Any) -> str | None:
    """The tool's description as its author wrote it (CrewAI prefixes its own rendering)."""
    description = getattr(tool, "description", None)
    if not isinstance(description, str) or not description:
        return None
    return _authored_text(description)


@functools.lru_cache(maxsize=256)
def _authored_text(description: str) -> str | None:
    """The authored part of a description CrewAI rendered for the model (read once per text)."""
    if _authored is not None:
        description = _authored(description)
    elif description.startswith(_COMPOSED):  # releases before 1.15.3 have no reader of their own
        description = description.rpartition(_AUTHORED)[2]
    return description or None


def tool_arguments(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Any:
    """``BaseTool.run(*args, **kwargs)``'s arguments: the keyword arguments the model gave, or
    the positional ones of a direct call."""
    if args:
        return {"args": list(args), **kwargs} if kwargs else list(args)
    return dict(kwargs)


def invoke_arguments(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Any:
    """``CrewStructuredTool.invoke(input, config=None, **kwargs)``'s input (a dict or JSON text)."""
    return args[0] if args else kwargs.get("input")


def tool_failure(result: Any) -> tuple[str, str] | None:
    """A ``ToolFailure`` a tool returned (a failure it reports without raising, such as its usage
    limit reached) -> (its reason, a category such as ``usage_limit``; its message), None for any
    other result."""
    if _FAILURE is not None and isinstance(result, _FAILURE):
        reason = getattr(result.reason, "value", result.reason)
        return str(reason), str(result.message)
    return None


def guardrail_name(guardrail: Any) -> str:
    """A function guardrail's name, else its class's (``LLMGuardrail``: its description is a
    prompt, not a name)."""
    name = getattr(guardrail, "__name__", None)
    return name if isinstance(name, str) and name else type(guardrail).__name__


def guardrail_verdict(result: Any) -> tuple[bool, str | None] | None:
    """``process_guardrail``'s ``GuardrailResult`` -> (passed, the rejection's message)."""
    success = getattr(result, "success", None)
    if not isinstance(success, bool):
        return None
    error = getattr(result, "error", None)
    return success, (str(error) if error else None)
