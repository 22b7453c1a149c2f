"""CrewAI instrumentor (entry point ``agentotel_crewai``).

Usage::

    from agentotel.instrumentation.crewai import CrewAIInstrumentor
    CrewAIInstrumentor().instrument(tracer_provider=tp, meter_provider=mp)

or zero-code with ``opentelemetry-instrument python app.py``.

The tree of a crew kickoff (``kickoff``, ``kickoff_async``, ``akickoff``, ``kickoff_for_each``:
one per crew run; a streaming kickoff too, its span ends when the stream's crew run does)::

    invoke_workflow research crew           the crew's name (``crew`` by default)
      step research                         one per task execution (type ``task``, the task's name
        invoke_agent Researcher             or ``task``); the agent's execution of it, by role,
          chat gpt-4o                       with token usage and cost of the LLM calls summed
          execute_tool get_weather          from agentotel_openai / _anthropic / _litellm
          chat gpt-4o                       each tool run, with the LLM's tool call id

A standalone ``Agent.kickoff`` / ``kickoff_async`` is one ``invoke_agent {role}``. A task's
guardrail is ``guardrail {name}`` (blocked when it rejects the output; its message, which may
quote the output, is the reason only with content capture on), after the agent's span. A tool is
named as the model calls it (CrewAI sanitizes names: ``Get Weather`` -> ``get_weather``); a tool
that raises, or returns a ``ToolFailure``, fails its span. A task's description is content: it is
recorded (``agentotel.step.description``) only with content capture on, as are tool arguments and
results.

LLM calls get no span of ours here: CrewAI's native OpenAI, Anthropic, Azure, Gemini and Bedrock
classes call those SDKs, and other models go through LiteLLM, whose instrumentors make exactly
one CLIENT span per HTTP request, under the agent; CrewAI's LLM events make none.

CrewAI's own telemetry (anonymous usage spans to CrewAI's servers, on a tracer provider of its
own) and its tracing (to CrewAI AMP) are left exactly as the app configured them: agentotel
neither switches them on nor off, nor changes where they send. Turn them off with
``CREWAI_DISABLE_TELEMETRY=true`` and ``CREWAI_TRACING_ENABLED=false`` (``OTEL_SDK_DISABLED=true``
stops CrewAI's telemetry too, but also every OpenTelemetry SDK provider, agentotel's included).

Versions: ``crewai >= 1.15.0, < 2`` (otherwise the instrumentor is skipped by the standard
dependency check, with one log record); the tests pass on 1.15.0 and 1.15.30. Earlier 1.x releases
cannot be installed beside agentotel (1.6 to 1.14 pin ``opentelemetry-sdk`` 1.34, agentotel needs
1.40) or lack the async API patched here (1.0 to 1.5: no ``akickoff``, ``aexecute_task``, ``arun``).
CrewAI's MCP tools need ``mcp < 2``, which ``agentotel_mcp`` does not instrument (``mcp >= 2.3``).

Environment: ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT``, ``AGENTOTEL_CONTENT_MAX_LENGTH``;
``OTEL_PYTHON_DISABLED_INSTRUMENTATIONS=agentotel_crewai`` disables it.
"""

from __future__ import annotations

from typing import Any

from agentotel.instrumentation._base import AgentotelInstrumentor, Patch
from agentotel.instrumentation.crewai.package import _instruments

_CREW = "crewai.crew"
_TASK = "crewai.task"
_AGENT = "crewai.agent.core"
_TOOL = "crewai.tools.base_tool"
_STRUCTURED = "crewai.tools.structured_tool"
_HUMAN = "crewai.core.providers.human_input"


def _p() -> Any:
    """The wrappers' module, imported only when CrewAI is."""
    from agentotel.instrumentation.crewai import patch

    return patch


def _patch(module: str, name: str, wrapper: str, versions: str = "") -> Patch:
    return Patch(module, name, lambda t, b: getattr(_p(), wrapper)(t, b), versions=versions)


_PATCHES = (
    _patch(_CREW, "Crew.kickoff", "crew_kickoff"),
    _patch(_CREW, "Crew.akickoff", "crew_akickoff"),
    _patch(_TASK, "Task.execute_sync", "task_execute_sync"),
    _patch(_TASK, "Task.execute_async", "task_execute_async"),
    _patch(_TASK, "Task.aexecute_sync", "task_aexecute_sync"),
    _patch(_AGENT, "Agent.execute_task", "agent_execute_task"),
    _patch(_AGENT, "Agent.aexecute_task", "agent_aexecute_task"),
    _patch(_AGENT, "Agent.kickoff", "agent_kickoff"),
    _patch(_AGENT, "Agent.kickoff_async", "agent_kickoff_async"),
    _patch(_TOOL, "BaseTool.run", "tool_run"),
    _patch(_TOOL, "BaseTool.arun", "tool_arun"),
    _patch(_TOOL, "Tool.run", "tool_run"),
    _patch(_TOOL, "Tool.arun", "tool_arun"),
    _patch(_STRUCTURED, "CrewStructuredTool.invoke", "structured_invoke"),
    _patch(_STRUCTURED, "CrewStructuredTool.ainvoke", "structured_ainvoke"),
    # Imported by name into the modules that run guardrails: wrapped where they call it.
    _patch(_TASK, "process_guardrail", "guardrail"),
    _patch(_AGENT, "process_guardrail", "guardrail"),
    # The default human input provider's question to the human, one per answer (a task with
    # human_input=True): what it answers is the decision.
    _patch(_HUMAN, "SyncHumanInputProvider._prompt_input", "human_input"),
    _patch(_HUMAN, "SyncHumanInputProvider._prompt_input_async", "human_input_async"),
)


class CrewAIInstrumentor(AgentotelInstrumentor):
    """Agent-layer spans for CrewAI crews, tasks, agents and tools (see the module docstring)."""

    component = "crewai"
    requirements = _instruments
    patches = _PATCHES


__all__ = ["CrewAIInstrumentor"]
