"""Bounding the label values users choose (tool, workflow, agent, guard, model names, and the
``error.type`` of their exception classes).

Every distinct attribute value becomes its own time series in Prometheus; an agent that names
tools after user input would create one per request, and one that raises a class per failure
reason one per reason. Past ``limit`` distinct values of one attribute, new values are reported as
``_OTHER``; values seen before keep their own series. Spans keep the real values.
"""

from __future__ import annotations

import threading

from agentotel import semconv


class CardinalityGuard:
    """Caps the distinct values of each metric attribute at ``limit``."""

    __slots__ = ("_lock", "_seen", "limit")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._seen: dict[str, set[str]] = {}
        self._lock = threading.Lock()

    def __call__(self, key: str, value: str) -> str:
        """``value``, or ``_OTHER`` once ``key`` already has ``limit`` other values."""
        seen = self._seen.get(key)
        if seen is not None and value in seen:
            return value
        with self._lock:
            seen = self._seen.setdefault(key, set())
            if value in seen:
                return value
            if len(seen) >= self.limit:
                return semconv.OTHER_VALUE
            seen.add(value)
            return value
