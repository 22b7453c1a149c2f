"""Accumulation of Anthropic raw stream events (``messages.create(stream=True)`` and ``.stream()``).

``message_delta.usage`` is cumulative: each report replaces the previous numbers, it is never
added to them (summing them is a known double-count bug elsewhere). Pure: events in, outcome
(and, with content capture on, output messages) out.
"""

from __future__ import annotations

import json
from typing import Any

from agentotel import semconv
from agentotel._content import tool_call_part
from agentotel._lifecycle import Attributes
from agentotel.instrumentation._accumulator import Outcome, StreamAccumulator
from agentotel.instrumentation.anthropic.extract import Usage, put_message_head, put_tool_uses


class MessageStreamAccumulator(StreamAccumulator):
    """Head, stop reason, usage and tool uses from raw Anthropic stream events."""

    __slots__ = ("_blocks", "_message", "_reason", "_tools", "_usage")

    def __init__(self, capture: bool) -> None:
        self._message: Any = None
        self._reason: str | None = None
        self._usage = Usage()
        self._tools: list[tuple[str, str]] = []
        # Content blocks by index, kept only with content capture on: [type, text, id, name].
        self._blocks: dict[int, list[Any]] | None = {} if capture else None

    def process(self, event: Any) -> None:
        kind = event.type
        if kind == "content_block_delta":
            if self._blocks is not None:
                self._delta(event.index, event.delta)
        elif kind == "content_block_start":
            block = event.content_block
            if block.type == "tool_use":
                self._tools.append((block.name, block.id))
            if self._blocks is not None:
                self._blocks[event.index] = [
                    block.type,
                    "",
                    getattr(block, "id", None),
                    getattr(block, "name", None),
                ]
        elif kind == "message_delta":
            reason = event.delta.stop_reason
            if reason is not None:
                self._reason = reason
            self._usage.update(event.usage)
        elif kind == "message_start":
            self._message = event.message
            self._usage.update(event.message.usage)

    def _delta(self, index: int, delta: Any) -> None:
        assert self._blocks is not None
        entry = self._blocks.setdefault(index, ["text", "", None, None])
        dtype = delta.type
        if dtype == "text_delta":
            entry[1] += delta.text
        elif dtype == "input_json_delta":
            entry[1] += delta.partial_json
        elif dtype == "thinking_delta":
            entry[1] += delta.thinking

    def outcome(self) -> Outcome:
        a: Attributes = {}
        model = put_message_head(a, self._message) if self._message is not None else None
        if isinstance(self._reason, str):
            a[semconv.GEN_AI_RESPONSE_FINISH_REASONS] = [self._reason]
        put_tool_uses(a, [str(n) for n, _ in self._tools], [str(i) for _, i in self._tools])
        i, o = self._usage.put(a)
        return a, i, o, model

    def output_messages(self) -> list[dict[str, Any]]:
        if self._blocks is None:
            return []
        return [{"role": "assistant", "parts": self._parts(self._blocks), "finish_reason": self._reason}]

    @staticmethod
    def _parts(blocks: dict[int, list[Any]]) -> list[dict[str, Any]]:
        parts: list[dict[str, Any]] = []
        for index in sorted(blocks):
            kind, text, bid, name = blocks[index]
            if kind == "tool_use":
                try:
                    arguments: Any = json.loads(text) if text else {}
                except ValueError:
                    arguments = text
                parts.append(tool_call_part(bid, name, arguments))
            elif kind == "thinking":
                parts.append({"type": "reasoning", "content": text})
            else:
                parts.append({"type": "text", "content": text})
        return parts
