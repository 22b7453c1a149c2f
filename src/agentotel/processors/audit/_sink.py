"""The audit log file: chained JSON Lines, 0600, locked, size-based rotation, resumed across restarts.

Runs on the :class:`~agentotel.processors._writer.QueueWriter` thread only. ``write`` first *plans*
a batch (:class:`~._plan.ChainPlan` gives each record its ``seq``, ``prev_hash`` and ``hash``, and
decides where the files rotate), then *drains* the plan to disk (:class:`~._rotation.FileSet`). The
chain state only ever moves forward in the plan, so a failed write (disk full, permission) is
retried from where it stopped: bytes a failed write left behind are truncated away first, and the
writer calls ``write`` again with the same batch object, which is not planned twice.

Files: ``path`` is the current file, held under an exclusive ``flock`` (a second writer on the
same path fails at start-up with :class:`AuditFileLocked`); rotation and retention are in
:mod:`._rotation`. On start, the chain continues from the last verified record of ``path`` (or of
``path.1`` when ``path`` is missing or empty, as after a crash mid-rotation), as :mod:`._resume`
finds it. A last line without newline that is a whole JSON object is judged as a record: when it
verifies and follows the record before it, its newline is written and the chain continues from
it. A file that does not end with a verified record is not appended to: it is rotated away, and
the new file starts with a ``corrupt_tail`` gap when only a torn last line (no newline and not a
whole JSON object: a crash mid-write) follows the last verified record, or with a
``chain_broken`` gap when lines that do not verify do (edited or forged records: an incident,
reported through ``on_incident``). Before each batch the writer checks that ``path`` is still the
file it holds; when it was deleted or replaced, a new file starts with a ``file_deleted`` gap (an
incident too).

Durability (``fsync``): ``batch`` syncs once per written batch, ``record`` after each record,
``never`` leaves it to the OS; ``sync`` is ``batch`` plus :class:`Durable` items, whose ``done``
event is set once their batch is synced. Records always reach the OS before ``write`` returns.

Checkpoints: every ``anchor_every``-th record since the last checkpoint, the last record of the
first batch written ``anchor_seconds`` after it, and the last record at close: their seq and hash
go to ``on_checkpoint``.
"""

from __future__ import annotations

import enum
import os
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, Final

from agentotel.processors.audit._chain import (
    GAP_CHAIN_BROKEN,
    GAP_CORRUPT_TAIL,
    GAP_QUEUE_FULL,
    GENESIS,
    Hasher,
)
from agentotel.processors.audit._derive import AuditRecord
from agentotel.processors.audit._file import AuditFile, AuditFileLocked, OsFile
from agentotel.processors.audit._plan import REOPEN, ROTATE, ChainPlan, Line, gap
from agentotel.processors.audit._resume import first_seq, last_good, size
from agentotel.processors.audit._rotation import FileSet, Lost, Opener

__all__ = [
    "AuditChainBroken",
    "AuditFile",
    "AuditFileDeleted",
    "AuditFileLocked",
    "AuditFileSink",
    "Durable",
    "Fsync",
    "Opener",
    "OsFile",
]


class Fsync(enum.Enum):
    """When written records are synced to disk."""

    BATCH = "batch"
    RECORD = "record"
    NEVER = "never"
    SYNC = "sync"


class AuditChainBroken(Exception):
    """The audit file did not verify when the writer started (edited or forged records)."""


class AuditFileDeleted(Exception):
    """The audit file was deleted or replaced while the writer was using it."""


class Durable:
    """A record whose ``done`` event is set once it is written and synced (``fsync=sync``)."""

    __slots__ = ("done", "record")

    def __init__(self, record: AuditRecord) -> None:
        self.record = record
        self.done = threading.Event()


OnWritten = Callable[[dict[str, Any], int], None]
"""Called with each record (``hash`` included) and its time once it is written."""
OnCheckpoint = Callable[[int, str, int], None]
"""Called with the seq and hash of the last record written, and the time, at each checkpoint."""
OnIncident = Callable[[Exception], None]
"""Called with :class:`AuditChainBroken` or :class:`AuditFileDeleted` when the writer finds one."""

_CHUNK_MAX: Final = 4096


class AuditFileSink:
    """The writer thread's sink: ``write(records, dropped)`` appends them to the chain."""

    def __init__(
        self,
        path: str,
        hasher: Hasher,
        *,
        fsync: Fsync = Fsync.BATCH,
        max_bytes: int = 50 * 1024 * 1024,
        keep_files: int = 10,
        opener: Opener = OsFile,
        on_written: OnWritten | None = None,
        on_checkpoint: OnCheckpoint | None = None,
        anchor_every: int = 1000,
        anchor_seconds: float = 60.0,
        on_incident: OnIncident | None = None,
    ) -> None:
        if keep_files < 1 or max_bytes < 1:
            raise ValueError("max_bytes and keep_files must be at least 1")
        self.path = path
        self._hasher = hasher
        self._fsync = fsync
        self._files = FileSet(path, opener, keep_files=keep_files, sync_directory=fsync is not Fsync.NEVER)
        self._plan = ChainPlan(
            hasher, max_bytes=max_bytes, keep_files=keep_files, keep_fields=on_written is not None
        )
        self._on_written = on_written
        self._on_checkpoint = on_checkpoint
        self._anchor_every = anchor_every
        self._anchor_seconds = anchor_seconds
        self._on_incident = on_incident
        self._written: tuple[int, str] = (0, GENESIS)  # seq and hash of the last record on disk
        self._anchored = 0
        self._anchored_at = time.monotonic()
        self._batch: Sequence[AuditRecord | Durable] | None = None
        self._start()

    # --- the writer thread -----------------------------------------------------------------------
    def write(self, items: Sequence[AuditRecord | Durable], dropped: int) -> None:
        """Chain and write ``items``, after an ``audit_gap`` for ``dropped`` records if any."""
        if items is not self._batch:  # not the retry of a batch already planned
            self._batch = items
            self._check_file()
            if dropped:
                self._plan.record(gap(GAP_QUEUE_FULL, "lost", dropped=dropped))
            for item in items:
                self._plan.record(item.record if isinstance(item, Durable) else item)
        self._drain()
        self._batch = None
        self._checkpoint(force=False)
        for item in items:
            if type(item) is Durable:
                item.done.set()

    def on_drop(self, item: AuditRecord | Durable) -> None:
        """The writer dropped ``item`` (on the app's thread): a span end waiting for it returns."""
        if isinstance(item, Durable):
            item.done.set()

    def close(self) -> None:
        """Close the file, after a ``file_deleted`` gap if it was deleted since the last batch,
        and a checkpoint of the last record."""
        self._check_file()
        if self._plan.ops:
            self._drain()
        self._checkpoint(force=True)
        self._files.close()

    @property
    def last_seq(self) -> int:
        """The seq of the last record planned."""
        return self._plan.seq

    # --- start-up --------------------------------------------------------------------------------
    def _start(self) -> None:
        files, plan = self._files, self._plan
        directory = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(directory, mode=0o700, exist_ok=True)
        files.open()  # the lock first: nothing is read or moved while another writer holds it
        plan.size = files.size
        indices = files.rotated()
        plan.firsts = [first_seq(files.name(n)) for n in range(max(indices, default=0) + 1)]
        source = next((n for n in (0, 1) if size(files.name(n)) > 0), None)
        if source is None:
            return
        seq, digest, discarded, tampered, unterminated = last_good(files.name(source), self._hasher)
        if unterminated:
            files.end_line(source)
            plan.size = files.size
        if seq is not None and digest is not None:
            plan.seq, plan.prev = seq, digest
            self._written = (seq, digest)
            self._anchored = seq
        if not discarded:
            return
        gap_seq = plan.seq + 1
        reason = GAP_CHAIN_BROKEN if tampered else GAP_CORRUPT_TAIL
        first = gap(reason, "discarded", discarded_bytes=discarded)
        if source == 0:
            plan.rotate(first=first)
        else:
            plan.record(first)
        self._drain()
        if tampered and self._on_incident is not None:
            moved = f"it was moved to {self.path}.1" if source == 0 else f"it is {self.path}.1"
            self._on_incident(
                AuditChainBroken(
                    f"the audit file {files.name(source)} did not verify when the writer started: "
                    f"{discarded} bytes after seq {seq or 0} are edited or forged records; {moved} and a "
                    f"new file continues the chain (audit_gap seq {gap_seq})"
                )
            )

    def _check_file(self) -> None:
        """A new file and a ``file_deleted`` gap when ``path`` is no longer the file being written."""
        lost = self._files.lost()
        if lost is None:
            return
        lost_from, lost_through = self._plan.reopen(replaced=lost is Lost.REPLACED)
        if self._on_incident is not None:
            self._on_incident(
                AuditFileDeleted(
                    f"the audit file {self.path} was deleted or replaced while in use: records seq "
                    f"{lost_from}..{lost_through} went with it; a new file continues the chain "
                    f"(audit_gap seq {self._plan.seq})"
                )
            )

    # --- checkpoints -----------------------------------------------------------------------------
    def _checkpoint(self, *, force: bool) -> None:
        seq, digest = self._written
        if self._on_checkpoint is None or seq <= self._anchored:
            return
        now = time.monotonic()
        if not (
            force
            or seq - self._anchored >= self._anchor_every
            or now - self._anchored_at >= self._anchor_seconds
        ):
            return
        self._anchor(seq, digest)

    def _anchor(self, seq: int, digest: str) -> None:
        self._anchored, self._anchored_at = seq, time.monotonic()
        if self._on_checkpoint is not None:
            self._on_checkpoint(seq, digest, time.time_ns())

    # --- draining the plan to disk ---------------------------------------------------------------
    def _drain(self) -> None:
        ops, files = self._plan.ops, self._files
        while ops:
            if ops[0] is ROTATE:
                files.rotate()
                ops.popleft()
                continue
            if ops[0] is REOPEN:
                files.reopen()
                ops.popleft()
                continue
            chunk: list[Line] = []
            for op in ops:
                if not isinstance(op, Line) or len(chunk) >= _CHUNK_MAX:
                    break
                chunk.append(op)
                if self._fsync is Fsync.RECORD:
                    break
            files.append(b"".join(c.line for c in chunk), sync=self._fsync is not Fsync.NEVER)
            self._written = (chunk[-1].seq, chunk[-1].digest)
            if self._on_checkpoint is not None and self._written[0] - self._anchored >= self._anchor_every:
                for c in chunk:  # one checkpoint every anchor_every records, to the record
                    if c.seq - self._anchored >= self._anchor_every:
                        self._anchor(c.seq, c.digest)
            for _ in chunk:
                ops.popleft()
            files.tidy()
            if self._on_written is not None:
                for c in chunk:
                    self._on_written(c.fields or {}, c.time_ns)
