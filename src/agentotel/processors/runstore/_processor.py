"""``RunStoreSpanProcessor``: one folder per agent run, written by a background thread.

A run is one agent execution:

* an *agent run* starts at an ``invoke_agent``, ``invoke_workflow`` or ``plan`` span that is not
  already inside a run, whatever non-agent span (a web request) encloses it;
* a *request run* is a trace of another instrumentation (a web request's SERVER span) with an
  agentotel span (an LLM call, a tool, a step, a guard, ...) below it and no agent run around
  that span: its root is the trace's local root span (the request), and it holds every span of
  the trace from there on, and those that ended before (up to ``EARLY_SPANS_MAX``). A trace of
  another instrumentation with no agentotel span makes no run;
* an *implicit run* gathers the top-level spans of code with no such span: LLM calls with no
  parent span in this process, and agent-layer spans (a tool, inferred or explicit, a step, a
  guard) not inside a run. It lasts until its spans have been idle for ``AGENTOTEL_RUNS_IDLE_GAP``
  seconds, another run starts, or the processor shuts down (see ``_implicit``).

Every span started below a span of a run belongs to it, also through a remote parent (an MCP
server on a memory stream in the same process); a span that ends after the root (a straggler) is
still appended, and the summary rewritten. A run whose root is still open when the processor
shuts down is written ``interrupted``. ``on_start`` / ``on_end`` only update a few dictionaries
and queue work; the folder, ``events.jsonl`` and ``summary.json`` are written by the writer
thread (see ``_sink``).
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from collections import OrderedDict
from pathlib import Path
from typing import Any

from opentelemetry.context import Context
from opentelemetry.metrics import MeterProvider, get_meter
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.trace import StatusCode, format_span_id, format_trace_id

from agentotel import config, semconv
from agentotel._safe import Boundary
from agentotel._version import __version__
from agentotel.metrics.instruments import telemetry_dropped
from agentotel.processors._writer import FullPolicy, QueueWriter
from agentotel.processors.runstore import _store
from agentotel.processors.runstore._events import (
    INTERRUPTED,
    RunInfo,
    is_agent_span,
    is_llm_span,
    is_run_root,
)
from agentotel.processors.runstore._implicit import ImplicitRuns
from agentotel.processors.runstore._sink import Item, Run, RunSink

_log = logging.getLogger("agentotel")
_COMPONENT = "runstore"
MAX_OPEN_SPANS = 100_000
"""Open spans of runs tracked at once; past it new spans are left out of the store (and logged)."""
MAX_OPEN_REQUESTS = 10_000
"""Local root spans of other instrumentations (requests) watched at once, for a request run."""
EARLY_SPANS_MAX = 100
"""Spans of a request kept from before its first agentotel span, for its run."""

_RECENT_IDS = 1024
_SHUTDOWN_LOCK_WAIT = 1.0
"""Seconds ``shutdown`` waits for the processor's lock: a signal handler may have interrupted the
very thread that holds it (in ``on_start``); it then goes on without it."""

_LIVE: weakref.WeakSet[RunStoreSpanProcessor] = weakref.WeakSet()


class _Request:
    """The open local root span of another instrumentation's trace: a run if an agentotel span
    starts below it. ``early`` holds the spans of its trace that ended before that."""

    __slots__ = ("early", "root")

    def __init__(self, root: Span) -> None:
        self.root = root
        self.early: list[ReadableSpan] = []


class RunStoreSpanProcessor(SpanProcessor):
    """Records each agent run under ``runs_dir`` (see :mod:`agentotel.processors.runstore`)::

        provider.add_span_processor(RunStoreSpanProcessor("runs"))

    ``runs_dir`` defaults to ``AGENTOTEL_RUNS_DIR`` (else ``.agentotel/runs``), ``keep`` to
    ``AGENTOTEL_RUNS_KEEP`` (100; runs, not traces), ``idle_gap`` to ``AGENTOTEL_RUNS_IDLE_GAP``
    (30 s: the end of an implicit run), ``queue_size`` to ``AGENTOTEL_RUNS_QUEUE_SIZE`` (10000) and
    ``queue_policy`` to ``AGENTOTEL_RUNS_QUEUE_POLICY`` (``block``: a full queue makes ``on_end``
    wait, at most ``AGENTOTEL_WRITER_BLOCK_TIMEOUT``; ``drop``). A runs dir that cannot be created or
    written raises :class:`~agentotel.config.ConfigError` naming ``AGENTOTEL_RUNS_DIR``.
    """

    def __init__(
        self,
        runs_dir: str | os.PathLike[str] | None = None,
        *,
        keep: int | None = None,
        queue_size: int | None = None,
        idle_gap: float | None = None,
        queue_policy: FullPolicy | str | None = None,
        meter_provider: MeterProvider | None = None,
    ) -> None:
        env = os.environ
        folder = Path(runs_dir) if runs_dir is not None else _store.runs_dir_from_env(env)
        self.keep = (
            keep if keep is not None else config.positive_int(env, config.RUNS_KEEP, _store.DEFAULT_KEEP)
        )
        size = (
            queue_size
            if queue_size is not None
            else config.positive_int(env, config.RUNS_QUEUE_SIZE, _store.DEFAULT_QUEUE_SIZE)
        )
        policy = FullPolicy(
            queue_policy
            if queue_policy is not None
            else config.choice(env, config.RUNS_QUEUE_POLICY, tuple(p.value for p in FullPolicy), "block")
        )
        self.idle_gap = float(
            idle_gap
            if idle_gap is not None
            else config.positive_int(env, config.RUNS_IDLE_GAP, _store.DEFAULT_IDLE_GAP)
        )
        if self.keep < 1 or size < 1 or not self.idle_gap > 0:
            raise ValueError("keep and queue_size must be at least 1, idle_gap more than 0")
        self.runs_dir = _store.usable_runs_dir(folder)
        meter = get_meter(semconv.SCOPE_NAME, __version__, meter_provider)
        self._boundary = Boundary(_COMPONENT, meter)
        self._writer: QueueWriter[Item] = QueueWriter(
            RunSink(self.runs_dir, self.keep, self._boundary),
            self._boundary,
            telemetry_dropped(meter),
            max_queue=size,
            policy=policy,
        )
        self._lock = threading.Lock()
        self._shutting = threading.RLock()  # re-entered by a signal handler that interrupts shutdown
        self._stopped = False
        self._active: dict[int, Run] = {}  # trace id -> the agent run whose root is open
        self._open: dict[int, Run] = {}  # span id -> its run, while the span is open
        self._foreign: dict[int, _Request] = {}  # trace id -> its open request span (not a run yet)
        self._served: dict[int, Run] = {}  # trace id -> its request run, while the request is open
        self._recent: OrderedDict[str, None] = OrderedDict()  # run ids given lately, to keep them unique
        self._warned_full = False
        self._implicit = ImplicitRuns(self.idle_gap, self._lock, self._writer.submit)
        _LIVE.add(self)

    @property
    def healthy(self) -> bool:
        """False while the writer is failing (the runs dir became unwritable) or has stopped."""
        return self._writer.healthy

    @property
    def problem(self) -> str | None:
        """Why it is not healthy, for ``/readyz`` (``disk full at RUNS_DIR``)."""
        return self._writer.problem

    # --- SpanProcessor (the app's threads) ------------------------------------------------------
    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        try:
            items = self._track(span)
        except Exception as bug:
            self._boundary.report(bug)
            return
        for item in items:
            self._writer.submit(item)

    def on_end(self, span: ReadableSpan) -> None:
        try:
            ctx = span.context
            if ctx is None:
                return
            with self._lock:
                run = self._open.pop(ctx.span_id, None)
                if run is None:
                    run = self._foreign_end(span, ctx.trace_id, ctx.span_id)
                    if run is None:
                        return
                implicit = run.info.implicit
                root = not implicit and ctx.span_id == run.root_span_id
                if root and self._active.get(ctx.trace_id) is run:
                    del self._active[ctx.trace_id]
                if root and self._served.get(ctx.trace_id) is run:
                    del self._served[ctx.trace_id]
                failed = span.status.status_code is StatusCode.ERROR
                ended = self._implicit.end(ctx.span_id, span.end_time or 0, failed) if implicit else []
            items = [Item(run, span, root), *ended]
        except Exception as bug:
            self._boundary.report(bug)
            return
        for item in items:
            self._writer.submit(item)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Wait until every span ended so far is written."""
        return self._writer.flush(timeout_millis / 1000)

    def shutdown(self) -> None:
        """End the runs still going (``interrupted`` when their root or a member of an implicit
        run is open), write what is queued and stop the writer thread. A second call (the
        provider's and agentotel's SIGTERM handling) waits for the first, then does nothing."""
        with self._shutting:
            if self._stopped:
                return
            self._stopped = True
            _LIVE.discard(self)
            try:
                for item in self._end_runs():
                    self._writer.submit(item)
            except Exception as bug:
                self._boundary.report(bug)
            self._writer.shutdown()

    def _end_runs(self) -> list[Item]:
        locked = self._lock.acquire(timeout=_SHUTDOWN_LOCK_WAIT)
        try:
            now = time.time_ns()
            items = []
            for run in {id(r): r for r in self._active.values()}.values():
                run.info.ending.set(INTERRUPTED, now)
                items.append(Item(run, None, True))
            self._active.clear()
            self._served.clear()
            self._foreign.clear()
            items += self._implicit.shutdown(now, wake=locked)
        finally:
            if locked:
                self._lock.release()
        if locked:
            self._implicit.join_thread()  # its last item, if any, queued before the writer stops
        return items

    # --- for agentotel.save_artifact / fork_run ---------------------------------------------------
    def run_of(self, span_id: int) -> Run | None:
        """The run an open span belongs to."""
        with self._lock:
            return self._open.get(span_id)

    def report(self, exc: BaseException) -> None:
        """Log at DEBUG and count an error of the run store (``agentotel.telemetry.errors``)."""
        self._boundary.report(exc)

    # --- internals ----------------------------------------------------------------------------------
    def _track(self, span: Span) -> list[Item]:
        ctx = span.get_span_context()
        parent = span.parent
        local_parent = parent is not None and not parent.is_remote
        attrs: Any = span.attributes or {}
        with self._lock:
            run = None
            if parent is not None:  # a remote parent too: a server in this process continuing a run
                run = self._open.get(parent.span_id) or self._active.get(ctx.trace_id)
            if run is None and not (is_agent_span(attrs) or is_llm_span(attrs)):
                if not local_parent:
                    self._watch(span, ctx.trace_id)
                return []
            if len(self._open) >= MAX_OPEN_SPANS:
                self._too_many()
                return []
            items: list[Item] = []
            if run is None and is_run_root(attrs):
                items = self._implicit.stop_intake()
                run = self._new_run(span, attrs)
                self._active[ctx.trace_id] = run
                items.append(Item(run))
            elif run is None and local_parent and ctx.trace_id in self._foreign:
                request = self._foreign.pop(ctx.trace_id)
                items = self._implicit.stop_intake()
                run = self._new_run(request.root, attrs, request=True)
                self._active[ctx.trace_id] = self._served[ctx.trace_id] = run
                self._open[run.root_span_id] = run
                items += [Item(run), *(Item(run, early) for early in request.early)]
            elif run is None:
                run, items = self._implicit.join(
                    ctx.span_id, lambda: self._new_run(span, attrs, implicit=True)
                )
            self._open[ctx.span_id] = run
        return items

    def _watch(self, span: Span, trace_id: int) -> None:
        """A local root span of another instrumentation: a request run if an agentotel span
        starts below it."""
        if trace_id not in self._foreign and len(self._foreign) < MAX_OPEN_REQUESTS:
            self._foreign[trace_id] = _Request(span)

    def _foreign_end(self, span: ReadableSpan, trace_id: int, span_id: int) -> Run | None:
        """A span no run holds ended: the run of its request if it has one (the span started before
        it did), else kept for the request's run to come, or forgotten with its request."""
        run = self._served.get(trace_id)
        if run is not None:
            return run
        request = self._foreign.get(trace_id)
        if request is None:
            return None
        if request.root.get_span_context().span_id == span_id:
            del self._foreign[trace_id]
        elif len(request.early) < EARLY_SPANS_MAX:
            request.early.append(span)
        return None

    def _new_run(self, span: Span, attrs: Any, implicit: bool = False, request: bool = False) -> Run:
        """A run whose root is ``span``; ``attrs`` are those of its first agentotel span (below
        ``span`` for a request run)."""
        ctx = span.get_span_context()
        start = span.start_time or 0
        base = _store.run_id(start, ctx.trace_id)
        rid, n = base, 1
        while rid in self._recent:  # two runs of one trace in the same millisecond
            n += 1
            rid = f"{base}-{n}"
        self._recent[rid] = None
        if len(self._recent) > _RECENT_IDS:
            self._recent.popitem(last=False)
        parent_run = attrs.get(semconv.AGENTOTEL_RUN_PARENT)
        objective = attrs.get(semconv.AGENTOTEL_RUN_OBJECTIVE)
        info = RunInfo(
            run_id=rid,
            trace_id=format_trace_id(ctx.trace_id),
            root_span_id=format_span_id(ctx.span_id),
            root_name=span.name,
            start_time_unix_nano=start,
            root_is_llm=not request and is_llm_span(attrs),
            root_operation=None if request else attrs.get(semconv.GEN_AI_OPERATION_NAME),
            parent_run=parent_run if isinstance(parent_run, str) else None,
            objective=objective if isinstance(objective, str) else None,
            implicit=implicit,
        )
        return Run(info, ctx.span_id, self.runs_dir / rid)

    def _too_many(self) -> None:
        if not self._warned_full:
            self._warned_full = True
            _log.warning(
                "agentotel: %d spans of runs are open at once; the run store leaves new ones out",
                MAX_OPEN_SPANS,
            )


def live_processors() -> list[RunStoreSpanProcessor]:
    """The run-store processors not shut down yet (usually one)."""
    return list(_LIVE)


def attach_from_env(
    tracer_provider: Any, meter_provider: MeterProvider | None = None
) -> RunStoreSpanProcessor | None:
    """Add a :class:`RunStoreSpanProcessor` to ``tracer_provider`` when ``AGENTOTEL_RUNS_DIR`` is
    set (None otherwise, or when the provider takes no span processors). Raises
    :class:`~agentotel.config.ConfigError` for an unusable runs dir or retention setting."""
    if not os.environ.get(config.RUNS_DIR, "").strip():
        return None
    add = getattr(tracer_provider, "add_span_processor", None)
    if add is None:
        _log.warning("agentotel: %s is set but the tracer provider takes no span processors", config.RUNS_DIR)
        return None
    processor = RunStoreSpanProcessor(meter_provider=meter_provider)
    add(processor)
    return processor
