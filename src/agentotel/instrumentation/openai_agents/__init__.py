"""OpenAI Agents SDK instrumentor (entry point ``agentotel_openai_agents``).

Usage::

    from agentotel.instrumentation.openai_agents import OpenAIAgentsInstrumentor
    OpenAIAgentsInstrumentor().instrument(tracer_provider=tp, meter_provider=mp)

or zero-code with ``opentelemetry-instrument python app.py``.

The SDK (``openai-agents``, imported as ``agents``) traces itself: the instrumentor adds one
tracing processor of ours with ``agents.add_trace_processor`` when the app imports ``agents``,
which turns the SDK's traces and spans into the agent layer's spans (see
:mod:`~agentotel.instrumentation.openai_agents.processor` for the mapping)::

    invoke_workflow Agent workflow            one per SDK trace (Runner.run / run_sync / run_streamed)
      invoke_agent triage                     one per agent span; usage and cost summed
        chat gpt-4o                           from agentotel_openai: one per HTTP request
        execute_tool get_weather              the SDK's function span, with gen_ai.tool.call.id
        guardrail no_pii                      input / output guardrails; blocked on a tripwire
        (event agentotel.handoff)             from triage to billing
      invoke_agent billing

The SDK's generation and response spans become no span of ours: the LLM span is the provider
instrumentor's (``agentotel_openai`` for the SDK's ``AsyncOpenAI`` client, Responses API or Chat
Completions), exactly one per HTTP request. Tool calls the SDK runs are claimed by their
``execute_tool`` span, so no ``execute_tool`` is also inferred from the next request.

The SDK's own processors are left as they are: its default exporter still sends its traces to
OpenAI's tracing backend (when it finds an OpenAI key), exactly as without agentotel. To stop that
and keep agentotel's spans, keep only our processor once ``agents`` is imported::

    import agents
    from agentotel.instrumentation.openai_agents import OpenAIAgentsInstrumentor

    agents.set_trace_processors([OpenAIAgentsInstrumentor().processor])

``OPENAI_AGENTS_DISABLE_TRACING=1`` (or ``RunConfig(tracing_disabled=True)``) turns the SDK's
tracing off altogether, and with it these spans (the LLM spans remain). ``uninstrument()`` leaves
our processor registered but inert: the SDK can only replace all its processors, not remove one.

Content: nothing of the run's content is recorded unless content capture is on; then the tool
arguments and results the SDK traced (``trace_include_sensitive_data``, default on) are recorded
like those of ``agentotel.tool``.

Versions: ``openai-agents >= 0.2.8, < 1`` (otherwise the instrumentor is skipped by the standard
dependency check, with one log record). 0.2.8 is the first release with
``agents.tracing.get_trace_provider``; the tests pass on 0.2.8 (``openai`` 1.x), 0.10.0 and 0.20.0
(``openai`` 2.x) and 0.24.0 (``openai`` 3.x).

Environment: ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT``, ``AGENTOTEL_CONTENT_MAX_LENGTH``;
``OTEL_PYTHON_DISABLED_INSTRUMENTATIONS=agentotel_openai_agents`` disables it.
"""

from __future__ import annotations

from typing import Any, ClassVar

from agentotel._safe import Boundary
from agentotel._telemetry import Telemetry
from agentotel.instrumentation._base import AgentotelInstrumentor, Patch
from agentotel.instrumentation.openai_agents.package import _instruments


class OpenAIAgentsInstrumentor(AgentotelInstrumentor):
    """Agent-layer spans for the OpenAI Agents SDK's traces (see the module docstring)."""

    component = "openai_agents"
    requirements = _instruments
    patches: ClassVar[tuple[Patch, ...]] = ()
    arms_on_import = "agents"

    def _arm(self, telemetry: Telemetry, boundary: Boundary) -> None:
        from agents.tracing import add_trace_processor, get_trace_provider

        from agentotel.instrumentation.openai_agents.processor import Bridge

        bridge: Bridge | None = getattr(self, "_bridge", None)
        if bridge is None:
            bridge = self._bridge = Bridge(telemetry, boundary)
        else:
            bridge.arm(telemetry, boundary)
        provider = get_trace_provider()
        if getattr(self, "_provider", None) is not provider:
            add_trace_processor(bridge)
            self._provider: Any = provider

    @property
    def processor(self) -> Any:
        """The SDK tracing processor of ours, once ``agents`` is imported with the instrumentor on
        (None before): ``agents.set_trace_processors([OpenAIAgentsInstrumentor().processor])``
        keeps it and drops the SDK's exporter to OpenAI's backend."""
        return getattr(self, "_bridge", None)

    def _after_uninstrument(self) -> None:
        bridge = getattr(self, "_bridge", None)
        if bridge is not None:
            bridge.disarm()


__all__ = ["OpenAIAgentsInstrumentor"]
