"""A run's events as a timeline: the span tree in start order, and start/end marks for replay."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Event = Mapping[str, Any]


def _start(event: Event) -> int:
    value = event.get("start_time_unix_nano")
    return value if isinstance(value, int) else 0


def _end(event: Event) -> int:
    value = event.get("end_time_unix_nano")
    return value if isinstance(value, int) else _start(event)


def _children(events: Sequence[Event]) -> dict[Any, list[Event]]:
    """Each span's children in start order; the spans whose parent is not in the run (the root,
    or a span whose parent was lost) under None."""
    ids = {e.get("span_id") for e in events}
    children: dict[Any, list[Event]] = {}
    for event in events:
        parent = event.get("parent_span_id")
        children.setdefault(parent if parent in ids else None, []).append(event)
    for siblings in children.values():
        siblings.sort(key=lambda e: (_start(e), -_end(e)))
    return children


def tree(events: Sequence[Event]) -> list[tuple[int, Event]]:
    """``(depth, event)`` depth-first, siblings in start order (top-level spans at depth 0)."""
    return [(m.depth, m.event) for m in _walk(events) if not m.ending]


def run_start(events: Sequence[Event]) -> int:
    """The earliest start among ``events`` (0 when there are none)."""
    return min((_start(e) for e in events), default=0)


@dataclass(frozen=True)
class Mark:
    """A span starting or ending, for replay."""

    time: int
    ending: bool
    depth: int
    event: Event


def _walk(events: Sequence[Event]) -> list[Mark]:
    """Depth-first: a span's start, its children's marks, its end."""
    children = _children(events)
    out: list[Mark] = []
    seen: set[int] = set()
    stack: list[tuple[int, Event, bool]] = [(0, e, False) for e in reversed(children.get(None, []))]
    while stack:
        depth, event, closing = stack.pop()
        if closing:
            out.append(Mark(_end(event), True, depth, event))
            continue
        if id(event) in seen:
            continue
        seen.add(id(event))
        out.append(Mark(_start(event), False, depth, event))
        stack.append((depth, event, True))
        stack.extend((depth + 1, c, False) for c in reversed(children.get(event.get("span_id"), [])))
    return out


def marks(events: Sequence[Event]) -> list[Mark]:
    """Every span's start and end in time order; at equal times, in depth-first order (so a span
    opens before and closes after its children, and a sibling ends before the next one starts)."""
    return sorted(_walk(events), key=lambda m: m.time)
