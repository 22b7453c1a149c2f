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

_ATTEMPTS = 100


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
        for _ in range(_ATTEMPTS):
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                os.close(fd)
                if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                    raise AuditFileLocked(exc.errno, "locked by another writer", path) from None
                raise
            if _names(fd, path):
                self._fd = fd
                return
            os.close(fd)  # rotated away between the open and the lock: open what path names now
        raise AuditFileLocked(errno.EAGAIN, "rotated by another writer", path)

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


def _names(fd: int, path: str) -> bool:
    """Whether ``path`` still names the file open on ``fd``."""
    try:
        status = os.stat(path)
    except FileNotFoundError:
        return False
    opened = os.fstat(fd)
    return (status.st_dev, status.st_ino) == (opened.st_dev, opened.st_ino)
