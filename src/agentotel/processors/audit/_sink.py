"""The audit log file: chained JSON Lines, 0600, locked, size-based rotation, resumed across restarts.

Runs on the :class:`~agentotel.processors._writer.QueueWriter` thread only. ``write`` first *plans*
a batch (gives each record its ``seq``, ``prev_hash`` and ``hash``, and decides where the files
rotate), then *drains* the plan to disk. The chain state only ever moves forward in the plan, so a
failed write (disk full, permission) is retried from where it stopped: bytes a failed write left
behind are truncated away first, and the writer calls ``write`` again with the same batch object,
which is not planned twice.

Files: ``path`` is the current file, held under an exclusive ``flock`` (a second writer on the
same path fails at start-up with :class:`AuditFileLocked`). Rotation opens and locks
``path.new``, renames ``path.N`` to ``path.N+1``, ``path`` to ``path.1`` and ``path.new`` to
``path`` (so ``path`` always names a locked file), and deletes the files past ``keep_files`` once a
``retention`` gap record in the new file has said which records they held. On start, the chain
continues from the last verified record of ``path`` (or of ``path.1`` when ``path`` is missing or
empty, as after a crash mid-rotation). A last line without newline that is a whole JSON object
is judged as a record: when it verifies and follows the record before it, its newline is written
and the chain continues from it. A file that does not end with a verified record is not
appended to: it is rotated away, and the new file starts with a ``corrupt_tail`` gap when only a
torn last line (no newline and not a whole JSON object: a crash mid-write) follows the last
verified record, or with a ``chain_broken`` gap when lines that do not verify do (edited or
forged records: an incident, reported through ``on_incident``). Before each batch the writer
checks that ``path`` is still the file it holds; when it was deleted or replaced, a new file
starts with a ``file_deleted`` gap (an incident too).

Durability (``fsync``): ``batch`` syncs once per written batch, ``record`` after each record,
``never`` leaves it to the OS; ``sync`` is ``batch`` plus :class:`Durable` items, whose ``done``
event is set once their batch is synced. Records always reach the OS before ``write`` returns.

Checkpoints: every ``anchor_every``-th record since the last checkpoint, the last record of the
first batch written ``anchor_seconds`` after it, and the last record at close: their seq and hash
go to ``on_checkpoint``.
"""

from __future__ import annotations

import enum
import json
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, Final

from agentotel.processors.audit._chain import (
    GAP_CHAIN_BROKEN,
    GAP_CORRUPT_TAIL,
    GAP_FILE_DELETED,
    GAP_QUEUE_FULL,
    GAP_RETENTION,
    GENESIS,
    Hasher,
    parse_line,
    seal,
    whole_json,
)
from agentotel.processors.audit._derive import AUDIT_GAP, AuditRecord
from agentotel.processors.audit._file import AuditFile, AuditFileLocked, OsFile

__all__ = [
    "AuditChainBroken",
    "AuditFile",
    "AuditFileDeleted",
    "AuditFileLocked",
    "AuditFileSink",
    "Durable",
    "Fsync",
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


Opener = Callable[[str], AuditFile]
OnWritten = Callable[[dict[str, Any], int], None]
"""Called with each record (``hash`` included) and its time once it is written."""
OnCheckpoint = Callable[[int, str, int], None]
"""Called with the seq and hash of the last record written, and the time, at each checkpoint."""
OnIncident = Callable[[Exception], None]
"""Called with :class:`AuditChainBroken` or :class:`AuditFileDeleted` when the writer finds one."""

_ROTATE: Final = object()
_REOPEN: Final = object()  # the file was deleted or replaced: open a new one at path
_CHUNK_MAX: Final = 4096
_TAIL_BLOCK: Final = 64 * 1024
_TAIL_MAX: Final = 4 * 1024 * 1024


class _Line:
    __slots__ = ("digest", "fields", "line", "seq", "time_ns")

    def __init__(
        self, line: bytes, fields: dict[str, Any] | None, time_ns: int, seq: int, digest: str
    ) -> None:
        self.line = line
        self.fields = fields
        self.time_ns = time_ns
        self.seq = seq
        self.digest = digest


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
        self._max_bytes = max_bytes
        self._keep = keep_files
        self._opener = opener
        self._on_written = on_written
        self._on_checkpoint = on_checkpoint
        self._ops: deque[object] = deque()
        self._anchor_every = anchor_every
        self._anchor_seconds = anchor_seconds
        self._on_incident = on_incident
        self._written: tuple[int, str] = (0, GENESIS)  # seq and hash of the last record on disk
        self._anchored = 0
        self._anchored_at = time.monotonic()
        self._identity: tuple[int, int] | None = None  # (st_dev, st_ino) of the open file
        self._seq = 0
        self._prev = GENESIS
        self._planned_size = 0
        self._firsts: list[int | None] = [None]  # first seq of path, path.1, path.2, ...
        self._file: AuditFile | None = None
        self._size = 0
        self._dirty = False
        self._stale = False
        self._batch: Sequence[AuditRecord | Durable] | None = None
        self._start()

    # --- the writer thread -----------------------------------------------------------------------
    def write(self, items: Sequence[AuditRecord | Durable], dropped: int) -> None:
        """Chain and write ``items``, after an ``audit_gap`` for ``dropped`` records if any."""
        if items is not self._batch:  # not the retry of a batch already planned
            self._batch = items
            self._check_file()
            if dropped:
                self._plan(_gap(GAP_QUEUE_FULL, "lost", dropped=dropped))
            for item in items:
                self._plan(item.record if isinstance(item, Durable) else item)
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
        if self._ops:
            self._drain()
        self._checkpoint(force=True)
        if self._file is not None:
            self._file.close()
            self._file = None

    @property
    def last_seq(self) -> int:
        """The seq of the last record planned."""
        return self._seq

    # --- start-up --------------------------------------------------------------------------------
    def _start(self) -> None:
        directory = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(directory, mode=0o700, exist_ok=True)
        self._open()  # the lock first: nothing is read or moved while another writer holds it
        self._planned_size = self._size
        indices = self._rotated()
        self._firsts = [_first_seq(self._name(n)) for n in range(max(indices, default=0) + 1)]
        source = next((n for n in (0, 1) if _size(self._name(n)) > 0), None)
        if source is None:
            return
        seq, digest, discarded, tampered, unterminated = _last_good(self._name(source), self._hasher)
        if unterminated:
            self._end_line(source)
        if seq is not None and digest is not None:
            self._seq, self._prev = seq, digest
            self._written = (seq, digest)
            self._anchored = seq
        if not discarded:
            return
        gap_seq = self._seq + 1
        if tampered:
            gap = _gap(GAP_CHAIN_BROKEN, "discarded", discarded_bytes=discarded)
        else:
            gap = _gap(GAP_CORRUPT_TAIL, "discarded", discarded_bytes=discarded)
        if source == 0:
            self._plan_rotate(first=gap)
        else:
            self._plan(gap)
        self._drain()
        if tampered and self._on_incident is not None:
            moved = f"it was moved to {self.path}.1" if source == 0 else f"it is {self.path}.1"
            self._on_incident(
                AuditChainBroken(
                    f"the audit file {self._name(source)} did not verify when the writer started: "
                    f"{discarded} bytes after seq {seq or 0} are edited or forged records; {moved} and a "
                    f"new file continues the chain (audit_gap seq {gap_seq})"
                )
            )

    def _end_line(self, source: int) -> None:
        """Write the newline the last record of file ``source`` lacks (it verified and chained)."""
        if source == 0 and self._file is not None:
            self._file.write(b"\n")
            self._file.sync()
            self._size += 1
            self._planned_size = self._size
            return
        with open(self._name(source), "ab") as fh:
            fh.write(b"\n")
            fh.flush()
            os.fsync(fh.fileno())

    def _check_file(self) -> None:
        """A new file and a ``file_deleted`` gap when ``path`` is no longer the file being written."""
        if self._identity is None:
            return
        try:
            status = os.stat(self.path)
        except FileNotFoundError:
            status = None
        if status is not None and (status.st_dev, status.st_ino) == self._identity:
            return
        self._identity = None
        lost_from = self._firsts[0] if self._firsts[0] is not None else self._seq + 1
        lost_through = self._seq
        self._ops.append(_REOPEN)
        self._planned_size = 0
        if status is not None:
            self._firsts.insert(0, None)  # the file put in its place becomes path.1
        self._firsts[0] = None
        self._plan(_gap(GAP_FILE_DELETED, "lost", lost_from_seq=lost_from, lost_through_seq=lost_through))
        gap_seq = self._seq
        if self._on_incident is not None:
            self._on_incident(
                AuditFileDeleted(
                    f"the audit file {self.path} was deleted or replaced while in use: records seq "
                    f"{lost_from}..{lost_through} went with it; a new file continues the chain "
                    f"(audit_gap seq {gap_seq})"
                )
            )

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

    # --- planning: seq, prev_hash, hash and rotation points ---------------------------------------
    def _plan(self, record: AuditRecord) -> None:
        seq = self._seq + 1
        fields = record.fields(seq, self._prev)
        line, digest = seal(fields, self._hasher)
        if self._planned_size and self._planned_size + len(line) > self._max_bytes:
            self._plan_rotate()
            seq = self._seq + 1
            fields = record.fields(seq, self._prev)
            line, digest = seal(fields, self._hasher)
        self._seq = seq
        self._prev = digest
        if self._on_written is not None:
            fields["hash"] = digest
            self._ops.append(_Line(line, fields, record.time_unix_nano, seq, digest))
        else:
            self._ops.append(_Line(line, None, record.time_unix_nano, seq, digest))
        self._planned_size += len(line)
        if self._firsts[0] is None:
            self._firsts[0] = seq

    def _plan_rotate(self, first: AuditRecord | None = None) -> None:
        self._ops.append(_ROTATE)
        self._planned_size = 0
        self._firsts.insert(0, None)
        if first is not None:
            self._plan(first)
        if len(self._firsts) > self._keep + 1:
            del self._firsts[self._keep + 1 :]
            oldest = self._firsts[self._keep]
            if oldest is not None and oldest > 1:
                self._plan(_gap(GAP_RETENTION, "removed", removed_through_seq=oldest - 1))

    # --- draining the plan to disk ---------------------------------------------------------------
    def _drain(self) -> None:
        ops = self._ops
        while ops:
            if ops[0] is _ROTATE:
                self._rotate()
                ops.popleft()
                continue
            if ops[0] is _REOPEN:
                if self._file is not None:
                    self._file.close()
                    self._file = None
                if os.path.lexists(self.path):
                    self._rotate()  # not ours: kept as path.1, never appended to
                else:
                    self._open()
                ops.popleft()
                continue
            if self._file is None:
                self._open()
            file = self._file
            assert file is not None
            if self._dirty:
                file.truncate(self._size)
                self._dirty = False
            chunk: list[_Line] = []
            for op in ops:
                if not isinstance(op, _Line) or len(chunk) >= _CHUNK_MAX:
                    break
                chunk.append(op)
                if self._fsync is Fsync.RECORD:
                    break
            data = b"".join(c.line for c in chunk)
            self._dirty = True
            file.write(data)
            if self._fsync is not Fsync.NEVER:
                file.sync()
            self._dirty = False
            self._size += len(data)
            self._written = (chunk[-1].seq, chunk[-1].digest)
            if self._on_checkpoint is not None and self._written[0] - self._anchored >= self._anchor_every:
                for c in chunk:  # one checkpoint every anchor_every records, to the record
                    if c.seq - self._anchored >= self._anchor_every:
                        self._anchor(c.seq, c.digest)
            for _ in chunk:
                ops.popleft()
            if self._stale:
                self._delete_stale()
            if self._on_written is not None:
                for c in chunk:
                    self._on_written(c.fields or {}, c.time_ns)

    def _open(self) -> None:
        self._file = self._opener(self.path)
        self._size = self._file.size()
        self._dirty = False
        status = os.stat(self.path)
        self._identity = (status.st_dev, status.st_ino)

    def _rotate(self) -> None:
        # The next file is opened and locked before the current one is let go, and renamed into
        # place: path always names a locked file, so a second writer cannot slip in mid-rotation.
        fresh_name = f"{self.path}.new"
        fresh = self._opener(fresh_name)
        try:
            fresh.truncate(0)  # left over by a crash mid-rotation
            for n in sorted(self._rotated(), reverse=True):
                os.replace(self._name(n), self._name(n + 1))
            if os.path.exists(self.path):
                os.replace(self.path, self._name(1))
            os.replace(fresh_name, self.path)
        except BaseException:
            fresh.close()
            raise
        if self._file is not None:
            self._file.close()
        self._file = fresh
        status = os.stat(self.path)
        self._identity = (status.st_dev, status.st_ino)
        self._stale = True
        self._size = 0
        self._dirty = False
        if self._fsync is not Fsync.NEVER:
            _sync_directory(self.path)

    def _delete_stale(self) -> None:
        try:
            for n in self._rotated():
                if n > self._keep:
                    os.remove(self._name(n))
        except OSError:
            return  # tried again after the next write; the records are safe either way
        self._stale = False

    def _rotated(self) -> list[int]:
        directory = os.path.dirname(os.path.abspath(self.path))
        prefix = os.path.basename(self.path) + "."
        return [
            int(name[len(prefix) :])
            for name in os.listdir(directory)
            if name.startswith(prefix) and name[len(prefix) :].isdigit()
        ]

    def _name(self, n: int) -> str:
        return self.path if n == 0 else f"{self.path}.{n}"


def _gap(reason: str, outcome: str, **counts: int) -> AuditRecord:
    return AuditRecord(
        time_unix_nano=time.time_ns(),
        event_type=AUDIT_GAP,
        action=reason,
        outcome=outcome,
        metadata={"reason": reason, **counts},
    )


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def _first_seq(path: str) -> int | None:
    try:
        with open(path, "rb") as fh:
            seq = json.loads(fh.readline(_TAIL_MAX)).get("seq")
    except (OSError, ValueError, AttributeError):
        return None
    return seq if isinstance(seq, int) else None


def _last_good(path: str, hasher: Hasher) -> tuple[int | None, str | None, int, bool, bool]:
    """``(seq, hash, bytes after it, tampered, unterminated)`` of the last verified record of
    ``path``, as :func:`_last_line` finds it, with a last line without newline judged: a torn line
    (not a whole JSON object: a crash mid-write) is discarded, a record that verifies and follows
    the one before it is the last record (``unterminated``: its newline is to be written), and any
    other whole JSON object is tampering."""
    seq, digest, after, tampered = _last_line(path, hasher)
    if tampered or not after:
        return seq, digest, after, tampered, False
    with open(path, "rb") as fh:  # no newline in the last ``after`` bytes: one last line
        fh.seek(-after, os.SEEK_END)
        tail = fh.read()
    if not whole_json(tail):
        return seq, digest, after, False, False
    record, _ = parse_line(tail + b"\n", hasher)
    if (
        record is not None
        and record["seq"] == (seq or 0) + 1
        and record["prev_hash"] == (digest if digest is not None else GENESIS)
    ):
        return record["seq"], record["hash"], 0, False, True
    return seq, digest, after, True, False


def _last_line(path: str, hasher: Hasher) -> tuple[int | None, str | None, int, bool]:
    """``(seq, hash, bytes after it, tampered)`` of the last verified record of ``path`` (one whose
    hash verifies and that follows the verified record on the line before it, if any);
    ``(None, None, size, tampered)`` when the last few MiB hold none. ``tampered``: complete lines
    follow it (not only a last line without newline)."""
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        block = _TAIL_BLOCK
        while True:
            start = max(0, size - block)
            fh.seek(start)
            data = fh.read(size - start)
            end = data.rfind(b"\n")
            while end >= 0:
                begin = data.rfind(b"\n", 0, end)
                if begin < 0 and start > 0:
                    break  # this line may begin before the block: read more
                record, _ = parse_line(data[begin + 1 : end + 1], hasher)
                if record is not None and _follows_its_line(record, data, begin, hasher):
                    after = size - (start + end + 1)
                    return record["seq"], record["hash"], after, b"\n" in data[end + 1 :]
                end = begin
            if start == 0 or block >= _TAIL_MAX:
                return None, None, size, b"\n" in data
            block *= 4


def _follows_its_line(record: dict[str, Any], data: bytes, begin: int, hasher: Hasher) -> bool:
    """False when the line before ``record`` (ending at ``data[begin]``) is a verified record that
    ``record`` does not follow (a forged record appended with a hash of its own)."""
    if begin < 0:
        return True
    before, _ = parse_line(data[data.rfind(b"\n", 0, begin) + 1 : begin + 1], hasher)
    if before is None:
        return True  # an edited line before it: verify names that one
    return bool(before["seq"] + 1 == record["seq"] and before["hash"] == record["prev_hash"])


def _sync_directory(path: str) -> None:
    """Make renames in ``path``'s directory durable (where the OS allows it)."""
    try:
        fd = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
