"""The agent layer: spans and metrics for the parts of an agent loop that are not LLM calls.

Every API below is a context manager (``with`` / ``async with``) and a decorator (sync and
async functions, generators, async generators)::

    import agentotel

    with agentotel.session("conv-1", user_id="u-1"):
        with agentotel.agent("planner"):
            with agentotel.plan("planner"):
                with agentotel.step("search", type="tool"):
                    search(query)          # @agentotel.tool() decorated

Exceptions mark the span ERROR with ``error.type`` and propagate unchanged. A bug in agentotel
never reaches the app: it is logged at DEBUG and counted in ``agentotel.telemetry.errors``.
"""

from opentelemetry import trace

from agentotel import semconv
from agentotel.agent._context import ContextAssembly, context_assembly
from agentotel.agent._decisions import Approval, Guard, approval, guard
from agentotel.agent._run import Agent, Plan, Step, Workflow, agent, plan, step, workflow
from agentotel.agent._session import Session, SessionSpanProcessor, session
from agentotel.agent._telemetry import AgentTelemetry, configure, ensure_session_processor, reset
from agentotel.agent._tool import Tool, tool


def mark_for_audit() -> None:
    """Flag the current span for the audit log (``agentotel.audit=true``)."""
    trace.get_current_span().set_attribute(semconv.AGENTOTEL_AUDIT, True)


__all__ = [
    "Agent",
    "AgentTelemetry",
    "Approval",
    "ContextAssembly",
    "Guard",
    "Plan",
    "Session",
    "SessionSpanProcessor",
    "Step",
    "Tool",
    "Workflow",
    "agent",
    "approval",
    "configure",
    "context_assembly",
    "ensure_session_processor",
    "guard",
    "mark_for_audit",
    "plan",
    "reset",
    "session",
    "step",
    "tool",
    "workflow",
]
