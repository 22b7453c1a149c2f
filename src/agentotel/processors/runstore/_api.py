"""``agentotel.save_artifact`` and ``agentotel.fork_run``: the app's side of the run store."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import INVALID_SPAN, Link, SpanKind

from agentotel import semconv
from agentotel._files import write_atomically
from agentotel._lifecycle import USAGE_SINK_KEY, SpanLifecycle
from agentotel._telemetry import Telemetry
from agentotel.agent._run import STEP_COUNTER_KEY, Workflow
from agentotel.processors.runstore import _store
from agentotel.processors.runstore._processor import live_processors
from agentotel.processors.runstore._sink import Run

_log = logging.getLogger("agentotel")


def current_run() -> Run | None:
    """The run the current span belongs to, in the first run-store processor that has it."""
    span_id = trace.get_current_span().get_span_context().span_id
    if not span_id:
        return None
    for processor in live_processors():
        run = processor.run_of(span_id)
        if run is not None:
            return run
    return None


def _as_bytes(data: str | bytes | bytearray | memoryview | Any) -> bytes:
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    if isinstance(data, str):
        return data.encode()
    return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode()


def save_artifact(name: str, data: str | bytes | Any) -> Path | None:
    """Store ``data`` as ``artifacts/<name>`` of the current run; returns the file's path.

    ``data`` is written as is (bytes), UTF-8 (str) or as indented JSON (anything ``json.dumps``
    takes)::

        with agentotel.agent("writer"):
            draft = write_draft()
            agentotel.save_artifact("draft.md", draft)
            agentotel.save_artifact("plan.json", {"steps": steps})

    The file is written on the calling thread before the call returns (atomically: temp file and
    rename), since the app asked for it. Outside a run (no run-store processor, or no agent span
    open) nothing is written and None returned. ``name`` must be a plain file name (ValueError
    otherwise) and ``data`` JSON-able when not str/bytes (TypeError); a failed write (disk full)
    is logged and counted, never raised, and returns None.
    """
    _store.safe_name(name)
    payload = _as_bytes(data)
    run = current_run()
    if run is None:
        _log.debug("agentotel: save_artifact(%r) outside a run; nothing saved", name)
        return None
    folder = run.folder / _store.ARTIFACTS
    path = folder / name
    try:
        _store.make_run_folder(run.folder)
        write_atomically(path, payload)
    except OSError as exc:
        _log.warning("agentotel: cannot save artifact %s (%s)", path, exc)
        for processor in live_processors()[:1]:
            processor.report(exc)
        return None
    return path


class Fork(Workflow):
    """A forked run (see :func:`fork_run`)."""

    __slots__ = ("objective",)

    def __init__(self, objective: str | None = None, layer: Telemetry | None = None) -> None:
        super().__init__(semconv.WORKFLOW_FORK, layer)
        self.objective = objective

    def _fresh(self) -> Fork:
        return Fork(self.objective, self._layer)

    def _open(self, layer: Telemetry) -> None:
        here = trace.get_current_span().get_span_context()
        attrs = self._attributes(layer)
        parent = current_run()
        if parent is not None:
            attrs[semconv.AGENTOTEL_RUN_PARENT] = parent.info.run_id
        if self.objective:
            attrs[semconv.AGENTOTEL_RUN_OBJECTIVE] = self.objective
        # A new trace, with the session and other context values kept but not the enclosing
        # run's usage sum or step count: the fork is a run of its own.
        base = otel_context.set_value(USAGE_SINK_KEY, None)
        base = otel_context.set_value(STEP_COUNTER_KEY, None, base)
        span = layer.tracer.start_span(
            self._name(),
            context=trace.set_span_in_context(INVALID_SPAN, base),
            kind=SpanKind.INTERNAL,
            attributes=attrs,
            links=[Link(here)] if here.is_valid else None,
        )
        self._life = SpanLifecycle(span)
        self._ctx = self._extend(trace.set_span_in_context(span, base))
        layer.agent_instruments.workflow_active.add(1, self._metric_attributes(layer))


def fork_run(objective: str | None = None) -> Fork:
    """Start a new run linked to the current one: a context manager or decorator.

    Its root span ``invoke_workflow fork`` begins a new trace, with a span link to the span that
    was current and ``agentotel.run.parent`` naming the current run; the run store records it as
    ``parent_run`` in the new run's summary, and ``objective`` as its objective::

        with agentotel.agent("planner"):
            plan = make_plan()
            with agentotel.fork_run("try the cheaper plan"):
                execute(cheaper(plan))
    """
    return Fork(objective)
