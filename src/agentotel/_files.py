"""Writing a file so that no reader ever sees it half-written, and naming why a write failed."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile


def write_atomically(path: str | os.PathLike[str], data: bytes, mode: int | None = None) -> None:
    """Replace ``path`` by a file holding ``data`` in one rename (temporary file in the same
    folder, synced first). The file is 0600 unless ``mode`` says otherwise."""
    folder, name = os.path.split(os.path.abspath(os.fspath(path)))
    fd, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


_CAUSES = {
    errno.ENOSPC: "disk full",
    errno.EDQUOT: "disk quota exceeded",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EROFS: "read-only file system",
    errno.ENOENT: "no such file or directory",
    errno.ENOTDIR: "not a directory",
    errno.EIO: "I/O error",
}


def failure_reason(error: BaseException, path: str) -> str:
    """What a readiness probe says of a write to ``path`` that raised ``error``: the cause, named
    from the OS error number, and the path (``disk full at /var/log/agent/audit.jsonl``); for
    another exception ``TypeName: message at PATH``."""
    if isinstance(error, OSError) and error.errno is not None:
        cause = _CAUSES.get(error.errno) or (error.strerror or os.strerror(error.errno)).lower()
        return f"{cause} at {path}"
    return f"{type(error).__name__}: {error} at {path}"
