"""LlamaIndex instrumentor (entry point ``agentotel_llama_index``).

Usage::

    from agentotel.instrumentation.llama_index import LlamaIndexInstrumentor
    LlamaIndexInstrumentor().instrument(tracer_provider=tp, meter_provider=mp)

or zero-code with ``opentelemetry-instrument python app.py``.

LlamaIndex traces its own work through its instrumentation dispatchers
(``llama_index.core.instrumentation``). When the app imports ``llama_index.core``, the instrumentor
adds one span handler of ours to the two dispatchers of its workflow engine
(``llama-index-workflows``: ``WORKFLOW_DISPATCHERS``, the spans of workflow runs and their steps;
``add_span_handler``, nothing else is patched), which turns the dispatcher spans of agent runs
into the agent layer's spans (see :mod:`~agentotel.instrumentation.llama_index.handler` for the
mapping). The LLM, tool, retriever and embedding spans of other dispatchers never reach it::

    invoke_workflow AgentWorkflow             one per AgentWorkflow run (several agents)
      invoke_agent researcher                 one per agent's turn; usage and cost summed
        chat gpt-4o                           from agentotel_openai: one per HTTP request
        execute_tool search                   one per tool call, with gen_ai.tool.call.id
        execute_tool handoff                  (event agentotel.handoff: researcher -> writer)
      invoke_agent writer

A ``FunctionAgent``, ``ReActAgent`` or ``CodeActAgent`` run alone is one ``invoke_agent {name}``
span with its LLM calls and tool calls below it.

LLM calls get no span of ours here: LlamaIndex's ``OpenAI`` and ``Anthropic`` LLM classes call the
``openai`` / ``anthropic`` SDKs, whose instrumentors make exactly one ``chat`` CLIENT span per HTTP
request and count its tokens once; LlamaIndex's own LLM spans and events stay LlamaIndex's. A
streaming agent (``streaming=True``, the default) gets token counts only when the model reports
them in the stream (``OpenAI(..., additional_kwargs={"stream_options": {"include_usage": True}})``).

agentotel switches on no LlamaIndex callback, event handler or exporter; handlers the app added
(Arize, Langfuse, ...) keep receiving what they did. ``uninstrument()`` takes our handler off the
dispatcher (once the runs it opened have ended).

Content: nothing of the run's content is recorded unless content capture is on; then a tool's
arguments (the model's ``tool_kwargs``) and the content of its output are recorded like those of
``agentotel.tool``.

Versions: ``llama-index-core >= 0.14.10, < 0.15`` with ``llama-index-workflows >= 2.16, < 3``
(the engine that traces a run as ``run_workflow``; otherwise the instrumentor is skipped by the
standard dependency check, with one log record); the tests pass on 0.14.10 (``openai`` 1.x) and
0.14.25 (``openai`` 2.x). A sync tool's own spans nest under its ``execute_tool`` span from 0.14.22,
where LlamaIndex began running sync tools in a thread with the step's context (an async tool's
always do).

Environment: ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT``, ``AGENTOTEL_CONTENT_MAX_LENGTH``;
``OTEL_PYTHON_DISABLED_INSTRUMENTATIONS=agentotel_llama_index`` disables it.
"""

from __future__ import annotations

import importlib
from functools import partial
from typing import Any, ClassVar

from agentotel._safe import Boundary
from agentotel._telemetry import Telemetry
from agentotel.instrumentation._base import AgentotelInstrumentor, Patch
from agentotel.instrumentation.llama_index.package import _instruments

_DISPATCHERS = "llama_index.core.instrumentation"
WORKFLOW_DISPATCHERS = ("workflows.runtime.types.step_function", "workflows.workflow")
"""The dispatchers (named after the modules of ``llama-index-workflows`` that use them) whose spans
are the workflow runs (``run_workflow``) and their steps: the handler's, and no other."""


def _dispatchers() -> list[Any]:
    """The workflow engine's dispatchers (made now if the engine has not loaded its module yet: it
    gets the same one by name)."""
    get_dispatcher = importlib.import_module(_DISPATCHERS).get_dispatcher
    return [get_dispatcher(name) for name in WORKFLOW_DISPATCHERS]


def _take_off(handler: object) -> None:
    """Remove ``handler`` from the workflow dispatchers (a new list each: one a dispatcher may be
    iterating in another thread is left whole)."""
    for dispatcher in _dispatchers():
        dispatcher.span_handlers = [h for h in dispatcher.span_handlers if h is not handler]


class LlamaIndexInstrumentor(AgentotelInstrumentor):
    """Agent-layer spans for LlamaIndex agent runs (see the module docstring)."""

    component = "llama_index"
    requirements = _instruments
    patches: ClassVar[tuple[Patch, ...]] = ()
    arms_on_import = "llama_index.core"

    def _arm(self, telemetry: Telemetry, boundary: Boundary) -> None:
        from agentotel.instrumentation.llama_index.handler import SpanHandler

        handler: SpanHandler | None = getattr(self, "_handler", None)
        if handler is None:
            handler = self._handler = SpanHandler(telemetry, boundary)
        else:
            handler.arm(telemetry, boundary)
        handler.release = partial(_take_off, handler)
        for dispatcher in _dispatchers():
            if not any(h is handler for h in dispatcher.span_handlers):
                dispatcher.add_span_handler(handler)

    @property
    def handler(self) -> Any:
        """Our span handler on the workflow engine's dispatchers once ``llama_index.core`` is
        imported with the instrumentor on (None before)."""
        return getattr(self, "_handler", None)

    def _after_uninstrument(self) -> None:
        handler = getattr(self, "_handler", None)
        if handler is not None:
            handler.disarm()


__all__ = ["LlamaIndexInstrumentor"]
