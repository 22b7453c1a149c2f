"""The audit log's public read API: :class:`agentotel.processors.audit.AuditTail` (what
``agentotel audit tail`` reads with)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from agentotel.processors.audit import AuditTail


def _line(seq: int, event_type: str = "tool_call") -> bytes:
    return json.dumps({"seq": seq, "event_type": event_type}).encode() + b"\n"


def test_last_gives_the_last_records_as_written(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    path.write_bytes(b"".join(_line(seq) for seq in range(1, 6)))

    with AuditTail(path) as tail:
        assert tail.last(2) == [_line(4), _line(5)]


def test_last_keeps_only_the_event_type_asked_for(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    path.write_bytes(_line(1) + _line(2, "guard_violation") + _line(3) + _line(4, "guard_violation"))

    with AuditTail(path, event_type="guard_violation") as tail:
        assert tail.last(10) == [_line(2, "guard_violation"), _line(4, "guard_violation")]


def test_follow_completes_a_half_written_line_and_crosses_a_rotation(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    path.write_bytes(_line(1) + _line(2)[:5])

    def finish_the_line() -> None:
        with path.open("ab") as f:
            f.write(_line(2)[5:])

    def rotate() -> None:
        os.rename(path, tmp_path / "audit.jsonl.1")
        path.write_bytes(_line(3))

    steps = [finish_the_line, rotate]

    def sleep(seconds: float) -> None:  # nothing new: the writer writes the next step
        assert seconds == 0.25
        steps.pop(0)()

    with AuditTail(path) as tail:
        assert tail.last(10) == [_line(1)]
        follow = tail.follow(sleep)
        assert [next(follow), next(follow)] == [_line(2), _line(3)]
    assert steps == []


def test_a_missing_file_raises_oserror_naming_it(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as caught:
        AuditTail(tmp_path / "nope.jsonl")

    assert caught.value.filename == str(tmp_path / "nope.jsonl")
