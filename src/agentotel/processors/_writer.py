"""One background thread that drains a bounded queue into a sink: the I/O half of a span processor.

``on_end`` hands an item to :meth:`QueueWriter.submit`, which never does I/O and never raises.
When the queue is full, the ``block`` policy waits for room (back-pressure: nothing is lost) and
the ``drop`` policy drops the item, counts it in ``agentotel.telemetry.dropped`` and tells the sink
how many were dropped with the next batch (so it can write a gap record). A sink that fails
(disk full, permission) has the error counted in ``agentotel.telemetry.errors``, logged once with
the sink's path at WARNING, and the same batch retried with back-off until it succeeds or the
writer shuts down; the app never sees it.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import queue
import threading
import time
from collections.abc import Sequence
from typing import Generic, Protocol, TypeVar

from opentelemetry.metrics import Counter

from agentotel import semconv
from agentotel._safe import Boundary

_log = logging.getLogger("agentotel")

T = TypeVar("T")
T_contra = TypeVar("T_contra", contravariant=True)


class FullPolicy(enum.Enum):
    """What :meth:`QueueWriter.submit` does when the queue is full."""

    BLOCK = "block"
    DROP = "drop"


class Sink(Protocol[T_contra]):
    """Where a writer's items go; called from the writer thread only."""

    path: str

    def write(self, items: Sequence[T_contra], dropped: int) -> None:
        """Write ``items`` durably (per the sink's policy); ``dropped`` items were lost before them."""

    def close(self) -> None: ...


_STOP = object()
_WAKE = object()  # makes the writer write the gap for pending drops now (flush)
_RETRY_FIRST = 0.05
_RETRY_MAX = 2.0


class QueueWriter(Generic[T]):
    """A bounded queue and the one thread that writes it to ``sink``."""

    def __init__(
        self,
        sink: Sink[T],
        boundary: Boundary,
        dropped_counter: Counter,
        *,
        max_queue: int = 10_000,
        policy: FullPolicy = FullPolicy.BLOCK,
        batch_max: int = 1024,
    ) -> None:
        self.sink = sink
        self.policy = policy
        self._boundary = boundary
        self._dropped_counter = dropped_counter
        self._queue: queue.Queue[object] = queue.Queue(max_queue)
        self._batch_max = batch_max
        self._lock = threading.Condition()
        self._submitted = 0
        self._done = 0
        self._dropped_pending = 0
        self._dropped_inflight = 0
        self.dropped_total = 0
        self.last_error: BaseException | None = None
        self._warned = False
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=f"agentotel-writer:{sink.path}", daemon=True)
        self._thread.start()

    @property
    def healthy(self) -> bool:
        """False while the sink is failing (the last write raised)."""
        return self.last_error is None and self._thread.is_alive()

    # --- the app's threads -------------------------------------------------------------------
    def submit(self, item: T) -> None:
        """Queue ``item``; never raises, never does I/O (``block`` may wait for room)."""
        if self._closed:
            return
        with self._lock:
            self._submitted += 1
        if self.policy is FullPolicy.BLOCK:
            self._queue.put(item)
            return
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            with self._lock:
                self._dropped_pending += 1
                self.dropped_total += 1
                self._done += 1
                self._lock.notify_all()
            self._dropped_counter.add(
                1,
                {
                    semconv.AGENTOTEL_COMPONENT: self._boundary.component,
                    semconv.AGENTOTEL_DROP_REASON: semconv.DROP_QUEUE_FULL,
                },
            )

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything submitted so far is written; False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        if self._dropped_pending:
            with contextlib.suppress(queue.Full):  # full: the writer is busy and will see them
                self._queue.put_nowait(_WAKE)
        with self._lock:
            target = self._submitted
            while (
                self._done < target or self._dropped_pending or self._dropped_inflight
            ) and self._thread.is_alive():
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._lock.wait(remaining)
            return self._done >= target and not (self._dropped_pending or self._dropped_inflight)

    def shutdown(self, timeout: float | None = 30.0) -> bool:
        """Write everything queued, stop the thread and close the sink."""
        if self._closed:
            return True
        self._closed = True
        self._queue.put(_STOP)
        self._thread.join(timeout)
        return not self._thread.is_alive()

    # --- the writer thread -------------------------------------------------------------------
    def _run(self) -> None:
        stopping = False
        while not stopping:
            batch: list[T] = []
            item = self._queue.get()
            while True:
                if item is _STOP:
                    stopping = True
                    break
                if item is not _WAKE:
                    batch.append(item)  # type: ignore[arg-type]
                if len(batch) >= self._batch_max:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            with self._lock:
                dropped, self._dropped_pending = self._dropped_pending, 0
                self._dropped_inflight = dropped
            if batch or dropped:
                self._write(batch, dropped, stopping)
            with self._lock:
                self._done += len(batch)
                self._dropped_inflight = 0
                self._lock.notify_all()
        try:
            self.sink.close()
        except Exception as exc:
            self._boundary.report(exc)

    def _write(self, batch: list[T], dropped: int, stopping: bool) -> None:
        delay = _RETRY_FIRST
        while True:
            try:
                self.sink.write(batch, dropped)
            except Exception as exc:
                self.last_error = exc
                self._boundary.report(exc)
                if not self._warned:
                    self._warned = True
                    _log.warning("agentotel: cannot write %s (%s); retrying", self.sink.path, exc)
                if stopping and self._closed and delay >= _RETRY_MAX:
                    _log.warning(
                        "agentotel: giving up on %s at shut-down: %d records lost", self.sink.path, len(batch)
                    )
                    return
                time.sleep(delay)
                delay = min(delay * 2, _RETRY_MAX)
                continue
            if self.last_error is not None:
                _log.warning("agentotel: writing %s again", self.sink.path)
                self.last_error = None
                self._warned = False
            return
