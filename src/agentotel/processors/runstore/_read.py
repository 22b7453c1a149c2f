"""Reading the run store back: the public read API of :mod:`agentotel.processors.runstore`.

::

    from agentotel.processors import runstore

    root = runstore.runs_dir()                        # AGENTOTEL_RUNS_DIR, else .agentotel/runs
    for rid in runstore.list_runs(root)[:20]:         # newest first
        summary, events = runstore.load_run(root / rid)
    folder = runstore.find_run(root, "4bf92f")        # a prefix of a run id or of a trace id
    for event in runstore.EventTail(folder).new_events():   # the lines appended since the last read
        ...

Every failure to find or read a run is a :class:`RunStoreError` whose message is one line. The
``agentotel runs`` and ``agentotel top --runs`` commands use this module and nothing else of the
run store.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from agentotel.processors.runstore import _events, _store
from agentotel.processors.runstore._store import RunStoreError

RUNNING = _events.RUNNING
"""The ``status`` of a run whose root has not ended."""


def runs_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``AGENTOTEL_RUNS_DIR``, or ``.agentotel/runs`` in the current directory."""
    return _store.runs_dir_from_env(environ)


def list_runs(root: Path) -> list[str]:
    """The run ids (folder names) in ``root``, newest first."""
    return _store.list_run_ids(root)


def find_run(root: Path, query: str) -> Path:
    """The folder of the one run whose run id, or one of whose trace ids, starts with ``query``."""
    return _store.find_run(root, query)


def read_summary(folder: Path) -> dict[str, Any] | None:
    """The run's ``summary.json`` as written; None before the writer made one."""
    return _store.read_summary(folder)


def read_events(folder: Path) -> list[dict[str, Any]]:
    """The run's span events (``events.jsonl``), in end order."""
    return _store.read_events(folder)


def load_run(folder: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The run's summary and its events; the summary of a run still running is brought up to date
    from its events (its file is rewritten only when the run ends)."""
    events = _store.read_events(folder)
    summary = _store.read_summary(folder)
    if summary is None:
        raise RunStoreError(f"cannot read {folder / _store.SUMMARY}: missing")
    if summary.get("status") == RUNNING:
        summary = _events.summarize(_events.info_from_summary(summary), events)
    return summary, events


def run_stamp(folder: Path) -> tuple[int, ...]:
    """Size and modification time of the run's files: equal stamps mean nothing new to read."""
    stamp: list[int] = []
    for path in (folder / _store.EVENTS, folder / _store.SUMMARY):
        try:
            stat = os.stat(path)
        except OSError:
            stamp += [-1, -1]
        else:
            stamp += [stat.st_size, stat.st_mtime_ns]
    return tuple(stamp)


def is_llm_span(attributes: Mapping[str, Any]) -> bool:
    """True for an event of an LLM call (a provider is named, the operation is not an agent-layer one)."""
    return _events.is_llm_span(attributes)


class EventTail:
    """The events a run appends to its ``events.jsonl``, read as they come; a line still being
    written waits for the next read."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / _store.EVENTS
        self._position = 0
        self._pending = b""
        self._number = 0

    def new_events(self) -> Iterator[dict[str, Any]]:
        """The complete lines appended since the last call, parsed one at a time (a line that is
        not a JSON object raises :class:`RunStoreError` when it is reached)."""
        try:
            with self.path.open("rb") as f:
                f.seek(self._position)
                chunk = f.read()
        except FileNotFoundError:
            chunk = b""
        self._position += len(chunk)
        *lines, self._pending = (self._pending + chunk).split(b"\n")
        for line in lines:
            self._number += 1
            if line.strip():
                yield _store.parse_event(self.path, self._number, line.decode("utf-8", "replace"))
