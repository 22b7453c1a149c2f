"""Which telemetry holder the agent API (``agentotel.tool``, ``agentotel.agent``, ...) records
through, and the session processor on its tracer provider.

By default the holder of the global providers (whatever ``opentelemetry-instrument``, the user's
code or nothing at all set up: the API's proxies resolve to the global provider once it is set).
:func:`configure` points the API at explicit providers; ``agentotel.instrument(...)`` hands it the
one holder it also gives every instrumentor (:func:`use`), so a tool call an LLM response asked
for is found by the tool span that runs it.

This module imports no block: the blocks import it.
"""

from __future__ import annotations

import logging
import threading
import weakref
from typing import Any

from opentelemetry import trace
from opentelemetry._logs import LoggerProvider
from opentelemetry.metrics import MeterProvider
from opentelemetry.trace import TracerProvider

from agentotel import _telemetry
from agentotel._telemetry import Telemetry, telemetry_for
from agentotel.agent._session_state import SessionSpanProcessor
from agentotel.config import ConfigError, Settings

_log = logging.getLogger("agentotel")

_lock = threading.Lock()
_providers: tuple[Any, Any, Any] = (None, None, None)
"""The providers the API records through (None: the global ones)."""
_current: Telemetry | None = None
"""Their holder, once known (or one given to :func:`use` / built by :func:`configure`)."""
_with_session_processor: weakref.WeakSet[Any] = weakref.WeakSet()


def current_layer() -> Telemetry:
    """The holder the public API records through (found on first use)."""
    layer = _current
    if layer is not None:
        return layer
    with _lock:
        layer = _current
        if layer is None:
            try:
                layer = telemetry_for(*_providers)
            except ConfigError as exc:
                # The agent API is called from the app's code: say loudly what is wrong, then go
                # on with the defaults rather than break the call.
                _log.warning("agentotel: %s; using the default settings", exc)
                layer = Telemetry(Settings(), *_providers)
            _set(layer, _providers)
    return layer


def _set(layer: Telemetry | None, providers: tuple[Any, Any, Any]) -> None:
    global _current, _providers
    _current, _providers = layer, providers


def select(
    tracer_provider: TracerProvider | None = None,
    meter_provider: MeterProvider | None = None,
    logger_provider: LoggerProvider | None = None,
) -> None:
    """Record through these providers' holder, found (or built) on first use only."""
    with _lock:
        _set(None, (tracer_provider, meter_provider, logger_provider))


def use(telemetry: Telemetry) -> None:
    """Record through ``telemetry`` (``agentotel.instrument()`` shares its holder this way)."""
    providers = (telemetry.tracer_provider, telemetry.meter_provider, telemetry.logger_provider)
    with _lock:
        _set(telemetry, providers)
    ensure_session_processor(telemetry.tracer_provider)


def configure(
    *,
    tracer_provider: TracerProvider | None = None,
    meter_provider: MeterProvider | None = None,
    logger_provider: LoggerProvider | None = None,
    settings: Settings | None = None,
) -> None:
    """Record the agent API (``agentotel.tool``, ``agentotel.agent``, ...) through these providers.

    Without arguments, the global providers. The settings are those the providers' telemetry was
    built with (the environment's, read when it was first needed), or ``settings`` when given.
    Raises :class:`~agentotel.config.ConfigError` for a malformed setting. Also makes sure the
    tracer provider stamps session attributes on every span.
    """
    if settings is None:
        layer = telemetry_for(tracer_provider, meter_provider, logger_provider)
    else:
        layer = Telemetry(settings, tracer_provider, meter_provider, logger_provider)
    with _lock:
        _set(layer, (tracer_provider, meter_provider, logger_provider))
    ensure_session_processor(tracer_provider)


def reset() -> None:
    """Forget :func:`configure` and every holder built so far: the next use of the API starts
    from the global providers and the environment again."""
    with _lock:
        _set(None, (None, None, None))
    _telemetry._forget()


def ensure_session_processor(tracer_provider: Any = None) -> None:
    """Add the session-stamping span processor to ``tracer_provider`` (default: the global one)
    once, if it is an SDK provider. Spans of every instrumentation then carry the session's
    ``gen_ai.conversation.id`` and ``user.id``."""
    provider = tracer_provider if tracer_provider is not None else trace.get_tracer_provider()
    add = getattr(provider, "add_span_processor", None)
    if add is None or provider in _with_session_processor:
        return
    with _lock:
        if provider in _with_session_processor:
            return
        add(SessionSpanProcessor())
        _with_session_processor.add(provider)
