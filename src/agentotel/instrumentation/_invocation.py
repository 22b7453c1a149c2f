"""Span and metric lifecycle of one LLM call, shared by sync, async and streaming wrappers.

``Invocation`` is one call, recorded through the telemetry holder
(:class:`agentotel._telemetry.Telemetry`) and guarded by its component's boundary, both given by
the wrapper's closure. Its constructor opens a CLIENT span with the attributes a sampler needs;
then exactly one of ``finish`` (success: response attributes, duration and token metrics, the tool
calls asked for remembered in ``telemetry.pending``), ``fail`` (ERROR status, ``error.type``, the
exception recorded, duration metric) or ``end`` (close the span without a verdict or metrics, for a
bug of ours) closes it. Later calls are no-ops, so a stream that is closed, then garbage-collected, ends once.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry._logs import SeverityNumber
from opentelemetry.trace import SpanKind
from opentelemetry.util.types import AttributeValue

from agentotel import semconv
from agentotel._context import current, with_span
from agentotel._lifecycle import LLM_CALL_KEY, USAGE_SINK_KEY, Attributes, SpanLifecycle, UsageSink
from agentotel._redact import exception_attributes
from agentotel._safe import Boundary
from agentotel._telemetry import Telemetry
from agentotel._usage import InvalidUsage, checked
from agentotel.metrics.inference import InferenceMetrics, span_attributes

# Attributes copied from the span's start attributes onto every metric point.
_METRIC_KEYS = (
    semconv.GEN_AI_OPERATION_NAME,
    semconv.GEN_AI_PROVIDER_NAME,
    semconv.GEN_AI_REQUEST_MODEL,
    semconv.SERVER_ADDRESS,
    semconv.SERVER_PORT,
)

# Metric attributes by (guard, the start attributes above, response model): every call of one
# model through one client has the same, so they are made once. Only those whose models the guard
# let through are kept (a value it once admitted it always admits); the guard is kept with them,
# so its id is not reused meanwhile. At most _LABELS_MAX, then it starts over.
_LABELS: dict[tuple[Any, ...], tuple[object, dict[str, Any]]] = {}
_LABELS_MAX = 256


class Invocation(SpanLifecycle):
    """One LLM call: its span, its timing and, for streams, its chunk timing."""

    __slots__ = (
        "_chunks",
        "_content",
        "_context",
        "_first_chunk_ns",
        "_last_chunk_ns",
        "_sink",
        "attributes",
        "boundary",
        "secrets",
        "telemetry",
    )

    def __init__(
        self,
        telemetry: Telemetry,
        boundary: Boundary,
        name: str,
        attributes: Attributes,
        context: otel_context.Context | None = None,
    ) -> None:
        # ``context``: the current context, when the caller has it already (read once per call).
        if context is None:
            context = current()
        super().__init__(
            telemetry.tracer.start_span(name, context, kind=SpanKind.CLIENT, attributes=attributes)
        )
        self._context: otel_context.Context | None = context
        self.telemetry = telemetry
        self.boundary = boundary
        self.attributes = attributes
        self._first_chunk_ns = 0
        self._last_chunk_ns = 0
        self._chunks = 0
        self._content: Attributes | None = None
        self._sink: UsageSink | None = context.get(USAGE_SINK_KEY)  # type: ignore[assignment]
        # Strings to redact from captured content; None means content capture is off.
        self.secrets: tuple[str, ...] | None = None

    # --- context -----------------------------------------------------------------------------
    def activate(self) -> None:
        """Make the span current while the SDK sends the request (children nest under it).

        The context also carries :data:`LLM_CALL_KEY`, so code below can tell that an agentotel
        LLM span already covers this call (and not emit a second one).
        """
        context, self._context = self._context, None
        self.attach(with_span(self.span, current() if context is None else context, LLM_CALL_KEY, True))

    # --- content (only called when capture is on) ---------------------------------------------
    def add_content(self, attributes: Attributes) -> None:
        """Record captured content: on the span and/or, at the end, in the details event."""
        capture = self.telemetry.settings.capture
        if capture.on_span and self.recording:
            self.span.set_attributes(attributes)
        if capture.on_event:
            if self._content is None:
                self._content = {}
            self._content.update(attributes)

    # --- streams ---------------------------------------------------------------------------
    def chunks_seen(self, count: int, first_ns: int, last_ns: int) -> float:
        """Record a stream's chunk timing (``perf_counter_ns`` values); returns the time to the
        first chunk in seconds, for the span attribute."""
        self._chunks = count
        self._first_chunk_ns = first_ns
        self._last_chunk_ns = last_ns
        return (first_ns - self._start_ns) / 1e9

    # --- ends --------------------------------------------------------------------------------
    def finish(
        self,
        attributes: Mapping[str, AttributeValue] | None,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        response_model: str | None = None,
    ) -> None:
        """End successfully: set response attributes, record duration and token usage."""
        if self._ended:
            return
        self._ended = True
        try:
            attributes, input_tokens, output_tokens, invalid = checked(
                attributes, input_tokens, output_tokens
            )
            if invalid:
                self.boundary.report(InvalidUsage(invalid))
            cost = self.telemetry.costing.record(
                self.attributes, attributes, input_tokens, output_tokens, response_model
            )
            usage = attributes
            inference = self.telemetry.inference
            if inference is not None and attributes:
                attributes = span_attributes(attributes)
            if self.recording:
                if cost is not None:
                    attributes = {**(attributes or {}), semconv.AGENTOTEL_USAGE_COST_USD: cost}
                if attributes:
                    self.span.set_attributes(attributes)
            metric_attrs = self._metric_attributes(response_model, False)
            if inference is None:
                self._record_durations(metric_attrs)
                tokens = self.telemetry.tokens
                if input_tokens is not None:
                    tokens.record(
                        input_tokens, {**metric_attrs, semconv.GEN_AI_TOKEN_TYPE: semconv.TOKEN_INPUT}
                    )
                if output_tokens is not None:
                    tokens.record(
                        output_tokens, {**metric_attrs, semconv.GEN_AI_TOKEN_TYPE: semconv.TOKEN_OUTPUT}
                    )
            else:
                self._record_latest(inference, metric_attrs, input_tokens, output_tokens, usage, None)
            if self._sink is not None:
                self._sink.add(
                    input_tokens, output_tokens, cost, self.attributes.get(semconv.GEN_AI_PROVIDER_NAME)
                )
            if self._content is not None:
                self._emit_details()
        finally:
            self.span.end()
        if attributes and semconv.AGENTOTEL_TOOL_CALL_IDS in attributes:
            self._remember_tool_calls(attributes)

    def fail(self, exc: BaseException, attributes: Mapping[str, AttributeValue] | None = None) -> None:
        """End with an error: ``error.type``, ERROR status, the exception recorded."""
        if self._ended:
            return
        self._ended = True
        span = self.span
        try:
            inference = self.telemetry.inference
            if inference is not None and attributes:
                attributes = span_attributes(attributes)
            etype = self.mark_failed(exc, attributes)
            metric_attrs = self._metric_attributes(None, True)
            guarded = self.telemetry.cardinality(semconv.ERROR_TYPE, etype)
            if inference is None:
                metric_attrs[semconv.ERROR_TYPE] = guarded
                self._record_durations(metric_attrs)
            else:
                self._record_latest(inference, metric_attrs, None, None, None, guarded)
            if self._sink is not None:
                self._sink.add(None, None, None, self.attributes.get(semconv.GEN_AI_PROVIDER_NAME))
            self._emit_exception(exc)
            if self._content is not None:
                self._emit_details()
        finally:
            span.end()

    def end(self, attributes: Mapping[str, AttributeValue] | None = None) -> None:
        """End without judging the outcome (a bug of ours, or a stream cut short by its reader)."""
        self.close(attributes)

    def _metric_attributes(self, response_model: str | None, new: bool) -> dict[str, Any]:
        """The attributes of the call's metric points: a new dict (``new``: the caller adds to it),
        else possibly the one kept for these labels, which nothing may change."""
        source = self.attributes
        guard = self.telemetry.cardinality
        key = (id(guard), *map(source.get, _METRIC_KEYS), response_model)
        try:
            known = _LABELS.get(key)
        except TypeError:  # an unhashable attribute value: made every time
            known, key = None, ()
        if known is not None and known[0] is guard:
            return dict(known[1]) if new else known[1]
        attrs = {k: source[k] for k in _METRIC_KEYS if k in source}
        admitted = True
        model = attrs.get(semconv.GEN_AI_REQUEST_MODEL)
        if model:
            label = guard(semconv.GEN_AI_REQUEST_MODEL, str(model))
            attrs[semconv.GEN_AI_REQUEST_MODEL] = label
            admitted = label == model
        if response_model:
            label = guard(semconv.GEN_AI_RESPONSE_MODEL, response_model)
            attrs[semconv.GEN_AI_RESPONSE_MODEL] = label
            admitted = admitted and label == response_model
        if admitted and key:
            if len(_LABELS) >= _LABELS_MAX:
                _LABELS.clear()
            _LABELS[key] = (guard, dict(attrs))
        return attrs

    def _remember_tool_calls(self, attributes: Mapping[str, AttributeValue]) -> None:
        ids = attributes[semconv.AGENTOTEL_TOOL_CALL_IDS]
        names = attributes.get(semconv.AGENTOTEL_TOOL_CALL_NAMES, ())
        # The extractors make lists (the span SDK keeps them as they are or as tuples).
        if isinstance(ids, (list, tuple)) and isinstance(names, (list, tuple)):
            # The tool runs from the end of this response: the span's own end time, when it has one.
            span = self.span
            ended = getattr(span, "end_time", None)
            requested = ended if isinstance(ended, int) else time.time_ns()
            self.telemetry.pending.add(ids, names, requested, span.get_span_context().trace_id)

    def _record_durations(self, metric_attrs: dict[str, Any]) -> None:
        now = time.perf_counter_ns()
        t = self.telemetry
        t.duration.record((now - self._start_ns) / 1e9, metric_attrs)
        if self._chunks:
            t.time_to_first_chunk.record((self._first_chunk_ns - self._start_ns) / 1e9, metric_attrs)
            if self._chunks > 1:
                mean = (self._last_chunk_ns - self._first_chunk_ns) / (self._chunks - 1) / 1e9
                t.time_per_output_chunk.record(mean, metric_attrs)

    def _record_latest(
        self,
        inference: InferenceMetrics,
        metric_attrs: dict[str, Any],
        input_tokens: int | None,
        output_tokens: int | None,
        usage: Mapping[str, AttributeValue] | None,
        error_type: str | None,
    ) -> None:
        """Latest mode: the call's metrics, and one inference call for the nearest agent round."""
        first_chunk = per_chunk = None
        if self._chunks:
            first_chunk = (self._first_chunk_ns - self._start_ns) / 1e9
            if self._chunks > 1:
                per_chunk = (self._last_chunk_ns - self._first_chunk_ns) / (self._chunks - 1) / 1e9
        inference.record(
            metric_attrs,
            self.elapsed(),
            (first_chunk, per_chunk),
            input_tokens,
            output_tokens,
            usage,
            error_type,
        )
        sink = self._sink
        if sink is not None and sink.round is not None:
            sink.round.count_inference()

    def _emit_exception(self, exc: BaseException) -> None:
        """The ``gen_ai.client.operation.exception`` event (WARN), redacted like the span's
        ``exception`` event (gen-ai-exceptions.md, in both modes)."""
        _message, attributes = exception_attributes(exc)
        now = time.time_ns()
        self.telemetry.logger.emit(
            timestamp=now,
            observed_timestamp=now,
            severity_number=SeverityNumber.WARN,
            severity_text="WARN",
            event_name=semconv.EVENT_OPERATION_EXCEPTION,
            attributes=attributes,
            context=trace.set_span_in_context(self.span),
        )

    def _emit_details(self) -> None:
        """The ``gen_ai.client.inference.operation.details`` event: request/response metadata + content."""
        logger = self.telemetry.events
        if logger is None or self._content is None:
            return
        attributes: Attributes = {k: v for k, v in self.attributes.items() if k in _METRIC_KEYS}
        attributes.update(self._content)
        now = time.time_ns()  # the call's end: the event is emitted just before its span ends
        logger.emit(
            timestamp=now,
            observed_timestamp=now,
            severity_number=SeverityNumber.INFO,
            severity_text="INFO",
            event_name=semconv.EVENT_INFERENCE_DETAILS,
            attributes=attributes,
            context=trace.set_span_in_context(self.span),
        )
