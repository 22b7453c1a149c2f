"""Chunk accumulation for Groq chat streams (``chat.completion.chunk``).

The bookkeeping is the OpenAI chat accumulator's
(:class:`~agentotel.instrumentation._openai_wire.ChatChunkAccumulator`). What is Groq's: a
stream's usage comes in the last chunk's ``x_groq.usage`` (and in its ``usage`` when the request
asked for it with ``stream_options``), and ``x_groq.id`` is in the first and the last chunk: both
are read from the first and last chunks at the end, not per chunk. Pure: chunks in, outcome
(and, with content capture on, output messages) out.
"""

from __future__ import annotations

from typing import Any

from agentotel import semconv
from agentotel._lifecycle import Attributes
from agentotel.instrumentation._accumulator import LastChunks, Outcome
from agentotel.instrumentation._openai_wire import ChatChunkAccumulator
from agentotel.instrumentation.groq import content, extract


class ChatStreamAccumulator(ChatChunkAccumulator):
    """Id, model, finish reasons, tool calls, usage and queue time of a streamed completion."""

    __slots__ = ("_reasoning",)

    def __init__(self, capture: bool) -> None:
        super().__init__(capture)
        # A reasoning model's ``delta.reasoning`` per choice, kept only when content capture is on.
        self._reasoning: dict[int, list[str]] | None = {} if capture else None

    def process(self, chunk: Any) -> None:
        # The parent's process without its per-chunk usage read: Groq sends the usage (in
        # ``x_groq.usage``, and in ``usage`` when asked for) and ``x_groq`` only in the first and
        # last chunks, which are kept and read once, at the end. Per chunk only the choices.
        if self._first is None:
            self._first = chunk
        self._last = chunk
        for choice in chunk.choices:
            delta = choice.delta
            if (
                choice.finish_reason is None
                and self._texts is None
                and (delta is None or not delta.tool_calls)
            ):
                continue  # the common chunk: one more piece of text, nothing to keep
            self._choice(choice, delta)

    def _choice(self, choice: Any, delta: Any) -> None:
        if self._reasoning is not None and delta is not None:
            text = getattr(delta, "reasoning", None)
            if text:
                index = choice.index if isinstance(choice.index, int) else 0
                self._reasoning.setdefault(index, []).append(text)
        super()._choice(choice, delta)

    def output_messages(self) -> list[dict[str, Any]]:
        out = super().output_messages()
        reasoning = self._reasoning
        if reasoning and self._texts is not None:
            # The parent's messages, one per choice index seen, in index order.
            indexes = sorted(set(self._texts) | set(self._reasons) | {k[0] for k in self._calls})
            for index, message in zip(indexes, out, strict=False):
                if index in reasoning:
                    message["parts"].insert(0, content.reasoning_part("".join(reasoning[index])))
        return out

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
        last = self._last
        block = getattr(last, "usage", None)
        x_groq = getattr(last, "x_groq", None)
        if x_groq is not None:  # the last chunk's: the id, and the usage when there was no other
            if block is None:
                block = getattr(extract.view(x_groq), "usage", None)
        else:  # a stream left early: the first chunk's id
            x_groq = getattr(first, "x_groq", None)
        if x_groq is not None:
            extract.put_request_id(a, x_groq)
        i, o = extract.usage(a, block)
        return a, i, o, model


class LastChunksAccumulator(LastChunks):
    """A plain stream (:func:`.extract.one_plain_choice`), content capture off: its first chunk
    (the id of a stream left early) and its last two (the finish reason, ``x_groq`` with the
    usage) kept, ``process`` the window's C ``append`` after the first chunk, and read when the
    stream ends as :class:`ChatStreamAccumulator` would have read every chunk."""

    __slots__ = ()

    def __init__(self, capture: bool = False) -> None:
        super().__init__(ChatStreamAccumulator, first=True)
