"""What an open session puts in the context, and the span processor that stamps it on spans.

Kept apart from :mod:`agentotel.agent._session` (the ``session`` block) so that the agent layer's
set-up (:mod:`agentotel.agent._layer`) can attach the processor without importing any block.
"""

from __future__ import annotations

import threading

from opentelemetry import context as otel_context
from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor

from agentotel import semconv

SESSION_KEY = otel_context.create_key("agentotel-session")


class SessionState:
    """What the context carries for an open session."""

    __slots__ = ("_lock", "attributes", "conversation_id", "messages", "rounds", "user_id")

    def __init__(self, conversation_id: str, user_id: str | None) -> None:
        self.conversation_id = conversation_id
        self.user_id = user_id
        attrs: dict[str, str] = {semconv.GEN_AI_CONVERSATION_ID: conversation_id}
        if user_id is not None:
            attrs[semconv.USER_ID] = user_id
        self.attributes = attrs
        self.messages: int | None = None
        self.rounds = 0
        self._lock = threading.Lock()

    def add_messages(self, count: int) -> None:
        with self._lock:
            self.messages = (self.messages or 0) + count

    def add_round(self) -> None:
        with self._lock:
            self.rounds += 1


def current_session(ctx: Context | None = None) -> SessionState | None:
    return otel_context.get_value(SESSION_KEY, ctx)  # type: ignore[return-value]


class SessionSpanProcessor(SpanProcessor):
    """Stamps the current session's conversation and user ids on every span at start."""

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        state = otel_context.get_value(SESSION_KEY, parent_context)
        if state is not None:
            span.set_attributes(state.attributes)  # type: ignore[attr-defined]

    def on_end(self, span: ReadableSpan) -> None:
        pass

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True
