"""The agent-layer blocks a LlamaIndex agent run becomes. Each is an agent-layer block (the same
spans, metrics, audit and run-store records as a hand-written agent's) counting its errors under
this instrumentor's component."""

from __future__ import annotations

from typing import Any

from agentotel import semconv
from agentotel._telemetry import Telemetry
from agentotel.agent import Agent, Tool, Workflow
from agentotel.instrumentation.llama_index import extract

COMPONENT = "llama_index"
"""The instrumentor's component: errors of its blocks are counted under it."""


class WorkflowRun(Workflow):
    """A run of an ``AgentWorkflow``: ``invoke_workflow {class name}``."""

    __slots__ = ()
    component = COMPONENT


class AgentRun(Agent):
    """A run of one agent (``FunctionAgent.run``), or an agent's turn in an ``AgentWorkflow``, from
    the step that hands it the conversation to the next agent's: ``invoke_agent {agent name}``."""

    __slots__ = ()
    component = COMPONENT

    def hand_off(self, to_agent: str) -> None:
        """An ``agentotel.handoff`` event: the workflow moved on from this agent to ``to_agent``."""
        self.span.add_event(
            semconv.AGENTOTEL_HANDOFF,
            {
                semconv.AGENTOTEL_HANDOFF_FROM_AGENT: str(self.name),
                semconv.AGENTOTEL_HANDOFF_TO_AGENT: to_agent,
            },
        )


class ToolRun(Tool):
    """One ``call_tool`` step: ``execute_tool {tool name}`` with the model's call id and the
    description of ``agent``'s own tool of that name. LlamaIndex
    catches what the tool raises and hands the model an error output: the span fails with that
    exception (or ``error.type=tool_error`` for an error output without one, a tool the agent
    lacks) while the run goes on."""

    __slots__ = ("_capture",)
    component = COMPONENT

    def __init__(self, event: Any, layer: Telemetry, agent: Any) -> None:
        self._capture = capture = layer.settings.capture.on_span  # read once per tool call
        name, call_id, arguments = extract.tool_call(event, capture)
        description = extract.agent_tool_description(agent, name)
        super().__init__(name, semconv.TOOL_TYPE_FUNCTION, description, call_id, arguments, layer)

    def settle(self, result: Any) -> BaseException | None:
        """Read the step's ``ToolCallResult``: the result recorded (content capture on) and the
        exception to end the span with, if the tool raised one."""
        failed, exception, content = extract.tool_outcome(result, self._capture)
        if content is not None:
            self.set_result(content)
        if failed and exception is None:
            self.mark_error_result(semconv.TOOL_RESULT_ERROR, extract.ERROR_RESULT)
        return exception if failed else None
