"""The audit log file: chained JSON Lines, 0600, size-based rotation, resumed across restarts.

Runs on the :class:`~agentotel.processors._writer.QueueWriter` thread only. ``write`` first *plans*
a batch (gives each record its ``seq``, ``prev_hash`` and ``hash``, and decides where the files
rotate), then *drains* the plan to disk. The chain state only ever moves forward in the plan, so a
failed write (disk full, permission) is retried from where it stopped: bytes a failed write left
behind are truncated away first, and the writer calls ``write`` again with the same batch object,
which is not planned twice.

Files: ``path`` is the current file; rotation renames ``path.N`` to ``path.N+1`` and ``path`` to
``path.1``, and deletes the files past ``keep_files`` once a ``retention`` gap record in the new
file has said which records they held. On start, the chain continues from the last verified
record of ``path`` (or of ``path.1`` when ``path`` is missing or empty, as after a crash
mid-rotation). A file whose end is not a complete, verified record is not appended to: it is
rotated away and the new file starts with a ``corrupt_tail`` gap naming the discarded bytes.

Durability (``fsync``): ``batch`` syncs once per written batch, ``record`` after each record,
``never`` leaves it to the OS. Records always reach the OS before ``write`` returns, so a crash of
the process (not of the machine) loses nothing that was written.
"""

from __future__ import annotations

import enum
import json
import os
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, Final, Protocol

from agentotel.processors.audit._chain import (
    GAP_CORRUPT_TAIL,
    GAP_QUEUE_FULL,
    GAP_RETENTION,
    GENESIS,
    Hasher,
    parse_line,
    seal,
)
from agentotel.processors.audit._derive import AUDIT_GAP, AuditRecord


class Fsync(enum.Enum):
    """When written records are synced to disk."""

    BATCH = "batch"
    RECORD = "record"
    NEVER = "never"


class AuditFile(Protocol):
    """An open audit file (``opener`` makes them; tests substitute failing ones)."""

    def write(self, data: bytes) -> None:
        """Append all of ``data`` or raise (possibly after appending part of it)."""

    def sync(self) -> None: ...
    def truncate(self, size: int) -> None: ...
    def size(self) -> int: ...
    def close(self) -> None: ...


class OsFile:
    """An audit file on an OS file descriptor: append-only, created 0600, no user-space buffer."""

    __slots__ = ("_fd",)

    def __init__(self, path: str) -> None:
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view) :]

    def sync(self) -> None:
        os.fsync(self._fd)

    def truncate(self, size: int) -> None:
        os.ftruncate(self._fd, size)

    def size(self) -> int:
        return os.fstat(self._fd).st_size

    def close(self) -> None:
        os.close(self._fd)


Opener = Callable[[str], AuditFile]
OnWritten = Callable[[dict[str, Any], int], None]
"""Called with each record (``hash`` included) and its time once it is written."""

_ROTATE: Final = object()
_CHUNK_MAX: Final = 4096
_TAIL_BLOCK: Final = 64 * 1024
_TAIL_MAX: Final = 4 * 1024 * 1024


class _Line:
    __slots__ = ("fields", "line", "time_ns")

    def __init__(self, line: bytes, fields: dict[str, Any] | None, time_ns: int) -> None:
        self.line = line
        self.fields = fields
        self.time_ns = time_ns


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
        self._ops: deque[object] = deque()
        self._seq = 0
        self._prev = GENESIS
        self._planned_size = 0
        self._firsts: list[int | None] = [None]  # first seq of path, path.1, path.2, ...
        self._file: AuditFile | None = None
        self._size = 0
        self._dirty = False
        self._stale = False
        self._batch: Sequence[AuditRecord] | None = None
        self._start()

    # --- the writer thread -----------------------------------------------------------------------
    def write(self, items: Sequence[AuditRecord], dropped: int) -> None:
        """Chain and write ``items``, after an ``audit_gap`` for ``dropped`` records if any."""
        if items is not self._batch:  # not the retry of a batch already planned
            self._batch = items
            if dropped:
                self._plan(_gap(GAP_QUEUE_FULL, "lost", dropped=dropped))
            for record in items:
                self._plan(record)
        self._drain()
        self._batch = None

    def close(self) -> None:
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
        indices = self._rotated()
        self._firsts = [_first_seq(self._name(n)) for n in range(max(indices, default=0) + 1)]
        source = next((n for n in (0, 1) if _size(self._name(n)) > 0), None)
        discarded = 0
        if source is not None:
            seq, digest, discarded = _last_good(self._name(source), self._hasher)
            if seq is not None and digest is not None:
                self._seq, self._prev = seq, digest
        self._open()
        self._planned_size = self._size
        if discarded:
            gap = _gap(GAP_CORRUPT_TAIL, "discarded", discarded_bytes=discarded)
            if source == 0:
                self._plan_rotate(first=gap)
            else:
                self._plan(gap)
            self._drain()

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
            self._ops.append(_Line(line, fields, record.time_unix_nano))
        else:
            self._ops.append(_Line(line, None, record.time_unix_nano))
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

    def _rotate(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        for n in sorted(self._rotated(), reverse=True):
            os.replace(self._name(n), self._name(n + 1))
        if os.path.exists(self.path):
            os.replace(self.path, self._name(1))
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


def _last_good(path: str, hasher: Hasher) -> tuple[int | None, str | None, int]:
    """``(seq, hash, bytes after it)`` of the last verified record of ``path``; ``(None, None,
    size)`` when the last few MiB hold none."""
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
                if record is not None:
                    return record["seq"], record["hash"], size - (start + end + 1)
                end = begin
            if start == 0 or block >= _TAIL_MAX:
                return None, None, size
            block *= 4


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
