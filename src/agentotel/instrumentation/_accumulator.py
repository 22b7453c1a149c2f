"""What a provider writes for its streams: a pure chunk accumulator.

An accumulator takes the chunks (events) of one streamed response and reports the outcome. It
knows nothing of spans, metrics, settings or content encoding: the engine
(:mod:`agentotel.instrumentation._streams`) times the chunks, asks for the outcome when the stream
ends, encodes and redacts the output messages when content capture is on, and ends the span.
"""

from __future__ import annotations

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
