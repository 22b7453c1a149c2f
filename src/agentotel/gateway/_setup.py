"""The OpenTelemetry SDK for a gateway started on its own (not under ``opentelemetry-instrument``)."""

from __future__ import annotations

from opentelemetry import trace


def ensure_sdk() -> bool:
    """Set up the SDK from the ``OTEL_*`` variables as ``opentelemetry-instrument`` would (our
    distro's defaults, then the configurator, which also wires the ``AGENTOTEL_*`` features),
    unless a tracer provider is set already. True if it was set up here."""
    if type(trace.get_tracer_provider()).__name__ != "ProxyTracerProvider":
        return False
    from agentotel.distro import AgentotelConfigurator, AgentotelDistro

    AgentotelDistro().configure()
    AgentotelConfigurator().configure()  # type: ignore[no-untyped-call]
    return True
