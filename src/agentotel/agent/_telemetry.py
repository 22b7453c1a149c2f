"""The agent layer's tracer, instruments, settings and boundary, and which providers it uses.

By default the agent API uses the global providers (whatever ``opentelemetry-instrument``, the
user's code or nothing at all set up: the API's proxies resolve to the global provider once it is
set). :func:`configure` points it at explicit providers; ``agentotel.instrument(...)`` calls it
with the providers it was given. Auto-instrumentors (MCP, LangChain) build their own
:class:`AgentTelemetry` from the providers they were instrumented with.
"""

from __future__ import annotations

import logging
import threading
import weakref
from typing import Any

from opentelemetry import trace
from opentelemetry.metrics import MeterProvider, get_meter
from opentelemetry.trace import TracerProvider

from agentotel import semconv
from agentotel._safe import Boundary
from agentotel._version import __version__
from agentotel.config import ConfigError, Settings
from agentotel.metrics import AgentInstruments
from agentotel.metrics._cardinality import CardinalityGuard, shared_guard

_log = logging.getLogger("agentotel")


class AgentTelemetry:
    """One component's view of the agent layer: tracer, instruments, guard, settings, boundary."""

    def __init__(
        self,
        component: str,
        settings: Settings,
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
    ) -> None:
        self.component = component
        self.settings = settings
        self.tracer_provider = tracer_provider
        self.tracer = trace.get_tracer(semconv.SCOPE_NAME, __version__, tracer_provider)
        meter = get_meter(semconv.SCOPE_NAME, __version__, meter_provider)
        self.boundary = Boundary(component, meter)
        self.instruments = AgentInstruments(meter)
        self.cardinality: CardinalityGuard = shared_guard(settings.cardinality_limit)
        self.capture_on_span = settings.capture.on_span


_lock = threading.Lock()
_default: AgentTelemetry | None = None
_with_session_processor: weakref.WeakSet[Any] = weakref.WeakSet()


def _settings_or_defaults() -> Settings:
    try:
        return Settings.from_env()
    except ConfigError as exc:
        # The agent API is called from the app's code: say loudly what is wrong, then go on with
        # the defaults rather than break the call.
        _log.warning("agentotel: %s; using the default settings", exc)
        return Settings()


def current_layer() -> AgentTelemetry:
    """The agent layer the public API records through (created on first use)."""
    layer = _default
    if layer is None:
        with _lock:
            layer = _default
            if layer is None:
                layer = AgentTelemetry("agent", _settings_or_defaults())
                _set(layer)
    return layer


def _set(layer: AgentTelemetry | None) -> None:
    global _default
    _default = layer


def configure(
    *,
    tracer_provider: TracerProvider | None = None,
    meter_provider: MeterProvider | None = None,
    settings: Settings | None = None,
) -> None:
    """Record the agent API (``agentotel.tool``, ``agentotel.agent``, ...) through these providers.

    Without arguments, the global providers and the environment's settings. Also makes sure the
    tracer provider stamps session attributes (see :func:`ensure_session_processor`).
    """
    with _lock:
        _set(AgentTelemetry("agent", settings or Settings.from_env(), tracer_provider, meter_provider))
    ensure_session_processor(tracer_provider)


def reset() -> None:
    """Forget :func:`configure`: the next use of the API starts from the global providers again."""
    with _lock:
        _set(None)


def ensure_session_processor(tracer_provider: Any = None) -> None:
    """Add the session-stamping span processor to ``tracer_provider`` (default: the global one)
    once, if it is an SDK provider. Spans of every instrumentation then carry the session's
    ``gen_ai.conversation.id`` and ``user.id``."""
    provider = tracer_provider if tracer_provider is not None else trace.get_tracer_provider()
    add = getattr(provider, "add_span_processor", None)
    if add is None or provider in _with_session_processor:
        return
    from agentotel.agent._session import SessionSpanProcessor

    with _lock:
        if provider in _with_session_processor:
            return
        add(SessionSpanProcessor())
        _with_session_processor.add(provider)
