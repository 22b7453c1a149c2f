"""Accumulation of Bedrock event streams (``converse_stream``, ``invoke_model_with_response_stream``).

botocore's ``EventStream`` yields one dict per event. ConverseStream: ``contentBlockStart``
(tool use id and name), ``contentBlockDelta``, ``messageStop`` (stop reason), ``metadata`` (usage).
InvokeModelWithResponseStream: ``{"chunk": {"bytes": b"<the family's JSON>"}}``; the last chunk
carries ``amazon-bedrock-invocationMetrics`` (the token counts, for every model family). Pure:
events in, outcome (and, with content capture on, output messages) out.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from agentotel._content import tool_call_part
from agentotel._lifecycle import Attributes
from agentotel.instrumentation._accumulator import Outcome, StreamAccumulator
from agentotel.instrumentation.bedrock.extract import CONVERSE_USAGE, Usage, put_reason, put_tool_uses
from agentotel.instrumentation.bedrock.invoke import ANTHROPIC_USAGE, METRICS_USAGE, put_head

_METRICS = "amazon-bedrock-invocationMetrics"


class _Blocks:
    """Content blocks by index, kept only with content capture on: [kind, text, id, name]."""

    __slots__ = ("blocks",)

    def __init__(self) -> None:
        self.blocks: dict[int, list[Any]] = {}

    def start(self, index: Any, kind: str, bid: Any, name: Any) -> None:
        self.blocks[index] = [kind, "", bid, name]

    def add(self, index: Any, kind: str, text: Any) -> None:
        entry = self.blocks.setdefault(index, [kind, "", None, None])
        if isinstance(text, str):
            entry[1] += text

    def parts(self) -> list[dict[str, Any]]:
        parts: list[dict[str, Any]] = []
        for index in sorted(self.blocks, key=str):
            kind, text, bid, name = self.blocks[index]
            if kind == "tool_call":
                try:
                    arguments: Any = json.loads(text) if text else {}
                except ValueError:
                    arguments = text
                parts.append(tool_call_part(bid, name, arguments))
            else:
                parts.append({"type": kind, "content": text})
        return parts


class _Base(StreamAccumulator):
    __slots__ = ("_blocks", "_head", "_model", "_reason", "_tools", "_usage")

    def __init__(self, capture: bool) -> None:
        self._reason: Any = None
        self._usage = Usage()
        self._tools: list[tuple[str, str]] = []
        self._model: str | None = None
        self._head: Attributes = {}
        self._blocks = _Blocks() if capture else None

    def outcome(self) -> Outcome:
        a: Attributes = dict(self._head)
        put_reason(a, self._reason)
        put_tool_uses(a, self._tools)
        i, o = self._usage.put(a)
        return a, i, o, self._model

    def output_messages(self) -> list[dict[str, Any]]:
        if self._blocks is None:
            return []
        return [{"role": "assistant", "parts": self._blocks.parts(), "finish_reason": self._reason}]

    def _converse_event(self, chunk: Any, usage_keys: tuple[str, str, str, str] = CONVERSE_USAGE) -> None:
        """One Converse-shaped event (ConverseStream, and Nova's InvokeModel chunks): a dict."""
        delta = chunk.get("contentBlockDelta")
        if delta is not None:
            if self._blocks is not None:
                self._converse_delta(delta)
            return
        start = chunk.get("contentBlockStart")
        if start is not None:
            use = start["start"].get("toolUse")
            if use is not None:
                self._tools.append((str(use.get("name")), str(use.get("toolUseId"))))
                if self._blocks is not None:
                    self._blocks.start(
                        start.get("contentBlockIndex"), "tool_call", use.get("toolUseId"), use.get("name")
                    )
            return
        stop = chunk.get("messageStop")
        if stop is not None:
            self._reason = stop.get("stopReason")
            return
        metadata = chunk.get("metadata")
        if metadata is not None:
            self._usage.update(metadata.get("usage"), usage_keys)

    def _converse_delta(self, event: Mapping[str, Any]) -> None:
        assert self._blocks is not None
        delta, index = event.get("delta") or {}, event.get("contentBlockIndex")
        if "text" in delta:
            self._blocks.add(index, "text", delta["text"])
        elif "toolUse" in delta:
            self._blocks.add(index, "tool_call", delta["toolUse"].get("input"))
        elif "reasoningContent" in delta:
            self._blocks.add(index, "reasoning", delta["reasoningContent"].get("text"))


class ConverseStreamAccumulator(_Base):
    """Stop reason, usage and tool uses from ``converse_stream`` events."""

    __slots__ = ()

    # Each event straight to the Converse reader: no call in between (one per event).
    process = _Base._converse_event


class InvokeStreamAccumulator(_Base):
    """The same from ``invoke_model_with_response_stream`` chunks of any family."""

    __slots__ = ()

    def process(self, event: Any) -> None:
        chunk = event.get("chunk")
        if chunk is None:
            return
        data = json.loads(chunk["bytes"])
        if not isinstance(data, Mapping):
            return
        kind = data.get("type")
        if kind is not None:
            self._anthropic(kind, data)
        elif "generation" in data:
            self._llama(data)
        else:
            self._converse_event(data, CONVERSE_USAGE)
        metrics = data.get(_METRICS)
        if metrics is not None and self._usage.input is None:
            self._usage.update(metrics, METRICS_USAGE)

    def _anthropic(self, kind: str, data: Mapping[str, Any]) -> None:
        if kind == "content_block_delta":
            if self._blocks is not None:
                delta = data["delta"]
                dtype = delta.get("type")
                text = (
                    delta.get("text")
                    if dtype == "text_delta"
                    else delta.get("partial_json")
                    if dtype == "input_json_delta"
                    else delta.get("thinking")
                )
                self._blocks.add(data.get("index"), "text", text)
        elif kind == "content_block_start":
            block = data["content_block"]
            btype = block.get("type")
            if btype == "tool_use":
                self._tools.append((str(block.get("name")), str(block.get("id"))))
            if self._blocks is not None:
                part = "tool_call" if btype == "tool_use" else "reasoning" if btype == "thinking" else "text"
                self._blocks.start(data.get("index"), part, block.get("id"), block.get("name"))
        elif kind == "message_delta":
            reason = data["delta"].get("stop_reason")
            if reason is not None:
                self._reason = reason
            self._usage.update(data.get("usage"), ANTHROPIC_USAGE)
        elif kind == "message_start":
            message = data["message"]
            self._model = put_head(self._head, message)
            self._usage.update(message.get("usage"), ANTHROPIC_USAGE)

    def _llama(self, data: Mapping[str, Any]) -> None:
        if self._blocks is not None:
            self._blocks.add(0, "text", data.get("generation"))
        self._usage.update(data, ("prompt_token_count", "generation_token_count", "", ""))
        reason = data.get("stop_reason")
        if reason is not None:
            self._reason = reason
