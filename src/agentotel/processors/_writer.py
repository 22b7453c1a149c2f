"""One background thread that drains a bounded queue into a sink: the I/O half of a span processor.

``on_end`` hands an item to :meth:`QueueWriter.submit`, which never does I/O and never raises.
When the queue is full:

* ``block`` waits for room (back-pressure) for at most ``block_timeout`` seconds
  (``AGENTOTEL_WRITER_BLOCK_TIMEOUT``), then drops the item (reason ``queue_full_timeout``). Until
  the writer next writes something, the writer is known stuck (a full disk): later items that find
  the queue full are dropped at once, so a thousand tool calls do not each wait the bound;
  :meth:`QueueWriter.submit_and_wait` (``fsync=sync``) also waits until the item is durable, at
  most ``block_timeout + shutdown_timeout`` in all; when that runs out the writer is stuck too,
  and while it is stuck such calls only queue;
* ``drop`` drops the item at once (reason ``queue_full``).

A dropped item is counted in ``agentotel.telemetry.dropped`` and handed to ``on_drop(item)`` (the
writer's argument, else the sink's method if it has one; called on the app's thread: no I/O); the
sink is told how many were dropped with the next batch it writes, so it can write a gap record,
and the writer writes that batch as soon as it can, even when nothing else is queued.

A sink that fails (disk full, permission) has the error counted in ``agentotel.telemetry.errors``,
logged once with the sink's path at WARNING, and the same batch retried with back-off; the app
never sees it. :attr:`QueueWriter.problem` says why (``disk full at PATH``) for ``/readyz``.

``shutdown`` never waits for room in the queue: it gives the writer ``shutdown_timeout`` seconds
(``AGENTOTEL_WRITER_SHUTDOWN_TIMEOUT``) to write what is queued, then abandons it (a daemon thread)
and returns the number of items not written, logged once at WARNING and counted (reason
``shutdown_timeout``). ``flush`` waits at most that long while the sink is failing.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from opentelemetry.metrics import Counter

from agentotel import config, semconv
from agentotel._files import failure_reason
from agentotel._safe import Boundary

_log = logging.getLogger("agentotel")

T = TypeVar("T")
T_contra = TypeVar("T_contra", contravariant=True)


class FullPolicy(enum.Enum):
    """What :meth:`QueueWriter.submit` does when the queue is full."""

    BLOCK = "block"
    DROP = "drop"


class Sink(Protocol[T_contra]):
    """Where a writer's items go; called from the writer thread only.

    A sink may also have ``on_drop(item)``, called on the app's thread with each item dropped
    (cheap, no I/O): the run store notes which run lost a span."""

    path: str

    def write(self, items: Sequence[T_contra], dropped: int) -> None:
        """Write ``items`` durably (per the sink's policy); ``dropped`` items were lost before them."""

    def close(self) -> None: ...


@dataclass(frozen=True)
class WriterSettings:
    """The writers' time bounds (``AGENTOTEL_WRITER_*``, see :mod:`agentotel.config`)."""

    block_timeout: float = config.DEFAULT_WRITER_BLOCK_TIMEOUT
    shutdown_timeout: float = config.DEFAULT_WRITER_SHUTDOWN_TIMEOUT

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> WriterSettings:
        """Read the settings; raises :class:`~agentotel.config.ConfigError` for a malformed value."""
        env = os.environ if environ is None else environ
        return cls(
            block_timeout=config.positive_seconds(
                env, config.WRITER_BLOCK_TIMEOUT, config.DEFAULT_WRITER_BLOCK_TIMEOUT
            ),
            shutdown_timeout=config.positive_seconds(
                env, config.WRITER_SHUTDOWN_TIMEOUT, config.DEFAULT_WRITER_SHUTDOWN_TIMEOUT
            ),
        )


_STOP = object()
_WAKE = object()  # makes the writer write the gap for pending drops now (flush)
_RETRY_FIRST = 0.05
_RETRY_MAX = 2.0


class QueueWriter(Generic[T]):
    """A bounded queue and the one thread that writes it to ``sink``.

    ``block_timeout`` and ``shutdown_timeout`` (seconds) default to the environment's; ``on_drop``
    is called with each dropped item (default: ``sink.on_drop`` if there is one)."""

    def __init__(
        self,
        sink: Sink[T],
        boundary: Boundary,
        dropped_counter: Counter,
        *,
        max_queue: int = 10_000,
        policy: FullPolicy = FullPolicy.BLOCK,
        batch_max: int = 1024,
        block_timeout: float | None = None,
        shutdown_timeout: float | None = None,
        on_drop: Callable[[T], None] | None = None,
    ) -> None:
        settings = WriterSettings.from_env()
        self.sink = sink
        self.policy = policy
        self.block_timeout = settings.block_timeout if block_timeout is None else block_timeout
        self.shutdown_timeout = settings.shutdown_timeout if shutdown_timeout is None else shutdown_timeout
        self._boundary = boundary
        self._dropped_counter = dropped_counter
        self._on_drop: Callable[[T], None] | None = on_drop or getattr(sink, "on_drop", None)
        self._queue: queue.Queue[object] = queue.Queue(max_queue)
        self._batch_max = batch_max
        self._lock = threading.Condition()
        self._submitted = 0
        self._done = 0  # written, or dropped
        self._dropped_pending = 0
        self._dropped_inflight = 0
        self.dropped_total = 0
        self.last_error: BaseException | None = None
        self._warned = False
        self._stalled = False  # a block wait timed out and nothing was written since
        self._closed = False
        self._stop = threading.Event()
        self._deadline: float | None = None
        self._thread = threading.Thread(target=self._run, name=f"agentotel-writer:{sink.path}", daemon=True)
        self._thread.start()

    @property
    def healthy(self) -> bool:
        """False while the sink is failing (the last write raised) or the writer has stopped."""
        return self.last_error is None and self._thread.is_alive()

    @property
    def problem(self) -> str | None:
        """Why the writer is not healthy, naming the cause and the path (``disk full at PATH``)."""
        error = self.last_error
        if error is not None:
            return failure_reason(error, self.sink.path)
        if not self._thread.is_alive():
            return f"{'shut down' if self._closed else 'writer stopped'} at {self.sink.path}"
        return None

    # --- the app's threads -------------------------------------------------------------------
    def submit(self, item: T) -> None:
        """Queue ``item``; never raises, never does I/O (``block`` may wait ``block_timeout``)."""
        if self._closed:
            return
        with self._lock:
            self._submitted += 1
        if self.policy is FullPolicy.BLOCK:
            try:
                if self._stalled:
                    self._queue.put_nowait(item)
                else:
                    self._queue.put(item, timeout=self.block_timeout)
            except queue.Full:
                self._stalled = True
                self._drop(item, semconv.DROP_QUEUE_FULL_TIMEOUT)
            return
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            self._drop(item, semconv.DROP_QUEUE_FULL)

    def submit_and_wait(self, item: T, done: threading.Event) -> None:
        """Queue ``item``, then wait until ``done`` is set (by the sink once ``item`` is durable, or
        when it is dropped): ``block_timeout + shutdown_timeout`` seconds at most in all, room in
        the queue included. When that wait runs out, the writer is stuck until it next writes
        something, and meanwhile this does not wait at all: never raises."""
        deadline = time.monotonic() + self.block_timeout + self.shutdown_timeout
        self.submit(item)
        if self._closed or self._stalled:
            return
        if done.wait(max(0.0, deadline - time.monotonic())):
            return
        with self._lock:  # the writer clears it under the lock, after setting ``done``
            if not done.is_set():
                self._stalled = True

    def _drop(self, item: T, reason: str) -> None:
        if self._on_drop is not None:  # before the count, so the gap written next knows of it
            try:
                self._on_drop(item)
            except Exception as exc:
                self._boundary.report(exc)
        with self._lock:
            self._dropped_pending += 1
            self.dropped_total += 1
            self._done += 1
            self._lock.notify_all()
        self._dropped_counter.add(
            1, {semconv.AGENTOTEL_COMPONENT: self._boundary.component, semconv.AGENTOTEL_DROP_REASON: reason}
        )

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything submitted so far is written; False on timeout, or once the sink
        has been failing ``shutdown_timeout`` seconds into the wait."""
        start = time.monotonic()
        deadline = None if timeout is None else start + timeout
        patience = start + self.shutdown_timeout
        if self._dropped_pending:
            with contextlib.suppress(queue.Full):  # full: the writer is busy and will see them
                self._queue.put_nowait(_WAKE)
        with self._lock:
            target = self._submitted
            while (
                self._done < target or self._dropped_pending or self._dropped_inflight
            ) and self._thread.is_alive():
                now = time.monotonic()
                if deadline is not None and now >= deadline:
                    return False
                if now >= patience and self.last_error is not None:
                    return False
                waits = [t - now for t in (deadline, patience) if t is not None and t > now]
                self._lock.wait(min(waits) if waits else None)  # a failed write notifies too
            return self._done >= target and not (self._dropped_pending or self._dropped_inflight)

    def shutdown(self, timeout: float | None = None) -> int:
        """Write what is queued, within ``timeout`` seconds (default ``shutdown_timeout``), stop
        the thread and close the sink. Returns how many items were not written (0: all were)."""
        if self._closed:
            return 0
        self._closed = True
        wait = self.shutdown_timeout if timeout is None else timeout
        self._deadline = time.monotonic() + wait
        self._stop.set()
        with contextlib.suppress(queue.Full):  # a full queue: the writer is busy, and sees _stop
            self._queue.put_nowait(_STOP)
        self._thread.join(wait)
        with self._lock:
            lost = self._submitted - self._done
        if lost:
            why = self.problem if self.last_error is not None else "the writer was still busy"
            _log.warning(
                "agentotel: %d records not written to %s: gave up after %s s at shut-down (%s)",
                lost,
                self.sink.path,
                wait,
                why,
            )
            self._dropped_counter.add(
                lost,
                {
                    semconv.AGENTOTEL_COMPONENT: self._boundary.component,
                    semconv.AGENTOTEL_DROP_REASON: semconv.DROP_SHUTDOWN_TIMEOUT,
                },
            )
        return lost

    # --- the writer thread -------------------------------------------------------------------
    def _run(self) -> None:
        try:
            while True:
                batch, stopping = self._take()
                with self._lock:
                    dropped, self._dropped_pending = self._dropped_pending, 0
                    self._dropped_inflight = dropped
                if (batch or dropped) and not self._write(batch, dropped):
                    return  # gave up at shut-down: shutdown() counts what is left
                with self._lock:
                    self._done += len(batch)
                    self._dropped_inflight = 0
                    self._lock.notify_all()
                if stopping:
                    return
        finally:
            try:
                self.sink.close()
            except Exception as exc:
                self._boundary.report(exc)

    def _take(self) -> tuple[list[T], bool]:
        """The next batch, and whether the writer is to stop after it. Waits for an item only
        when there is nothing to do: no pending drop to write a gap for, no stop asked."""
        batch: list[T] = []
        try:
            if self._dropped_pending or self._stop.is_set():
                item = self._queue.get_nowait()
            else:
                item = self._queue.get()
        except queue.Empty:
            return batch, self._stop.is_set()
        while True:
            if item is _STOP:
                return batch, True
            if item is not _WAKE:
                batch.append(item)  # type: ignore[arg-type]
            if len(batch) >= self._batch_max:
                return batch, False
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return batch, False

    def _write(self, batch: list[T], dropped: int) -> bool:
        """Write one batch, retrying with back-off; False when shut-down's deadline passed first."""
        delay = _RETRY_FIRST
        while True:
            try:
                self.sink.write(batch, dropped)
            except Exception as exc:
                with self._lock:
                    self.last_error = exc
                    self._lock.notify_all()
                self._boundary.report(exc)
                if not self._warned:
                    self._warned = True
                    _log.warning("agentotel: cannot write %s (%s); retrying", self.sink.path, exc)
                deadline = self._deadline
                if deadline is None:
                    self._stop.wait(delay)  # shutdown() wakes it for a last try
                else:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return False
                    time.sleep(min(delay, remaining))
                delay = min(delay * 2, _RETRY_MAX)
                continue
            with self._lock:
                self._stalled = False
            if self.last_error is not None:
                _log.warning("agentotel: writing %s again", self.sink.path)
                self.last_error = None
                self._warned = False
            return True
