"""The agent-layer blocks an OpenAI Agents SDK span becomes, settled from the SDK span's data
when it ends (the SDK fills in a tool's input and output, a guardrail's verdict and a handoff's
target only then).

Each block is an agent-layer block (the same spans, metrics, audit and run-store records as a
hand-written agent's) counting its errors under this instrumentor's component.
"""

from __future__ import annotations

import json
from typing import Any

from opentelemetry import trace

from agentotel import semconv
from agentotel._content import dumps
from agentotel._lifecycle import Attributes
from agentotel._telemetry import Telemetry
from agentotel.agent import Agent, Guard, Step, Tool, Workflow

COMPONENT = "openai_agents"
"""The instrumentor's component: errors of its blocks are counted under it."""

STEP_TYPE_CUSTOM = "custom"
"""``agentotel.step.type`` of an SDK ``custom_span``."""

TRIPWIRE = "tripwire triggered"
"""``agentotel.guard.reason`` of a guardrail whose tripwire the SDK saw triggered."""


def error_message(span: Any) -> str | None:
    """The message of the error the SDK attached to ``span``, if any."""
    error = getattr(span, "error", None)
    if not error:
        return None
    message = error.get("message") if isinstance(error, dict) else None
    return str(message) if message else "error"


def _parsed(arguments: Any) -> Any:
    """The SDK traces a tool's arguments as the model's JSON text: recorded like the arguments
    ``agentotel.tool`` binds (a JSON object), or as given when they are not JSON."""
    if isinstance(arguments, str):
        try:
            return json.loads(arguments)
        except ValueError:
            return arguments
    return arguments


class RunBlock(Workflow):
    """An SDK trace (one ``Runner.run`` unless the app opened its own ``trace()``):
    ``invoke_workflow {workflow name}``."""

    __slots__ = ()
    component = COMPONENT


class AgentBlock(Agent):
    """An SDK agent span: ``invoke_agent {agent name}``."""

    __slots__ = ()
    component = COMPONENT


class CustomBlock(Step):
    """An SDK ``custom_span``: ``step {name}`` of type ``custom`` (its data is never recorded)."""

    __slots__ = ()
    component = COMPONENT


class GuardBlock(Guard):
    """An SDK guardrail span: ``guardrail {name}``, blocked when the tripwire triggered."""

    __slots__ = ()
    component = COMPONENT

    def settle(self, span: Any) -> None:
        if getattr(span.span_data, "triggered", False):
            self.block(TRIPWIRE)
        else:
            self.allow()


class FunctionBlock(Tool):
    """An SDK function span: ``execute_tool {tool name}``.

    The call id is that of the pending tool call of this name the LLM response asked for (claimed
    when the span starts, or when it ends for a tool the SDK started while the response was still
    streaming), so the next request, which carries the tool's output, infers no second span.
    Arguments and result are the SDK's (``trace_include_sensitive_data``), recorded only with
    content capture on.
    """

    __slots__ = ()
    component = COMPONENT

    def __init__(self, name: str, layer: Telemetry) -> None:
        super().__init__(name, semconv.TOOL_TYPE_FUNCTION, None, None, None, layer)

    def settle(self, span: Any) -> None:
        data = span.span_data
        if self.layer.settings.capture.on_span:
            self._arguments = _parsed(getattr(data, "input", None))
            output = getattr(data, "output", None)
            if output is not None:
                self.set_result(output)
        message = error_message(span)
        if message is not None:
            self.mark_error_result(semconv.TOOL_RESULT_ERROR, message)

    def _end_attributes(self, layer: Telemetry, failed: bool) -> Attributes | None:
        attrs: Attributes = dict(super()._end_attributes(layer, failed) or {})
        if layer.settings.capture.on_span and self._arguments is not None:
            attrs[semconv.GEN_AI_TOOL_CALL_ARGUMENTS] = dumps(
                self._arguments, layer.settings.content_max_length
            )
        if self.call_id is None and layer.pending:
            trace_id = self.span.get_span_context().trace_id
            self.call_id = layer.pending.claim(str(self.name), trace_id)
            if self.call_id is not None:
                attrs[semconv.GEN_AI_TOOL_CALL_ID] = self.call_id
        return attrs


def record_handoff(layer: Telemetry, agent_span: trace.Span, span: Any, tool_name: str | None) -> None:
    """An SDK handoff span that ended: an ``agentotel.handoff`` event on the handing agent's span,
    with the handoff tool call's id when the LLM response that asked for it is known (the pending
    call is taken, so it never becomes an inferred ``execute_tool`` span)."""
    data = span.span_data
    attrs: Attributes = {}
    if data.from_agent:
        attrs[semconv.AGENTOTEL_HANDOFF_FROM_AGENT] = str(data.from_agent)
    if data.to_agent:
        attrs[semconv.AGENTOTEL_HANDOFF_TO_AGENT] = str(data.to_agent)
    if tool_name is not None and layer.pending:
        call_id = layer.pending.claim(tool_name, agent_span.get_span_context().trace_id)
        if call_id is not None:
            attrs[semconv.GEN_AI_TOOL_CALL_ID] = call_id
    agent_span.add_event(semconv.AGENTOTEL_HANDOFF, attrs)
