"""Finding and (un)instrumenting every agentotel instrumentor that the environment can use."""

from __future__ import annotations

import logging
from importlib.metadata import entry_points
from typing import Any

from opentelemetry.instrumentation.dependencies import get_dependency_conflicts

from agentotel._telemetry import telemetry_for
from agentotel._wiring import wire
from agentotel.agent import _layer

_log = logging.getLogger("agentotel")
ENTRY_POINT_GROUP = "opentelemetry_instrumentor"
ENTRY_POINT_PREFIX = "agentotel_"

_active: dict[str, Any] = {}


def available() -> dict[str, Any]:
    """Instrumentor classes by entry-point name, for those whose library is installed in range."""
    found: dict[str, Any] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if not ep.name.startswith(ENTRY_POINT_PREFIX):
            continue
        try:
            cls = ep.load()
        except Exception as exc:  # an optional SDK missing or broken: skip it, say why
            _log.debug("agentotel: cannot load %s: %s", ep.name, exc)
            continue
        conflict = get_dependency_conflicts(cls().instrumentation_dependencies())
        if conflict is not None:
            _log.debug("agentotel: %s skipped: %s", ep.name, conflict)
            continue
        found[ep.name] = cls
    return found


def instrument(**kwargs: Any) -> list[str]:
    """Instrument every available agentotel instrumentor; returns their entry-point names.

    One telemetry holder, of the given providers (the global ones when not given), is built here
    (the settings read then; :class:`~agentotel.config.ConfigError` for a malformed one) and
    handed to every instrumentor and to the agent API (``agentotel.tool``, ...).
    """
    telemetry = telemetry_for(
        kwargs.get("tracer_provider"), kwargs.get("meter_provider"), kwargs.get("logger_provider")
    )
    _layer.use(telemetry)
    wire(kwargs.get("tracer_provider"), kwargs.get("meter_provider"), kwargs.get("logger_provider"))
    for name, cls in available().items():
        instrumentor = cls()
        if not instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.instrument(**kwargs, telemetry=telemetry)
        _active[name] = instrumentor
    return sorted(_active)


def uninstrument() -> None:
    """Undo :func:`instrument`: every wrapped method gets its original back, and the agent API
    and the next :func:`instrument` start from the environment again."""
    for instrumentor in _active.values():
        instrumentor.uninstrument()
    _active.clear()
    _layer.reset()
