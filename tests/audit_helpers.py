"""What the audit tests share: real SDK spans, chains written with the real chain code, files read back.

Imported as ``from audit_helpers import ...`` (``tests/`` is on ``sys.path``, see ``helpers.py``).
"""

from __future__ import annotations

import errno
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Status, StatusCode

from agentotel.processors.audit._chain import GENESIS, Hasher, seal
from agentotel.processors.audit._sink import OsFile

TOOL_ATTRS = {
    "gen_ai.operation.name": "execute_tool",
    "gen_ai.tool.name": "search",
    "gen_ai.tool.type": "function",
}


def ended_span(
    name: str, attributes: dict[str, Any], *, error: str | None = None, marked: bool = False
) -> ReadableSpan:
    """One span as a real SDK TracerProvider ends and exports it."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    span = provider.get_tracer("test").start_span(name, attributes=attributes)
    if error is not None:
        span.set_attribute("error.type", error)
        span.set_status(Status(StatusCode.ERROR))
    if marked:
        span.set_attribute("agentotel.audit", True)
    span.end()
    provider.shutdown()
    [finished] = exporter.get_finished_spans()
    return finished


def record_fields(seq: int, prev_hash: str, **overrides: Any) -> dict[str, Any]:
    """A tool_call record (without ``hash``) for chains built by hand."""
    fields: dict[str, Any] = {
        "seq": seq,
        "timestamp": "2026-11-21T10:00:00.000000Z",
        "event_type": "tool_call",
        "actor": {"agent": "planner", "user": "u-1"},
        "action": "execute_tool",
        "resource": "search",
        "outcome": "success",
        "metadata": {"gen_ai.tool.call.id": f"call-{seq}"},
        "trace_id": "0af7651916cd43dd8448eb211c80319c",
        "span_id": f"{seq:016x}",
        "conversation_id": "conv-1",
        "prev_hash": prev_hash,
    }
    fields.update(overrides)
    return fields


def chain_lines(count: int, *, start: int = 1, prev: str = GENESIS, key: bytes | None = None) -> list[bytes]:
    """``count`` chained lines from seq ``start``, made by the writer's own ``seal``."""
    hasher = Hasher(key)
    lines = []
    for seq in range(start, start + count):
        line, prev = seal(record_fields(seq, prev), hasher)
        lines.append(line)
    return lines


def write_lines(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"".join(lines))
    return path


def records(path: Path, torn: bool = False) -> list[dict[str, Any]]:
    """Every line of ``path`` as JSON. ``torn``: a last line without newline that is not JSON (a
    writer killed mid-write; the next writer rotates the file away as it is) is left out."""
    data = path.read_bytes()
    lines = data.splitlines()
    if torn and lines and not data.endswith(b"\n"):
        try:
            json.loads(lines[-1])
        except ValueError:
            lines.pop()
    return [json.loads(line) for line in lines]


def chain_records(path: Path, torn: bool = False) -> list[dict[str, Any]]:
    """The records of a rotation set, oldest file first (``torn``: as for :func:`records`)."""
    found: list[dict[str, Any]] = []
    rotated = sorted(
        (int(p.name.rsplit(".", 1)[1]) for p in path.parent.glob(path.name + ".*")), reverse=True
    )
    for n in rotated:
        found.extend(records(path.with_name(f"{path.name}.{n}"), torn))
    if path.exists():
        found.extend(records(path, torn))
    return found


class _File:
    """An audit file on the real ``OsFile`` whose ``write`` the disks below change; counts syncs."""

    def __init__(self, disk: FullDisk | GatedDisk | SlowDisk | SwitchableDisk, real: OsFile) -> None:
        self._disk = disk
        self._real = real

    def write(self, data: bytes) -> None:
        self._real.write(data)

    def sync(self) -> None:
        self._disk.syncs += 1
        self._real.sync()

    def truncate(self, size: int) -> None:
        self._real.truncate(size)

    def size(self) -> int:
        return self._real.size()

    def close(self) -> None:
        self._real.close()


class FullDisk:
    """An opener whose files act like a full disk for the first ``failures`` writes: each failing
    write stores half of its bytes, then raises ``OSError(ENOSPC)``."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.failed = 0
        self.syncs = 0
        self._lock = threading.Lock()

    def __call__(self, path: str) -> _File:
        return _FullDiskFile(self, OsFile(path))

    def failing(self) -> bool:
        """Whether this write fails (and counts it)."""
        with self._lock:
            if self.failed >= self.failures:
                return False
            self.failed += 1
            return True


class _FullDiskFile(_File):
    _disk: FullDisk

    def write(self, data: bytes) -> None:
        if self._disk.failing():
            self._real.write(data[: len(data) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")
        self._real.write(data)


class SwitchableDisk:
    """An opener whose files' writes raise ``OSError(ENOSPC)`` while :attr:`full` is True."""

    def __init__(self) -> None:
        self.full = False
        self.syncs = 0

    def __call__(self, path: str) -> _File:
        return _SwitchableFile(self, OsFile(path))


class _SwitchableFile(_File):
    _disk: SwitchableDisk

    def write(self, data: bytes) -> None:
        if self._disk.full:
            raise OSError(errno.ENOSPC, "No space left on device")
        self._real.write(data)


class GatedDisk:
    """An opener whose first write waits until :meth:`release` (``entered`` is set once it waits);
    it counts syncs."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.gate = threading.Event()
        self.syncs = 0

    def release(self) -> None:
        self.gate.set()

    def __call__(self, path: str) -> _File:
        return _GatedFile(self, OsFile(path))


class _GatedFile(_File):
    _disk: GatedDisk

    def write(self, data: bytes) -> None:
        self._disk.entered.set()
        self._disk.gate.wait(30)
        self._real.write(data)


class SlowDisk:
    """An opener whose first write takes ``first`` seconds and whose later writes wait until
    :meth:`release`; ``writes`` counts the writes begun."""

    def __init__(self, first: float) -> None:
        self.first = first
        self.writes = 0
        self.gate = threading.Event()
        self.syncs = 0

    def release(self) -> None:
        self.gate.set()

    def __call__(self, path: str) -> _File:
        return _SlowFile(self, OsFile(path))


class _SlowFile(_File):
    _disk: SlowDisk

    def write(self, data: bytes) -> None:
        self._disk.writes += 1
        if self._disk.writes == 1:
            time.sleep(self._disk.first)
        else:
            self._disk.gate.wait(60)
        self._real.write(data)


@contextmanager
def tiny_tmpfs(directory: Path, size: str) -> Iterator[Path]:
    """``directory`` mounted as a tmpfs of ``size`` (root only; raises OSError when not possible)."""
    import subprocess

    directory.mkdir(exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(directory)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        raise OSError(f"cannot mount a tmpfs: {done.stderr.decode().strip()}")
    try:
        yield directory
    finally:
        subprocess.run(["umount", "-l", str(directory)], capture_output=True, check=False)


def fill_disk(directory: Path) -> Path:
    """A file that takes every free byte of ``directory``'s file system (delete it to free them)."""
    filler = directory / "filler"
    with open(filler, "wb", buffering=0) as fh:
        try:
            while True:
                fh.write(b"x" * 4096)
        except OSError as exc:
            if exc.errno != errno.ENOSPC:
                raise
    return filler
