"""Accumulation of Anthropic raw stream events (``messages.create(stream=True)`` and ``.stream()``).

``message_delta.usage`` is cumulative: each report replaces the previous numbers, it is never
added to them (summing them is a known double-count bug elsewhere).
"""

from __future__ import annotations

import json
from typing import Any

from agentotel import semconv
from agentotel._content import content_attributes, tool_call_part
from agentotel._invocation import Invocation
from agentotel._lifecycle import Attributes
from agentotel._streams import StreamAccumulator
from agentotel.instrumentation.anthropic.extract import Usage, put_message_head, put_tool_uses


class MessageStreamAccumulator(StreamAccumulator):
    """Head, stop reason, usage and tool uses from raw Anthropic stream events."""

    __slots__ = ("_blocks", "_message", "_reason", "_secrets", "_tools", "_usage")

    def __init__(self, invocation: Invocation, secrets: tuple[str, ...] | None) -> None:
        super().__init__(invocation)
        self._message: Any = None
        self._reason: str | None = None
        self._usage = Usage()
        self._tools: list[tuple[str, str]] = []
        # Content blocks by index, kept only with content capture on: [type, text, id, name].
        self._blocks: dict[int, list[Any]] | None = {} if secrets is not None else None
        self._secrets = secrets

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

    def outcome(self) -> tuple[Attributes, int | None, int | None, str | None]:
        a: Attributes = {}
        model = put_message_head(a, self._message) if self._message is not None else None
        if isinstance(self._reason, str):
            a[semconv.GEN_AI_RESPONSE_FINISH_REASONS] = [self._reason]
        put_tool_uses(a, [str(n) for n, _ in self._tools], [str(i) for _, i in self._tools])
        i, o = self._usage.put(a)
        if self._blocks is not None and self._secrets is not None:
            self.invocation.add_content(
                content_attributes(
                    self.invocation.telemetry.settings.content_max_length,
                    self._secrets,
                    outputs=[{"role": "assistant", "parts": self._parts(), "finish_reason": self._reason}],
                )
            )
        return a, i, o, model

    def _parts(self) -> list[dict[str, Any]]:
        assert self._blocks is not None
        parts: list[dict[str, Any]] = []
        for index in sorted(self._blocks):
            kind, text, bid, name = self._blocks[index]
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
