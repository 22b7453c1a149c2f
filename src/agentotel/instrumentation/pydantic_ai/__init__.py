"""Pydantic AI instrumentor (entry point ``agentotel_pydantic_ai``).

Usage::

    from agentotel.instrumentation.pydantic_ai import PydanticAIInstrumentor
    PydanticAIInstrumentor().instrument(tracer_provider=tp, meter_provider=mp)

or zero-code with ``opentelemetry-instrument python app.py``.

Instrumented:

* **Runs**: each run of an ``Agent`` (``run``, ``run_sync``, ``run_stream``,
  ``run_stream_events``, ``iter``, which all go through ``Agent.iter``) is one
  ``invoke_agent {agent name}`` span (``gen_ai.agent.name``, ``agent`` for an unnamed agent, and
  ``gen_ai.conversation.id``, Pydantic AI's conversation id) with ``agentotel.workflow.duration``
  and the token usage and cost of the LLM calls below it summed. It covers the whole run: a
  streamed run ends when the app leaves ``run_stream``'s ``async with``.
* **Tools**: each execution of a function tool (plain or with ``RunContext``), with its capability
  hooks, is one ``execute_tool {tool}`` span with the model's tool call id and the tool's
  description. A ``ModelRetry`` (or ``ToolFailed``, or arguments that fail validation) marks it
  ERROR with ``error.type`` naming that class; the retry prompt goes back to the model, whose next
  call follows under the run. A deferred call (``CallDeferred``, ``ApprovalRequired``) or a hook's
  ``SkipToolExecution`` is not an error.
* **Approvals**: a run resumed with approval decisions (``deferred_tool_results=``) gets one
  ``approval {tool}`` span per decision (an audit ``approval_decision`` record); a denied call
  gets no tool span, inferred or not.
* **Structured output**: the model's call of the output tool (``final_result``) runs no tool of the
  app: it gets no ``execute_tool`` span (the answer is the run's), and no inferred one.

LLM calls get no span of ours here: Pydantic AI's OpenAI, Anthropic, Google and Bedrock models call
the ``openai`` / ``anthropic`` / ``google-genai`` / ``botocore`` SDKs, whose instrumentors give
exactly one ``chat`` CLIENT span per HTTP request, under the run.

Ownership when the app also switches Pydantic AI's own instrumentation on (``agent.instrument``,
``Agent.instrument_all()``, the ``Instrumentation`` capability, logfire): inside a run of ours its
agent-run, tool, invalid-tool-call and output-function spans are not made (ours stand for them),
and for a model on an SDK agentotel instruments its ``chat`` span and its token, cost and
time-to-first-chunk metrics are not made either, so each HTTP call has one LLM span and its tokens
are counted once. A model on another SDK keeps Pydantic AI's ``chat`` span and metrics, its only
ones. Outside our runs (``direct.model_request``, a disabled instrumentor) Pydantic AI's
instrumentation is untouched. agentotel never switches it on and never changes where it exports.

Versions: ``pydantic-ai-slim >= 2.68, < 3`` (what ``pydantic-ai`` installs); otherwise the
instrumentor is skipped by the standard dependency check, with one log record.

Environment: ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`` (tool arguments and results
with ``SPAN_ONLY`` / ``SPAN_AND_EVENT``), ``AGENTOTEL_CONTENT_MAX_LENGTH``;
``OTEL_PYTHON_DISABLED_INSTRUMENTATIONS=agentotel_pydantic_ai`` disables it.
"""

from __future__ import annotations

from typing import Any

from agentotel.instrumentation._base import AgentotelInstrumentor, Patch
from agentotel.instrumentation.pydantic_ai.package import _instruments

_AGENT = "pydantic_ai.agent"
_TOOLS = "pydantic_ai.tool_manager"
_OWN = "pydantic_ai.capabilities.instrumentation"
_DISTRIBUTION = "pydantic-ai-slim"


def _p() -> Any:
    """The wrappers' module, imported only when Pydantic AI is."""
    from agentotel.instrumentation.pydantic_ai import patch

    return patch


_PATCHES = (
    Patch(_AGENT, "Agent.iter", lambda t, b: _p().agent_iter(t, b), distribution=_DISTRIBUTION),
    Patch(
        _TOOLS,
        "ToolManager.execute_tool_call",
        lambda t, b: _p().tool_execute(t, b),
        distribution=_DISTRIBUTION,
    ),
    Patch(
        _TOOLS,
        "ToolManager.validate_output_tool_call",
        lambda t, b: _p().output_validate(t, b),
        distribution=_DISTRIBUTION,
    ),
    Patch(_OWN, "Instrumentation.wrap_run", lambda t, b: _p().own_run(t, b), distribution=_DISTRIBUTION),
    Patch(
        _OWN,
        "Instrumentation.wrap_model_request",
        lambda t, b: _p().own_request(t, b),
        distribution=_DISTRIBUTION,
    ),
    Patch(
        _OWN,
        "Instrumentation.wrap_tool_execute",
        lambda t, b: _p().own_tool(t, b),
        distribution=_DISTRIBUTION,
    ),
    Patch(
        _OWN,
        "Instrumentation.on_tool_validate_error",
        lambda t, b: _p().own_tool_error(t, b),
        distribution=_DISTRIBUTION,
    ),
    Patch(
        _OWN,
        "Instrumentation.wrap_output_process",
        lambda t, b: _p().own_output(t, b),
        distribution=_DISTRIBUTION,
    ),
)


class PydanticAIInstrumentor(AgentotelInstrumentor):
    """Spans and metrics for Pydantic AI agent runs and tool calls (see the module docstring)."""

    component = "pydantic_ai"
    requirements = _instruments
    patches = _PATCHES


__all__ = ["PydanticAIInstrumentor"]
