"""The audit chain ahead of the disk: each record's ``seq``, ``prev_hash`` and ``hash``, and where
the files rotate.

:class:`ChainPlan` turns records into sealed lines and queues them in ``ops`` with the
:data:`ROTATE` and :data:`REOPEN` points between them; the sink drains ``ops`` to disk. The chain
state only moves forward here, so a write that fails is retried from the op where it stopped and
nothing is sealed twice. ``firsts`` (the first seq of ``path``, ``path.1``, ...) is what a
``retention`` gap says was removed when rotation drops the oldest file.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any, Final

from agentotel.processors.audit._chain import (
    GAP_FILE_DELETED,
    GAP_RETENTION,
    GENESIS,
    Hasher,
    seal,
)
from agentotel.processors.audit._derive import AUDIT_GAP, AuditRecord

ROTATE: Final = object()
"""Rotate before the next line."""
REOPEN: Final = object()
"""The file was deleted or replaced: open a new one at ``path`` before the next line."""


class Line:
    """One sealed record, ready to write."""

    __slots__ = ("digest", "fields", "line", "seq", "time_ns")

    def __init__(
        self, line: bytes, fields: dict[str, Any] | None, time_ns: int, seq: int, digest: str
    ) -> None:
        self.line = line
        self.fields = fields  # with "hash"; kept only when someone is told of written records
        self.time_ns = time_ns
        self.seq = seq
        self.digest = digest


class ChainPlan:
    """Seals records in chain order and decides the rotation points (``max_bytes`` per file)."""

    def __init__(self, hasher: Hasher, *, max_bytes: int, keep_files: int, keep_fields: bool) -> None:
        self._hasher = hasher
        self._max_bytes = max_bytes
        self._keep = keep_files
        self._keep_fields = keep_fields
        self.ops: deque[object] = deque()
        self.seq = 0  # of the last record planned
        self.prev = GENESIS  # its hash
        self.size = 0  # of the current file once the planned lines are written
        self.firsts: list[int | None] = [None]  # first seq of path, path.1, path.2, ...

    def record(self, record: AuditRecord) -> None:
        """Seal ``record`` as the next of the chain, in a new file if it would not fit."""
        seq = self.seq + 1
        fields = record.fields(seq, self.prev)
        line, digest = seal(fields, self._hasher)
        if self.size and self.size + len(line) > self._max_bytes:
            self.rotate()
            seq = self.seq + 1
            fields = record.fields(seq, self.prev)
            line, digest = seal(fields, self._hasher)
        self.seq = seq
        self.prev = digest
        if self._keep_fields:
            fields["hash"] = digest
            self.ops.append(Line(line, fields, record.time_unix_nano, seq, digest))
        else:
            self.ops.append(Line(line, None, record.time_unix_nano, seq, digest))
        self.size += len(line)
        if self.firsts[0] is None:
            self.firsts[0] = seq

    def rotate(self, first: AuditRecord | None = None) -> None:
        """A new file, starting with ``first`` if given; a ``retention`` gap after it when the
        oldest file goes."""
        self.ops.append(ROTATE)
        self.size = 0
        self.firsts.insert(0, None)
        if first is not None:
            self.record(first)
        if len(self.firsts) > self._keep + 1:
            del self.firsts[self._keep + 1 :]
            oldest = self.firsts[self._keep]
            if oldest is not None and oldest > 1:
                self.record(gap(GAP_RETENTION, "removed", removed_through_seq=oldest - 1))

    def reopen(self, *, replaced: bool) -> tuple[int, int]:
        """A new file after the current one was deleted (or ``replaced``: the file in its place
        becomes ``path.1``), starting with a ``file_deleted`` gap; the seqs it held, first and last."""
        lost_from = self.firsts[0] if self.firsts[0] is not None else self.seq + 1
        lost_through = self.seq
        self.ops.append(REOPEN)
        self.size = 0
        if replaced:
            self.firsts.insert(0, None)
        self.firsts[0] = None
        self.record(gap(GAP_FILE_DELETED, "lost", lost_from_seq=lost_from, lost_through_seq=lost_through))
        return lost_from, lost_through


def gap(reason: str, outcome: str, **counts: int) -> AuditRecord:
    """An ``audit_gap`` record for ``reason``, with its counts in ``metadata``."""
    return AuditRecord(
        time_unix_nano=time.time_ns(),
        event_type=AUDIT_GAP,
        action=reason,
        outcome=outcome,
        metadata={"reason": reason, **counts},
    )
