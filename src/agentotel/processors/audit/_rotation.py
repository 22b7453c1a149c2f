"""The audit files on disk: ``path`` open and locked, and its rotated files ``path.1``, ``path.2``, ...

``path`` is held under an exclusive ``flock`` (:class:`~._file.OsFile`). Rotation opens and locks
``path.new``, renames ``path.N`` to ``path.N+1``, ``path`` to ``path.1`` and ``path.new`` to
``path`` (so ``path`` always names a locked file); the files past ``keep_files`` are deleted after
the next write (:meth:`FileSet.tidy`), once the new file holds the ``retention`` gap that says
which records they held. A write that failed part-way is truncated away before the next one.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Callable

from agentotel.processors.audit._file import AuditFile

Opener = Callable[[str], AuditFile]


class Lost(enum.Enum):
    """What happened to the file ``path`` named while it was being written."""

    DELETED = "deleted"
    REPLACED = "replaced"
    """Another file is at ``path`` now: it is kept as ``path.1``, never appended to."""


class FileSet:
    """``path`` and its rotated files; the current file open, its size and identity known."""

    def __init__(self, path: str, opener: Opener, *, keep_files: int, sync_directory: bool) -> None:
        self.path = path
        self._opener = opener
        self._keep = keep_files
        self._sync_directory = sync_directory
        self.file: AuditFile | None = None
        self.size = 0
        self._dirty = False  # a write may have left part of its bytes after ``size``
        self._stale = False  # files past keep_files may remain
        self._identity: tuple[int, int] | None = None  # (st_dev, st_ino) of the open file

    def name(self, n: int) -> str:
        """``path`` for 0, ``path.n`` otherwise."""
        return self.path if n == 0 else f"{self.path}.{n}"

    def rotated(self) -> list[int]:
        """The numbers of the rotated files present."""
        directory = os.path.dirname(os.path.abspath(self.path))
        prefix = os.path.basename(self.path) + "."
        return [
            int(name[len(prefix) :])
            for name in os.listdir(directory)
            if name.startswith(prefix) and name[len(prefix) :].isdigit()
        ]

    def open(self) -> None:
        """Open and lock ``path`` (created 0600 when missing)."""
        self.file = self._opener(self.path)
        self.size = self.file.size()
        self._dirty = False
        status = os.stat(self.path)
        self._identity = (status.st_dev, status.st_ino)

    def append(self, data: bytes, *, sync: bool) -> None:
        """Append ``data`` to the current file (opened when none is), after truncating away what
        a failed write left behind."""
        if self.file is None:
            self.open()
        file = self.file
        assert file is not None
        if self._dirty:
            file.truncate(self.size)
            self._dirty = False
        self._dirty = True
        file.write(data)
        if sync:
            file.sync()
        self._dirty = False
        self.size += len(data)

    def end_line(self, n: int) -> None:
        """Write the newline the last record of file ``n`` lacks (it verified and chained)."""
        if n == 0 and self.file is not None:
            self.file.write(b"\n")
            self.file.sync()
            self.size += 1
            return
        with open(self.name(n), "ab") as fh:
            fh.write(b"\n")
            fh.flush()
            os.fsync(fh.fileno())

    def lost(self) -> Lost | None:
        """None while ``path`` is still the file being written (or none is open yet); otherwise
        what happened to it, once (the caller :meth:`reopen`\\ s)."""
        if self._identity is None:
            return None
        try:
            status = os.stat(self.path)
        except FileNotFoundError:
            status = None
        if status is not None and (status.st_dev, status.st_ino) == self._identity:
            return None
        self._identity = None
        return Lost.DELETED if status is None else Lost.REPLACED

    def reopen(self) -> None:
        """Let go of a lost file: a new one at ``path``, or rotation when another file is there."""
        if self.file is not None:
            self.file.close()
            self.file = None
        if os.path.lexists(self.path):
            self.rotate()  # not ours: kept as path.1, never appended to
        else:
            self.open()

    def rotate(self) -> None:
        """Make a fresh ``path``, the current one ``path.1``, and so on."""
        # The next file is opened and locked before the current one is let go, and renamed into
        # place: path always names a locked file, so a second writer cannot slip in mid-rotation.
        fresh_name = f"{self.path}.new"
        fresh = self._opener(fresh_name)
        try:
            fresh.truncate(0)  # left over by a crash mid-rotation
            for n in sorted(self.rotated(), reverse=True):
                os.replace(self.name(n), self.name(n + 1))
            if os.path.exists(self.path):
                os.replace(self.path, self.name(1))
            os.replace(fresh_name, self.path)
        except BaseException:
            fresh.close()
            raise
        if self.file is not None:
            self.file.close()
        self.file = fresh
        status = os.stat(self.path)
        self._identity = (status.st_dev, status.st_ino)
        self._stale = True
        self.size = 0
        self._dirty = False
        if self._sync_directory:
            _sync_directory(self.path)

    def tidy(self) -> None:
        """Delete the files past ``keep_files`` left by a rotation, if any."""
        if not self._stale:
            return
        try:
            for n in self.rotated():
                if n > self._keep:
                    os.remove(self.name(n))
        except OSError:
            return  # tried again after the next write; the records are safe either way
        self._stale = False

    def close(self) -> None:
        """Close the current file, if open."""
        if self.file is not None:
            self.file.close()
            self.file = None


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
