"""What a provider writes for its streams: a pure chunk accumulator.

An accumulator takes the chunks (events) of one streamed response and reports the outcome. It
knows nothing of spans, metrics, settings or content encoding: the engine
(:mod:`agentotel.instrumentation._streams`) times the chunks, asks for the outcome when the stream
ends, encodes and redacts the output messages when content capture is on, and ends the span.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from agentotel._lifecycle import Attributes

Outcome = tuple[Attributes, int | None, int | None, str | None]
"""Response attributes, input tokens, output tokens, response model."""


class StreamAccumulator:
    """Per-stream chunk processing; a provider subclasses it with these three methods.

    ``capture`` is true when content capture is on: only then is :meth:`output_messages` called,
    so an accumulator keeps the text it needs for it only then.
    """

    __slots__ = ()

    def __init__(self, capture: bool) -> None:
        """A fresh accumulator for one stream (``capture``: keep what output messages need)."""

    def process(self, chunk: Any) -> None:
        """Take what the outcome needs from one chunk (may raise: the engine's boundary catches)."""
        raise NotImplementedError

    def outcome(self) -> Outcome:
        """Response attributes, input tokens, output tokens and response model seen so far."""
        raise NotImplementedError

    def output_messages(self) -> list[dict[str, Any]]:
        """The semconv output messages seen so far (called only when ``capture`` was true)."""
        return []


class LastChunks(StreamAccumulator):
    """A stream whose outcome is in its last two chunks (and, with ``first``, its first one):
    kept, and read at the end by a fresh ``reader`` (the provider's every-chunk accumulator, with
    capture off), as it would have read them. Per chunk ``process`` is the window's ``append``, a
    C method: the engine's per-chunk call runs no Python frame (with ``first``, the first chunk's
    does, then ``process`` is the ``append``). For a request that can get neither a tool call nor
    a second choice, with content capture off (:class:`~._operation.PlainStreams`): its one
    choice's finish reason comes in the chunk that ends it, the last or the one before a usage
    chunk of its own; a stream left before its end has none in any chunk."""

    __slots__ = ("_events", "_first", "_reader", "process")

    KEPT = 2

    def __init__(self, reader: type[StreamAccumulator], first: bool = False) -> None:
        events: deque[Any] = deque(maxlen=self.KEPT)
        self._events = events
        self._reader = reader
        self._first: Any = None
        self.process = self._take_first if first else events.append  # type: ignore[method-assign,assignment]

    def _take_first(self, chunk: Any) -> None:
        self._first = chunk
        self._events.append(chunk)
        self.process = self._events.append  # type: ignore[method-assign,assignment]

    def outcome(self) -> Outcome:
        reader = self._reader(False)
        events = self._events
        first = self._first
        if first is not None and events[0] is not first:
            reader.process(first)
        for event in events:
            reader.process(event)
        return reader.outcome()
