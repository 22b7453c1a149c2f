"""Where an audit chain left off on disk: read once, when the writer starts.

:func:`last_good` finds the last verified record of a file, reading its tail backwards in growing
blocks (up to a few MiB), and judges a last line without newline: a torn line (not a whole JSON
object: a crash mid-write) is discarded, a record that verifies and follows the one before it is
the last record (its newline is to be written), any other whole JSON object is tampering.
:func:`first_seq` reads the seq a rotated file starts with, for the ``retention`` gap.
"""

from __future__ import annotations

import json
import os
from typing import Any, Final, NamedTuple

from agentotel.processors.audit._chain import GENESIS, Hasher, parse_line, whole_json

_TAIL_BLOCK: Final = 64 * 1024
_TAIL_MAX: Final = 4 * 1024 * 1024


class LastGood(NamedTuple):
    """The last verified record of a file and what follows it."""

    seq: int | None
    """Its seq; None when the last few MiB hold none."""
    digest: str | None
    """Its hash; None with ``seq``."""
    discarded: int
    """The bytes after it."""
    tampered: bool
    """Complete lines that do not verify follow it, or a whole JSON object that is not its next record."""
    unterminated: bool
    """It is a last line without newline that verified and chained: its newline is to be written."""


def size(path: str) -> int:
    """The size of ``path``; 0 when it is missing or unreadable."""
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def first_seq(path: str) -> int | None:
    """The seq of the first record of ``path``; None when it has none that parses."""
    try:
        with open(path, "rb") as fh:
            seq = json.loads(fh.readline(_TAIL_MAX)).get("seq")
    except (OSError, ValueError, AttributeError):
        return None
    return seq if isinstance(seq, int) else None


def last_good(path: str, hasher: Hasher) -> LastGood:
    """The last verified record of ``path`` as :func:`_last_line` finds it, with a last line
    without newline judged (see the module docstring)."""
    seq, digest, after, tampered = _last_line(path, hasher)
    if tampered or not after:
        return LastGood(seq, digest, after, tampered, False)
    with open(path, "rb") as fh:  # no newline in the last ``after`` bytes: one last line
        fh.seek(-after, os.SEEK_END)
        tail = fh.read()
    if not whole_json(tail):
        return LastGood(seq, digest, after, False, False)
    record, _ = parse_line(tail + b"\n", hasher)
    if (
        record is not None
        and record["seq"] == (seq or 0) + 1
        and record["prev_hash"] == (digest if digest is not None else GENESIS)
    ):
        return LastGood(record["seq"], record["hash"], 0, False, True)
    return LastGood(seq, digest, after, True, False)


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
