"""What the environment switches on, attached to whatever providers are in place.

Called by every agentotel instrumentor when it is instrumented (so under ``opentelemetry-instrument``
it runs after the configurator set the SDK providers, whether ours or ``opentelemetry-distro``'s),
by ``agentotel.instrument(...)`` with the providers it was given, and by our configurator. Each
tracer provider is wired once:

* the session-stamping span processor (always);
* JSON/text logs (``AGENTOTEL_LOG_FORMAT``) and Sentry (``SENTRY_DSN``), once;
* the audit processor when ``AGENTOTEL_AUDIT_PATH`` is set, the run-store processor when
  ``AGENTOTEL_RUNS_DIR`` is set — and their writers' health for ``/readyz``.

Each wired provider, the meter and logger providers, and the audit / run-store processors join
the bounded shut-down (:mod:`agentotel._shutdown`), and a SIGTERM handler is installed if SIGTERM
still has its default disposition (:mod:`agentotel._sigterm`).

If the global tracer provider is still the API's proxy (the app sets its own provider later),
``opentelemetry.trace.set_tracer_provider`` is hooked once so the wiring happens when it does.
A setting that cannot work (an unwritable audit path) raises :class:`~agentotel.config.ConfigError`
here, at start-up, naming the variable. With ``OTEL_SDK_DISABLED=true`` nothing is wired at all:
no file, no port, no thread, no signal handler.
"""

from __future__ import annotations

import logging
import os
import threading
import weakref
from typing import Any

import wrapt
from opentelemetry import trace
from opentelemetry._logs import get_logger_provider
from opentelemetry.metrics import get_meter_provider

from agentotel import _shutdown, _sigterm, config
from agentotel.agent._layer import ensure_session_processor

_log = logging.getLogger("agentotel")
_lock = threading.RLock()
_wired: weakref.WeakSet[Any] = weakref.WeakSet()
_hooked = False
_pending: dict[str, Any] = {}


def wire(tracer_provider: Any = None, meter_provider: Any = None, logger_provider: Any = None) -> None:
    """Attach the environment's processors to ``tracer_provider`` (default: the global one), and
    the metrics endpoint / textfile to ``meter_provider`` (default: the global one)."""
    if config.sdk_disabled():
        return
    if os.environ.get(config.METRICS_SERVER, "").strip() or os.environ.get(config.METRICS_FILE, "").strip():
        from agentotel.endpoints._prometheus import attach_from_env as attach_metrics

        attach_metrics(meter_provider)  # once per process; later calls return the same endpoint
    provider = tracer_provider if tracer_provider is not None else trace.get_tracer_provider()
    if getattr(provider, "add_span_processor", None) is None:
        if tracer_provider is None:
            _hook_set_tracer_provider(meter_provider, logger_provider)
        return
    with _lock:
        if provider in _wired:
            return
        _wired.add(provider)
    try:
        _integrations(provider)
        ensure_session_processor(provider)
        _attach_processors(provider, meter_provider, logger_provider)
    except BaseException:
        with _lock:
            _wired.discard(provider)
        raise


def _integrations(provider: Any) -> None:
    """``AGENTOTEL_LOG_FORMAT`` and ``SENTRY_DSN`` (each call is idempotent)."""
    from agentotel.integrations import logs, sentry

    logs.configure_from_env()
    sentry.configure_from_env(tracer_provider=provider)


def _attach_processors(provider: Any, meter_provider: Any, logger_provider: Any) -> None:
    from agentotel.endpoints import _health as health
    from agentotel.processors.audit._processor import attach_from_env as attach_audit
    from agentotel.processors.runstore._processor import attach_from_env as attach_runs

    audit = attach_audit(provider, meter_provider=meter_provider, logger_provider=logger_provider)
    if audit is not None:
        health.register("audit", health.healthy_of(audit))
    runs = attach_runs(provider, meter_provider)
    if runs is not None:
        health.register("run_store", health.healthy_of(runs))
    _shutdown.check_timeout()
    _shutdown.manage(
        provider,
        meter_provider if meter_provider is not None else get_meter_provider(),
        logger_provider if logger_provider is not None else get_logger_provider(),
        local=(audit, runs),
    )
    _sigterm.install()


def _hook_set_tracer_provider(meter_provider: Any, logger_provider: Any) -> None:
    """Wire the provider the app sets later; the hook removes itself after the first call."""
    global _hooked
    with _lock:
        _pending.update(meter_provider=meter_provider, logger_provider=logger_provider)
        if _hooked:
            return
        _hooked = True
    wrapt.wrap_function_wrapper(trace, "set_tracer_provider", _after_set_tracer_provider)


def _after_set_tracer_provider(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
    result = wrapped(*args, **kwargs)
    unhook()
    provider = trace.get_tracer_provider()
    wire(provider, _pending.get("meter_provider"), _pending.get("logger_provider"))
    return result


def unhook() -> None:
    """Undo the ``set_tracer_provider`` hook, if it is in place."""
    global _hooked
    with _lock:
        if not _hooked:
            return
        _hooked = False
    original = getattr(trace.set_tracer_provider, "__wrapped__", None)
    if original is not None:
        trace.set_tracer_provider = original
