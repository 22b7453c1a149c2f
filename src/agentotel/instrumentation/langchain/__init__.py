"""LangChain / LangGraph instrumentor (entry point ``agentotel_langchain``).

Usage::

    from agentotel.instrumentation.langchain import LangChainInstrumentor
    LangChainInstrumentor().instrument(tracer_provider=tp, meter_provider=mp)

or zero-code with ``opentelemetry-instrument python app.py``.

Instrumented:

* **Tools** (``langchain-core``): every ``BaseTool`` execution is one ``execute_tool {tool name}``
  span with ``gen_ai.tool.{name,type,description}``, ``gen_ai.tool.call.id`` when the tool is
  invoked with a ``ToolCall``, and ``agentotel.tool.duration``. ``invoke`` / ``ainvoke`` call
  ``run`` / ``arun``, so whichever entry the app uses, one execution is one span. The span reflects
  what the caller receives: an exception marks it ERROR (``error.type`` = the exception class);
  an error the tool handled itself (``handle_tool_error`` / ``handle_validation_error``) and
  returned as a ``ToolMessage`` with ``status="error"`` marks it ERROR with
  ``error.type=tool_error``, the message being returned unchanged. Without a call id LangChain
  returns such a handled error as plain content, indistinguishable from a result: the span is OK.
* **Graphs** (``langgraph``, optional): each run of a compiled graph (``invoke``, ``ainvoke``,
  ``stream``, ``astream``, which all go through ``stream`` / ``astream``) is one
  ``invoke_workflow {graph name}`` span (``compile(name=...)``, default ``LangGraph``) with
  ``agentotel.workflow.duration``, the steps counted and the token usage of the LLM calls below
  summed. A stream's span covers the whole iteration and ends on exhaustion, error, or when the
  consumer stops early (``close()`` / ``aclose()``, or dropping the iterator). A graph used as a
  node of another graph is a nested workflow under that node's step.
* **Nodes**: each node execution (all retries of one task) is one ``step {node name}`` span with
  ``agentotel.step.type=node`` under its graph's span, also when LangGraph runs it on an executor
  thread or asyncio task; the tool and LLM spans made inside the node are its children. LangGraph's
  hidden ``__start__`` task is not a step. Interrupts, drains and ``Command(graph=PARENT)``
  (LangGraph's ``GraphBubbleUp`` exceptions) are control flow: they end tool, node and graph spans
  without marking them ERROR.

LLM calls made by LangChain chat models get no span of ours here: the provider instrumentors
(``agentotel_openai``, ``agentotel_anthropic``) give exactly one span per HTTP request, which
nests under the node's step.

Versions: ``langchain-core >= 1.7, < 2`` is required (otherwise the instrumentor is skipped by the
standard dependency check, with one log record). ``langgraph >= 1.2, < 2`` is optional: when it is
absent only tools are instrumented; when its version is outside the range, one warning is logged
and only tools are instrumented.

Environment: ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`` (tool arguments and results
with ``SPAN_ONLY`` / ``SPAN_AND_EVENT``), ``AGENTOTEL_CONTENT_MAX_LENGTH``;
``OTEL_PYTHON_DISABLED_INSTRUMENTATIONS=agentotel_langchain`` disables it.
"""

from __future__ import annotations

import logging
from typing import Any

from opentelemetry.instrumentation.dependencies import get_dependency_conflicts

from agentotel.instrumentation._base import AgentotelInstrumentor, Patch
from agentotel.instrumentation.langchain.package import _instruments, _instruments_optional

_log = logging.getLogger("agentotel")

_TOOLS = "langchain_core.tools.base"
_PREGEL = "langgraph.pregel.main"
# ``_runner`` imports both functions by name and calls them for every task (inline, on executor
# threads and as asyncio tasks): they are patched where they are called.
_RUNNER = "langgraph.pregel._runner"
_GRAPHS = "langgraph.pregel"


def _p() -> Any:
    """The wrappers' module, imported only when an instrumented package is."""
    from agentotel.instrumentation.langchain import patch

    return patch


def _patches(graphs: bool) -> tuple[Patch, ...]:
    tools = (
        Patch(_TOOLS, "BaseTool.run", lambda t, b: _p().tool_run(t, b)),
        Patch(_TOOLS, "BaseTool.arun", lambda t, b: _p().tool_arun(t, b)),
    )
    if not graphs:
        return tools
    # ``langgraph`` is a namespace package, which no post-import hook sees: ``langgraph.pregel``
    # (its ``__init__`` imports ``main``, which imports ``_runner``) triggers the patching.
    return (
        *tools,
        Patch(_PREGEL, "Pregel.stream", lambda t, b: _p().graph_stream(t, b), _GRAPHS),
        Patch(_PREGEL, "Pregel.astream", lambda t, b: _p().graph_stream(t, b), _GRAPHS),
        Patch(_RUNNER, "run_with_retry", lambda t, b: _p().node_run(t, b), _GRAPHS),
        Patch(_RUNNER, "arun_with_retry", lambda t, b: _p().node_arun(t, b), _GRAPHS),
    )


def _graphs_supported() -> bool:
    """Whether the installed ``langgraph`` is in range; one warning when it is installed but not."""
    conflict = get_dependency_conflicts(_instruments_optional)
    if conflict is None:
        return True
    if conflict.found is not None:
        _log.warning("agentotel langchain: %s; LangGraph graphs are not instrumented", conflict)
    return False


class LangChainInstrumentor(AgentotelInstrumentor):
    """Spans and metrics for LangChain tools and LangGraph graphs (see the module docstring)."""

    component = "langchain"
    requirements = _instruments

    def _instrument(self, **kwargs: Any) -> None:
        self._graphs = _graphs_supported()
        super()._instrument(**kwargs)

    @property
    def patches(self) -> tuple[Patch, ...]:  # type: ignore[override]
        """Tools always; graphs when a supported ``langgraph`` is installed."""
        return _patches(getattr(self, "_graphs", True))


__all__ = ["LangChainInstrumentor"]
