"""Chunk accumulation for LiteLLM streams (``CustomStreamWrapper`` of ``ModelResponseStream``).

The chunks are OpenAI-shaped whatever the provider. Usage comes only when the provider sends it
(``stream_options={"include_usage": True}`` for OpenAI-compatible ones; Anthropic always): it is
never estimated. Pure: chunks in, outcome (and, with content capture on, output messages) out.
"""

from __future__ import annotations

from typing import Any

from agentotel import semconv
from agentotel._content import tool_call_part
from agentotel._lifecycle import Attributes
from agentotel.instrumentation._accumulator import Outcome, StreamAccumulator
from agentotel.instrumentation.litellm import extract


class CompletionStreamAccumulator(StreamAccumulator):
    """Id, model, finish reasons, usage and tool calls of a streamed ``completion``."""

    __slots__ = ("_calls", "_first", "_reasons", "_texts", "_usage")

    def __init__(self, capture: bool) -> None:
        self._first: Any = None
        self._reasons: dict[int, str] = {}
        self._usage: Any = None
        self._calls: dict[tuple[int, int], list[str]] = {}
        # Text per choice, kept only when content capture is on.
        self._texts: dict[int, list[str]] | None = {} if capture else None

    def process(self, chunk: Any) -> None:
        if self._first is None:
            self._first = chunk
        usage = getattr(chunk, "usage", None)
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
        a: Attributes = {}
        model = extract.put_head(a, self._first) if self._first is not None else None
        reasons = self._reasons
        if reasons:
            a[semconv.GEN_AI_RESPONSE_FINISH_REASONS] = [str(reasons[i]) for i in sorted(reasons)]
        if self._calls:
            calls = [self._calls[k] for k in sorted(self._calls)]
            extract.put_tool_calls(a, [str(c[1]) for c in calls], [str(c[0]) for c in calls])
        i, o = extract.usage(a, self._usage)
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
