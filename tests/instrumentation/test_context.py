"""``agentotel._context`` reads and sets OpenTelemetry's current context through the runtime
context's ``ContextVar`` (one C call), and through ``get_current()`` / ``attach()`` /
``detach()`` when OpenTelemetry keeps it elsewhere; ``with_span`` and ``span_in_context`` make
the same contexts as ``set_span_in_context`` (+ ``set_value``), in one copy."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterator

import pytest
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from agentotel import _context


def test_the_var_is_the_one_opentelemetry_reads_and_sets() -> None:
    var = _context.runtime_var()
    assert var is not None
    ctx = otel_context.set_value("k", "v")

    token = _context.attach(ctx)
    try:
        assert otel_context.get_current() is ctx
        assert _context.current() is ctx
        assert var.get() is ctx
    finally:
        _context.detach(token)
    assert otel_context.get_value("k") is None


def test_with_span_is_set_span_in_context_then_set_value() -> None:
    span = TracerProvider().get_tracer("t").start_span("s")
    base = otel_context.set_value("other", 1)

    made = _context.with_span(span, base, "agentotel-test-key", True)

    expected = otel_context.set_value("agentotel-test-key", True, trace.set_span_in_context(span, base))
    assert made == expected
    assert trace.get_current_span(made) is span
    assert otel_context.get_value("other", made) == 1
    assert dict(base) == {"other": 1}  # the context given is left as it was


def test_a_token_of_another_context_is_logged_by_opentelemetry_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    token = _context.attach(otel_context.set_value("k", "v"))
    _context.detach(token)

    with caplog.at_level(logging.ERROR, logger="opentelemetry.context"):
        _context.detach(token)  # used twice: the ContextVar refuses it

    assert "Failed to detach context" in caplog.text


@pytest.fixture
def elsewhere(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """``_context`` reloaded with a runtime context that keeps no ``ContextVar``
    (``OTEL_PYTHON_CONTEXT``), and without the span key (a release that renames it)."""

    class Elsewhere:
        def __init__(self) -> None:
            self.current = otel_context.Context()

        def get_current(self) -> otel_context.Context:
            return self.current

        def attach(self, ctx: otel_context.Context) -> object:
            token, self.current = self.current, ctx
            return token

        def detach(self, token: object) -> None:
            self.current = token  # type: ignore[assignment]

    runtime = Elsewhere()
    monkeypatch.setattr(otel_context, "_RUNTIME_CONTEXT", runtime)
    importlib.reload(_context)
    monkeypatch.setattr(_context, "_SPAN_KEY", None)
    yield runtime
    monkeypatch.undo()
    importlib.reload(_context)


def test_another_runtime_context_is_read_and_set_through_opentelemetrys_functions(elsewhere: object) -> None:
    assert _context.runtime_var() is None
    ctx = otel_context.Context({"k": "v"})

    token = _context.attach(ctx)
    assert _context.current() is ctx
    assert elsewhere.current is ctx  # type: ignore[attr-defined]
    _context.detach(token)

    assert _context.current() == {}


def test_a_span_key_that_is_not_opentelemetrys_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _context._span_key() == trace.propagation._SPAN_KEY  # type: ignore[attr-defined]
    monkeypatch.setattr(trace.propagation, "_SPAN_KEY", 42)

    assert _context._span_key() is None


def test_without_span_key_with_span_uses_opentelemetrys_functions(elsewhere: object) -> None:
    span = TracerProvider().get_tracer("t").start_span("s")

    made = _context.with_span(span, otel_context.Context(), "agentotel-test-key", True)

    assert trace.get_current_span(made) is span
    assert otel_context.get_value("agentotel-test-key", made) is True


def test_span_in_context_is_set_span_in_context_of_the_current_context() -> None:
    span = TracerProvider().get_tracer("t").start_span("s")
    token = _context.attach(otel_context.set_value("other", 1))
    try:
        made = _context.span_in_context(span)
        assert made == trace.set_span_in_context(span)
        assert isinstance(made, otel_context.Context)
    finally:
        _context.detach(token)
    assert trace.get_current_span(made) is span
    assert otel_context.get_value("other", made) == 1


def test_without_span_key_span_in_context_uses_opentelemetrys_function(elsewhere: object) -> None:
    span = TracerProvider().get_tracer("t").start_span("s")
    elsewhere.current = otel_context.Context({"other": 1})  # type: ignore[attr-defined]

    made = _context.span_in_context(span)

    assert trace.get_current_span(made) is span
    assert made == {**elsewhere.current, trace.propagation._SPAN_KEY: span}  # type: ignore[attr-defined]
