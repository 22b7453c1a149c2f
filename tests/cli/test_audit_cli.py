"""``agentotel audit verify`` and ``agentotel audit tail``."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from audit_helpers import chain_lines, write_lines

from agentotel.cli import main
from agentotel.processors.audit._chain import Hasher
from agentotel.processors.audit._derive import AuditRecord
from agentotel.processors.audit._sink import AuditFileSink, Fsync


@pytest.fixture
def chain(tmp_path: Path) -> Path:
    return write_lines(tmp_path / "audit.jsonl", chain_lines(5))


def one_line(text: str) -> str:
    assert text.endswith("\n") and text.count("\n") == 1, text
    return text.rstrip("\n")


# --- verify --------------------------------------------------------------------------------------------
def test_verify_an_intact_chain_exits_0_with_a_one_line_summary(
    chain: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", "verify", str(chain)]) == 0

    assert one_line(capsys.readouterr().out) == "OK chain intact: 5 records, seq 1..5, 1 file, SHA-256"


def test_verify_of_a_single_record_speaks_in_the_singular(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_lines(tmp_path / "audit.jsonl", chain_lines(1))

    assert main(["audit", "verify", str(path)]) == 0

    assert one_line(capsys.readouterr().out) == "OK chain intact: 1 record, seq 1, 1 file, SHA-256"


@pytest.mark.parametrize(
    ("records", "expected"),
    [
        pytest.param(
            5,
            "BROKEN chain broken at seq 3 ({path} line 3): expected seq 3, found seq 4 "
            "(a record was deleted or moved); the 2 records before it (seq 1..2) verify",
            id="records_before_it_verify",
        ),
        pytest.param(
            3,
            "BROKEN chain broken at seq 2 ({path} line 2): expected seq 2, found seq 3 "
            "(a record was deleted or moved); the record before it (seq 1) verifies",
            id="one_record_before_it_verifies",
        ),
    ],
)
def test_verify_a_broken_chain_exits_1_naming_the_first_broken_seq(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], records: int, expected: str
) -> None:
    """A record deleted from the middle of the chain: the first broken seq, and what verifies before it."""
    lines = chain_lines(records)
    del lines[records // 2]
    path = write_lines(tmp_path / "audit.jsonl", lines)

    assert main(["audit", "verify", str(path)]) == 1

    assert one_line(capsys.readouterr().out) == expected.format(path=path)


def test_verify_a_break_at_the_first_record_says_none_verifies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_lines(tmp_path / "audit.jsonl", [b"garbage\n"])

    assert main(["audit", "verify", str(path)]) == 1

    assert one_line(capsys.readouterr().out) == (
        f"BROKEN chain broken at a record ({path} line 1): not a JSON record; no record before it verifies"
    )


def test_verify_an_empty_log_exits_1_saying_it_proves_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_lines(tmp_path / "audit.jsonl", [])

    assert main(["audit", "verify", str(path)]) == 1

    assert (
        one_line(capsys.readouterr().out) == "EMPTY no records in 1 file: an empty audit log proves nothing"
    )


def test_verify_with_anchors_that_match_says_so(chain: Path, capsys: pytest.CaptureFixture[str]) -> None:
    last = json.loads(chain.read_bytes().splitlines()[-1])
    anchors = chain.with_name("anchors.jsonl")
    anchors.write_text(json.dumps({"seq": 5, "hash": last["hash"], "time": "t"}) + "\n")

    assert (
        main(["audit", "verify", str(chain), "--anchor", f"5:{last['hash']}", "--anchors", str(anchors)]) == 0
    )

    assert one_line(capsys.readouterr().out) == (
        "OK chain intact: 5 records, seq 1..5, 1 file, SHA-256 (1 anchor matches)"
    )


def test_verify_a_log_cut_before_an_anchor_exits_1(chain: Path, capsys: pytest.CaptureFixture[str]) -> None:
    last = json.loads(chain.read_bytes().splitlines()[-1])
    write_lines(chain, chain_lines(3))

    assert main(["audit", "verify", str(chain), "--anchor", f"5:{last['hash']}"]) == 1

    assert one_line(capsys.readouterr().out) == (
        f"BROKEN chain broken at seq 4 (end of {chain}): the log ends at seq 3, but an anchor says seq 5 "
        "was written (records after it were removed); the 3 records before it (seq 1..3) verify"
    )


def test_verify_a_malformed_anchor_is_a_one_line_error(
    chain: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", "verify", str(chain), "--anchor", "five:abc"]) == 2

    assert one_line(capsys.readouterr().err) == (
        "error: 'five:abc' is not an anchor: expected SEQ:HASH (a seq and a 64-digit hex hash)"
    )


def test_verify_fails_on_a_deleted_file_gap_unless_accepted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "audit.jsonl"
    sink = AuditFileSink(str(path), Hasher(), fsync=Fsync.NEVER)
    sink.write([record("tool_call", 1), record("tool_call", 2)], 0)
    path.unlink()
    sink.write([record("tool_call", 3)], 0)
    sink.close()

    assert main(["audit", "verify", str(path)]) == 1
    assert main(["audit", "verify", str(path), "--accept-gaps"]) == 0

    assert capsys.readouterr().out.splitlines() == [
        f"BROKEN chain broken at seq 3 ({path} line 1): records seq 1..2 were lost: the audit file was "
        "deleted or replaced while in use (audit_gap seq 3: file_deleted); --accept-gaps accepts it; "
        "no record before it verifies",
        "OK chain intact: 2 records, seq 1..4, 1 file, SHA-256 (1 audit_gap record; 1 deleted file "
        "accepted: 2 records lost)",
    ]


def test_verify_prints_paths_and_reasons_literally(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "[bold]x"
    folder.mkdir()
    path = write_lines(folder / "audit.jsonl", [chain_lines(1)[0], b'{"[/]":1,"[/]":2}\n'])

    assert main(["audit", "verify", str(path)]) == 1

    assert one_line(capsys.readouterr().out) == (
        f"BROKEN chain broken at seq 2 ({path} line 2): duplicate key '[/]' in the record; "
        "the record before it (seq 1) verifies"
    )


def test_verify_reads_the_hmac_key_from_the_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_lines(tmp_path / "audit.jsonl", chain_lines(2, key=b"k3y"))
    monkeypatch.setenv("MY_AUDIT_KEY", "k3y")
    monkeypatch.delenv("AGENTOTEL_AUDIT_HMAC_KEY", raising=False)

    assert main(["audit", "verify", str(path)]) == 1
    assert main(["audit", "verify", "--key-env", "MY_AUDIT_KEY", str(path)]) == 0
    monkeypatch.setenv("AGENTOTEL_AUDIT_HMAC_KEY", "k3y")
    assert main(["audit", "verify", str(path)]) == 0

    assert (
        capsys.readouterr().out.splitlines()[-1]
        == "OK chain intact: 2 records, seq 1..2, 1 file, HMAC-SHA-256"
    )


def test_verify_an_unreadable_file_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.jsonl"

    assert main(["audit", "verify", str(missing)]) == 2

    captured = capsys.readouterr()
    assert captured.out == ""
    assert one_line(captured.err) == f"error: cannot read {missing}: No such file or directory"


# --- tail ----------------------------------------------------------------------------------------------
def test_tail_prints_the_last_records_one_per_line(chain: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "tail", str(chain), "-n", "2"]) == 0

    assert capsys.readouterr().out.splitlines() == [
        "     4  2026-11-21T10:00:00.000000Z  tool_call         success   planner/u-1  execute_tool search  "
        'conversation=conv-1  {"gen_ai.tool.call.id":"call-4"}',
        "     5  2026-11-21T10:00:00.000000Z  tool_call         success   planner/u-1  execute_tool search  "
        'conversation=conv-1  {"gen_ai.tool.call.id":"call-5"}',
    ]


def test_tail_json_prints_the_lines_as_they_are(chain: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "tail", str(chain), "--json"]) == 0

    assert capsys.readouterr().out.encode() == chain.read_bytes()


def test_tail_prints_names_literally(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "audit.jsonl"
    sink = AuditFileSink(str(path), Hasher(), fsync=Fsync.NEVER)
    sink.write(
        [AuditRecord(1_763_719_200_000_000_000, "tool_call", "[bold]x[/]", "success", resource="[/]\x1b[2J")],
        0,
    )
    sink.close()

    assert main(["audit", "tail", str(path)]) == 0

    assert capsys.readouterr().out.splitlines() == [
        "     1  2025-11-21T10:00:00.000000Z  tool_call         success   -/-  [bold]x[/] [/]\\x1b[2J"
    ]


@pytest.mark.parametrize(
    ("types", "limit", "seqs"),
    [
        pytest.param(("tool_call", "guard_violation", "tool_call"), [], [1, 3], id="only_that_event_type"),
        pytest.param(
            ("tool_call", "tool_call", "guard_violation"), ["-n", "2"], [1, 2], id="n_counts_that_type"
        ),
    ],
)
def test_tail_type_keeps_only_that_event_type(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    types: tuple[str, ...],
    limit: list[str],
    seqs: list[int],
) -> None:
    """``--type`` keeps only records of that type; ``-n`` counts the records of that type."""
    path = tmp_path / "audit.jsonl"
    sink = AuditFileSink(str(path), Hasher(), fsync=Fsync.NEVER)
    sink.write([record(event_type, i) for i, event_type in enumerate(types, start=1)], 0)
    sink.close()

    assert main(["audit", "tail", str(path), *limit, "--type", "tool_call", "--json"]) == 0

    assert [json.loads(line)["seq"] for line in capsys.readouterr().out.splitlines()] == seqs


def record(event_type: str, i: int) -> AuditRecord:
    return AuditRecord(
        time_unix_nano=1_763_719_200_000_000_000,
        event_type=event_type,
        action="execute_tool",
        outcome="success",
        resource="search",
        metadata={"gen_ai.tool.call.id": f"call-{i}"},
    )


def test_tail_of_an_unknown_event_type_is_a_one_line_error(
    chain: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", "tail", str(chain), "--type", "tool_calls"]) == 2

    assert one_line(capsys.readouterr().err) == (
        "error: unknown event type 'tool_calls' (one of: tool_call, guard_violation, guard_check, "
        "approval_decision, llm_call, custom, audit_gap)"
    )


def test_tail_of_an_unreadable_file_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", "tail", str(tmp_path)]) == 2

    assert one_line(capsys.readouterr().err) == f"error: cannot read {tmp_path}: Is a directory"


def test_tail_follow_prints_new_records_across_rotations_until_interrupted(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    sink = AuditFileSink(str(path), Hasher(), fsync=Fsync.NEVER, max_bytes=1500, keep_files=10)
    sink.write([record("tool_call", 1)], 0)
    follower = subprocess.Popen(
        [sys.executable, "-m", "agentotel.cli", "audit", "tail", str(path), "--follow", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        # A shell's background job ignores SIGINT, and so would the child: give it the default back.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    lines: queue.Queue[bytes] = queue.Queue()
    assert follower.stdout is not None
    reader = threading.Thread(target=lambda: [lines.put(line) for line in follower.stdout or ()], daemon=True)
    reader.start()
    try:
        assert json.loads(lines.get(timeout=30))["seq"] == 1
        for i in range(2, 12):  # several rotations, some between two reads of the follower
            sink.write([record("tool_call", i)], 0)
            time.sleep(0.1 * (i % 3))
        seen = [json.loads(lines.get(timeout=30))["seq"] for _ in range(10)]
        assert seen == list(range(2, 12))
        assert len(list(tmp_path.iterdir())) > 3
    finally:
        follower.send_signal(signal.SIGINT)
        try:
            _, err = follower.communicate(timeout=30)
        finally:
            follower.kill()  # a no-op once it has exited
            sink.close()
    assert (follower.returncode, err) == (0, b"")
