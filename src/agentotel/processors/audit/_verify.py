"""Verification of an audit log: the chain through a rotation set, its gaps, and anchors.

**Verification** (:func:`verify`) reads the files oldest first and stops at the first record that
cannot be trusted: a line that is not exactly a record's canonical line, a hash that does not
match the record (edited), or a record that does not follow the one before it (``seq`` not the
next one, or ``prev_hash`` not its hash: deleted, reordered or inserted). A chain that does not
start at seq 1 must be explained by a ``retention`` gap (else its first files were removed); a
torn file end (a last line without newline that is not a whole JSON object) must be
acknowledged, to the byte, by the gap that starts the next file; a last line without newline
that is a whole JSON object is checked as a record. A chain
cannot prove where it ends: ``anchors`` (seq and hash of checkpoints published elsewhere) catch
records removed from the end, and a set with no record at all does not verify.
"""

from __future__ import annotations

import hmac
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentotel.processors.audit._chain import (
    ACCEPT_HINT,
    EVENT_GAP,
    GAP_CHAIN_BROKEN,
    GAP_CORRUPT_TAIL,
    GAP_FILE_DELETED,
    GAP_QUEUE_FULL,
    GAP_RETENTION,
    GENESIS,
    Hasher,
    parse_line,
    rotation_set,
    whole_json,
)


@dataclass(frozen=True)
class Anchor:
    """A record the log is known to have held: its ``seq`` and ``hash``, published elsewhere."""

    seq: int
    hash: str


@dataclass(frozen=True)
class Break:
    """Where a chain stops being trustworthy."""

    seq: int | None
    """The first seq that cannot be trusted (the expected one when a record is missing)."""
    file: str
    line: int
    """1-based; 0 when the break is after the file's last line (records missing at the end)."""
    reason: str

    def __str__(self) -> str:
        at = f"seq {self.seq}" if self.seq is not None else "a record"
        where = f"{self.file} line {self.line}" if self.line else f"end of {self.file}"
        return f"{at} ({where}): {self.reason}"


@dataclass(frozen=True)
class VerifyResult:
    """What :func:`verify` found."""

    files: tuple[str, ...]
    records: int
    """Records that verify (before the break, if any)."""
    first_seq: int | None
    last_seq: int | None
    """The last seq that verifies."""
    gaps: int
    """``audit_gap`` records among them."""
    dropped: int
    """Records the ``drop`` policy lost, as told by the gaps."""
    algorithm: str
    removed_through: int = 0
    """The highest seq a retention gap says rotation removed (0: none)."""
    discarded: int = 0
    """Bytes of torn file ends (crashes mid-write) that corrupt_tail gaps acknowledge."""
    broken: Break | None = None
    accepted_breaks: int = 0
    """``chain_broken`` gaps accepted (``accept_gaps``), and the bytes that did not verify."""
    broken_bytes: int = 0
    deleted_files: int = 0
    """``file_deleted`` gaps accepted (``accept_gaps``), and the records they say were lost."""
    lost: int = 0
    anchors: int = 0
    """Anchors whose seq and hash the chain holds."""

    @property
    def ok(self) -> bool:
        """True when the chain is intact and holds at least one record."""
        return self.broken is None and self.records > 0

    def summary(self) -> str:
        """One line for people."""
        files = _plural(len(self.files), "file")
        if self.broken is not None:
            return f"chain broken at {self.broken}; {self._before()}"
        if not self.records:
            return f"no records in {files}: an empty audit log proves nothing"
        notes = [_plural(self.gaps, "audit_gap record")] if self.gaps else []
        if self.dropped:
            notes.append(f"{_plural(self.dropped, 'record')} dropped")
        if self.removed_through:
            notes.append(f"records through seq {self.removed_through} removed by rotation")
        if self.discarded:
            notes.append(f"{_plural(self.discarded, 'byte')} of damaged file ends discarded")
        if self.accepted_breaks:
            notes.append(
                f"{_plural(self.accepted_breaks, 'chain break')} accepted: "
                f"{_plural(self.broken_bytes, 'byte')} that did not verify"
            )
        if self.deleted_files:
            lost = _plural(self.lost, "record")
            notes.append(f"{_plural(self.deleted_files, 'deleted file')} accepted: {lost} lost")
        if self.anchors:
            notes.append(f"{_plural(self.anchors, 'anchor')} match" + ("es" if self.anchors == 1 else ""))
        tail = f" ({'; '.join(notes)})" if notes else ""
        span = f"seq {self.first_seq}" if self.records == 1 else f"seq {self.first_seq}..{self.last_seq}"
        return f"chain intact: {_plural(self.records, 'record')}, {span}, {files}, {self.algorithm}{tail}"

    def _before(self) -> str:
        if not self.records:
            return "no record before it verifies"
        if self.records == 1:
            return f"the record before it (seq {self.last_seq}) verifies"
        return f"the {self.records} records before it (seq {self.first_seq}..{self.last_seq}) verify"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


class _Walk:
    """The state of one verification, fed one line at a time."""

    def __init__(self, hasher: Hasher, anchors: Mapping[int, str], accept_gaps: bool) -> None:
        self.hasher = hasher
        self.anchors = anchors
        self.accept_gaps = accept_gaps
        self.records = 0
        self.first: tuple[int, str, int] | None = None  # seq, file, line of the first record
        self.expected: int | None = None
        self.prev = ""
        self.last_seq: int | None = None
        self.gaps = 0
        self.dropped = 0
        self.removed_through = 0
        self.discarded = 0
        self.accepted_breaks = 0
        self.broken_bytes = 0
        self.deleted_files = 0
        self.lost = 0
        self.matched = 0
        self.tail: tuple[Break, int, bool] | None = None  # damage at a file's end, its size, torn

    def record(self, record: dict[str, Any], file: str, line: int) -> Break | None:
        seq: int = record["seq"]
        meta = record.get("metadata")
        reason = (
            meta.get("reason") if record.get("event_type") == EVENT_GAP and isinstance(meta, dict) else None
        )
        if self.tail is not None:
            broken = self._acknowledge(self.tail, reason, meta, seq)
            if broken is not None:
                return broken
            self.tail = None
        elif reason == GAP_CHAIN_BROKEN and not self.accept_gaps:
            why = f"the writer found the chain broken before it (audit_gap seq {seq}: chain_broken)"
            why = f"{why}; {ACCEPT_HINT}"
            return Break(seq, file, line, why)
        if reason == GAP_FILE_DELETED:
            broken = self._deleted(record, file, line)
            if broken is not None:
                return broken
        broken = self._follows(record, file, line)
        if broken is not None:
            return broken
        if reason is not None:
            self._count_gap(reason, meta)
        want = self.anchors.get(seq)
        if want is not None:
            if not hmac.compare_digest(want, record["hash"]):
                why = f"the hash of seq {seq} is not the anchor's (the records up to it were replaced)"
                return Break(seq, file, line, why)
            self.matched += 1
        self.records += 1
        self.expected = seq + 1
        self.prev = record["hash"]
        self.last_seq = seq
        return None

    def _acknowledge(self, tail: tuple[Break, int, bool], reason: Any, meta: Any, seq: int) -> Break | None:
        """None when the gap record starting the next file acknowledges the damaged end ``tail``."""
        damage, size, torn = tail
        to_the_byte = isinstance(meta, dict) and meta.get("discarded_bytes") == size
        if torn and reason == GAP_CORRUPT_TAIL and to_the_byte:
            self.discarded += size
            return None
        if reason == GAP_CHAIN_BROKEN and to_the_byte:
            if not self.accept_gaps:
                why = f"{damage.reason}; the writer restarted after it (audit_gap seq {seq}: chain_broken)"
                why = f"{why}; {ACCEPT_HINT}"
                return Break(damage.seq, damage.file, damage.line, why)
            self.accepted_breaks += 1
            self.broken_bytes += size
            return None
        return damage

    def _deleted(self, record: dict[str, Any], file: str, line: int) -> Break | None:
        """A ``file_deleted`` gap: a break, or (accepted) the records it says were lost skipped."""
        seq: int = record["seq"]
        meta = record["metadata"]
        lost_from, lost_through = meta.get("lost_from_seq"), meta.get("lost_through_seq")
        if not (isinstance(lost_from, int) and isinstance(lost_through, int) and lost_through == seq - 1):
            return None  # not the writer's: the ordinary checks decide
        if not self.accept_gaps:
            why = (
                f"records seq {lost_from}..{lost_through} were lost: the audit file was deleted or replaced "
                f"while in use (audit_gap seq {seq}: file_deleted); {ACCEPT_HINT}"
            )
            return Break(seq, file, line, why)
        if lost_from > lost_through:
            return None  # the deleted file held no record: the chain goes on as usual
        if self.expected is None:
            self.first = (lost_from, file, line)
        elif self.expected != lost_from:
            return None
        self.deleted_files += 1
        self.lost += lost_through - lost_from + 1
        self.expected, self.prev = seq, record["prev_hash"]
        return None

    def _follows(self, record: dict[str, Any], file: str, line: int) -> Break | None:
        seq: int = record["seq"]
        prev: str = record["prev_hash"]
        if self.expected is None:
            self.first = self.first or (seq, file, line)
            if seq == 1 and prev != GENESIS:
                return Break(seq, file, line, "the first record does not start a chain (prev_hash)")
        elif seq != self.expected:
            if seq > self.expected:
                why = f"expected seq {self.expected}, found seq {seq} (a record was deleted or moved)"
                return Break(self.expected, file, line, why)
            why = f"expected seq {self.expected}, found seq {seq} again (reordered or inserted)"
            return Break(seq, file, line, why)
        elif prev != self.prev:
            why = f"prev_hash is not the hash of seq {seq - 1} (a record was replaced or inserted before it)"
            return Break(seq, file, line, why)
        return None

    def _count_gap(self, reason: Any, meta: Any) -> None:
        self.gaps += 1
        if reason == GAP_QUEUE_FULL and isinstance(meta.get("dropped"), int):
            self.dropped += meta["dropped"]
        removed = meta.get("removed_through_seq")
        if reason == GAP_RETENTION and isinstance(removed, int):
            self.removed_through = max(self.removed_through, removed)

    def start_break(self) -> Break | None:
        """A chain that starts after seq 1 without a retention gap that explains it."""
        if self.first is None:
            return None
        seq, file, line = self.first
        if seq == 1 or self.removed_through >= seq - 1:
            return None
        why = f"the chain starts at seq {seq}: the records before it are missing (a first file removed?)"
        return Break(seq, file, line, why)

    def end_break(self, files: list[Path]) -> Break | None:
        """An anchor past the last record: records were removed from the end."""
        highest = max(self.anchors, default=0)
        last = self.last_seq or 0
        if highest <= last:
            return None
        file = str(files[-1]) if files else ""
        ends = f"the log ends at seq {last}" if last else "the log has no records"
        return Break(
            last + 1,
            file,
            0,
            f"{ends}, but an anchor says seq {highest} was written (records after it were removed)",
        )


def verify(
    paths: Iterable[str | os.PathLike[str]],
    key: bytes | None = None,
    *,
    anchors: Sequence[Anchor] = (),
    accept_gaps: bool = False,
) -> VerifyResult:
    """Verify the chain through ``paths`` (see :func:`rotation_set`), oldest file first.

    ``anchors`` are records the log is known to have held (published checkpoints): a different
    hash at an anchor's seq, or a log that ends before it, is a break. ``accept_gaps`` accepts the
    ``chain_broken`` and ``file_deleted`` gaps the writer recorded (they are breaks otherwise).
    Raises ``OSError`` for a file that cannot be read.
    """
    files = rotation_set(paths)
    hasher = Hasher(key)
    walk = _Walk(hasher, {a.seq: a.hash for a in anchors}, accept_gaps)
    broken = _walk_files(walk, files)
    if broken is not None and walk.first is not None and walk.first[0] > 1:
        # The walk stopped early: a retention gap further on may still explain where it started.
        walk.removed_through = max(walk.removed_through, _last_retention(files, hasher))
    start = walk.start_break()
    if start is not None:
        broken = start  # nothing before the start verifies
        walk.records, walk.last_seq = 0, None
    if broken is None and walk.tail is not None:
        broken = walk.tail[0]
    if broken is None:
        broken = walk.end_break(files)
    first = walk.first[0] if walk.first is not None else None
    return VerifyResult(
        files=tuple(str(f) for f in files),
        records=walk.records,
        first_seq=first,
        last_seq=walk.last_seq,
        gaps=walk.gaps,
        dropped=walk.dropped,
        algorithm=hasher.name,
        removed_through=walk.removed_through,
        discarded=walk.discarded,
        broken=broken,
        accepted_breaks=walk.accepted_breaks,
        broken_bytes=walk.broken_bytes,
        deleted_files=walk.deleted_files,
        lost=walk.lost,
        anchors=walk.matched,
    )


def _walk_files(walk: _Walk, files: list[Path]) -> Break | None:
    for path in files:
        name = str(path)
        with open(path, "rb") as fh:
            damage: Break | None = None
            offset = damage_at = bad = 0
            torn = False
            for number, raw in enumerate(fh, 1):
                unterminated = not raw.endswith(b"\n")
                whole = unterminated and whole_json(raw)  # a record without its newline, judged as one
                record, why = parse_line(raw + b"\n" if whole else raw, walk.hasher)
                if record is None:
                    bad += 1
                    torn = unterminated and not whole
                    if damage is None:
                        damage, damage_at = Break(walk.expected or _seq_of(raw), name, number, why), offset
                elif damage is not None:
                    return damage  # a bad line followed by good ones: not a damaged end
                else:
                    broken = walk.record(record, name, number)
                    if broken is not None:  # the end of the file, unless good lines follow
                        damage, damage_at = broken, offset
                        bad += 1
                offset += len(raw)
            if damage is not None:
                if walk.tail is not None:
                    return walk.tail[0]
                walk.tail = (damage, offset - damage_at, torn and bad == 1)
    return None


def _seq_of(raw: bytes) -> int | None:
    try:
        seq = json.loads(raw).get("seq")
    except (ValueError, AttributeError):
        return None
    return seq if isinstance(seq, int) else None


def _last_retention(files: list[Path], hasher: Hasher) -> int:
    """The highest ``removed_through_seq`` of the verified retention gaps in ``files``."""
    removed = 0
    for path in files:
        with open(path, "rb") as fh:
            for raw in fh:
                if b'"retention"' not in raw:
                    continue
                record, _ = parse_line(raw, hasher)
                meta = record.get("metadata") if record is not None else None
                if isinstance(meta, dict) and meta.get("reason") == GAP_RETENTION:
                    value = meta.get("removed_through_seq")
                    removed = max(removed, value if isinstance(value, int) else 0)
    return removed
