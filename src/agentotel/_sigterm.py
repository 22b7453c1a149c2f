"""SIGTERM: send what is buffered (bounded), then die of SIGTERM exactly as the process would have.

By default SIGTERM kills a Python process at once: the spans in the batch exporters' queues, the
audit records in the writer's queue and the run store's last summary are lost. :func:`install`
(called by the wiring) puts a handler in place **only** when SIGTERM still has its default
disposition and we are on the main thread; an app that installs its own handler later replaces
ours, and an app that had one keeps it.

The handler runs :func:`agentotel._shutdown.shutdown` on a thread of its own, then restores
``SIG_DFL`` and sends SIGTERM to the process again: the exit status is "killed by signal 15".

Python runs the handler on the main thread between two bytecodes, possibly while that thread
holds a lock the shut-down needs: inside ``queue.Queue.put`` (the audit writer's queue), in a
``threading.Event.set`` or in a logging handler; or half-way through ending a span (handed to the
span exporter, its audit record not yet queued). Waiting there would deadlock the writers until
the deadline and lose their records, or export a span the audit log never sees. So the main
thread waits for the shut-down (frozen, as the
default SIGTERM would leave it) only at a safe point; otherwise the handler returns and the
main thread is signalled again every few milliseconds until it reaches one, and only then (or
after half a second) does the shut-down start: no span ends between the audit log's close and the
exporters'. A second SIGTERM while the shut-down runs changes nothing; once it is done, the
process dies.
"""

from __future__ import annotations

import logging
import os
import queue
import signal
import threading
import time
from functools import partial
from types import FrameType

from agentotel import _shutdown

_log = logging.getLogger("agentotel")

_NUDGE = 0.005  # seconds between two signals to a main thread not yet at a safe point
_PARK_WAIT = 0.5  # seconds the shut-down waits for the main thread to be frozen
_lock = threading.Lock()
_flusher: threading.Thread | None = None
_parked = threading.Event()


def install() -> bool:
    """Install the handler if SIGTERM has its default disposition (True if installed now)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_kill"):
        return False  # signal.signal needs the main thread; the nudges need POSIX threads
    try:
        if signal.getsignal(signal.SIGTERM) != signal.SIG_DFL:
            return False
        signal.signal(signal.SIGTERM, _on_sigterm)
    except (ValueError, OSError) as exc:  # an embedded interpreter without signals
        _log.debug("agentotel: no SIGTERM handler: %r", exc)
        return False
    _watch()
    return True


def _watch() -> None:
    """Start the flush however the signal arrives.

    The kernel gives a process's SIGTERM to any thread that does not block it, and Python runs
    the handler on the main thread only, at its next bytecode: a main thread blocked in a system
    call (a ``sleep``, a ``read``) that the signal did not interrupt — it landed on another thread,
    or just before the call began — would not run it until the call returns. Python's own signal
    handler writes each signal's number to the wake-up file descriptor, whichever thread takes it:
    a daemon thread reading it starts the flush, whose nudges (:func:`_signal_main`) interrupt
    the main thread's call. Only when no wake-up descriptor is set yet (an app's or asyncio's is
    left alone; one set later replaces ours, and the handler then works as without the watch)."""
    try:
        read_fd, write_fd = os.pipe()
        os.set_blocking(write_fd, False)
        previous = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
        if previous != -1:
            signal.set_wakeup_fd(previous)  # someone's: put it back
            os.close(read_fd)
            os.close(write_fd)
            return
        threading.Thread(target=_read_signals, args=(read_fd,), name="agentotel-signals", daemon=True).start()
        os.register_at_fork(after_in_child=partial(_forget_in_child, write_fd))
    except (ValueError, OSError, RuntimeError) as exc:
        _log.debug("agentotel: no signal watch: %r", exc)


def _read_signals(read_fd: int) -> None:
    while True:
        try:
            taken = os.read(read_fd, 64)
        except OSError:
            return
        if not taken:
            return
        if signal.SIGTERM in taken and installed():
            _start_flush()


def _forget_in_child(write_fd: int) -> None:
    """A forked child shares the pipe but not the thread: its signals must not reach the parent's
    watch (the parent would flush and die of the child's SIGTERM)."""
    try:
        current = signal.set_wakeup_fd(-1)
        if current != write_fd:
            signal.set_wakeup_fd(current)  # not ours (any more): put it back
    except ValueError:  # forked from a thread other than the main one
        pass


def installed() -> bool:
    """True while our handler is the SIGTERM handler."""
    return signal.getsignal(signal.SIGTERM) is _on_sigterm


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    if _shutdown.finished():
        _die()
    _start_flush()
    if _parked.is_set() or not _at_safe_point(frame):
        return  # a nested signal while parked, or not yet safe: the nudger signals again
    _parked.set()
    _shutdown.wait(_PARK_WAIT + _shutdown.timeout() + 1.0)
    _die()


def _start_flush() -> None:
    global _flusher
    with _lock:
        if _flusher is not None:
            return
        _flusher = threading.Thread(target=_flush, name="agentotel-sigterm", daemon=False)
    _flusher.start()


def _flush() -> None:
    main = threading.main_thread().ident or threading.get_ident()
    # Freeze the main thread first, so that no span ends between the audit log's close and the
    # exporters' (a span exported but not audited); it leaves a lock-holding section in microseconds.
    parking = time.monotonic() + _PARK_WAIT
    while not _parked.is_set() and time.monotonic() < parking:
        _signal_main(main)
        _parked.wait(_NUDGE)
    _shutdown.shutdown(reason="SIGTERM")
    _signal_main(main)  # the main thread runs the handler: _die()


def _signal_main(main: int) -> None:
    try:
        signal.pthread_kill(main, signal.SIGTERM)
    except OSError:  # the main thread is gone: nobody left to run the handler
        os._exit(128 + signal.SIGTERM)


def _die() -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(1.0)  # the signal is delivered before this returns; a last resort otherwise
    os._exit(128 + signal.SIGTERM)


def _unsafe_places() -> tuple[str, ...]:
    """Files and folders whose code may hold a lock the shut-down needs, or be half-way through
    ending a span (the span handed to the exporter, its audit record not yet queued)."""
    import opentelemetry.sdk

    import agentotel.processors

    folders = [*opentelemetry.sdk.__path__, *agentotel.processors.__path__]  # sdk: a namespace package
    return tuple(p for p in (queue.__file__, logging.__file__, *(f + os.sep for f in folders if f)) if p)


def _at_safe_point(frame: FrameType | None) -> bool:
    """False when the interrupted code is inside ``queue``, ``logging``, the SDK or our processors
    (see :func:`_unsafe_places`), or inside ``threading`` other than blocked in a wait (a wait has
    released its lock)."""
    innermost = frame
    places = _unsafe_places()
    while frame is not None:
        filename = frame.f_code.co_filename
        if filename.startswith(places):
            return False
        if filename == threading.__file__ and not (
            frame is innermost and frame.f_code.co_name in ("wait", "_wait_for_tstate_lock")
        ):
            return False
        frame = frame.f_back
    return True
