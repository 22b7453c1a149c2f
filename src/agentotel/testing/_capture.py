"""In-memory OpenTelemetry pipelines for tests: spans, metric points and log records.

with capture_telemetry() as cap:
    OpenAIInstrumentor().instrument(**cap.providers)
    ...
    [span] = cap.spans()
    assert cap.metric_sum(semconv.GEN_AI_CLIENT_TOKEN_USAGE, {semconv.GEN_AI_TOKEN_TYPE: "input"}) == 6
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter


class TelemetryCapture:
    """A tracer, meter and logger provider that keep everything in memory."""

    def __init__(self) -> None:
        self.span_exporter = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.span_exporter))
        self.metric_reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.metric_reader])
        self.log_exporter = InMemoryLogRecordExporter()  # type: ignore[no-untyped-call]
        self.logger_provider = LoggerProvider()
        self.logger_provider.add_log_record_processor(SimpleLogRecordProcessor(self.log_exporter))

    @property
    def providers(self) -> dict[str, Any]:
        """Keyword arguments for ``Instrumentor().instrument(**cap.providers)``."""
        return {
            "tracer_provider": self.tracer_provider,
            "meter_provider": self.meter_provider,
            "logger_provider": self.logger_provider,
        }

    def spans(self) -> list[ReadableSpan]:
        """Finished spans, in end order."""
        return list(self.span_exporter.get_finished_spans())

    def logs(self) -> list[Any]:
        """Emitted log records (events included)."""
        return [r.log_record for r in self.log_exporter.get_finished_logs()]

    def metric_points(self, name: str) -> list[Any]:
        """Every data point of metric ``name`` (cumulative since the capture started)."""
        data = self.metric_reader.get_metrics_data()
        points: list[Any] = []
        for rm in data.resource_metrics if data else ():
            for sm in rm.scope_metrics:
                for metric in sm.metrics:
                    if metric.name == name:
                        points.extend(metric.data.data_points)
        return points

    def matching_points(self, name: str, attributes: Mapping[str, Any] | None = None) -> list[Any]:
        """The points of ``name`` whose attributes include every item of ``attributes``."""
        wanted = dict(attributes or {})
        return [
            point
            for point in self.metric_points(name)
            if all((point.attributes or {}).get(k) == v for k, v in wanted.items())
        ]

    def metric_sum(self, name: str, attributes: Mapping[str, Any] | None = None) -> float:
        """Sum of the points of ``name`` whose attributes include ``attributes``."""
        return float(
            sum(p.sum if hasattr(p, "sum") else p.value for p in self.matching_points(name, attributes))
        )

    def metric_count(self, name: str, attributes: Mapping[str, Any] | None = None) -> int:
        """Number of recorded measurements of histogram ``name`` matching ``attributes``."""
        return sum(int(p.count) for p in self.matching_points(name, attributes))

    def shutdown(self) -> None:
        self.tracer_provider.shutdown()
        self.meter_provider.shutdown()
        self.logger_provider.shutdown()


@contextmanager
def capture_telemetry() -> Iterator[TelemetryCapture]:
    """A :class:`TelemetryCapture` for the duration of the block."""
    cap = TelemetryCapture()
    try:
        yield cap
    finally:
        cap.shutdown()
