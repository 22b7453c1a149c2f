"""Hooks for ``opentelemetry-instrument``: our distro and configurator.

``opentelemetry-instrument python agent.py`` loads one distro and one configurator (the first
found, or the ones named by ``OTEL_PYTHON_DISTRO`` / ``OTEL_PYTHON_CONFIGURATOR``). Ours behave like
``opentelemetry-distro``: the distro defaults the trace, metric and log exporters to ``otlp`` when
the OTLP exporter is installed (``agentotel[otlp]``), and the configurator sets up the OpenTelemetry
SDK from the standard ``OTEL_*`` variables. Explicit settings (``--traces_exporter console`` or
``OTEL_TRACES_EXPORTER``) always win. With ``opentelemetry-distro`` installed as well, choose one
with ``OTEL_PYTHON_DISTRO`` / ``OTEL_PYTHON_CONFIGURATOR``: our instrumentors load under either.
"""

from __future__ import annotations

import os
from importlib.metadata import entry_points
from typing import Any

from opentelemetry.environment_variables import (
    OTEL_LOGS_EXPORTER,
    OTEL_METRICS_EXPORTER,
    OTEL_TRACES_EXPORTER,
)
from opentelemetry.instrumentation.distro import BaseDistro  # type: ignore[attr-defined]
from opentelemetry.sdk._configuration import _OTelSDKConfigurator
from opentelemetry.sdk.environment_variables import OTEL_EXPORTER_PROMETHEUS_HOST


def _has_exporter(group: str, name: str) -> bool:
    return any(ep.name == name for ep in entry_points(group=group))


class AgentotelDistro(BaseDistro):  # type: ignore[misc]
    """Defaults the exporters to OTLP when ``opentelemetry-exporter-otlp`` is installed."""

    def _configure(self, **kwargs: Any) -> None:
        for variable, group in (
            (OTEL_TRACES_EXPORTER, "opentelemetry_traces_exporter"),
            (OTEL_METRICS_EXPORTER, "opentelemetry_metrics_exporter"),
            (OTEL_LOGS_EXPORTER, "opentelemetry_logs_exporter"),
        ):
            if _has_exporter(group, "otlp"):
                os.environ.setdefault(variable, "otlp")
        # The upstream Prometheus reader binds "localhost", which may resolve to ::1 only; never
        # 0.0.0.0 unless asked.
        os.environ.setdefault(OTEL_EXPORTER_PROMETHEUS_HOST, "127.0.0.1")


class AgentotelConfigurator(_OTelSDKConfigurator):
    """The OpenTelemetry SDK configurator (providers, exporters, readers from ``OTEL_*``), then
    what the ``AGENTOTEL_*`` variables switch on (audit log, run store) on those providers."""

    def _configure(self, **kwargs: Any) -> None:
        from opentelemetry.metrics import get_meter_provider
        from opentelemetry.sdk.environment_variables import OTEL_CONFIG_FILE

        from agentotel._wiring import wire
        from agentotel.integrations import logs
        from agentotel.metrics import health

        logs.configure_from_env()  # first, so the SDK's own messages use the format asked for
        # Track the exporters' results for /readyz (with a config file the SDK ignores kwargs).
        if not os.environ.get(OTEL_CONFIG_FILE):
            kwargs.setdefault("export_span_processor", health.tracked_span_processor)
            kwargs.setdefault("export_log_record_processor", health.tracked_log_processor)
        super()._configure(**kwargs)  # type: ignore[no-untyped-call]
        health.track_metric_exporters(get_meter_provider())
        wire()
