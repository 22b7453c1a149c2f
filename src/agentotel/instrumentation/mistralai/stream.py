"""Chunk accumulation for Mistral chat streams.

Pure: events in, outcome (and, with content capture on, output messages) out. The SDK's stream
yields ``CompletionEvent``s whose ``data`` is an OpenAI-shaped ``chat.completion.chunk``: usage
comes on the last chunk, next to the finish reason; a tool call comes whole in one chunk.
"""

from __future__ import annotations

from typing import Any

from agentotel import semconv
from agentotel._lifecycle import Attributes
from agentotel.instrumentation._accumulator import Outcome
from agentotel.instrumentation._openai_wire import ChatChunkAccumulator, get
from agentotel.instrumentation.mistralai import extract


def _text_of(chunks: Any) -> str | None:
    """The text of a delta's content chunks (``{"type": "text", "text": ...}``), if any."""
    if not isinstance(chunks, list):
        return None
    found = [str(get(c, "text")) for c in chunks if get(c, "type") == "text"]
    return "".join(found) if found else None


class ChatStreamAccumulator(ChatChunkAccumulator):
    """Accumulates a Mistral chat stream: id, model, finish reasons, tool calls, usage (and, with
    capture on, text). Per event it looks only at what can change (choices, usage)."""

    __slots__ = ()

    def process(self, event: Any) -> None:
        chunk = event.data
        if self._first is None:
            self._first = chunk
        usage = chunk.usage
        if usage is not None:
            self._usage = usage
        for choice in chunk.choices:
            delta = choice.delta
            # A class test, not truth: the SDK's UNSET has a Python ``__bool__`` (a call per event).
            calls = delta.tool_calls
            if calls.__class__ is not list:
                calls = None
                if choice.finish_reason is None and self._texts is None:
                    continue  # the common chunk: one more piece of text, nothing to keep
            content = delta.content
            if not isinstance(content, str):  # UNSET, None, or chunks (a reasoning model's)
                content = _text_of(content) if self._texts is not None else None
            self._take(choice.index, choice.finish_reason, content, calls)

    def outcome(self) -> Outcome:
        a: Attributes = {}
        first = self._first
        rid = getattr(first, "id", None)
        if isinstance(rid, str) and rid:
            a[semconv.GEN_AI_RESPONSE_ID] = rid
        model = getattr(first, "model", None)
        model = model if isinstance(model, str) and model else None
        if model is not None:
            a[semconv.GEN_AI_RESPONSE_MODEL] = model
        self._put_choices(a)
        i, o = extract.usage_tokens(a, self._usage)
        return a, i, o, model
