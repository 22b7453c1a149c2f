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
``threading.Event.set`` or in a logging handler. Waiting there would deadlock the writers until
the deadline and lose their records. So the main thread waits for the shut-down (frozen, as the
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
import sys
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


def _locking_files() -> set[str]:
    files = {queue.__file__, threading.__file__, logging.__file__}
    writer = sys.modules.get("agentotel.processors._writer")
    if writer is not None and writer.__file__:
        files.add(writer.__file__)
    return {f for f in files if f}


def _at_safe_point(frame: FrameType | None) -> bool:
    """False when the interrupted code may hold a lock of ``queue``, ``threading``, ``logging``
    or our writers; a thread blocked in a ``threading`` wait holds none (the wait released it)."""
    if (
        frame is not None
        and frame.f_code.co_filename == threading.__file__
        and frame.f_code.co_name in ("wait", "_wait_for_tstate_lock")
    ):
        return True
    files = _locking_files()
    while frame is not None:
        if frame.f_code.co_filename in files:
            return False
        frame = frame.f_back
    return True
