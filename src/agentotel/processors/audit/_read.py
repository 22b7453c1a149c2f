"""Reading an audit log back: its last records, then the records appended as they come.

::

    from agentotel.processors import audit

    with audit.AuditTail("audit.jsonl", event_type="guard_violation") as tail:
        for line in tail.last(10):          # the last 10 records, as written (bytes, one line each)
            ...
        for line in tail.follow():          # then each record appended, across rotations
            ...

Records are returned as the lines the writer wrote, so a caller can print them as they are or
parse them (``json.loads``). :func:`~agentotel.processors.audit.verify` checks them.
"""

from __future__ import annotations

import json
import os
import time
from collections import deque
from collections.abc import Callable, Iterator
from types import TracebackType

POLL_SECONDS = 0.25
"""How often :meth:`AuditTail.follow` looks for new records."""


def _matcher(event_type: str | None) -> Callable[[bytes], bool]:
    if event_type is None:
        return lambda raw: True
    needle = event_type.encode("utf-8")

    def wanted(raw: bytes) -> bool:
        if needle not in raw:
            return False
        try:
            return bool(json.loads(raw).get("event_type") == event_type)
        except (ValueError, AttributeError):
            return False

    return wanted


class AuditTail:
    """An audit file open for reading (``OSError`` if it cannot be opened), keeping only the
    records of ``event_type`` when one is given. Close it (or use it as a context manager)."""

    def __init__(self, path: str | os.PathLike[str], event_type: str | None = None) -> None:
        self.path = os.fspath(path)
        self._wanted = _matcher(event_type)
        self._fh = open(self.path, "rb")  # noqa: SIM115 - kept open while following
        self._partial = b""

    def last(self, count: int) -> list[bytes]:
        """The last ``count`` complete records of the file, read to its end (a line still being
        written is completed by :meth:`follow`)."""
        kept: deque[bytes] = deque(maxlen=count)
        for raw in self._fh:
            if not raw.endswith(b"\n"):
                self._partial = raw
            elif self._wanted(raw):
                kept.append(raw)
        return list(kept)

    def follow(self, sleep: Callable[[float], None] = time.sleep) -> Iterator[bytes]:
        """Each record appended from here on, across rotations (the file renamed and a new one
        made at the path); it never ends: stop iterating, or interrupt."""
        inode = os.fstat(self._fh.fileno()).st_ino
        while True:
            chunk = self._fh.read()
            if chunk:
                yield from self._lines(chunk)
                continue
            try:
                status = os.stat(self.path)
            except FileNotFoundError:
                status = None  # between the rename and the new file of a rotation
            if status is not None and (status.st_ino != inode or status.st_size < self._fh.tell()):
                yield from self._lines(self._fh.read())  # appended after the last read, before the rotation
                self._fh.close()
                self._fh = open(self.path, "rb")  # noqa: SIM115 - the rotated file's successor
                inode, self._partial = os.fstat(self._fh.fileno()).st_ino, b""
                continue
            sleep(POLL_SECONDS)

    def _lines(self, data: bytes) -> Iterator[bytes]:
        """The complete wanted lines of what was read; the incomplete end waits for the next read."""
        *lines, self._partial = (self._partial + data).split(b"\n")
        for line in lines:
            raw = line + b"\n"
            if self._wanted(raw):
                yield raw

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> AuditTail:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
