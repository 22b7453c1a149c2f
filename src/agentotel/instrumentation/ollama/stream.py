"""Accumulation of Ollama's streamed replies (NDJSON lines, each a ``ChatResponse`` or
``GenerateResponse``).

Every line repeats the model; text (and thinking) comes in pieces, tool calls whole in one line;
the last line has ``done: true`` with the finish reason, the token counts and the server's
durations. Pure: chunks in, outcome (and, with content capture on, output messages) out.
"""

from __future__ import annotations

from typing import Any

from agentotel._lifecycle import Attributes
from agentotel.instrumentation._accumulator import Outcome, StreamAccumulator
from agentotel.instrumentation.ollama.content import chat_output_messages, generate_output_messages
from agentotel.instrumentation.ollama.extract import calls_of, put_done, put_model, put_tool_calls


class _Merged:
    """What :func:`.content.chat_output_messages` / ``generate_output_messages`` read, merged
    from the chunks (the text only with content capture on)."""

    __slots__ = ("content", "done_reason", "response", "thinking", "tool_calls")

    def __init__(self) -> None:
        self.content = ""
        self.thinking = ""
        self.response = ""
        self.tool_calls: list[Any] = []
        self.done_reason: Any = None

    @property
    def message(self) -> _Merged:
        return self


class ChatAccumulator(StreamAccumulator):
    """Model, tool calls and the ``done`` line of a ``/api/chat`` stream."""

    __slots__ = ("_calls", "_head", "_last", "_merged")

    def __init__(self, capture: bool) -> None:
        self._head: Any = None
        self._last: Any = None
        self._calls: list[Any] = []
        self._merged = _Merged() if capture else None

    def process(self, chunk: Any) -> None:
        self._head = chunk
        if chunk.done:
            self._last = chunk
        message = chunk.message
        calls = message.tool_calls
        if calls:
            self._calls.extend(calls)
        merged = self._merged
        if merged is not None:
            merged.content += message.content or ""
            merged.thinking += getattr(message, "thinking", None) or ""  # ollama>=0.5.0

    def outcome(self) -> Outcome:
        a: Attributes = {}
        model = put_model(a, self._head) if self._head is not None else None
        put_tool_calls(a, calls_of(self._calls))
        i, o = put_done(a, self._last) if self._last is not None else (None, None)
        return a, i, o, model

    def output_messages(self) -> list[dict[str, Any]]:
        merged = self._merged
        if merged is None:
            return []
        merged.tool_calls = self._calls
        merged.done_reason = self._last.done_reason if self._last is not None else None
        return chat_output_messages(merged)


class GenerateAccumulator(StreamAccumulator):
    """Model and the ``done`` line of a ``/api/generate`` stream."""

    __slots__ = ("_head", "_last", "_merged")

    def __init__(self, capture: bool) -> None:
        self._head: Any = None
        self._last: Any = None
        self._merged = _Merged() if capture else None

    def process(self, chunk: Any) -> None:
        self._head = chunk
        if chunk.done:
            self._last = chunk
        merged = self._merged
        if merged is not None:
            merged.response += chunk.response or ""
            merged.thinking += getattr(chunk, "thinking", None) or ""  # ollama>=0.5.0

    def outcome(self) -> Outcome:
        a: Attributes = {}
        model = put_model(a, self._head) if self._head is not None else None
        i, o = put_done(a, self._last) if self._last is not None else (None, None)
        return a, i, o, model

    def output_messages(self) -> list[dict[str, Any]]:
        merged = self._merged
        if merged is None:
            return []
        merged.done_reason = self._last.done_reason if self._last is not None else None
        return generate_output_messages(merged)
