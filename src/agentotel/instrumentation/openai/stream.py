"""Chunk accumulation for OpenAI streams (chat completion chunks and Responses API events).

Pure: chunks in, outcome (and, with content capture on, output messages) out.
"""

from __future__ import annotations

from typing import Any

from agentotel import semconv
from agentotel._lifecycle import Attributes
from agentotel.instrumentation._accumulator import Outcome, StreamAccumulator
from agentotel.instrumentation._openai_wire import ChatChunkAccumulator
from agentotel.instrumentation.openai import content, extract


class ChatStreamAccumulator(ChatChunkAccumulator):
    """Accumulates ``chat.completion.chunk`` objects: id, model, finish reasons, usage, tool calls.

    Per chunk it only looks at what can change (choices, usage); the response head (id, model,
    fingerprint, service tier) is read once, at the end, from the first and last chunks.
    """

    __slots__ = ()

    def outcome(self) -> Outcome:
        # Chunks are kept as they came; types are checked once, here, not per chunk.
        # Every stream ends here: plain statements, no loop over a table (it costs more).
        a: Attributes = {}
        first, last = self._first, self._last
        rid = getattr(first, "id", None)
        if isinstance(rid, str) and rid:
            a[semconv.GEN_AI_RESPONSE_ID] = rid
        model = getattr(first, "model", None)
        model = model if isinstance(model, str) and model else None
        if model is not None:
            a[semconv.GEN_AI_RESPONSE_MODEL] = model
        tier = getattr(last, "service_tier", None) or getattr(first, "service_tier", None)
        if isinstance(tier, str) and tier:
            a[semconv.OPENAI_RESPONSE_SERVICE_TIER] = tier
        fingerprint = getattr(first, "system_fingerprint", None)
        if isinstance(fingerprint, str) and fingerprint:
            a[semconv.OPENAI_RESPONSE_SYSTEM_FINGERPRINT] = fingerprint
        self._put_choices(a)
        i, o = extract.chat_usage(a, self._usage)
        return a, i, o, model


class ResponsesStreamAccumulator(StreamAccumulator):
    """Accumulates Responses API stream events; the terminal event carries the full response."""

    __slots__ = ("_response",)

    def __init__(self, capture: bool) -> None:
        self._response: Any = None

    def process(self, event: Any) -> None:
        response = getattr(event, "response", None)
        if response is not None:
            # created / in_progress / completed / incomplete / failed: the latest snapshot wins.
            self._response = extract.attribute_view(response) if isinstance(response, dict) else response

    def outcome(self) -> Outcome:
        if self._response is None:
            return {}, None, None, None
        return extract.responses_response_attributes(self._response)

    def output_messages(self) -> list[dict[str, Any]]:
        if self._response is None:
            return []
        return content.responses_output_messages(self._response)
