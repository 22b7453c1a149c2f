"""Chunk accumulation for LiteLLM streams (``CustomStreamWrapper`` of ``ModelResponseStream``).

The chunks are OpenAI-shaped whatever the provider: the per-chunk work is the OpenAI chat
accumulator's (:class:`~agentotel.instrumentation._openai_wire.ChatChunkAccumulator`). Usage
comes only when the provider sends it (``stream_options={"include_usage": True}`` for
OpenAI-compatible ones; Anthropic always): it is never estimated. Pure: chunks in, outcome (and,
with content capture on, output messages) out.
"""

from __future__ import annotations

from agentotel._lifecycle import Attributes
from agentotel.instrumentation._accumulator import Outcome
from agentotel.instrumentation._openai_wire import ChatChunkAccumulator
from agentotel.instrumentation.litellm import extract


class CompletionStreamAccumulator(ChatChunkAccumulator):
    """Id, model, finish reasons, usage and tool calls of a streamed ``completion``."""

    __slots__ = ()

    def outcome(self) -> Outcome:
        a: Attributes = {}
        model = extract.put_head(a, self._first) if self._first is not None else None
        self._put_choices(a)
        i, o = extract.usage(a, self._usage)
        return a, i, o, model
