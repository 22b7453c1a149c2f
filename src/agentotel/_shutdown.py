"""One bounded shut-down for the OpenTelemetry providers and agentotel's writers, at exit and on SIGTERM.

The SDK shuts each provider down from its own ``atexit`` hook, one after the other, and an OTLP
exporter retries with back-off for up to ``OTEL_EXPORTER_OTLP_TIMEOUT`` per batch: with the
collector down, exit took 13 to 28 s, and the audit log's writer waited behind the span exporter.
:func:`shutdown` does it all within ``AGENTOTEL_SHUTDOWN_TIMEOUT`` seconds (4), counted from the
start of our ``atexit`` hook (or SIGTERM) to its return, aborting and joining the exporters included:

1. the tracer providers' shut-down starts (their batch exporters send what is queued) while
   agentotel's local writers (audit log, run store) and closers (the textfile's last write) are
   shut down beside it, each on its own thread — a slow collector never holds up a local file;
2. then the meter and logger providers (after 1: the audit log's log events and the last
   counters are in);
3. just before the deadline the exporters still busy are shut down (their retry waits end), and
   ONE warning says how much was not sent. Python's own teardown of the modules the app imported
   comes after, outside the budget: 0.1 s for agentotel alone, 0.6 to 1.2 s with openai +
   anthropic on a small machine — hence the default of 4 s, for an exit within about 5 s in all.

:func:`manage` says what to shut down (called by the wiring); :func:`take_over_exit` replaces the
SDK providers' own ``atexit`` hooks with this one (our configurator does).
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from typing import Any

from agentotel import _exports, config

_log = logging.getLogger("agentotel")

_GRACE = 0.3  # seconds before the deadline when the exporters still busy are aborted


class _Plan:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.tracer_providers: weakref.WeakSet[Any] = weakref.WeakSet()
        self.meter_providers: weakref.WeakSet[Any] = weakref.WeakSet()
        self.logger_providers: weakref.WeakSet[Any] = weakref.WeakSet()
        self.local: weakref.WeakSet[Any] = weakref.WeakSet()
        self.closers: list[Callable[[], None]] = []
        self.started = False
        self.done = threading.Event()
        self.exit_hook = False


_PLAN = _Plan()


def manage(
    tracer_provider: Any = None,
    meter_provider: Any = None,
    logger_provider: Any = None,
    local: Iterable[Any] = (),
) -> None:
    """Include these providers (those with a ``shutdown``) and ``local`` span processors (ours,
    writing files) in the shut-down."""
    with _PLAN.lock:
        for provider, group in (
            (tracer_provider, _PLAN.tracer_providers),
            (meter_provider, _PLAN.meter_providers),
            (logger_provider, _PLAN.logger_providers),
        ):
            if callable(getattr(provider, "shutdown", None)):
                group.add(provider)
        for processor in local:
            if processor is not None:
                _PLAN.local.add(processor)


def on_shutdown(closer: Callable[[], None]) -> None:
    """Call ``closer`` in step 1 of the shut-down (local work: it must not wait on the network)."""
    with _PLAN.lock:
        _PLAN.closers.append(closer)


def take_over_exit() -> None:
    """Shut the managed providers down at exit through :func:`shutdown` instead of their own
    unbounded ``atexit`` hooks."""
    with _PLAN.lock:
        providers = [*_PLAN.tracer_providers, *_PLAN.meter_providers, *_PLAN.logger_providers]
        first = not _PLAN.exit_hook
        _PLAN.exit_hook = True
    for provider in providers:
        atexit.unregister(provider.shutdown)
    if first:
        atexit.register(_at_exit)


def _at_exit() -> None:
    shutdown(reason="exit")


def timeout() -> float:
    """``AGENTOTEL_SHUTDOWN_TIMEOUT`` in seconds (validated at start-up by :func:`check_timeout`)."""
    try:
        return config.positive_seconds(os.environ, config.SHUTDOWN_TIMEOUT, config.DEFAULT_SHUTDOWN_TIMEOUT)
    except config.ConfigError:
        return config.DEFAULT_SHUTDOWN_TIMEOUT


def check_timeout() -> None:
    """Raise :class:`~agentotel.config.ConfigError` for a malformed ``AGENTOTEL_SHUTDOWN_TIMEOUT``
    (at start-up, not at exit)."""
    config.positive_seconds(os.environ, config.SHUTDOWN_TIMEOUT, config.DEFAULT_SHUTDOWN_TIMEOUT)


def started() -> bool:
    """True once :func:`shutdown` has begun."""
    return _PLAN.started


def finished() -> bool:
    """True once :func:`shutdown` has returned."""
    return _PLAN.done.is_set()


def wait(seconds: float) -> bool:
    """Wait up to ``seconds`` for a shut-down in progress; True if it finished."""
    return _PLAN.done.wait(seconds)


def shutdown(seconds: float | None = None, *, reason: str = "exit") -> bool:
    """Shut everything managed down within ``seconds`` (default ``AGENTOTEL_SHUTDOWN_TIMEOUT``);
    once per process (a second call waits for the first). True if everything finished in time."""
    limit = timeout() if seconds is None else seconds
    with _PLAN.lock:
        if _PLAN.started:
            again = True
        else:
            again, _PLAN.started = False, True
            tracers, meters, loggers = (
                list(_PLAN.tracer_providers),
                list(_PLAN.meter_providers),
                list(_PLAN.logger_providers),
            )
            local, closers = list(_PLAN.local), list(_PLAN.closers)
    if again:
        return _PLAN.done.wait(limit + _GRACE)
    try:
        return _run(limit, reason, tracers, meters, loggers, local, closers)
    finally:
        _PLAN.done.set()


def _run(
    limit: float,
    reason: str,
    tracers: list[Any],
    meters: list[Any],
    loggers: list[Any],
    local: list[Any],
    closers: list[Callable[[], None]],
) -> bool:
    deadline = time.monotonic() + limit
    _exports.begin_shutdown()
    # Our writers first: the tracer providers shut them down again (a no-op) after their exporters.
    writing = [_spawn(p.shutdown, type(p).__name__) for p in local] + [_spawn(c, "closer") for c in closers]
    exporting = [_spawn(p.shutdown, "tracer provider") for p in tracers]
    _join(writing, deadline)

    def shut_meters(provider: Any) -> Callable[[], None]:
        millis = max(0.0, deadline - time.monotonic()) * 1000
        return lambda: provider.shutdown(timeout_millis=millis)

    exporting += [_spawn(shut_meters(p), "meter provider") for p in meters if not _is_shut(p)]
    exporting += [_spawn(p.shutdown, "logger provider") for p in loggers]
    unfinished = _join(exporting, deadline - _GRACE)
    timed_out = bool(unfinished)
    if unfinished:
        _exports.abort()  # their retry waits end: they return within the grace
        unfinished = _join(unfinished, deadline)
    unfinished += [t for t in writing if t.is_alive()]
    _report(limit, reason, timed_out, unfinished)
    return not unfinished and not timed_out


def _spawn(target: Callable[[], Any], what: str) -> threading.Thread:
    def run() -> None:
        try:
            target()
        except Exception as exc:
            _log.debug("agentotel: shutting down the %s failed: %r", what, exc)

    thread = threading.Thread(target=run, name=f"agentotel-shutdown:{what}", daemon=True)
    thread.start()
    return thread


def _join(threads: list[threading.Thread], deadline: float) -> list[threading.Thread]:
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return [t for t in threads if t.is_alive()]


def _is_shut(meter_provider: Any) -> bool:
    # MeterProvider.shutdown() a second time logs a warning; the app may have called it already.
    return getattr(meter_provider, "_shutdown", False) is True


def _report(limit: float, reason: str, timed_out: bool, unfinished: list[threading.Thread]) -> None:
    """ONE warning: what was not sent, and what had not finished (a local writer) at the deadline."""
    lost = _exports.not_sent()
    if lost and set(lost) <= _exports.announced_absent():
        # Only signals already reported as going to an absent default collector: said once already.
        _log.debug("agentotel: %s: not sent to the absent default collector: %s", reason, lost)
        lost = {}
    waiting = ", ".join(sorted({t.name.partition(":")[2] for t in unfinished}))
    if lost and timed_out:
        message = (
            f"gave up exporting after {limit:g} s ({config.SHUTDOWN_TIMEOUT}): "
            f"{_exports.describe(lost)} not sent"
        )
    elif lost:
        message = f"the last export failed: {_exports.describe(lost)} not sent"
    elif waiting:
        message = f"gave up after {limit:g} s ({config.SHUTDOWN_TIMEOUT}) waiting for: {waiting}"
    else:
        return
    if lost and waiting:
        message += f"; still busy: {waiting}"
    _log.warning("agentotel: %s: %s", reason, message)
