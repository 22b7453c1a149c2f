"""Readiness: named components that say whether they work, read by ``/readyz``.

    from agentotel.endpoints import _health as health

    health.register("audit", health.healthy_of(audit_processor))   # anything with ``.healthy``
    health.CHECKS.failing()                                         # {} or {"audit": "why"}

A check is a callable returning ``True``/``False`` or ``(ok, reason)``. A check that raises counts
as failing, with the exception as its reason: a probe must answer, never crash.

**Exporters.** An exporter has nothing to ask about its health; what can be checked is the result
of its last export. :class:`TrackedSpanExporter`, :class:`TrackedMetricExporter` and
:class:`TrackedLogExporter` wrap an exporter and record each result in :data:`EXPORTS`, which is
registered as the ``exporters`` check as soon as one exporter is tracked: it fails while the last
export of any tracked exporter failed (returned FAILURE or raised) and passes again after its next
successful export. Under ``opentelemetry-instrument`` the configurator tracks the exporters it
creates (:func:`tracked_span_processor`, :func:`tracked_log_processor`,
:func:`track_metric_exporters`). Pull readers (Prometheus) have no export to fail.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk._logs.export import (
    BatchLogRecordProcessor,
    LogRecordExporter,
    LogRecordExportResult,
)
from opentelemetry.sdk.metrics.export import MetricExporter, MetricExportResult, MetricsData
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

_log = logging.getLogger("agentotel")

Check = Callable[[], "bool | tuple[bool, str]"]

EXPORTERS = "exporters"
"""Name of the check that :data:`EXPORTS` registers."""


@dataclass(frozen=True)
class Status:
    """One check's answer."""

    ok: bool
    reason: str = ""


class HealthChecks:
    """A registry of named checks (thread-safe)."""

    def __init__(self) -> None:
        self._checks: dict[str, Check] = {}
        self._lock = threading.Lock()

    def register(self, name: str, check: Check) -> None:
        """Add ``check`` under ``name``, replacing a check of the same name."""
        with self._lock:
            self._checks[name] = check

    def unregister(self, name: str) -> None:
        """Remove the check ``name`` (no error if there is none)."""
        with self._lock:
            self._checks.pop(name, None)

    def names(self) -> list[str]:
        """The registered names, sorted."""
        with self._lock:
            return sorted(self._checks)

    def run(self) -> dict[str, Status]:
        """Every check's status, by name (sorted)."""
        with self._lock:
            checks = sorted(self._checks.items())
        return {name: _run(check) for name, check in checks}

    def failing(self) -> dict[str, str]:
        """The failing checks and their reasons; empty when ready."""
        return {name: status.reason for name, status in self.run().items() if not status.ok}


def _run(check: Check) -> Status:
    try:
        answer = check()
    except Exception as exc:
        return Status(False, f"check raised {type(exc).__name__}: {exc}")
    if isinstance(answer, tuple):
        ok, reason = answer
        return Status(bool(ok), "" if ok else reason)
    return Status(bool(answer), "" if answer else "not healthy")


CHECKS = HealthChecks()
"""The process's checks: what ``/readyz`` reads unless given others."""


def register(name: str, check: Check) -> None:
    """Add ``check`` to :data:`CHECKS` under ``name``."""
    CHECKS.register(name, check)


def unregister(name: str) -> None:
    """Remove ``name`` from :data:`CHECKS`."""
    CHECKS.unregister(name)


class _HasHealthy(Protocol):
    @property
    def healthy(self) -> bool: ...


def healthy_of(component: _HasHealthy) -> Check:
    """A check reading ``component.healthy`` (the audit and run-store processors, the textfile
    writer). The reason is ``component.problem`` when it has one (``disk full at PATH``), else it
    names ``component.last_error``."""

    def check() -> tuple[bool, str]:
        if component.healthy:
            return True, ""
        problem = getattr(component, "problem", None)
        if problem:
            return False, str(problem)
        error = getattr(component, "last_error", None)
        return False, f"{type(error).__name__}: {error}" if error is not None else "not healthy"

    return check


# --- exporters ------------------------------------------------------------------------------------
class ExportHealth:
    """The result of the last export of every tracked exporter."""

    def __init__(self, checks: HealthChecks | None = None) -> None:
        self._checks = checks
        self._last: dict[str, str] = {}
        self._lock = threading.Lock()
        self._count = 0

    def track(self, exporter: object) -> str:
        """A unique label for ``exporter`` (its class name, numbered from the second one on)."""
        with self._lock:
            self._count += 1
            label = type(exporter).__name__
            if label in self._last:
                label = f"{label}#{self._count}"
            self._last[label] = ""
        (self._checks or CHECKS).register(EXPORTERS, self)
        return label

    def record(self, label: str, failure: str) -> None:
        """The export of ``label`` succeeded (``failure == ""``) or failed for ``failure``."""
        with self._lock:
            if label in self._last:
                self._last[label] = failure

    def forget(self, label: str) -> None:
        """``label`` was shut down: its last result no longer matters."""
        with self._lock:
            self._last.pop(label, None)

    def __call__(self) -> tuple[bool, str]:
        with self._lock:
            failing = sorted((label, why) for label, why in self._last.items() if why)
        return not failing, "; ".join(f"{label}: {why}" for label, why in failing)


EXPORTS = ExportHealth()
"""Last export results, registered in :data:`CHECKS` as ``exporters`` once one is tracked."""


def _failure(exc: BaseException) -> str:
    return f"export raised {type(exc).__name__}: {exc}"


class TrackedSpanExporter(SpanExporter):
    """``exporter``, with each export's result recorded in ``health``."""

    def __init__(self, exporter: SpanExporter, health: ExportHealth | None = None) -> None:
        self.exporter = exporter
        self._health = health or EXPORTS
        self.label = self._health.track(exporter)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        try:
            result = self.exporter.export(spans)
        except Exception as exc:
            self._health.record(self.label, _failure(exc))
            raise
        self._health.record(self.label, "" if result is SpanExportResult.SUCCESS else "export failed")
        return result

    def shutdown(self) -> None:
        self._health.forget(self.label)
        self.exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.exporter.force_flush(timeout_millis)


class TrackedMetricExporter(MetricExporter):
    """A push metric ``exporter``, with each export's result recorded in ``health``."""

    def __init__(self, exporter: MetricExporter, health: ExportHealth | None = None) -> None:
        super().__init__(
            preferred_temporality=exporter._preferred_temporality,
            preferred_aggregation=exporter._preferred_aggregation,
        )
        self.exporter = exporter
        self._health = health or EXPORTS
        self.label = self._health.track(exporter)

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        try:
            result = self.exporter.export(metrics_data, timeout_millis=timeout_millis, **kwargs)
        except Exception as exc:
            self._health.record(self.label, _failure(exc))
            raise
        self._health.record(self.label, "" if result is MetricExportResult.SUCCESS else "export failed")
        return result

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return self.exporter.force_flush(timeout_millis)

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        self._health.forget(self.label)
        self.exporter.shutdown(timeout_millis=timeout_millis, **kwargs)


class TrackedLogExporter(LogRecordExporter):
    """A log record ``exporter``, with each export's result recorded in ``health``."""

    def __init__(self, exporter: LogRecordExporter, health: ExportHealth | None = None) -> None:
        self.exporter = exporter
        self._health = health or EXPORTS
        self.label = self._health.track(exporter)

    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        try:
            result = self.exporter.export(batch)
        except Exception as exc:
            self._health.record(self.label, _failure(exc))
            raise
        ok = result is LogRecordExportResult.SUCCESS
        self._health.record(self.label, "" if ok else "export failed")
        return result

    def shutdown(self) -> None:
        self._health.forget(self.label)
        self.exporter.shutdown()  # type: ignore[no-untyped-call]

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.exporter.force_flush(timeout_millis)


def tracked_span_processor(exporter: SpanExporter, *args: Any, **kwargs: Any) -> BatchSpanProcessor:
    """A ``BatchSpanProcessor`` of ``exporter``, tracked: the SDK configurator's
    ``export_span_processor`` argument."""
    return BatchSpanProcessor(TrackedSpanExporter(exporter), *args, **kwargs)


def tracked_log_processor(exporter: LogRecordExporter, *args: Any, **kwargs: Any) -> BatchLogRecordProcessor:
    """A ``BatchLogRecordProcessor`` of ``exporter``, tracked: the SDK configurator's
    ``export_log_record_processor`` argument."""
    return BatchLogRecordProcessor(TrackedLogExporter(exporter), *args, **kwargs)


def track_metric_exporters(meter_provider: Any, health: ExportHealth | None = None) -> int:
    """Track the exporter of every periodic reader of an SDK ``meter_provider`` (in ``health``,
    default :data:`EXPORTS`); returns how many.

    The SDK configurator builds its ``PeriodicExportingMetricReader``\\ s itself and offers no hook
    for their exporters, so this swaps the reader's exporter for a tracked one after the fact,
    through the readers' private attributes. If a later SDK renames them, nothing is tracked (and
    this says so at DEBUG): readiness then does not cover metric exports.
    """
    tracked = 0
    for reader in getattr(meter_provider, "_metric_readers", ()):
        exporter = getattr(reader, "_exporter", None)
        if isinstance(exporter, MetricExporter) and not isinstance(exporter, TrackedMetricExporter):
            reader._exporter = TrackedMetricExporter(exporter, health)
            tracked += 1
    if not tracked:
        _log.debug("agentotel: no periodic metric exporter found to track on %r", meter_provider)
    return tracked
