"""Accumulation of ``streamGenerateContent`` chunks (each a partial ``GenerateContentResponse``).

Every chunk repeats the response id and model version; text comes in pieces, a function call
whole in one chunk; ``usage_metadata`` is cumulative (each report replaces the previous numbers,
never adds to them); the finish reason comes with the last chunk. Pure: chunks in, outcome (and,
with content capture on, output messages) out. Only the first candidate is followed (the one an
app and the SDK's function calling read).
"""

from __future__ import annotations

from typing import Any

from agentotel import semconv
from agentotel._lifecycle import Attributes
from agentotel.instrumentation._accumulator import Outcome, StreamAccumulator
from agentotel.instrumentation.google_genai.content import parts
from agentotel.instrumentation.google_genai.extract import (
    Usage,
    finish_reason,
    function_calls,
    put_head,
    put_tool_calls,
    usage_fields,
)


class GenerateContentAccumulator(StreamAccumulator):
    """Head, finish reason, usage and function calls of a Gemini stream."""

    __slots__ = ("_calls", "_head", "_parts", "_reason", "_report", "_usage")

    def __init__(self, capture: bool) -> None:
        self._head: Any = None
        self._reason: str | None = None
        self._usage = Usage()
        # The last usage report's numbers: most chunks repeat them, and a repeat is skipped here,
        # without the call into ``Usage.update`` (which would find the same and return).
        self._report: tuple[Any, ...] | None = None
        self._calls: list[tuple[Any, Any, Any]] = []
        # The first candidate's parts, kept only with content capture on (text pieces merged).
        self._parts: list[Any] | None = [] if capture else None

    def process(self, chunk: Any) -> None:
        self._head = chunk
        usage = chunk.usage_metadata
        if usage is not None:
            try:
                report = usage_fields(usage)
            except AttributeError:  # not the SDK's object: Usage reads it field by field
                self._usage.update(usage)
            else:
                if report != self._report:
                    self._report = report
                    self._usage.update(usage)
        candidates = chunk.candidates
        if not candidates:
            return
        candidate = candidates[0]
        if candidate.finish_reason is not None:
            self._reason = finish_reason(candidate)
        content = candidate.content
        found = content.parts if content is not None else None
        if not found:
            return
        for part in found:
            if part.function_call is not None:
                self._calls.extend(function_calls((part,)))
        if self._parts is not None:
            self._keep(found)

    def _keep(self, found: list[Any]) -> None:
        assert self._parts is not None
        for part in found:
            text = part.text
            last = self._parts[-1] if self._parts else None
            if (
                isinstance(text, str)
                and isinstance(last, dict)
                and last.get("thought") == (part.thought is True)
            ):
                last["text"] += text
            elif isinstance(text, str):
                self._parts.append({"text": text, "thought": part.thought is True})
            else:
                self._parts.append(part)

    def outcome(self) -> Outcome:
        a: Attributes = {}
        model = put_head(a, self._head) if self._head is not None else None
        if self._reason is not None:
            a[semconv.GEN_AI_RESPONSE_FINISH_REASONS] = [self._reason]
        put_tool_calls(a, self._calls)
        i, o = self._usage.put(a)
        return a, i, o, model

    def output_messages(self) -> list[dict[str, Any]]:
        if self._parts is None:
            return []
        return [{"role": "assistant", "parts": parts(self._parts), "finish_reason": self._reason}]
