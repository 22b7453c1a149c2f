"""OpenTelemetry's current context, read and set in one C call where OpenTelemetry allows it.

``opentelemetry.context.get_current()`` / ``attach()`` / ``detach()`` are two Python calls each
around a ``ContextVar`` (the default runtime context); every LLM call reads the context twice and
sets it once, so the engine and the bridges use the ``ContextVar``'s own ``get`` / ``set`` /
``reset`` instead. When OpenTelemetry keeps its context elsewhere (another runtime context chosen
with ``OTEL_PYTHON_CONTEXT``, or a release that renames its private ``_RUNTIME_CONTEXT``), the
public functions are used: the same behaviour, only slower.

:func:`with_span` builds the context of a span in one copy instead of the two of
``trace.set_span_in_context`` plus ``context.set_value``, under the same key when OpenTelemetry
still names it ``_SPAN_KEY``.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context


def runtime_var() -> contextvars.ContextVar[Context] | None:
    """The ``ContextVar`` OpenTelemetry keeps the current context in; None if it keeps it elsewhere."""
    runtime = getattr(otel_context, "_RUNTIME_CONTEXT", None)
    var = getattr(runtime, "_current_context", None)
    return var if isinstance(var, contextvars.ContextVar) else None


_VAR = runtime_var()

current: Callable[[], Context] = otel_context.get_current if _VAR is None else _VAR.get
"""The current context (``get_current()``)."""

attach: Callable[[Context], object] = otel_context.attach if _VAR is None else _VAR.set
"""Make a context current; returns the token for :func:`detach` (``attach()``)."""


def _detach_public(token: object) -> None:
    otel_context.detach(token)  # type: ignore[arg-type]


def _detach_var(token: object) -> None:
    # As ``otel_context.detach``: a token of another context (a generator resumed elsewhere) is
    # not an error of the app's; ``attach``/``detach`` pairs are ours, so this stays quiet.
    try:
        _VAR.reset(token)  # type: ignore[union-attr, arg-type]
    except (ValueError, RuntimeError, TypeError):
        otel_context.detach(token)  # type: ignore[arg-type]  # logs it, as OpenTelemetry does


detach: Callable[[object], None] = _detach_public if _VAR is None else _detach_var
"""Restore the context a token of :func:`attach` replaced (``detach()``)."""


def _span_key() -> str | None:
    """The key ``trace.set_span_in_context`` stores a span under, if it is still ``_SPAN_KEY``."""
    key = getattr(getattr(trace, "propagation", None), "_SPAN_KEY", None)
    if not isinstance(key, str):
        return None
    probe = trace.set_span_in_context(trace.INVALID_SPAN, Context())
    return key if list(probe) == [key] else None


_SPAN_KEY = _span_key()


def with_span(span: trace.Span, context: Context, key: str, value: Any) -> Context:
    """``context`` with ``span`` as its current span and ``key`` set to ``value``."""
    if _SPAN_KEY is None:
        return otel_context.set_value(key, value, trace.set_span_in_context(span, context))
    return Context({**context, _SPAN_KEY: span, key: value})


def span_in_context(span: trace.Span) -> Context:
    """``trace.set_span_in_context(span)``: the current context with ``span`` as its current span,
    in one copy and no Python call."""
    if _SPAN_KEY is None:
        return trace.set_span_in_context(span)
    return Context({**current(), _SPAN_KEY: span})
