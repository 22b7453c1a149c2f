"""``agentotel.session``: a conversation as context, not a span.

Inside a session, the ``SessionSpanProcessor`` (:mod:`agentotel.agent._session_state`) stamps
``gen_ai.conversation.id`` (and ``user.id``) on every span that starts, whichever instrumentation
creates it. The session also
counts itself: ``agentotel.session.active`` while open, ``agentotel.session.count`` by final status
and ``agentotel.session.messages`` when it ends.
"""

from __future__ import annotations

from opentelemetry import context as otel_context
from opentelemetry.context import Context

from agentotel import semconv
from agentotel._telemetry import Telemetry
from agentotel.agent._block import Block
from agentotel.agent._layer import ensure_session_processor
from agentotel.agent._session_state import SESSION_KEY, SessionState


class Session(Block):
    """An open conversation (see :func:`agentotel.session`)."""

    __slots__ = ("_state", "conversation_id", "user_id")

    def __init__(self, conversation_id: str, user_id: str | None, layer: Telemetry | None = None):
        super().__init__(layer)
        self.conversation_id = conversation_id
        self.user_id = user_id
        self._state: SessionState | None = None

    def add_messages(self, count: int = 1) -> None:
        """Count ``count`` messages in this session (otherwise each agent round counts as one)."""
        if self._state is not None:
            self._state.add_messages(count)

    def _fresh(self) -> Session:
        return Session(self.conversation_id, self.user_id, self._layer)

    def _open(self, layer: Telemetry) -> None:
        ensure_session_processor(layer.tracer_provider)
        self._state = SessionState(
            str(self.conversation_id), None if self.user_id is None else str(self.user_id)
        )
        layer.agent_instruments.session_active.add(1)

    def _context(self) -> Context | None:
        return otel_context.set_value(SESSION_KEY, self._state)

    def _close(self, layer: Telemetry, exc: BaseException | None) -> None:
        state = self._state
        if state is None:
            return
        instruments = layer.agent_instruments
        instruments.session_active.add(-1)
        status = semconv.SESSION_FAILED if exc is not None else semconv.SESSION_COMPLETED
        instruments.session_count.add(1, {semconv.AGENTOTEL_SESSION_STATUS: status})
        messages = state.messages if state.messages is not None else state.rounds
        instruments.session_messages.record(messages, {semconv.AGENTOTEL_SESSION_STATUS: status})


def session(conversation_id: str, *, user_id: str | None = None) -> Session:
    """Mark everything inside as one conversation (context, not a span)::

        with agentotel.session("conv-42", user_id="u-7") as s:
            answer = run_agent_round(question)     # every span here carries the ids
            s.add_messages(2)                      # optional: else agent rounds are counted

    Every span started inside (ours and other instrumentations', on an SDK tracer provider) gets
    ``gen_ai.conversation.id`` and ``user.id``. The ids never become metric attributes.
    """
    return Session(conversation_id, user_id)
