"""An audit file on an OS file descriptor: append-only, created 0600, under an exclusive lock.

The lock (``flock``, released when the descriptor is closed) is what keeps two writers off one
chain: a second process, or a second processor in the same process, gets :class:`AuditFileLocked`
when it opens the file.
"""

from __future__ import annotations

import errno
import fcntl
import os
from typing import Protocol


class AuditFileLocked(OSError):
    """Another writer holds the audit file."""


class AuditFile(Protocol):
    """An open audit file (``opener`` makes them; tests substitute failing ones)."""

    def write(self, data: bytes) -> None:
        """Append all of ``data`` or raise (possibly after appending part of it)."""

    def sync(self) -> None: ...
    def truncate(self, size: int) -> None: ...
    def size(self) -> int: ...
    def close(self) -> None: ...


class OsFile:
    """An audit file on an OS file descriptor: append-only, created 0600, no user-space buffer,
    under an exclusive ``flock`` (:class:`AuditFileLocked` when another writer holds it)."""

    __slots__ = ("_fd",)

    def __init__(self, path: str) -> None:
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(self._fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise AuditFileLocked(exc.errno, "locked by another writer", path) from None
            raise

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
