"""agentotel: OpenTelemetry instrumentation for LLM agents.

Zero-code: ``opentelemetry-instrument python agent.py``. In code::

    import agentotel
    agentotel.instrument()                       # every installed provider SDK
    agentotel.instrument(tracer_provider=tp, meter_provider=mp)

The agent layer (tools, plans, workflows, agent rounds, sessions, guards, approvals, context
assembly) is ``agentotel.tool``, ``agentotel.agent``, ... — see :mod:`agentotel.agent`.
"""

from typing import TYPE_CHECKING

from agentotel._registry import instrument, uninstrument
from agentotel._version import __version__
from agentotel.agent import (
    approval,
    context_assembly,
    guard,
    mark_for_audit,
    plan,
    session,
    step,
    tool,
    workflow,
)
from agentotel.config import CaptureMode, ConfigError, Settings
from agentotel.processors.runstore import fork_run, save_artifact

if TYPE_CHECKING:  # what a call is: the agent function
    from agentotel.agent._run import agent
else:  # the subpackage, callable as that function (so agentotel.agent._run stays importable)
    from agentotel import agent

__all__ = [
    "CaptureMode",
    "ConfigError",
    "Settings",
    "__version__",
    "agent",
    "approval",
    "context_assembly",
    "fork_run",
    "guard",
    "instrument",
    "mark_for_audit",
    "plan",
    "save_artifact",
    "session",
    "step",
    "tool",
    "uninstrument",
    "workflow",
]
