"""Hooks for ``opentelemetry-instrument``: our distro and configurator.

``opentelemetry-instrument python agent.py`` loads one distro and one configurator (the first
found, or the ones named by ``OTEL_PYTHON_DISTRO`` / ``OTEL_PYTHON_CONFIGURATOR``). Ours behave like
``opentelemetry-distro``, with defaults that do not punish a user without a collector:

- the distro defaults the trace and metric exporters to ``otlp`` when the OTLP exporter is
  installed (``agentotel[otlp]``); the log exporter follows the traces: ``otlp`` when the traces
  go to OTLP (by default or by choice), ``none`` when they were set to anything else. Explicit
  settings (``--traces_exporter console`` or ``OTEL_TRACES_EXPORTER``) always win.
- the configurator sets up the OpenTelemetry SDK from the standard ``OTEL_*`` variables, then:
  an exporter our distro chose reports an outage of its collector in one line instead of retry
  warnings, and is not used while nothing listens on the default endpoint
  (:mod:`agentotel._exports`); the providers are shut down at exit within
  ``AGENTOTEL_SHUTDOWN_TIMEOUT`` (:mod:`agentotel._shutdown`); and what the ``AGENTOTEL_*``
  variables switch on is wired (:mod:`agentotel._wiring`).
- ``OTEL_SDK_DISABLED=true``: the configurator sets up nothing at all.

With ``opentelemetry-distro`` installed as well, choose one with ``OTEL_PYTHON_DISTRO`` /
``OTEL_PYTHON_CONFIGURATOR``: our instrumentors load under either.
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

_OTLP_NAMES = ("otlp", "otlp_proto_grpc", "otlp_proto_http")
_DEFAULTED: list[str] = []
"""The signals ("traces", "metrics", "logs") whose exporter our distro chose."""


def _has_exporter(group: str, name: str) -> bool:
    return any(ep.name == name for ep in entry_points(group=group))


def _logs_default(traces: str | None, otlp: bool) -> str:
    """The log exporter when the user chose none: the traces' OTLP exporter, else ``none``."""
    if traces is None or not traces.strip():
        return "otlp" if otlp else "none"
    chosen = [name.strip() for name in traces.split(",") if name.strip() in _OTLP_NAMES]
    return chosen[0] if chosen and otlp else "none"


class AgentotelDistro(BaseDistro):  # type: ignore[misc]
    """Defaults the trace and metric exporters to OTLP when ``opentelemetry-exporter-otlp`` is
    installed, and the log exporter to what the traces use (``otlp`` or ``none``)."""

    def _configure(self, **kwargs: Any) -> None:
        traces = os.environ.get(OTEL_TRACES_EXPORTER)
        for variable, signal, group in (
            (OTEL_TRACES_EXPORTER, "traces", "opentelemetry_traces_exporter"),
            (OTEL_METRICS_EXPORTER, "metrics", "opentelemetry_metrics_exporter"),
        ):
            if not os.environ.get(variable) and _has_exporter(group, "otlp"):
                os.environ[variable] = "otlp"
                _DEFAULTED.append(signal)
        if not os.environ.get(OTEL_LOGS_EXPORTER):
            logs = _logs_default(traces, _has_exporter("opentelemetry_logs_exporter", "otlp"))
            os.environ[OTEL_LOGS_EXPORTER] = logs
            if logs != "none":
                _DEFAULTED.append("logs")
        # The upstream Prometheus reader binds "localhost", which may resolve to ::1 only; never
        # 0.0.0.0 unless asked.
        os.environ.setdefault(OTEL_EXPORTER_PROMETHEUS_HOST, "127.0.0.1")


class AgentotelConfigurator(_OTelSDKConfigurator):
    """The OpenTelemetry SDK configurator (providers, exporters, readers from ``OTEL_*``), then
    what the ``AGENTOTEL_*`` variables switch on (audit log, run store) on those providers."""

    def _configure(self, **kwargs: Any) -> None:
        from opentelemetry._logs import get_logger_provider
        from opentelemetry.metrics import get_meter_provider
        from opentelemetry.sdk import environment_variables as sdk_env
        from opentelemetry.trace import get_tracer_provider

        from agentotel import _exports, _shutdown, config
        from agentotel._wiring import wire
        from agentotel.endpoints import _health as health
        from agentotel.integrations import logs

        if config.sdk_disabled():
            return
        logs.configure_from_env()  # first, so the SDK's own messages use the format asked for
        where = _exports.set_defaulted(_DEFAULTED)
        # Track the exporters' results for /readyz and guard them (with a config file the SDK
        # ignores kwargs).
        # opentelemetry-sdk 1.42 has no config files (nor OTEL_CONFIG_FILE): kwargs always apply there.
        config_file = getattr(sdk_env, "OTEL_CONFIG_FILE", None)
        if not (config_file and os.environ.get(config_file)):
            kwargs.setdefault(
                "export_span_processor",
                lambda exporter, *args, **kw: _exports.watch_queue(
                    "traces",
                    health.tracked_span_processor(
                        _exports.GuardedSpanExporter(exporter, where["traces"]), *args, **kw
                    ),
                ),
            )
            kwargs.setdefault(
                "export_log_record_processor",
                lambda exporter, *args, **kw: _exports.watch_queue(
                    "logs",
                    health.tracked_log_processor(
                        _exports.GuardedLogExporter(exporter, where["logs"]), *args, **kw
                    ),
                ),
            )
        super()._configure(**kwargs)  # type: ignore[no-untyped-call]
        health.track_metric_exporters(get_meter_provider())
        _exports.guard_metric_readers(get_meter_provider(), where["metrics"])
        _exports.silence_exporter_logs()
        _shutdown.manage(get_tracer_provider(), get_meter_provider(), get_logger_provider())
        _shutdown.take_over_exit()
        wire()
