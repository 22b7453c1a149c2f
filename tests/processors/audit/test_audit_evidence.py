"""The audit log as evidence: tampering, truncation, two writers, deletion, exact bytes, durability."""

from __future__ import annotations

import json
import logging
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from audit_helpers import TOOL_ATTRS, GatedDisk, chain_lines, records, write_lines
from google.protobuf.json_format import MessageToJson
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.sdk.trace import TracerProvider

from agentotel.config import ConfigError
from agentotel.endpoints import _health as health
from agentotel.processors import AuditSpanProcessor
from agentotel.processors.audit import Anchor, AuditSettings, Break, Fsync, load_anchors, verify
from agentotel.processors.audit._chain import Hasher, seal
from agentotel.processors.audit._derive import AuditRecord
from agentotel.processors.audit._file import AuditFileLocked, OsFile
from agentotel.processors.audit._sink import AuditFileSink, Durable
from agentotel.testing._capture import TelemetryCapture

APP = Path(__file__).with_name("audit_writer_app.py")
ERRORS = "agentotel.telemetry.errors"
KEY = b"k3y-s3cret"
NOT_CANONICAL = (
    "the line is not the canonical JSON of its record (whitespace, key order, escapes or line end changed)"
)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "audit.jsonl"


def end_tool_spans(processor: AuditSpanProcessor, count: int, prefix: str = "call") -> None:
    provider = TracerProvider()
    provider.add_span_processor(processor)
    tracer = provider.get_tracer("test")
    for i in range(count):
        with tracer.start_as_current_span(
            "execute_tool search", attributes={**TOOL_ATTRS, "gen_ai.tool.call.id": f"{prefix}-{i}"}
        ):
            pass


def run(path: Path, count: int, prefix: str = "call", **options: object) -> AuditSpanProcessor:
    processor = AuditSpanProcessor(path, **options)  # type: ignore[arg-type]
    end_tool_spans(processor, count, prefix)
    processor.shutdown()
    return processor


def lines_of(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


# --- a restart does not launder tampering -----------------------------------------------------------------
def edit_last_record(path: Path) -> None:
    lines = lines_of(path)
    lines[-1] = lines[-1].replace(b'"outcome":"success"', b'"outcome":"failure"')
    write_lines(path, lines)


def edit_last_record_and_strip_its_newline(path: Path) -> None:
    """An edit made to look like a crash mid-write (no newline after the last line)."""
    edit_last_record(path)
    path.write_bytes(path.read_bytes()[:-1])


def append_forged_records(path: Path) -> None:
    last = json.loads(lines_of(path)[-1])
    forged = [
        seal(
            {
                **{k: v for k, v in last.items() if k != "hash"},
                "seq": last["seq"] + 1,
                "prev_hash": last["hash"],
            },
            Hasher(b"a guessed key"),
        )[0]
    ]
    write_lines(path, [*lines_of(path), *forged])


def append_unchained_records(path: Path) -> None:
    last = json.loads(lines_of(path)[-1])
    fields = {k: v for k, v in last.items() if k != "hash"}
    forged = seal({**fields, "seq": last["seq"] + 1, "resource": "forged"}, Hasher(KEY))[0]  # prev_hash stale
    write_lines(path, [*lines_of(path), forged])


@pytest.mark.parametrize(
    "tamper",
    [
        edit_last_record,
        edit_last_record_and_strip_its_newline,
        append_forged_records,
        append_unchained_records,
    ],
)
def test_a_restart_after_tampering_records_a_chain_broken_gap_and_verify_fails(
    path: Path, tamper: Callable[[Path], None], cap: TelemetryCapture, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="agentotel")
    run(path, 5, hmac_key=KEY)
    edited = tamper in (edit_last_record, edit_last_record_and_strip_its_newline)
    good = records(path)[:4] if edited else records(path)
    tamper(path)
    if tamper is append_unchained_records:  # its hash verifies; its prev_hash does not
        assert "prev_hash is not the hash of seq 5" in str(verify([path], key=KEY).broken)
    tampered = path.read_bytes()
    discarded = len(tampered) - sum(len(line) for line in lines_of(path)[: len(good)])

    processor = AuditSpanProcessor(path, hmac_key=KEY, meter_provider=cap.meter_provider)
    assert not processor.healthy
    assert [r.getMessage() for r in caplog.records] == [f"agentotel: {processor.last_error}"]
    assert str(processor.last_error) == (
        f"the audit file {path} did not verify when the writer started: {discarded} bytes after seq "
        f"{len(good)} are edited or forged records; it was moved to {path}.1 and a new file continues "
        f"the chain (audit_gap seq {len(good) + 1})"
    )
    assert (
        cap.metric_sum(
            ERRORS,
            {"agentotel.component": "audit", "error.type": "agentotel.processors.audit.AuditChainBroken"},
        )
        == 1
    )
    end_tool_spans(processor, 2, "after")
    processor.shutdown()

    [gap, *rest] = records(path)
    assert (gap["seq"], gap["event_type"], gap["prev_hash"], gap["metadata"]) == (
        len(good) + 1,
        "audit_gap",
        good[-1]["hash"],
        {"reason": "chain_broken", "discarded_bytes": discarded},
    )
    assert [r["seq"] for r in rest] == [len(good) + 2, len(good) + 3]
    assert (path.parent / "audit.jsonl.1").read_bytes() == tampered
    result = verify([path], key=KEY)
    assert not result.ok
    assert result.broken is not None and result.broken.seq == len(good) + 1
    assert result.broken.reason.endswith(
        f"; the writer restarted after it (audit_gap seq {len(good) + 1}: chain_broken); "
        "--accept-gaps accepts it"
    )
    accepted = verify([path], key=KEY, accept_gaps=True)
    assert accepted.ok, accepted.summary()
    assert accepted.summary().endswith(
        f"(1 audit_gap record; 1 chain break accepted: {discarded} bytes that did not verify)"
    )


@pytest.mark.parametrize(
    "ending",
    [
        pytest.param(b"\n", id="complete_line"),
        pytest.param(b"", id="last_line_without_newline"),  # complete JSON: not torn
    ],
)
def test_an_edited_complete_record_is_never_a_damaged_end_even_if_a_gap_acknowledges_it(
    tmp_path: Path, ending: bytes
) -> None:
    """A complete record that fails its hash (with or without its newline) is a break, not crash
    damage, even when the next file starts with an audit_gap for that many bytes."""
    lines = chain_lines(5)
    bad = lines[4].replace(b'"success"', b'"failure"').rstrip(b"\n") + ending
    write_lines(tmp_path / "audit.jsonl.1", [*lines[:4], bad])
    gap = {
        **json.loads(lines[0]),
        "seq": 5,
        "prev_hash": json.loads(lines[3])["hash"],
        "event_type": "audit_gap",
        "metadata": {"reason": "corrupt_tail", "discarded_bytes": len(bad)},
    }
    gap.pop("hash")
    write_lines(tmp_path / "audit.jsonl", [seal(gap, Hasher())[0]])

    result = verify([tmp_path / "audit.jsonl"])

    assert result.broken == Break(
        5,
        str(tmp_path / "audit.jsonl.1"),
        5,
        "hash does not match the record (edited, or hashed with another key)",
    )


def test_a_last_record_that_verifies_without_its_newline_verifies(path: Path) -> None:
    write_lines(path, [*chain_lines(4), chain_lines(5)[4].rstrip(b"\n")])

    assert verify([path]).summary() == "chain intact: 5 records, seq 1..5, 1 file, SHA-256"


def test_a_restart_keeps_a_last_record_that_verifies_without_its_newline_and_completes_the_line(
    path: Path,
) -> None:
    run(path, 5, hmac_key=KEY)
    path.write_bytes(path.read_bytes()[:-1])

    processor = run(path, 2, "after", hmac_key=KEY)

    assert processor.last_error is None  # no incident
    assert not (path.parent / "audit.jsonl.1").exists()
    assert [(r["seq"], r["event_type"]) for r in records(path)] == [(n, "tool_call") for n in range(1, 8)]
    assert verify([path], key=KEY).summary() == "chain intact: 7 records, seq 1..7, 1 file, HMAC-SHA-256"


def test_after_a_crash_mid_rotation_the_newline_is_written_to_the_rotated_file(path: Path) -> None:
    run(path, 5)
    rotated = path.parent / "audit.jsonl.1"
    rotated.write_bytes(path.read_bytes()[:-1])
    path.write_bytes(b"")  # the new file was in place, still empty

    run(path, 2, "after")

    assert rotated.read_bytes().endswith(b"}\n")
    assert [r["seq"] for r in records(path)] == [6, 7]
    assert verify([path]).summary() == "chain intact: 7 records, seq 1..7, 2 files, SHA-256"


def test_a_torn_last_line_is_still_crash_damage(path: Path) -> None:
    run(path, 5, hmac_key=KEY)
    data, last = path.read_bytes(), lines_of(path)[-1]
    half = len(last) // 2
    path.write_bytes(data[: len(data) - len(last) + half])  # a crash mid-write: half a line, not JSON

    processor = run(path, 1, "after", hmac_key=KEY)

    assert processor.last_error is None  # no incident
    [gap, after] = records(path)
    assert (gap["seq"], gap["metadata"]) == (5, {"reason": "corrupt_tail", "discarded_bytes": half})
    assert after["seq"] == 6
    assert verify([path], key=KEY).summary() == (
        "chain intact: 6 records, seq 1..6, 2 files, HMAC-SHA-256 "
        f"(1 audit_gap record; {half} bytes of damaged file ends discarded)"
    )


# --- anchors: truncation and emptied files --------------------------------------------------------------
def test_checkpoints_go_to_the_anchor_file_signed_and_as_log_records(
    path: Path, tmp_path: Path, agent_layer: TelemetryCapture
) -> None:
    anchors = tmp_path / "anchors.jsonl"
    processor = AuditSpanProcessor(
        path, hmac_key=KEY, anchor_path=anchors, anchor_every=4, logger_provider=agent_layer.logger_provider
    )
    end_tool_spans(processor, 10)
    processor.shutdown()
    chain = records(path)

    written = records(anchors)

    assert [(a["seq"], a["hash"]) for a in written] == [
        (r["seq"], r["hash"]) for r in chain if r["seq"] in (4, 8, 10)
    ]
    assert set(written[0]) == {"seq", "hash", "time", "hmac"}
    assert load_anchors(anchors, KEY) == [
        Anchor(4, chain[3]["hash"]),
        Anchor(8, chain[7]["hash"]),
        Anchor(10, chain[9]["hash"]),
    ]
    logged = [log.body for log in agent_layer.logs() if log.event_name == "agentotel.audit.checkpoint"]
    assert logged == written
    assert anchors.stat().st_mode & 0o777 == 0o600


def test_checkpoints_kept_by_a_collector_file_exporter_are_anchors(
    path: Path, agent_layer: TelemetryCapture, tmp_path: Path
) -> None:
    processor = AuditSpanProcessor(
        path, hmac_key=KEY, anchor_every=3, logger_provider=agent_layer.logger_provider
    )
    end_tool_spans(processor, 7)
    processor.shutdown()
    chain = records(path)
    exported = agent_layer.log_exporter.get_finished_logs()
    otlp_json = tmp_path / "collector-file-export.json"  # what the Collector's file exporter writes
    otlp_json.write_text(MessageToJson(encode_logs(exported), indent=None) + "\n")

    anchors = load_anchors(otlp_json, KEY)

    assert anchors == [Anchor(seq, chain[seq - 1]["hash"]) for seq in (3, 6, 7)]
    write_lines(path, lines_of(path)[:5])
    assert verify([path], key=KEY, anchors=anchors).broken == Break(
        6,
        str(path),
        0,
        "the log ends at seq 5, but an anchor says seq 7 was written (records after it were removed)",
    )


def test_a_forged_anchor_is_refused(tmp_path: Path) -> None:
    anchors = tmp_path / "anchors.jsonl"
    anchors.write_text('{"hash":"' + "a" * 64 + '","hmac":"' + "b" * 64 + '","seq":3,"time":"t"}\n')

    with pytest.raises(
        ValueError, match=rf"^{re.escape(str(anchors))} line 1: the anchor's hmac does not match"
    ):
        load_anchors(anchors, KEY)


def test_tail_truncation_after_a_checkpoint_fails_verify(path: Path, tmp_path: Path) -> None:
    anchors = tmp_path / "anchors.jsonl"
    run(path, 10, anchor_path=anchors)
    write_lines(path, lines_of(path)[:7])
    assert verify([path]).ok

    result = verify([path], anchors=load_anchors(anchors, None))

    assert not result.ok
    assert result.broken == Break(
        8,
        str(path),
        0,
        "the log ends at seq 7, but an anchor says seq 10 was written (records after it were removed)",
    )


def test_an_emptied_file_restarted_from_seq_1_fails_against_its_anchor(path: Path, tmp_path: Path) -> None:
    anchors = tmp_path / "anchors.jsonl"
    run(path, 3, anchor_path=anchors)
    write_lines(path, [])
    run(path, 4)  # a fresh chain from seq 1, that verifies on its own

    assert verify([path]).ok
    result = verify([path], anchors=load_anchors(anchors, None))
    assert result.broken == Break(
        3, str(path), 3, "the hash of seq 3 is not the anchor's (the records up to it were replaced)"
    )


def test_anchors_that_match_are_counted_in_the_summary(path: Path) -> None:
    write_lines(path, chain_lines(5))
    chain = records(path)

    result = verify([path], anchors=[Anchor(2, chain[1]["hash"]), Anchor(5, chain[4]["hash"])])

    assert result.summary() == "chain intact: 5 records, seq 1..5, 1 file, SHA-256 (2 anchors match)"


# --- one writer per file ------------------------------------------------------------------------------
def test_a_second_writer_on_the_same_path_is_refused_at_start_up(path: Path) -> None:
    first = AuditSpanProcessor(path)
    try:
        with pytest.raises(ConfigError) as raised:
            AuditSpanProcessor(path)
    finally:
        first.shutdown()

    assert str(raised.value) == (
        f"AGENTOTEL_AUDIT_PATH: {str(path)!r} is being written by another process (or another "
        "AuditSpanProcessor): two writers would break the chain; give each process its own audit path"
    )
    run(path, 1)  # released at shutdown


def test_a_second_process_on_the_same_path_exits_with_the_error(path: Path) -> None:
    first = AuditSpanProcessor(path)
    try:
        done = subprocess.run([sys.executable, str(APP), str(path), "1"], capture_output=True, timeout=60)
    finally:
        first.shutdown()

    assert done.returncode == 1
    assert done.stderr.decode().strip().splitlines()[-1] == (
        f"agentotel.config.ConfigError: AGENTOTEL_AUDIT_PATH: {str(path)!r} is being written by another "
        "process (or another AuditSpanProcessor): two writers would break the chain; give each process "
        "its own audit path"
    )


# --- a deleted file -----------------------------------------------------------------------------------
def test_deleting_the_file_while_in_use_starts_a_new_file_with_a_gap_and_fails_readiness(
    path: Path, cap: TelemetryCapture, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="agentotel")
    processor = AuditSpanProcessor(path, meter_provider=cap.meter_provider)
    end_tool_spans(processor, 3)
    assert processor.force_flush()
    path.unlink()

    end_tool_spans(processor, 2, "after")
    assert processor.force_flush()

    assert not processor.healthy
    assert str(processor.last_error) == (
        f"the audit file {path} was deleted or replaced while in use: records seq 1..3 went with it; "
        "a new file continues the chain (audit_gap seq 4)"
    )
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("WARNING", f"agentotel: {processor.last_error}")
    ]
    assert (
        cap.metric_sum(
            ERRORS,
            {"agentotel.component": "audit", "error.type": "agentotel.processors.audit.AuditFileDeleted"},
        )
        == 1
    )
    assert health.healthy_of(processor)() == (False, str(processor.last_error))
    processor.shutdown()
    [gap, *rest] = records(path)
    assert (gap["seq"], gap["event_type"], gap["metadata"]) == (
        4,
        "audit_gap",
        {"reason": "file_deleted", "lost_from_seq": 1, "lost_through_seq": 3},
    )
    assert [r["seq"] for r in rest] == [5, 6]
    result = verify([path])
    assert result.broken == Break(
        4,
        str(path),
        1,
        "records seq 1..3 were lost: the audit file was deleted or replaced while in use "
        "(audit_gap seq 4: file_deleted); --accept-gaps accepts it",
    )
    assert verify([path], accept_gaps=True).ok


def test_a_file_replaced_while_in_use_is_kept_aside_and_a_new_file_starts_with_a_gap(
    path: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="agentotel")
    processor = AuditSpanProcessor(path)
    end_tool_spans(processor, 3)
    assert processor.force_flush()
    moved = tmp_path / "moved.jsonl"
    path.rename(moved)
    path.write_bytes(b"not the writer's file\n")

    end_tool_spans(processor, 2, "after")
    assert processor.force_flush()

    assert not processor.healthy
    assert str(processor.last_error) == (
        f"the audit file {path} was deleted or replaced while in use: records seq 1..3 went with it; "
        "a new file continues the chain (audit_gap seq 4)"
    )
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("WARNING", f"agentotel: {processor.last_error}")
    ]
    processor.shutdown()
    assert [r["seq"] for r in records(moved)] == [1, 2, 3]  # the renamed file is left as it was
    assert Path(f"{path}.1").read_bytes() == b"not the writer's file\n"  # set aside, never appended to
    [gap, *rest] = records(path)
    assert (gap["seq"], gap["event_type"], gap["metadata"]) == (
        4,
        "audit_gap",
        {"reason": "file_deleted", "lost_from_seq": 1, "lost_through_seq": 3},
    )
    assert [r["seq"] for r in rest] == [5, 6]
    # The file put in its place is part of the rotation set now, and is no audit record.
    assert verify([path], accept_gaps=True).broken == Break(None, f"{path}.1", 1, "not a JSON record")


def test_a_file_deleted_after_the_last_batch_is_noticed_at_shutdown(path: Path) -> None:
    processor = AuditSpanProcessor(path)
    end_tool_spans(processor, 3)
    assert processor.force_flush()
    path.unlink()

    processor.shutdown()

    assert [(r["seq"], r["event_type"], r["metadata"]) for r in records(path)] == [
        (4, "audit_gap", {"reason": "file_deleted", "lost_from_seq": 1, "lost_through_seq": 3})
    ]


# --- exact bytes ---------------------------------------------------------------------------------------
def duplicate_key(line: bytes) -> bytes:
    return line.replace(b'{"action"', b'{"action":"delete_everything","action"', 1)


def spaces(line: bytes) -> bytes:
    return line.replace(b'","', b'", "', 1)


def crlf(line: bytes) -> bytes:
    return line[:-1] + b"\r\n"


def escaped(line: bytes) -> bytes:
    return line.replace(b'"search"', b'"\\u0073earch"', 1)


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (duplicate_key, "duplicate key 'action' in the record"),
        (
            spaces,
            NOT_CANONICAL,
        ),
        (
            crlf,
            NOT_CANONICAL,
        ),
        (
            escaped,
            NOT_CANONICAL,
        ),
    ],
    ids=["duplicate_key", "spaces", "crlf", "escaped"],
)
def test_verify_checks_the_exact_bytes_on_disk(path: Path, change: object, why: str) -> None:
    lines = chain_lines(5)
    lines[2] = change(lines[2])  # type: ignore[operator]
    write_lines(path, lines)

    assert verify([path]).broken == Break(3, str(path), 3, why)


# --- durability: sync -------------------------------------------------------------------------------------
@pytest.fixture
def killed_sync_writer(path: Path) -> Iterator[list[int]]:
    """A sync-mode writer that prints each seq once its span has ended, SIGKILLed mid-stream."""
    app = subprocess.Popen(
        [sys.executable, str(APP), str(path), "0", "--fsync", "sync", "--print-acknowledged"],
        stdout=subprocess.PIPE,
    )
    acknowledged: list[int] = []
    assert app.stdout is not None
    try:
        deadline = time.monotonic() + 60
        while len(acknowledged) < 300 and time.monotonic() < deadline:
            acknowledged.append(int(app.stdout.readline()))
    finally:
        app.send_signal(signal.SIGKILL)
        rest = app.stdout.read()
        app.wait()
    acknowledged.extend(int(n) for n in rest.split())
    yield acknowledged


def test_sync_mode_loses_no_acknowledged_record_to_sigkill(path: Path, killed_sync_writer: list[int]) -> None:
    on_disk = [r["metadata"]["gen_ai.tool.call.id"] for r in records_complete(path)]

    assert len(killed_sync_writer) >= 300
    assert killed_sync_writer == list(range(len(killed_sync_writer)))
    assert on_disk[: len(killed_sync_writer)] == [f"call-{i}" for i in killed_sync_writer]


def records_complete(path: Path) -> list[dict[str, object]]:
    data = path.read_bytes()
    return [json.loads(line) for line in data[: data.rfind(b"\n") + 1].splitlines()]


def test_sync_with_the_drop_policy_is_a_clear_error(path: Path) -> None:
    with pytest.raises(
        ConfigError,
        match=r"^AGENTOTEL_AUDIT_FSYNC=sync needs AGENTOTEL_AUDIT_QUEUE_POLICY=block \(a dropped record",
    ):
        AuditSpanProcessor(path, fsync="sync", queue_policy="drop")


def test_in_sync_mode_a_span_end_returns_only_once_its_record_is_on_disk(path: Path) -> None:
    disk = GatedDisk()
    processor = AuditSpanProcessor(path, fsync="sync", opener=disk)
    ended = threading.Event()

    def end_one() -> None:
        end_tool_spans(processor, 1)
        ended.set()

    worker = threading.Thread(target=end_one)
    worker.start()
    assert disk.entered.wait(10)  # the writer has the record, and waits for the disk

    assert not ended.wait(0.5)
    disk.release()
    assert ended.wait(10)
    assert [r["metadata"]["gen_ai.tool.call.id"] for r in records(path)] == ["call-0"]
    assert disk.syncs == 1
    worker.join()
    processor.shutdown()


def test_the_lock_follows_the_file_across_rotations(path: Path) -> None:
    first = AuditSpanProcessor(path, max_bytes=1000)
    end_tool_spans(first, 10)
    assert first.force_flush()
    assert (path.parent / "audit.jsonl.2").exists()

    with pytest.raises(ConfigError, match="is being written by another process"):
        AuditSpanProcessor(path)
    first.shutdown()


def test_a_second_writer_starting_mid_rotation_is_refused(path: Path) -> None:
    attempts: list[str] = []

    def opener(name: str) -> OsFile:
        if Path(name).parent.joinpath("audit.jsonl.1").exists() or name.endswith(".new"):
            # a rotation is under way: a second writer starts right now
            try:
                OsFile(str(path)).close()
                attempts.append("second writer got the lock")
            except AuditFileLocked:
                attempts.append("refused")
        return OsFile(name)

    first = AuditSpanProcessor(path, max_bytes=1000, opener=opener)
    end_tool_spans(first, 10)
    first.shutdown()

    assert len(attempts) > 1
    assert set(attempts) == {"refused"}
    assert verify([path]).summary().startswith("chain intact: 10 records, seq 1..10,")


def test_anchor_settings_come_from_the_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTOTEL_AUDIT_FSYNC", "sync")
    monkeypatch.setenv("AGENTOTEL_AUDIT_ANCHOR_PATH", "/var/log/anchors.jsonl")
    monkeypatch.setenv("AGENTOTEL_AUDIT_ANCHOR_RECORDS", "50")
    monkeypatch.setenv("AGENTOTEL_AUDIT_ANCHOR_SECONDS", "2.5")

    settings = AuditSettings.from_env()

    assert (settings.fsync, settings.anchor_path, settings.anchor_every, settings.anchor_seconds) == (
        Fsync.SYNC,
        "/var/log/anchors.jsonl",
        50,
        2.5,
    )
    monkeypatch.setenv("AGENTOTEL_AUDIT_ANCHOR_RECORDS", "0")
    with pytest.raises(ConfigError, match=r"^AGENTOTEL_AUDIT_ANCHOR_RECORDS='0' is not valid"):
        AuditSettings.from_env()


def test_a_record_the_writer_drops_releases_the_span_end_waiting_for_it(path: Path) -> None:
    sink = AuditFileSink(str(path), Hasher())
    durable = Durable(AuditRecord(1, "tool_call", "execute_tool", "success"))

    sink.on_drop(durable)

    assert durable.done.is_set()
    sink.close()


def test_a_checkpoint_comes_with_the_first_batch_after_anchor_seconds(path: Path, tmp_path: Path) -> None:
    anchors = tmp_path / "anchors.jsonl"
    processor = AuditSpanProcessor(path, anchor_path=anchors, anchor_seconds=0.05)
    end_tool_spans(processor, 2)
    assert processor.force_flush()
    time.sleep(0.1)
    end_tool_spans(processor, 1, "later")
    assert processor.force_flush()

    assert [a["seq"] for a in records(anchors)] == [3]
    processor.shutdown()


def test_in_sync_mode_concurrent_span_ends_share_one_write_and_fsync(path: Path) -> None:
    disk = GatedDisk()
    processor = AuditSpanProcessor(path, fsync="sync", opener=disk)
    workers = [threading.Thread(target=end_tool_spans, args=(processor, 1, f"t{n}")) for n in range(4)]
    workers[0].start()
    assert disk.entered.wait(10)
    for worker in workers[1:]:
        worker.start()
    wait_until(lambda: processor._writer._queue.qsize() == 3, "three records queued behind the first")

    disk.release()
    for worker in workers:
        worker.join(10)

    assert len(records(path)) == 4
    assert disk.syncs == 2  # the first record, then the three that waited, together
    processor.shutdown()


def test_in_sync_mode_a_span_end_returns_when_the_disk_does_not_answer_in_time(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    block, shutdown = 0.1, 0.1
    monkeypatch.setenv("AGENTOTEL_WRITER_BLOCK_TIMEOUT", str(block))
    monkeypatch.setenv("AGENTOTEL_WRITER_SHUTDOWN_TIMEOUT", str(shutdown))
    disk = GatedDisk()
    processor = AuditSpanProcessor(path, fsync="sync", opener=disk)
    ended = threading.Event()
    worker = threading.Thread(target=lambda: (end_tool_spans(processor, 1), ended.set()))
    worker.start()

    assert ended.wait(block + shutdown + 1.0)  # the bound, and 1 s for a loaded machine
    assert path.stat().st_size == 0  # returned without the record on disk: the app never hangs
    disk.release()
    worker.join()
    processor.shutdown()


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)
