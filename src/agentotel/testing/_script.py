"""Scripted replies: what the fake server answers next, set by a test.

A script is a queue of :class:`Reply` (or plain strings, meaning text). Each chat completion,
response or Anthropic message request takes the next one, streamed or not; an empty queue falls
back to the marker behaviour. Embeddings and token counts never consume it.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ._schema_args import arguments_for

__all__ = ["ERROR_KINDS", "Reply", "Script", "ToolCall", "scripted_calls"]

ERROR_KINDS = ("rate_limit", "server_error", "overloaded", "bad_request")


@dataclass(frozen=True)
class ToolCall:
    """One tool call the model asks for. ``arguments=None``: generated from the schema of the
    tool of that name in the request (``{}`` when the request offers no such tool)."""

    name: str
    arguments: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"ToolCall.name: expected a non-empty string, got {self.name!r}")
        if self.arguments is None:
            return
        if not isinstance(self.arguments, Mapping):
            raise TypeError(
                f"ToolCall.arguments: expected a JSON object (a dict) or None, got {self.arguments!r}"
            )
        try:
            json.dumps(dict(self.arguments))
        except (TypeError, ValueError) as exc:
            raise TypeError(f"ToolCall.arguments: not JSON-serializable: {exc}") from None


@dataclass(frozen=True)
class Reply:
    """One scripted reply: build it with :meth:`text`, :meth:`tool_call`, :meth:`tool_calls` or
    :meth:`error`."""

    kind: Literal["text", "tool_calls", "error"]
    content: str = ""
    calls: tuple[ToolCall, ...] = ()

    @classmethod
    def text(cls, text: str) -> Reply:
        """The model answers ``text``, exactly (output tokens: its whitespace-separated words)."""
        if not isinstance(text, str):
            raise TypeError(f"Reply.text: expected a string, got {text!r}")
        return cls("text", content=text)

    @classmethod
    def tool_call(cls, name: str, arguments: Mapping[str, Any] | None = None) -> Reply:
        """The model calls tool ``name`` with ``arguments`` (None: from the tool's schema)."""
        return cls("tool_calls", calls=(ToolCall(name, arguments),))

    @classmethod
    def tool_calls(cls, *calls: ToolCall) -> Reply:
        """The model calls several tools in one reply (parallel tool calls), in this order."""
        if not calls:
            raise ValueError("Reply.tool_calls: expected at least one ToolCall")
        for call in calls:
            if not isinstance(call, ToolCall):
                raise TypeError(f"Reply.tool_calls: expected ToolCall objects, got {call!r}")
        return cls("tool_calls", calls=tuple(calls))

    @classmethod
    def error(cls, kind: str) -> Reply:
        """The API fails as with the ``[[scenario:KIND]]`` marker, in the provider's error shape."""
        if kind not in ERROR_KINDS:
            accepted = ", ".join(repr(k) for k in ERROR_KINDS)
            raise ValueError(f"Reply.error: {kind!r} is not one of {accepted}")
        return cls("error", content=kind)


def _entry(item: object, index: int) -> Reply:
    if isinstance(item, Reply):
        return item
    if isinstance(item, str):
        return Reply.text(item)
    raise TypeError(f"script[{index}]: expected a Reply or a string, got {item!r}")


class Script:
    """A thread-safe queue of replies."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: deque[Reply] = deque()

    def extend(self, replies: Iterable[Reply | str]) -> None:
        """Append replies (validated before any is queued)."""
        entries = [_entry(item, i) for i, item in enumerate(replies)]
        with self._lock:
            self._queue.extend(entries)

    def pop(self) -> Reply | None:
        with self._lock:
            return self._queue.popleft() if self._queue else None

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._queue)


def _tool_schemas(req: Mapping[str, Any]) -> dict[str, object]:
    """Parameter schemas of the request's tools by name, in any of the three wire formats."""
    out: dict[str, object] = {}
    tools = req.get("tools")
    for tool in tools if isinstance(tools, list) else ():
        if not isinstance(tool, dict):
            continue
        fn = tool.get("function")
        if isinstance(fn, dict):
            name, schema = fn.get("name"), fn.get("parameters")
        else:
            name, schema = tool.get("name"), tool.get("input_schema", tool.get("parameters"))
        if isinstance(name, str):
            out.setdefault(name, schema)
    return out


def scripted_calls(reply: Reply, req: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The reply's tool calls as (name, arguments); arguments left out come from the schema of the
    request's tool of that name."""
    schemas = _tool_schemas(req)
    return [
        (c.name, dict(c.arguments) if c.arguments is not None else arguments_for(schemas.get(c.name)))
        for c in reply.calls
    ]
