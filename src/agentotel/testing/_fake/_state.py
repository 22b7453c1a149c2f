"""What the fake API hands back (:class:`FakeResponse`) and the state it keeps (:class:`FakeLLM`)."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass

from .._script import Reply, Script

__all__ = ["FakeLLM", "FakeResponse", "count_tokens"]

_STREAM_TYPES = ("text/event-stream", "application/vnd.amazon.eventstream", "application/x-ndjson")


def count_tokens(text: str) -> int:
    """The fake tokenizer: whitespace-separated words."""
    return len(text.split())


@dataclass
class FakeResponse:
    """What to send back. ``chunks`` joined is the body; streams use one chunk per SSE event.

    ``delay_s``: sleep before sending anything. ``disconnect_after``: send that many
    chunks, then drop the connection without finishing the body; ``0`` means close
    the connection without sending any response at all (not even a status line).
    """

    status: int
    headers: dict[str, str]
    chunks: list[bytes]
    delay_s: float = 0.0
    disconnect_after: int | None = None

    @property
    def body(self) -> bytes:
        return b"".join(self.chunks)

    @property
    def is_stream(self) -> bool:
        # SSE, the AWS binary event stream (Bedrock), or NDJSON lines (Ollama).
        return self.headers.get("content-type", "").startswith(_STREAM_TYPES)


class FakeLLM:
    """Per-server (or per-transport) state: thread-safe id counters starting at 1, and the
    script of replies (see :meth:`script`)."""

    def __init__(self, script: Iterable[Reply | str] | None = None) -> None:
        self._lock = threading.Lock()
        self._counters: dict[str, int] = {}
        self._script = Script()
        if script is not None:
            self._script.extend(script)

    def script(self, replies: Iterable[Reply | str]) -> None:
        """Queue replies: each chat completion, response or Anthropic message request takes the
        next one (a string is :meth:`Reply.text`); when none is left, the markers decide."""
        self._script.extend(replies)

    @property
    def pending_replies(self) -> int:
        """Scripted replies not consumed yet."""
        return len(self._script)

    def next_id(self, kind: str) -> int:
        with self._lock:
            value = self._counters.get(kind, 0) + 1
            self._counters[kind] = value
            return value

    def next_scripted(self) -> Reply | None:
        """Take the next scripted reply, if any."""
        return self._script.pop()

    def reset(self) -> None:
        """Ids start again at 1; the script is emptied."""
        with self._lock:
            self._counters.clear()
        self._script.clear()
