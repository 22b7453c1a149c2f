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

``agentotel.agent`` is this package and, called, :func:`agent`: ``agentotel.agent("planner")``
opens an agent round, and ``agentotel.agent._run`` is still importable.
"""

import sys
from types import ModuleType

from opentelemetry import trace

from agentotel import semconv
from agentotel.agent._context import ContextAssembly, context_assembly
from agentotel.agent._decisions import Approval, Guard, approval, guard
from agentotel.agent._layer import configure
from agentotel.agent._run import Agent, Plan, Step, Workflow, agent, plan, step, workflow
from agentotel.agent._session import Session, session
from agentotel.agent._tool import Tool, tool


def mark_for_audit() -> None:
    """Flag the current span for the audit log (``agentotel.audit=true``)."""
    trace.get_current_span().set_attribute(semconv.AGENTOTEL_AUDIT, True)


class _CallablePackage(ModuleType):
    """This package, callable as :func:`agent` (``agentotel.agent`` is both)."""

    def __call__(self, name: str, *, agent_id: str | None = None, description: str | None = None) -> Agent:
        return agent(name, agent_id=agent_id, description=description)


sys.modules[__name__].__class__ = _CallablePackage

__all__ = [
    "Agent",
    "Approval",
    "ContextAssembly",
    "Guard",
    "Plan",
    "Session",
    "Step",
    "Tool",
    "Workflow",
    "agent",
    "approval",
    "configure",
    "context_assembly",
    "guard",
    "mark_for_audit",
    "plan",
    "session",
    "step",
    "tool",
    "workflow",
]
