"""The run store's writer side: what the :class:`~agentotel.processors._writer.QueueWriter` thread
does with each batch of ended spans. Nothing here runs on the app's threads.

Per run it keeps a :class:`~agentotel.processors.runstore._events.SummaryBuilder` (a few counters),
hung on the :class:`Run` object that the processor shares with its queued items: once the root and
every straggler have ended, nothing refers to the run any more and its state goes with it.
A batch the writer retries after an error is not written twice: each item remembers how far it got.

Spans the queue had no room for (a full disk, see :mod:`agentotel.processors._writer`) are the
run's gap: ``on_drop`` notes them on the app's thread, and the next write, once the disk takes
data again, rewrites the run's summary with ``dropped_spans``. A dropped *root* span is kept (up
to 1,000 runs at once) and written then, so the run still ends ``ok`` or ``error``; past that
bound the root counts as dropped too and the run stays ``running``.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

from opentelemetry.sdk.trace import ReadableSpan

from agentotel._files import write_atomically
from agentotel._safe import Boundary
from agentotel.processors.runstore import _store
from agentotel.processors.runstore._events import RunInfo, SummaryBuilder, span_event

_LOST_ROOTS_MAX = 1000


class Run:
    """One run: created by the processor when its root span starts, shared with the writer."""

    __slots__ = ("folder", "info", "lost", "root_span_id", "state")

    def __init__(self, info: RunInfo, root_span_id: int, folder: Path) -> None:
        self.info = info
        self.root_span_id = root_span_id
        self.folder = folder
        self.state: _State | None = None  # the writer's, once it has seen the run
        self.lost = 0  # spans dropped from the queue (a full disk)


class Item:
    """A queued piece of work: the run's start (``span`` None) or one ended span."""

    __slots__ = ("appended", "done", "event", "root", "run", "span")

    def __init__(self, run: Run, span: ReadableSpan | None = None, root: bool = False) -> None:
        self.run = run
        self.span = span
        self.root = root
        self.event: dict[str, object] | None = None
        self.appended = False
        self.done = False


class _State:
    __slots__ = ("builder", "gone")

    def __init__(self, info: RunInfo) -> None:
        self.builder = SummaryBuilder(info)
        self.gone = False


class RunSink:
    """Appends events, rewrites summaries and applies retention (``Sink`` of the queue writer)."""

    def __init__(self, root: Path, keep: int, boundary: Boundary) -> None:
        self.root = root
        self.path = str(root)
        self.keep = keep
        self._boundary = boundary
        self._live: set[str] = set()  # run ids whose root has not ended: never pruned
        self._drops = threading.Lock()
        self._dropped_runs: dict[int, Run] = {}  # noted by on_drop (the app's threads)
        self._dropped_roots: list[Item] = []
        self._gaps: dict[int, Run] = {}  # taken by the writer, until written
        self._roots: list[Item] = []

    def on_drop(self, item: Item) -> None:
        """The queue had no room for ``item`` (the app's thread: no I/O)."""
        with self._drops:
            if item.root and len(self._dropped_roots) < _LOST_ROOTS_MAX:
                self._dropped_roots.append(item)
                return
            if item.span is not None:
                item.run.lost += 1
            self._dropped_runs[id(item.run)] = item.run

    def write(self, items: Sequence[Item], dropped: int) -> None:
        if dropped:  # its drops were noted before they were counted: the roots come after the batch
            with self._drops:
                self._gaps.update(self._dropped_runs)
                self._roots.extend(self._dropped_roots)
                self._dropped_runs, self._dropped_roots = {}, []
        by_run: dict[int, tuple[Run, list[Item]]] = {}
        for item in (*items, *self._roots):
            if not item.done:
                by_run.setdefault(id(item.run), (item.run, []))[1].append(item)
        for key, run in self._gaps.items():
            by_run.setdefault(key, (run, []))
        finished = False
        for key, (run, run_items) in by_run.items():
            finished = self._write_run(run, run_items, gap=key in self._gaps) or finished
        self._gaps.clear()
        self._roots.clear()
        if finished:
            self._prune()

    def close(self) -> None:
        pass

    def _write_run(self, run: Run, items: list[Item], gap: bool = False) -> bool:
        state = run.state
        if state is None:
            state = run.state = _State(run.info)
        builder = state.builder
        if builder.finished and not state.gone and not run.folder.is_dir():
            state.gone = True  # pruned since its root ended: drop its stragglers
        if state.gone:
            for item in items:
                item.done = True
            return False
        if run.info.run_id not in self._live and not builder.finished:
            _store.make_run_folder(run.folder)
            self._live.add(run.info.run_id)
        new = [item for item in items if item.span is not None and not item.appended]
        for item in new:
            if item.event is None:
                item.event = span_event(item.span)  # type: ignore[arg-type]
        if new:
            _store.append_lines(run.folder / _store.EVENTS, [_store.event_line(i.event or {}) for i in new])
            for item in new:
                builder.add(item.event or {})
                item.appended = True
        # The summary says "running" from the run's start until its root ends; then it is
        # rewritten for the root and again for each straggler.
        spans = any(item.span is not None for item in items)  # retried ones included
        if gap or any(item.span is None for item in items) or (spans and builder.finished):
            summary = builder.summary()
            if run.lost:
                summary["dropped_spans"] = run.lost
            write_atomically(run.folder / _store.SUMMARY, _store.dump_json(summary))
        root_ended = any(item.root for item in items)
        if root_ended:
            self._live.discard(run.info.run_id)
        for item in items:
            item.done = True
        return root_ended

    def _prune(self) -> None:
        try:
            _store.prune(self.root, self.keep, self._live)
        except Exception as exc:  # a vanished or unreadable runs dir must not stop the writer
            self._boundary.report(exc)
