"""The span-backed blocks' shared part: open an INTERNAL span, close it through the core
:class:`~agentotel._lifecycle.SpanLifecycle` (the same end-exactly-once and failure handling as
the LLM spans), then record the block's metrics."""

from __future__ import annotations

from typing import ClassVar

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import INVALID_SPAN, SpanKind, Status, StatusCode
from opentelemetry.util.types import AttributeValue

from agentotel import semconv
from agentotel._context import span_in_context
from agentotel._lifecycle import Attributes, SpanLifecycle
from agentotel._redact import redact
from agentotel._telemetry import Telemetry
from agentotel.agent._block import Block


class SpanBlock(Block):
    """A block that is one span."""

    __slots__ = ("_ctx", "_error_result", "_life")
    operation: ClassVar[str]

    def __init__(self, layer: Telemetry | None = None) -> None:
        super().__init__(layer)
        self._life: SpanLifecycle | None = None
        self._ctx: otel_context.Context | None = None
        self._error_result: tuple[str, str] | None = None

    # --- what subclasses implement -------------------------------------------------------------
    def _name(self) -> str:
        raise NotImplementedError

    def _attributes(self, layer: Telemetry) -> Attributes:
        raise NotImplementedError

    def _extend(self, ctx: otel_context.Context) -> otel_context.Context:
        """Add the block's own context values (step counter, usage sink) to ``ctx``."""
        return ctx

    def _end_attributes(self, layer: Telemetry, failed: bool) -> Attributes | None:
        return None

    def _record(self, layer: Telemetry, seconds: float, etype: str | None) -> None:
        """Record the block's metrics."""

    # --- Block ---------------------------------------------------------------------------------
    def _open(self, layer: Telemetry) -> None:
        span = layer.tracer.start_span(
            self._name(), kind=SpanKind.INTERNAL, attributes=self._attributes(layer)
        )
        self._life = SpanLifecycle(span)
        self._ctx = self._extend(span_in_context(span))

    def _context(self) -> otel_context.Context | None:
        return self._ctx

    def _close(self, layer: Telemetry, exc: BaseException | None) -> None:
        life = self._life
        if life is None:
            return
        attrs: Attributes | None = None
        try:
            etype = None
            if exc is not None:
                etype = life.mark_failed(exc)
            elif self._error_result is not None:
                etype, message = self._error_result
                life.span.set_status(Status(StatusCode.ERROR, redact(message)))
                if life.recording:
                    life.span.set_attribute(semconv.ERROR_TYPE, etype)
            attrs = self._end_attributes(layer, etype is not None)
            # The span keeps the real error type; the metrics get it through the cardinality guard.
            guarded = layer.cardinality(semconv.ERROR_TYPE, etype) if etype is not None else None
            self._record(layer, life.elapsed(), guarded)
        finally:
            life.close(attrs)

    # --- for the app ---------------------------------------------------------------------------
    def mark_error_result(self, error_type: str, message: str) -> None:
        """The block failed without raising (a tool that returned an error result): at the end,
        ERROR status with ``message`` and ``error.type`` = ``error_type``, also on its metrics."""
        self._error_result = (error_type, message)

    @property
    def span(self) -> trace.Span:
        """The block's span (a non-recording one outside the block or when suppressed)."""
        return self._life.span if self._life is not None else INVALID_SPAN

    def set_attribute(self, key: str, value: AttributeValue) -> None:
        """Set an attribute on the block's span."""
        if self._life is not None:
            self._life.span.set_attribute(key, value)
