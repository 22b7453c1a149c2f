"""The implicit run: what the run store makes of code that has no agent span.

A plain SDK tool loop makes one trace per LLM call (and per inferred tool span). Those top-level
spans, and every agent-layer span that is not inside a run and is not a run by itself (a tool, a
step), are *members* of the process's current implicit run. It is over, and its summary final,
when

* no member has been open for ``gap`` seconds (the next member starts a new implicit run), or
* another run starts (an agent run: ``invoke_agent``, ``invoke_workflow``, ``plan``; or a request
  run, see the processor): no new member joins, and it is over once its open members have
  ended, or
* the processor shuts down: ``interrupted`` if a member is still open.

Its status is then that of the member that ended last (``error`` if that span failed, else
``ok``), its end that member's end. All methods run under the processor's lock; the one thread
here only wakes up to close a run that stayed idle for ``gap`` seconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from agentotel.processors.runstore._events import ERROR, INTERRUPTED, OK
from agentotel.processors.runstore._sink import Item, Run


class _Implicit:
    __slots__ = ("failed", "idle_since", "last_end", "open", "run")

    def __init__(self, run: Run) -> None:
        self.run = run
        self.open = 0  # members open
        self.idle_since = 0.0  # time.monotonic() when the last open member ended
        self.last_end = run.info.start_time_unix_nano
        self.failed = False  # the status of the member that ended last


class ImplicitRuns:
    """The implicit runs of one processor (see the module docstring)."""

    def __init__(self, gap: float, lock: threading.Lock, submit: Callable[[Item], None]) -> None:
        self.gap = gap
        self._wake = threading.Condition(lock)
        self._submit = submit
        self._current: _Implicit | None = None  # the run new members join
        self._members: dict[int, _Implicit] = {}  # span id of an open member -> its run
        self._thread: threading.Thread | None = None
        self._stopped = False

    @property
    def open_members(self) -> int:
        return len(self._members)

    def join(self, span_id: int, start: Callable[[], Run]) -> tuple[Run, list[Item]]:
        """Add a member; its run and the items to queue (the end of an idle run, a new run's start)."""
        items: list[Item] = []
        current = self._current
        if current is not None and not current.open and time.monotonic() - current.idle_since >= self.gap:
            items.append(self._close(current))
            current = None
        if current is None:
            current = self._current = _Implicit(start())
            items.append(Item(current.run))
            self._start_thread()
        current.open += 1
        self._members[span_id] = current
        return current.run, items

    def end(self, span_id: int, end_unix_nano: int, failed: bool) -> list[Item]:
        """A span of an implicit run ended; the items to queue after its own (the run's end)."""
        member = self._members.pop(span_id, None)
        if member is None or self._stopped:
            return []
        member.open -= 1
        if end_unix_nano >= member.last_end:
            member.last_end, member.failed = end_unix_nano, failed
        if member.open:
            return []
        member.idle_since = time.monotonic()
        if member is not self._current:  # no intake since an agent run started: over now
            return [self._close(member)]
        self._wake.notify()
        return []

    def stop_intake(self) -> list[Item]:
        """Another run starts: the current implicit run takes no new member."""
        current, self._current = self._current, None
        if current is None or current.open:
            return []
        return [self._close(current)]

    def shutdown(self, now_unix_nano: int, wake: bool = True) -> list[Item]:
        """End every implicit run: ``interrupted`` when a member is still open. ``wake``: the
        caller holds the lock, so the idle thread can be told to stop."""
        self._stopped = True
        if wake:
            self._wake.notify_all()
        runs = {id(m): m for m in self._members.values()}
        if self._current is not None:
            runs[id(self._current)] = self._current
        items = [
            self._close(m, INTERRUPTED, now_unix_nano) if m.open else self._close(m) for m in runs.values()
        ]
        self._members.clear()
        return items

    def join_thread(self) -> None:
        """Wait for the idle thread to stop (after :meth:`shutdown`; not under the lock)."""
        if self._thread is not None:
            self._thread.join(5.0)

    # --- internals ----------------------------------------------------------------------------------
    def _close(self, member: _Implicit, status: str | None = None, end: int | None = None) -> Item:
        if status is None:
            status = ERROR if member.failed else OK
        member.run.info.ending.set(status, member.last_end if end is None else end)
        if self._current is member:
            self._current = None
        return Item(member.run, None, True)

    def _start_thread(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._close_idle, name="agentotel-runs-idle", daemon=True)
            self._thread.start()

    def _close_idle(self) -> None:
        """Close the current run once it has been idle for ``gap`` seconds."""
        while True:
            with self._wake:
                item: Item | None = None
                while item is None:
                    current = self._current
                    if self._stopped:
                        return
                    if current is None or current.open:
                        self._wake.wait()
                        continue
                    remaining = current.idle_since + self.gap - time.monotonic()
                    if remaining > 0:
                        self._wake.wait(remaining)
                        continue
                    item = self._close(current)
            self._submit(item)
