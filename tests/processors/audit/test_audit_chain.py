"""The hash chain: canonical JSON, hashes, and verify() against every kind of tampering."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from audit_helpers import chain_lines, record_fields, records, write_lines

from agentotel.processors.audit import Break, verify
from agentotel.processors.audit._chain import GENESIS, Hasher, canonical, rotation_set, seal
from agentotel.processors.audit._derive import AuditRecord
from agentotel.processors.audit._sink import AuditFileSink, Fsync


def tool_record(i: int) -> AuditRecord:
    return AuditRecord(
        time_unix_nano=1_763_719_200_000_000_000 + i,
        event_type="tool_call",
        action="execute_tool",
        outcome="success",
        resource="search",
        metadata={"gen_ai.tool.call.id": f"call-{i}"},
    )


def rotation_files(tmp_path: Path, count: int, *, max_bytes: int = 2000, keep: int = 10) -> Path:
    """``count`` records written by the real sink, rotating every few records."""
    path = tmp_path / "audit.jsonl"
    sink = AuditFileSink(str(path), Hasher(), fsync=Fsync.NEVER, max_bytes=max_bytes, keep_files=keep)
    sink.write([tool_record(i) for i in range(count)], 0)
    sink.close()
    return path


# --- canonical JSON and hashes ---------------------------------------------------------------------------
def test_canonical_json_sorts_keys_drops_whitespace_and_keeps_utf8() -> None:
    assert canonical({"b": 1, "a": {"z": None, "y": "é"}}) == '{"a":{"y":"é","z":null},"b":1}'.encode()


def test_a_line_is_the_canonical_record_with_its_sha256_appended() -> None:
    fields = record_fields(1, GENESIS)

    line, digest = seal(fields, Hasher())

    assert digest == hashlib.sha256(canonical(fields)).hexdigest()
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert json.loads(line) == {**fields, "hash": digest}


def test_with_a_key_the_hash_is_hmac_sha256() -> None:
    fields = record_fields(1, GENESIS)

    _, digest = seal(fields, Hasher(b"s3cret"))

    assert digest == hmac.new(b"s3cret", canonical(fields), hashlib.sha256).hexdigest()


def test_an_hmac_chain_verifies_only_with_its_key(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "audit.jsonl", chain_lines(3, key=b"s3cret"))

    assert (
        verify([path], key=b"s3cret").summary() == "chain intact: 3 records, seq 1..3, 1 file, HMAC-SHA-256"
    )
    assert verify([path]).broken == Break(
        1, str(path), 1, "hash does not match the record (edited, or hashed with another key)"
    )


def test_an_untouched_chain_of_100000_records_verifies(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "audit.jsonl", chain_lines(100_000))

    result = verify([path])

    assert result.summary() == "chain intact: 100000 records, seq 1..100000, 1 file, SHA-256"
    assert (result.records, result.last_seq) == (100_000, 100_000)


# --- the tamper matrix ---------------------------------------------------------------------------------
def edit_a_field(lines: list[bytes]) -> None:
    lines[4] = lines[4].replace(b'"outcome":"success"', b'"outcome":"failure"')


def edit_and_rehash(lines: list[bytes]) -> None:
    record = json.loads(lines[4])
    record.pop("hash")
    record["resource"] = "delete_everything"
    lines[4], _ = seal(record, Hasher())


def delete_a_line(lines: list[bytes]) -> None:
    del lines[4]


def swap_two_lines(lines: list[bytes]) -> None:
    lines[4], lines[5] = lines[5], lines[4]


def insert_a_forged_line(lines: list[bytes]) -> None:
    prev = json.loads(lines[3])["hash"]
    forged, _ = seal(record_fields(5, prev, resource="forged"), Hasher())
    lines.insert(4, forged)


def insert_a_badly_forged_line(lines: list[bytes]) -> None:
    lines.insert(4, lines[3].replace(b'"seq":4', b'"seq":5'))


def truncate_the_last_line(lines: list[bytes]) -> None:
    lines[-1] = lines[-1][:40]


TAMPERING: list[tuple[Callable[[list[bytes]], None], Break]] = [
    (edit_a_field, Break(5, "", 5, "hash does not match the record (edited, or hashed with another key)")),
    (
        edit_and_rehash,
        Break(6, "", 6, "prev_hash is not the hash of seq 5 (a record was replaced or inserted before it)"),
    ),
    (delete_a_line, Break(5, "", 5, "expected seq 5, found seq 6 (a record was deleted or moved)")),
    (swap_two_lines, Break(5, "", 5, "expected seq 5, found seq 6 (a record was deleted or moved)")),
    (insert_a_forged_line, Break(5, "", 6, "expected seq 6, found seq 5 again (reordered or inserted)")),
    (
        insert_a_badly_forged_line,
        Break(5, "", 5, "hash does not match the record (edited, or hashed with another key)"),
    ),
    (truncate_the_last_line, Break(10, "", 10, "incomplete record (truncated mid-line)")),
]


@pytest.mark.parametrize(("tamper", "expected"), TAMPERING, ids=[t.__name__ for t, _ in TAMPERING])
def test_verify_names_the_first_tampered_record(
    tmp_path: Path, tamper: Callable[[list[bytes]], None], expected: Break
) -> None:
    lines = chain_lines(10)
    tamper(lines)
    path = write_lines(tmp_path / "audit.jsonl", lines)

    result = verify([path])

    assert result.broken == Break(expected.seq, str(path), expected.line, expected.reason)
    assert result.records == (expected.line - 1)
    assert not result.ok


def rotated_count(tmp_path: Path) -> int:
    return len(list(tmp_path.glob("audit.jsonl.*")))


def test_removing_the_first_file_of_a_rotation_set_is_caught(tmp_path: Path) -> None:
    path = rotation_files(tmp_path, 20)
    oldest = rotated_count(tmp_path)
    assert oldest >= 3
    assert [p.name for p in rotation_set([path])] == [
        *(f"audit.jsonl.{n}" for n in range(oldest, 0, -1)),
        "audit.jsonl",
    ]
    assert verify([path]).summary() == f"chain intact: 20 records, seq 1..20, {oldest + 1} files, SHA-256"
    second = tmp_path / f"audit.jsonl.{oldest - 1}"
    second_first_seq = records(second)[0]["seq"]
    (tmp_path / f"audit.jsonl.{oldest}").unlink()

    result = verify([path])

    assert result.broken == Break(
        second_first_seq,
        str(second),
        1,
        f"the chain starts at seq {second_first_seq}: "
        "the records before it are missing (a first file removed?)",
    )


def test_removing_a_middle_file_of_a_rotation_set_is_caught(tmp_path: Path) -> None:
    path = rotation_files(tmp_path, 20)
    missing = [r["seq"] for r in records(tmp_path / "audit.jsonl.2")]
    (tmp_path / "audit.jsonl.2").unlink()

    result = verify([path])

    assert result.broken == Break(
        missing[0],
        str(tmp_path / "audit.jsonl.1"),
        1,
        f"expected seq {missing[0]}, found seq {missing[-1] + 1} (a record was deleted or moved)",
    )


def test_files_removed_by_retention_are_explained_by_a_gap_record(tmp_path: Path) -> None:
    path = rotation_files(tmp_path, 20, keep=1)
    oldest = records(tmp_path / "audit.jsonl.1")

    result = verify([path])

    assert sorted(p.name for p in tmp_path.iterdir()) == ["audit.jsonl", "audit.jsonl.1"]
    assert result.ok, result.summary()
    assert result.removed_through == oldest[0]["seq"] - 1
    assert result.summary() == (
        f"chain intact: {result.records} records, seq {oldest[0]['seq']}..{result.last_seq}, 2 files, "
        f"SHA-256 ({result.gaps} audit_gap records; records through seq {result.removed_through} "
        "removed by rotation)"
    )
    (tmp_path / "audit.jsonl.1").unlink()
    assert "the records before it are missing" in str(verify([path]).broken)


def test_a_rotated_file_named_alone_is_verified_alone(tmp_path: Path) -> None:
    rotation_files(tmp_path, 20)

    oldest = tmp_path / f"audit.jsonl.{rotated_count(tmp_path)}"
    count = len(records(oldest))

    assert [p.name for p in rotation_set([oldest])] == [oldest.name]
    assert verify([oldest]).summary() == f"chain intact: {count} records, seq 1..{count}, 1 file, SHA-256"


# --- damaged file ends (crashes) -----------------------------------------------------------------------
def gap_line(seq: int, prev: str, discarded: int) -> bytes:
    fields = record_fields(
        seq,
        prev,
        event_type="audit_gap",
        action="corrupt_tail",
        outcome="discarded",
        metadata={"reason": "corrupt_tail", "discarded_bytes": discarded},
    )
    return seal(fields, Hasher())[0]


def test_a_damaged_end_acknowledged_by_the_next_files_gap_verifies(tmp_path: Path) -> None:
    lines = chain_lines(5)
    damaged = write_lines(tmp_path / "audit.jsonl.1", [*lines, b'{"seq":6,"tim'])
    prev = json.loads(lines[-1])["hash"]
    current = tmp_path / "audit.jsonl"
    fixed = [gap_line(6, prev, 13)]
    fixed += chain_lines(2, start=7, prev=json.loads(fixed[0])["hash"])
    write_lines(current, fixed)

    result = verify([current])

    assert result.summary() == (
        "chain intact: 8 records, seq 1..8, 2 files, SHA-256 "
        "(1 audit_gap record; 13 bytes of damaged file ends discarded)"
    )
    assert damaged.exists()


def test_a_damaged_end_not_acknowledged_to_the_byte_is_a_break(tmp_path: Path) -> None:
    lines = chain_lines(5)
    write_lines(tmp_path / "audit.jsonl.1", [*lines, b'{"seq":6,"tim'])
    prev = json.loads(lines[-1])["hash"]
    write_lines(tmp_path / "audit.jsonl", [gap_line(6, prev, 12)])

    result = verify([tmp_path / "audit.jsonl"])

    assert result.broken == Break(
        6, str(tmp_path / "audit.jsonl.1"), 6, "incomplete record (truncated mid-line)"
    )
    assert (result.records, result.last_seq) == (5, 5)


def test_a_bad_line_followed_by_good_ones_is_a_break_not_a_damaged_end(tmp_path: Path) -> None:
    lines = chain_lines(5)
    lines[2] = b"garbage\n"
    path = write_lines(tmp_path / "audit.jsonl", lines)

    assert verify([path]).broken == Break(3, str(path), 3, "not a JSON record")


def test_a_chain_must_start_at_genesis(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "audit.jsonl", chain_lines(3, prev="f" * 64))

    assert verify([path]).broken == Break(
        1, str(path), 1, "the first record does not start a chain (prev_hash)"
    )


def test_an_unreadable_file_raises_oserror(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        verify([tmp_path / "missing.jsonl"])


def test_empty_files_are_not_an_intact_chain(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "audit.jsonl", [])

    result = verify([path])

    assert (result.ok, result.broken, result.records) == (False, None, 0)
    assert result.summary() == "no records in 1 file: an empty audit log proves nothing"
