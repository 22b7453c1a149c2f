"""An incremental reader of ``text/event-stream`` bytes, for the gateway's copy of a stream.

The gateway forwards an upstream's Server-Sent Events to its client byte for byte, as they
arrive; this reader takes the same chunks (split anywhere: mid-line, mid-UTF-8 sequence, between
``\\r`` and ``\\n``) and returns each complete event, so the provider's stream accumulator sees what
the SDK would have parsed. The grammar is the WHATWG one: lines end with CRLF, LF or CR; a blank
line ends an event; ``data`` lines join with ``\\n``; ``event`` names it; a line starting with ``:``
is a comment; one space after the colon is dropped; ``id`` and ``retry`` are read and ignored.
Pure: no I/O, no OpenTelemetry.
"""

from __future__ import annotations

from typing import NamedTuple


class Event(NamedTuple):
    """One dispatched event: its name (``message`` when the stream gave none) and its data."""

    name: str
    data: str


class EventReader:
    """Feed chunks with :meth:`feed`; each call returns the events the chunk completed."""

    __slots__ = ("_buffer", "_data", "_name", "_pending_cr")

    def __init__(self) -> None:
        self._buffer = b""
        self._pending_cr = False  # the last chunk ended with CR: a LF opening the next is its pair
        self._data: list[str] = []
        self._name = ""

    def feed(self, chunk: bytes) -> list[Event]:
        """The events completed by ``chunk``."""
        if self._pending_cr and chunk.startswith(b"\n"):
            chunk = chunk[1:]
        self._pending_cr = chunk.endswith(b"\r")
        events: list[Event] = []
        buffer = self._buffer + chunk if self._buffer else chunk
        if b"\r" not in buffer:  # LF line ends only (what the APIs send): split them in one call
            lines = buffer.split(b"\n")
            self._buffer = lines.pop()
            data = self._data
            for raw in lines:
                if raw.startswith(b"data: "):  # the common line, read inline (as _line reads it)
                    data.append(raw[6:].decode("utf-8", errors="replace"))
                else:
                    self._line(raw, events)
                    data = self._data  # a blank line dispatched the event: a new list
            return events
        start = 0
        size = len(buffer)
        while start < size:
            cr = buffer.find(b"\r", start)
            lf = buffer.find(b"\n", start)
            if cr < 0 and lf < 0:
                break
            if cr < 0 or (0 <= lf < cr):
                end, after = lf, lf + 1
            else:
                end = cr
                after = cr + 2 if cr + 1 < size and buffer[cr + 1] == 0x0A else cr + 1
            self._line(buffer[start:end], events)
            start = after
        self._buffer = buffer[start:]
        return events

    def _line(self, raw: bytes, events: list[Event]) -> None:
        if not raw:
            if self._data:
                events.append(Event(self._name or "message", "\n".join(self._data)))
            self._data = []
            self._name = ""
            return
        line = raw.decode("utf-8", errors="replace")
        if line.startswith(":"):
            return
        field, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if field == "data":
            self._data.append(value)
        elif field == "event":
            self._name = value
