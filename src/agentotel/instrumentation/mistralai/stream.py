"""Chunk accumulation for Mistral chat streams.

Pure: events in, outcome (and, with content capture on, output messages) out. The SDK's stream
yields ``CompletionEvent``s whose ``data`` is an OpenAI-shaped ``chat.completion.chunk``: every
chunk carries the response id and model, usage comes on the last chunk, next to the finish
reason; a tool call comes whole in one chunk.

Per event only what can change is read: the chunk's choices, each choice's tool calls and finish
reason (every attribute read on the SDK's pydantic models takes CPython's slow path, since
pydantic's ``BaseModel`` defines ``__getattr__``). The chunk is kept as the last one seen: the
id, the model and the usage are read from it when the stream ends, and the usage also from any
chunk that ends a choice or carries a tool call.

A request that can get neither a tool call nor more than one choice (no tools offered, ``n`` at
most 1; :func:`.extract.one_plain_choice`) with content capture off is read with
:class:`LastEventsAccumulator` instead: per event nothing runs but a C ``deque.append`` (no Python
frame), and at the end the last two events kept are read as above. That is all such a stream
holds for the span: its one choice's finish reason, which ends the choice (Mistral sends it in the
last event, with the usage; two events also cover an OpenAI-style usage event of its own after
it), and the id, model and usage of the last event. A stream left before its end has no finish
reason in any event, so none in the last two either.
"""

from __future__ import annotations

from typing import Any

from agentotel import semconv
from agentotel._lifecycle import Attributes
from agentotel.instrumentation._accumulator import LastChunks, Outcome
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
    capture on, text). Per event it reads five attributes of the SDK's models (the module
    docstring says why so few)."""

    __slots__ = ()

    def process(self, event: Any) -> None:
        chunk = self._last = event.data
        for choice in chunk.choices:
            # A class test, not truth: the SDK's UNSET has a Python ``__bool__`` (a call per event).
            calls = choice.delta.tool_calls
            if calls.__class__ is not list:
                if choice.finish_reason is None and self._texts is None:
                    continue  # the common chunk: one more piece of text, nothing to keep
                calls = None
            self._keep(chunk, choice, calls)

    def _keep(self, chunk: Any, choice: Any, calls: list[Any] | None) -> None:
        """A choice that ends, calls a tool or (capture on) adds text: what it adds, and the usage
        of its chunk."""
        usage = chunk.usage
        if usage is not None:
            self._usage = usage
        content = choice.delta.content
        if not isinstance(content, str):  # UNSET, None, or chunks (a reasoning model's)
            content = _text_of(content) if self._texts is not None else None
        self._take(choice.index, choice.finish_reason, content, calls)

    def outcome(self) -> Outcome:
        a: Attributes = {}
        last = self._last
        rid = getattr(last, "id", None)
        if isinstance(rid, str) and rid:
            a[semconv.GEN_AI_RESPONSE_ID] = rid
        model = getattr(last, "model", None)
        model = model if isinstance(model, str) and model else None
        if model is not None:
            a[semconv.GEN_AI_RESPONSE_MODEL] = model
        self._put_choices(a)
        usage = getattr(last, "usage", None)  # Mistral's place for it: the last chunk
        i, o = extract.usage_tokens(a, usage if usage is not None else self._usage)
        return a, i, o, model


class LastEventsAccumulator(LastChunks):
    """A stream of one choice that cannot call a tool, content capture off: its last two events
    kept (``process`` is the window's C ``append``) and read when the stream ends, as
    :class:`ChatStreamAccumulator` would have read them."""

    __slots__ = ()

    def __init__(self, capture: bool = False) -> None:
        super().__init__(ChatStreamAccumulator)
