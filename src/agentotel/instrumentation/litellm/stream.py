"""Chunk accumulation for LiteLLM streams (``CustomStreamWrapper`` of ``ModelResponseStream``).

The chunks are OpenAI-shaped whatever the provider: the bookkeeping is the OpenAI chat
accumulator's (:class:`~agentotel.instrumentation._openai_wire.ChatChunkAccumulator`). Only the
reading differs: LiteLLM keeps a streamed choice's values (``delta``, ``finish_reason``,
``index``), a delta's (``content``, ``tool_calls``) and a chunk's ``usage`` as pydantic *extras*,
which an attribute read reaches only after pydantic's ``__getattr__`` has failed its own lookups
(one to four ``AttributeError`` raised and caught, several microseconds per read: most of what
the stream cost us per chunk). :func:`~.extract.field` reads them where pydantic keeps them. Usage comes
only when the provider sends it (``stream_options={"include_usage": True}`` for OpenAI-compatible
ones; Anthropic always): it is never estimated. Pure: chunks in, outcome (and, with content
capture on, output messages) out.
"""

from __future__ import annotations

from typing import Any

from agentotel._lifecycle import Attributes
from agentotel.instrumentation._accumulator import Outcome
from agentotel.instrumentation._openai_wire import ChatChunkAccumulator
from agentotel.instrumentation.litellm import extract

field = extract.field


class CompletionStreamAccumulator(ChatChunkAccumulator):
    """Id, model, finish reasons, usage and tool calls of a streamed ``completion``."""

    __slots__ = ()

    def process(self, chunk: Any) -> None:
        # The response head is read from the first chunk; no later chunk is kept (``_last`` is
        # the OpenAI accumulator's).
        if self._first is None:
            self._first = chunk
        try:  # LiteLLM's layout, read inline: the common chunk costs a few dict reads
            fields = chunk.__dict__
            choices = fields["choices"]
            extra = chunk.__pydantic_extra__
            if "usage" in extra:  # an extra on every LiteLLM chunk that carries it
                usage = extra["usage"]
                if usage is not None:
                    self._usage = usage
            elif "usage" in fields:
                usage = fields["usage"]
                if usage is not None:
                    self._usage = usage
        except (AttributeError, KeyError, TypeError):  # another layout: read field by field
            usage = field(chunk, "usage")
            if usage is not None:
                self._usage = usage
            choices = field(chunk, "choices")
        for choice in choices or ():
            try:
                extra = choice.__pydantic_extra__
                delta = extra["delta"]
                reason = extra["finish_reason"]
                calls = delta.__pydantic_extra__["tool_calls"]
            except (AttributeError, KeyError, TypeError):  # another layout
                delta = field(choice, "delta")
                reason = field(choice, "finish_reason")
                calls = field(delta, "tool_calls")
            if reason is None and not calls and self._texts is None:
                continue  # the common chunk: one more piece of text, nothing to keep
            self._take(field(choice, "index"), reason, field(delta, "content"), calls)

    def outcome(self) -> Outcome:
        a: Attributes = {}
        model = extract.put_head(a, self._first) if self._first is not None else None
        self._put_choices(a)
        i, o = extract.usage(a, self._usage)
        return a, i, o, model
