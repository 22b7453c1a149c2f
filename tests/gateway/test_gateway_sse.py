"""The gateway's reader of copied Server-Sent Events (``gateway/_sse.py``): the same events
whichever way the bytes are split (mid-line, mid-UTF-8 sequence, between CR and LF)."""

from __future__ import annotations

import pytest

from agentotel.gateway._sse import Event, EventReader

STREAM = (
    ": a comment\n"
    "event: message_start\n"
    'data: {"a": 1}\n'
    "\n"
    "data: first line\n"
    "data:second line\n"
    "id: 7\n"
    "retry: 100\n"
    "\n"
    "data: caf\u00e9 \u2603\n"
    "\n"
    "data: [DONE]\n"
    "\n"
)
EXPECTED = [
    Event("message_start", '{"a": 1}'),
    Event("message", "first line\nsecond line"),
    Event("message", "caf\u00e9 \u2603"),
    Event("message", "[DONE]"),
]


def _read(chunks: list[bytes]) -> list[Event]:
    reader = EventReader()
    events: list[Event] = []
    for chunk in chunks:
        events += reader.feed(chunk)
    return events


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"], ids=["lf", "crlf", "cr"])
def test_every_split_in_two_gives_the_same_events(newline: str) -> None:
    data = STREAM.replace("\n", newline).encode()
    assert _read([data]) == EXPECTED
    for cut in range(len(data) + 1):
        assert _read([data[:cut], data[cut:]]) == EXPECTED, cut


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"], ids=["lf", "crlf", "cr"])
def test_byte_by_byte_gives_the_same_events(newline: str) -> None:
    data = STREAM.replace("\n", newline).encode()
    assert _read([data[i : i + 1] for i in range(len(data))]) == EXPECTED


def test_an_event_without_its_blank_line_is_not_dispatched() -> None:
    assert _read([b"data: half"]) == []
    assert _read([b"data: whole\n\n", b"data: half\n"]) == [Event("message", "whole")]
