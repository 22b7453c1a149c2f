"""The ids that tie a log line or an error event to its telemetry, read from the current context.

* ``trace_id`` / ``span_id``: the current OpenTelemetry span, lowercase hex (32 / 16 digits);
* ``conversation_id``: the open :func:`agentotel.session`;
* ``run_id``: the run-store folder of the current span's run (``20261121T101502.123Z_4bf92f35...``),
  when a :class:`~agentotel.processors.RunStoreSpanProcessor` records it.

Each is None when unknown. Reading them never raises: these functions run inside logging
formatters and Sentry's ``before_send``, where an error would cost the app its log line or its
error report, and where logging the error could recurse into the same handler.
"""

from __future__ import annotations

from dataclasses import dataclass

from opentelemetry import trace

from agentotel.agent._session_state import current_session

try:
    from agentotel.processors.runstore._api import current_run
except ImportError:  # pragma: no cover - a build without the run store
    current_run = None  # type: ignore[assignment]


@dataclass(frozen=True)
class Correlation:
    """What the current context says about where we are."""

    trace_id: str | None = None
    span_id: str | None = None
    conversation_id: str | None = None
    run_id: str | None = None


NONE = Correlation()


def current() -> Correlation:
    """The ids of the current context (all None outside any span and session)."""
    trace_id = span_id = None
    try:
        ctx = trace.get_current_span().get_span_context()
        if ctx.is_valid:
            trace_id = trace.format_trace_id(ctx.trace_id)
            span_id = trace.format_span_id(ctx.span_id)
    except Exception:
        pass
    return Correlation(trace_id, span_id, _conversation_id(), _run_id() if span_id else None)


def _conversation_id() -> str | None:
    try:
        state = current_session()
        return None if state is None else state.conversation_id
    except Exception:
        return None


def _run_id() -> str | None:
    """The run store's id for the current span: its ``current_run()`` lookup, behind this guard
    so that a missing or failing run store only costs the field."""
    if current_run is None:
        return None
    try:
        run = current_run()
        return None if run is None else run.info.run_id
    except Exception:
        return None
