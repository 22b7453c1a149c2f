"""Guards around the exporters our configurator creates: one line per outage of the collector our
distro exports to, and the count of what a bounded shut-down could not send.

* **Exporters our distro chose.** When our distro chose OTLP for a signal (the user set no
  exporter for it), the exporter's own retry warnings and errors are silenced and the first failed
  export of an outage logs ONE warning (where it tried, what is dropped, how to turn it off). An
  export that succeeds ends the outage: a later one is reported again, in one line.
* **Default endpoint.** When, besides, no ``OTEL_EXPORTER_OTLP_*ENDPOINT`` is set, nobody asked for
  a collector on localhost: while nothing listens on that port (one local TCP connect tells),
  nothing is sent there at all: no retries, and the exit does not wait for it. An endpoint the
  user set is never probed: its exports are sent and retried as the SDK does, quietly.
* **Shut-down.** From :func:`begin_shutdown` on, every exporter is quiet, and the items of each
  failed export are counted per signal; :func:`abort` shuts the exporters down (their back-off
  waits end at once) and :func:`not_sent` adds what is still in flight or queued.

The silencing is a ``logging.Filter`` on the ``opentelemetry.exporter.*`` loggers that drops a
record only while the thread logging it is inside a quiet export.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, TypeVar

from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult
from opentelemetry.sdk.metrics.export import MetricExporter, MetricExportResult, MetricsData
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

_log = logging.getLogger("agentotel")

R = TypeVar("R")

SIGNALS = ("traces", "metrics", "logs")
_ITEMS = {"traces": "spans", "metrics": "metric points", "logs": "log records"}
_EXPORTER_VARIABLES = {
    "traces": "OTEL_TRACES_EXPORTER",
    "metrics": "OTEL_METRICS_EXPORTER",
    "logs": "OTEL_LOGS_EXPORTER",
}
_EXPORTER_LOGGERS = "opentelemetry.exporter"
_PROBE_TIMEOUT = 0.25  # seconds to connect to the default endpoint on this machine


class _Ledger:
    """The process's guards and counts."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.shutting_down = False
        self.lost: Counter[str] = Counter()
        self.in_flight: Counter[str] = Counter()
        self.guards: list[_Guard] = []
        self.queues: list[tuple[str, Any]] = []
        self.targets: dict[str, Target] = {}
        self.outages: set[str] = set()


_LEDGER = _Ledger()
_local = threading.local()


class _QuietFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(_local, "quiet", False)


_FILTER = _QuietFilter()


def silence_exporter_logs() -> None:
    """Put the quiet filter on every ``opentelemetry.exporter.*`` logger created so far (the
    exporters' modules are imported by then)."""
    names = [name for name in logging.root.manager.loggerDict if name.startswith(_EXPORTER_LOGGERS)]
    for name in names:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


class Target(NamedTuple):
    """Where a signal whose exporter our distro chose is sent."""

    where: str
    """``host:port`` of the default endpoint, or the endpoint the user set."""
    variable: str | None
    """The variable that set ``where``; None for the default endpoint (probed before sending)."""


def target(signal: str, defaulted: Sequence[str], environ: Any = None) -> Target | None:
    """Where ``signal`` is sent when its exporter was chosen by our distro; None when the user
    chose it (its messages are the exporter's own)."""
    env = os.environ if environ is None else environ
    upper = signal.upper()
    if signal not in defaulted:
        return None
    for variable in (f"OTEL_EXPORTER_OTLP_{upper}_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"):
        if env.get(variable, "").strip():
            return Target(env[variable].strip(), variable)
    protocol = (
        env.get(f"OTEL_EXPORTER_OTLP_{upper}_PROTOCOL") or env.get("OTEL_EXPORTER_OTLP_PROTOCOL") or "grpc"
    )
    return Target("localhost:4317" if protocol.strip() == "grpc" else "localhost:4318", None)


def set_defaulted(signals: Sequence[str], environ: Any = None) -> dict[str, Target | None]:
    """The signals whose exporter our distro chose: where each is sent (for the one-line
    message), per signal of :data:`SIGNALS`."""
    targets = {s: target(s, signals, environ) for s in SIGNALS}
    with _LEDGER.lock:
        _LEDGER.targets = {s: t for s, t in targets.items() if t is not None}
    return targets


class _Guard:
    """The accounting shared by the three exporter wrappers."""

    def __init__(self, exporter: Any, signal: str, where: Target | None) -> None:
        self.exporter = exporter
        self.signal = signal
        self.where = where
        self.down = False
        self.checked = False
        self.aborted = False
        with _LEDGER.lock:
            _LEDGER.guards.append(self)

    def export(self, count: int, call: Callable[[], R], failure: R, success: R) -> R:
        ledger = _LEDGER
        if self.aborted:
            self._lost(count)
            return failure
        if self.where is not None and self.where.variable is None and self._absent(self.where.where):
            self.down = True  # nothing listens there: no export, no retries, no wait at exit
            if ledger.shutting_down:
                self._lost(count)
            _announce(self.where)
            return failure
        quiet = self.where is not None or ledger.shutting_down
        with ledger.lock:
            ledger.in_flight[self.signal] += count
        _local.quiet = quiet
        try:
            result = call()
        except Exception:
            if not quiet:
                raise
            result = failure
        finally:
            _local.quiet = False
            with ledger.lock:
                ledger.in_flight[self.signal] -= count
        self.down = result != success
        if self.down:
            if ledger.shutting_down:
                self._lost(count)
            if self.where is not None:
                _announce(self.where)
        elif self.where is not None:
            with ledger.lock:
                ledger.outages.discard(self.where.where)  # it answers: a later outage is reported
        return result

    def _absent(self, where: str) -> bool:
        """Nothing listens on the default endpoint: checked before the first export, and before
        each one while it is down (a collector started later is used)."""
        if self.checked and not self.down:
            return False
        self.checked = True
        host, _, port = where.rpartition(":")
        try:
            with socket.create_connection((host, int(port)), timeout=_PROBE_TIMEOUT):
                return False
        except OSError:
            return True

    def _lost(self, count: int) -> None:
        with _LEDGER.lock:
            _LEDGER.lost[self.signal] += count

    def abort(self) -> None:
        """Shut the wrapped exporter down now: its retry waits end, later exports fail at once."""
        if self.aborted:
            return
        self.aborted = True
        _local.quiet = True
        try:
            self.exporter.shutdown()
        except Exception as exc:
            _log.debug("agentotel: aborting %r failed: %r", self.exporter, exc)
        finally:
            _local.quiet = False

    def shutdown(self, call: Callable[[], None]) -> None:
        if not self.aborted:
            self.aborted = True
            call()


def _announce(target: Target) -> None:
    """ONE warning per outage of ``target`` (for every signal sent there)."""
    with _LEDGER.lock:
        if target.where in _LEDGER.outages:
            return
        _LEDGER.outages.add(target.where)
        signals = [s for s, t in _LEDGER.targets.items() if t.where == target.where] or [
            g.signal for g in _LEDGER.guards if g.where == target
        ]
    names = signals[0] if len(signals) == 1 else f"{', '.join(signals[:-1])} and {signals[-1]}"
    switches = " ".join(f"{_EXPORTER_VARIABLES[s]}=none" for s in signals)
    if target.variable is None:
        _log.warning(
            "agentotel: no OpenTelemetry collector answers at %s (the default OTLP endpoint): %s %s "
            "not exported. Set OTEL_EXPORTER_OTLP_ENDPOINT to your collector, or turn this off with %s",
            target.where,
            names,
            "is" if len(signals) == 1 else "are",
            switches,
        )
    else:
        _log.warning(
            "agentotel: no OpenTelemetry collector answers at %s (%s): %s are dropped until it does "
            "(each batch is retried quietly first). Turn this off with %s",
            target.where,
            target.variable,
            names,
            switches,
        )


class GuardedSpanExporter(SpanExporter):
    """A span exporter under guard (see the module docstring)."""

    def __init__(self, exporter: SpanExporter, where: Target | None = None) -> None:
        self.exporter = exporter
        self.guard = _Guard(exporter, "traces", where)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self.guard.export(
            len(spans),
            lambda: self.exporter.export(spans),
            SpanExportResult.FAILURE,
            SpanExportResult.SUCCESS,
        )

    def shutdown(self) -> None:
        self.guard.shutdown(self.exporter.shutdown)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.exporter.force_flush(timeout_millis)


class GuardedLogExporter(LogRecordExporter):
    """A log record exporter under guard."""

    def __init__(self, exporter: LogRecordExporter, where: Target | None = None) -> None:
        self.exporter = exporter
        self.guard = _Guard(exporter, "logs", where)

    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        return self.guard.export(
            len(batch),
            lambda: self.exporter.export(batch),
            LogRecordExportResult.FAILURE,
            LogRecordExportResult.SUCCESS,
        )

    def shutdown(self) -> None:
        self.guard.shutdown(self.exporter.shutdown)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.exporter.force_flush(timeout_millis)


class GuardedMetricExporter(MetricExporter):
    """A push metric exporter under guard; counts data points."""

    def __init__(self, exporter: MetricExporter, where: Target | None = None) -> None:
        super().__init__(
            preferred_temporality=exporter._preferred_temporality,
            preferred_aggregation=exporter._preferred_aggregation,
        )
        self.exporter = exporter
        self.guard = _Guard(exporter, "metrics", where)

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        return self.guard.export(
            _points(metrics_data),
            lambda: self.exporter.export(metrics_data, timeout_millis=timeout_millis, **kwargs),
            MetricExportResult.FAILURE,
            MetricExportResult.SUCCESS,
        )

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return self.exporter.force_flush(timeout_millis)

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        self.guard.shutdown(lambda: self.exporter.shutdown(timeout_millis=timeout_millis, **kwargs))


def _points(data: MetricsData) -> int:
    return sum(
        len(metric.data.data_points)
        for rm in data.resource_metrics
        for sm in rm.scope_metrics
        for metric in sm.metrics
    )


def watch_queue(signal: str, processor: Any) -> Any:
    """Remember a batch processor of ``signal``: what is left in its queue at the end of a bounded
    shut-down counts as not sent. Returns ``processor``."""
    with _LEDGER.lock:
        _LEDGER.queues.append((signal, processor))
    return processor


def guard_metric_readers(meter_provider: Any, where: Target | None) -> int:
    """Put the exporter of every periodic reader of an SDK ``meter_provider`` under guard (through
    the readers' private ``_exporter``, as :func:`agentotel.endpoints._health.track_metric_exporters`
    does); returns how many."""
    guarded = 0
    for reader in getattr(meter_provider, "_metric_readers", ()):
        exporter = getattr(reader, "_exporter", None)
        if isinstance(exporter, MetricExporter) and not isinstance(exporter, GuardedMetricExporter):
            reader._exporter = GuardedMetricExporter(exporter, where)
            guarded += 1
    return guarded


# --- the bounded shut-down ------------------------------------------------------------------------
def begin_shutdown() -> None:
    """From now on exports are quiet and what fails to be sent is counted."""
    with _LEDGER.lock:
        _LEDGER.shutting_down = True


def abort() -> None:
    """Shut every guarded exporter down now (the time is up)."""
    with _LEDGER.lock:
        guards = list(_LEDGER.guards)
    for guard in guards:
        guard.abort()


def not_sent() -> dict[str, int]:
    """Items not sent since :func:`begin_shutdown`, per signal: failed exports, exports still in
    flight and what is left in the watched batch processors' queues."""
    with _LEDGER.lock:
        counts = Counter(_LEDGER.lost)
        counts.update(_LEDGER.in_flight)
        queues = list(_LEDGER.queues)
    for signal, processor in queues:
        counts[signal] += len(getattr(getattr(processor, "_batch_processor", None), "_queue", ()))
    return {signal: counts[signal] for signal in SIGNALS if counts[signal] > 0}


def announced_absent() -> set[str]:
    """The signals whose collector's outage is reported and not over."""
    with _LEDGER.lock:
        return {
            g.signal
            for g in _LEDGER.guards
            if g.where is not None and g.down and g.where.where in _LEDGER.outages
        }


def describe(counts: dict[str, int]) -> str:
    """``{"traces": 50, "metrics": 7}`` as ``50 spans and 7 metric points``."""
    parts = [f"{counts[s]} {_ITEMS[s]}" for s in SIGNALS if s in counts]
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"
