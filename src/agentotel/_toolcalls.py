"""Tool calls an LLM response asked for, remembered until the app sends their results back.

Each telemetry holder (:class:`agentotel._telemetry.Telemetry`) has one ``pending``: the LLM
instrumentors add every tool call of a finished response to it. Two things consume them:

* an explicit ``agentotel.tool`` span without ``call_id=`` claims the oldest pending call of its
  tool name in the same trace, so it gets ``gen_ai.tool.call.id`` without the app passing it;
* the next LLM request that carries a tool result (``role: tool`` message, ``tool_result`` block,
  ``function_call_output`` item) takes its call and emits an inferred ``execute_tool`` span, timed
  from the end of the response that asked for it to the start of that request.

A call claimed by an explicit span is removed, so it never gets an inferred span as well. Memory is
bounded by count and age (``AGENTOTEL_TOOL_PENDING_MAX`` / ``_TTL``): the oldest calls go first.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from agentotel.config import DEFAULT_TOOL_PENDING_MAX, DEFAULT_TOOL_PENDING_TTL


class PendingCall(NamedTuple):
    """One tool call waiting for its result (immutable; a named tuple is made in a third of the
    time of a frozen dataclass, and one is made for every tool call a response asks for)."""

    call_id: str
    name: str
    requested_ns: int
    """Wall-clock time (``time.time_ns``) at which the response that asked for it ended."""
    trace_id: int
    expires: float
    """``time.monotonic()`` deadline."""


class PendingToolCalls:
    """A bounded, thread-safe map of call id to :class:`PendingCall`, oldest first."""

    def __init__(self, max_count: int = DEFAULT_TOOL_PENDING_MAX, ttl: float = DEFAULT_TOOL_PENDING_TTL):
        self.max_count = max_count
        self.ttl = ttl
        self._calls: OrderedDict[str, PendingCall] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._calls)

    def add(self, ids: Sequence[object], names: Sequence[object], requested_ns: int, trace_id: int) -> None:
        """Remember the tool calls of one response (``ids`` and ``names`` pair up, as strings)."""
        now = time.monotonic()
        expires = now + self.ttl
        calls = self._calls
        with self._lock:
            for call_id, name in zip(ids, names, strict=False):
                if call_id:
                    key = str(call_id)
                    calls.pop(key, None)
                    calls[key] = PendingCall(key, str(name), requested_ns, trace_id, expires)
            self._evict(now)

    def take(self, call_ids: Iterable[str]) -> list[PendingCall]:
        """Remove and return the live pending calls among ``call_ids``, in the given order."""
        now = time.monotonic()
        found: list[PendingCall] = []
        with self._lock:
            self._evict(now)
            for call_id in call_ids:
                call = self._calls.pop(call_id, None)
                if call is not None:
                    found.append(call)
        return found

    def claim(self, name: str, trace_id: int) -> str | None:
        """Remove the oldest live call of tool ``name`` in trace ``trace_id`` (any trace when
        ``trace_id`` is 0: the tool runs outside any span); return its id."""
        if not self._calls:
            return None
        with self._lock:
            self._evict(time.monotonic())
            for call_id, call in self._calls.items():
                if call.name == name and (trace_id == 0 or call.trace_id == trace_id):
                    del self._calls[call_id]
                    return call_id
        return None

    def cover(self, call_id: str) -> None:
        """An explicit tool span covers ``call_id``: it must not get an inferred span."""
        if self._calls:
            with self._lock:
                self._calls.pop(call_id, None)

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()

    def _evict(self, now: float) -> None:
        calls = self._calls
        while calls:
            oldest = next(iter(calls.values()))
            if oldest.expires > now and len(calls) <= self.max_count:
                break
            calls.popitem(last=False)
