"""The handler reads and sets OpenTelemetry's current context through the runtime context's
``ContextVar`` (one C call per workflow step), and through ``get_current()`` / ``attach()`` when
OpenTelemetry keeps it elsewhere (runs without LlamaIndex installed)."""

from __future__ import annotations

import pytest
from opentelemetry import context as otel_context

from agentotel.instrumentation.llama_index import handler


def test_the_handler_reads_and_sets_the_same_context_as_opentelemetry() -> None:
    var = handler.runtime_var()
    assert var is not None
    ctx = otel_context.set_value("k", "v")

    token = var.set(ctx)
    try:
        assert otel_context.get_current() is ctx
        assert var.get() is otel_context.get_current()
    finally:
        var.reset(token)


def test_another_runtime_context_is_read_through_opentelemetrys_functions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Elsewhere:
        """A runtime context that keeps no ``ContextVar`` (``OTEL_PYTHON_CONTEXT``)."""

    monkeypatch.setattr(otel_context, "_RUNTIME_CONTEXT", Elsewhere())

    assert handler.runtime_var() is None
