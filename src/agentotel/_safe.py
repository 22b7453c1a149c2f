"""The one boundary between agentotel's code and the host application.

Instrumentation code may raise; it is called through :class:`Boundary`, which catches the error,
logs it at DEBUG with the component's name and counts it in ``agentotel.telemetry.errors``. The
application's own call is never made twice and never sees our error: wrappers call it outside the
boundary and pass its result or exception through unchanged.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from opentelemetry.instrumentation.utils import is_instrumentation_enabled
from opentelemetry.metrics import Meter

from agentotel import semconv
from agentotel._context import current

_log = logging.getLogger("agentotel")

T = TypeVar("T")


def error_type(exc: BaseException) -> str:
    """The public, fully qualified class name of ``exc`` (``openai.RateLimitError``).

    A class that its top-level package re-exports is named through that package; builtins go
    without a module. An exception that names its own type in ``otel_error_type`` (the gateway's
    upstream failures: the HTTP status code, as the HTTP conventions ask) is named by it.
    """
    given = getattr(exc, "otel_error_type", None)
    if isinstance(given, str):
        return given
    cls = type(exc)
    module = cls.__module__
    if module == "builtins":
        return cls.__qualname__
    top = module.partition(".")[0]

    package = sys.modules.get(top)
    if package is not None and getattr(package, cls.__name__, None) is cls:
        return f"{top}.{cls.__name__}"
    public = ".".join(p for p in module.split(".") if not p.startswith("_")) or top
    return f"{public}.{cls.__qualname__}"


class Boundary:
    """Catches, logs and counts errors raised by one component's telemetry code."""

    __slots__ = ("_errors", "component")

    def __init__(self, component: str, meter: Meter) -> None:
        self.component = component
        self._errors = meter.create_counter(
            semconv.TELEMETRY_ERRORS,
            unit="{error}",
            description="Errors raised inside agentotel's own code, caught before they reach the app.",
        )

    def report(self, exc: BaseException) -> None:
        """Record an error of ours: DEBUG log with traceback, and one count."""
        try:
            _log.debug("agentotel %s: telemetry error (the app is unaffected)", self.component, exc_info=exc)
            self._errors.add(
                1, {semconv.AGENTOTEL_COMPONENT: self.component, semconv.ERROR_TYPE: error_type(exc)}
            )
        except Exception:  # pragma: no cover - the metrics SDK itself failed; nothing more to do
            pass

    def call(self, default: T, fn: Callable[..., T], *args: object) -> T:
        """``fn(*args)``, or ``default`` if it raised (the error is reported)."""
        try:
            return fn(*args)
        except Exception as exc:
            self.report(exc)
            return default


class _Call(Protocol):
    """What the wrappers need of an invocation (see ``agentotel.instrumentation._invocation.Invocation``)."""

    def activate(self) -> None: ...
    def deactivate(self) -> None: ...
    def fail(self, exc: BaseException) -> None: ...
    def end(self) -> None: ...


Start = Callable[[Any, tuple[Any, ...], dict[str, Any]], "_Call | None"]
OnResult = Callable[[Any, Any], Any]


def _end_quietly(boundary: Boundary, call: _Call) -> None:
    try:
        call.end()
    except Exception as bug:
        boundary.report(bug)


def _suppression_keys() -> tuple[Any, Any] | None:
    """The two context keys ``is_instrumentation_enabled`` reads, to read them from one context
    (None if this OpenTelemetry keeps them elsewhere: then that function is called)."""
    try:
        from opentelemetry.context import _SUPPRESS_INSTRUMENTATION_KEY
        from opentelemetry.instrumentation.utils import _SUPPRESS_INSTRUMENTATION_KEY_PLAIN
    except ImportError:  # pragma: no cover - depends on the installed OpenTelemetry
        return None
    return _SUPPRESS_INSTRUMENTATION_KEY, _SUPPRESS_INSTRUMENTATION_KEY_PLAIN


_SUPPRESS = _suppression_keys()


def _enabled() -> bool:
    """``is_instrumentation_enabled()``, with the current context read once."""
    if _SUPPRESS is None:  # pragma: no cover - depends on the installed OpenTelemetry
        return is_instrumentation_enabled()
    ctx = current()
    return not (ctx.get(_SUPPRESS[0]) or ctx.get(_SUPPRESS[1]))


def _start(boundary: Boundary, start: Start, instance: Any, args: Any, kwargs: Any) -> _Call | None:
    if not _enabled():
        return None
    try:
        call = start(instance, args, kwargs)
    except Exception as bug:
        boundary.report(bug)
        return None
    if call is None:
        return None
    try:
        call.activate()
    except Exception as bug:
        boundary.report(bug)
        _end_quietly(boundary, call)
        return None
    return call


def _failed(boundary: Boundary, call: _Call, exc: BaseException) -> None:
    try:
        call.deactivate()
    except Exception as bug:
        boundary.report(bug)
    try:
        call.fail(exc)
    except Exception as bug:
        boundary.report(bug)
        _end_quietly(boundary, call)


def _returned(boundary: Boundary, call: _Call, on_result: OnResult, result: Any) -> Any:
    try:
        call.deactivate()
    except Exception as bug:
        boundary.report(bug)
    try:
        return on_result(call, result)
    except Exception as bug:
        boundary.report(bug)
        _end_quietly(boundary, call)
        return result


def sync_wrapper(boundary: Boundary, start: Start, on_result: OnResult) -> Callable[..., Any]:
    """A ``wrapt`` wrapper: ``start`` opens the call, ``on_result`` ends it or wraps a stream.

    The wrapped function runs exactly once, outside the boundary; its exception propagates as the
    same object, and a failure of ``start``/``on_result`` only costs us the span, never the call.
    """

    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        call = _start(boundary, start, instance, args, kwargs)
        if call is None:
            return wrapped(*args, **kwargs)
        try:
            result = wrapped(*args, **kwargs)
        except BaseException as exc:
            _failed(boundary, call, exc)
            raise
        return _returned(boundary, call, on_result, result)

    return wrapper


def async_wrapper(boundary: Boundary, start: Start, on_result: OnResult) -> Callable[..., Any]:
    """The ``async`` twin of :func:`sync_wrapper`; it differs only by ``await``."""

    async def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        call = _start(boundary, start, instance, args, kwargs)
        if call is None:
            return await wrapped(*args, **kwargs)
        try:
            result = await wrapped(*args, **kwargs)
        except BaseException as exc:
            _failed(boundary, call, exc)
            raise
        return _returned(boundary, call, on_result, result)

    return wrapper
