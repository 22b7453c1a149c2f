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
    return True


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
