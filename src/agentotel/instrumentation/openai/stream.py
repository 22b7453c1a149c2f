"""Chunk accumulation for OpenAI streams (chat completion chunks and Responses API events).

Pure: chunks in, outcome (and, with content capture on, output messages) out.
"""

from __future__ import annotations

from typing import Any

from agentotel import semconv
from agentotel._content import tool_call_part
from agentotel._lifecycle import Attributes
from agentotel.instrumentation._accumulator import Outcome, StreamAccumulator
from agentotel.instrumentation.openai import content, extract


class ChatStreamAccumulator(StreamAccumulator):
    """Accumulates ``chat.completion.chunk`` objects: id, model, finish reasons, usage, tool calls.

    Per chunk it only looks at what can change (choices, usage); the response head (id, model,
    fingerprint, service tier) is read once, at the end, from the first and last chunks.
    """

    __slots__ = ("_calls", "_first", "_last", "_reasons", "_texts", "_usage")

    def __init__(self, capture: bool) -> None:
        self._first: Any = None
        self._last: Any = None
        self._reasons: dict[int, str] = {}
        self._usage: Any = None
        self._calls: dict[tuple[int, int], list[str]] = {}
        # Text per choice, kept only when content capture is on.
        self._texts: dict[int, list[str]] | None = {} if capture else None

    def process(self, chunk: Any) -> None:
        if self._first is None:
            self._first = chunk
        self._last = chunk
        usage = chunk.usage
        if usage is not None:
            self._usage = usage
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
        index = choice.index if isinstance(choice.index, int) else 0
        if choice.finish_reason is not None:
            self._reasons[index] = choice.finish_reason
        if delta is None:
            return
        if self._texts is not None and delta.content:
            self._texts.setdefault(index, []).append(delta.content)
        for call in delta.tool_calls or ():
            call_index = call.index if isinstance(call.index, int) else 0
            entry = self._calls.setdefault((index, call_index), ["", "", ""])
            if call.id:
                entry[0] = call.id
            fn = call.function
            if fn is not None:
                if fn.name:
                    entry[1] = fn.name
                if fn.arguments and self._texts is not None:
                    entry[2] += fn.arguments

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
        reasons = self._reasons
        if len(reasons) == 1:
            a[semconv.GEN_AI_RESPONSE_FINISH_REASONS] = [str(reason) for reason in reasons.values()]
        elif reasons:
            a[semconv.GEN_AI_RESPONSE_FINISH_REASONS] = [str(reasons[i]) for i in sorted(reasons)]
        if self._calls:
            calls = [self._calls[k] for k in sorted(self._calls)]
            extract.put_tool_calls(a, [str(c[1]) for c in calls], [str(c[0]) for c in calls])
        i, o = extract.chat_usage(a, self._usage)
        return a, i, o, model

    def output_messages(self) -> list[dict[str, Any]]:
        if self._texts is None:
            return []
        indexes = sorted(set(self._texts) | set(self._reasons) | {k[0] for k in self._calls})
        out: list[dict[str, Any]] = []
        for index in indexes:
            parts: list[dict[str, Any]] = []
            if index in self._texts:
                parts.append({"type": "text", "content": "".join(self._texts[index])})
            for (ci, _), (cid, name, args) in sorted(self._calls.items()):
                if ci == index:
                    parts.append(tool_call_part(cid, name, args))
            out.append({"role": "assistant", "parts": parts, "finish_reason": self._reasons.get(index)})
        return out


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
