"""Accumulation of a ``/v2/chat`` stream's events (``V2ChatStreamResponse``).

The events: ``message-start`` (the id), ``content-start`` / ``content-delta`` / ``content-end``
(text or thinking in pieces), ``tool-plan-delta`` (the tool plan in pieces), ``tool-call-start``
(a call's id and name, its arguments begun) / ``tool-call-delta`` (more arguments) /
``tool-call-end``, ``citation-start`` / ``citation-end``, and ``message-end`` (the finish reason
and the usage). Most events are content deltas: with content capture off they cost one
comparison here. Pure: events in, outcome (and, with content capture on, output messages) out.
"""

from __future__ import annotations

from typing import Any

from agentotel import semconv
from agentotel._content import tool_call_part
from agentotel._lifecycle import Attributes
from agentotel.instrumentation._accumulator import Outcome, StreamAccumulator
from agentotel.instrumentation.cohere.content import arguments
from agentotel.instrumentation.cohere.extract import finish_reason, put_tool_calls, put_usage


class ChatStreamAccumulator(StreamAccumulator):
    """Id, finish reason, usage and tool calls of a Cohere chat stream."""

    __slots__ = ("_args", "_end", "_id", "_ids", "_names", "_parts", "_plan")

    def __init__(self, capture: bool) -> None:
        self._id: Any = None
        self._end: Any = None  # the ``message-end`` event's delta
        self._ids: list[str] = []
        self._names: list[str] = []
        # Kept only with content capture on: text / thinking pieces as parts, the tool plan, and
        # each call's argument pieces.
        self._parts: list[dict[str, Any]] | None = [] if capture else None
        self._plan: list[str] = []
        self._args: list[list[str]] = []

    def process(self, chunk: Any) -> None:
        kind = chunk.type
        if kind == "content-delta":
            if self._parts is not None:
                self._piece(chunk.delta.message.content)
        elif kind == "tool-call-start":
            call = chunk.delta.message.tool_calls
            self._ids.append(str(call.id))
            self._names.append(str(getattr(call.function, "name", None)))
            if self._parts is not None:
                self._args.append([getattr(call.function, "arguments", None) or ""])
        elif kind == "tool-call-delta":
            if self._parts is not None and self._args:
                self._args[-1].append(chunk.delta.message.tool_calls.function.arguments or "")
        elif kind == "tool-plan-delta":
            if self._parts is not None:
                self._plan.append(chunk.delta.message.tool_plan or "")
        elif kind == "message-start":
            if chunk.id:  # the SDK reads a torn event as a message-start whose id is ""
                self._id = chunk.id
        elif kind == "message-end":
            self._end = chunk.delta

    def _piece(self, content: Any) -> None:
        assert self._parts is not None
        text, kind = (content.text, "text") if content.text is not None else (content.thinking, "reasoning")
        if text is None:
            return
        last = self._parts[-1] if self._parts else None
        if last is not None and last["type"] == kind:
            last["content"] += text
        else:
            self._parts.append({"type": kind, "content": text})

    def _reason(self) -> str | None:
        return finish_reason(getattr(self._end, "finish_reason", None)) if self._end is not None else None

    def outcome(self) -> Outcome:
        a: Attributes = {}
        if isinstance(self._id, str) and self._id:
            a[semconv.GEN_AI_RESPONSE_ID] = self._id
        reason = self._reason()
        if reason is not None:
            a[semconv.GEN_AI_RESPONSE_FINISH_REASONS] = [reason]
        put_tool_calls(a, self._names, self._ids)
        i, o = put_usage(a, self._end.usage) if self._end is not None else (None, None)
        return a, i, o, None

    def output_messages(self) -> list[dict[str, Any]]:
        if self._parts is None:
            return []
        parts: list[dict[str, Any]] = []
        if self._plan:
            parts.append({"type": "reasoning", "content": "".join(self._plan)})
        parts.extend(self._parts)
        for call_id, name, pieces in zip(self._ids, self._names, self._args, strict=False):
            parts.append(tool_call_part(call_id, name, arguments("".join(pieces))))
        return [{"role": "assistant", "parts": parts, "finish_reason": self._reason()}]
