"""AuditSpanProcessor end to end: real spans in, a verified JSON Lines chain out; load, crashes, faults."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from audit_helpers import TOOL_ATTRS, FullDisk, GatedDisk, chain_records, records, tiny_tmpfs
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ALWAYS_ON, DEFAULT_ON, ParentBased, TraceIdRatioBased

import agentotel
from agentotel.config import ConfigError
from agentotel.processors import AuditSpanProcessor
from agentotel.processors._writer import FullPolicy
from agentotel.processors.audit import AuditSettings, Fsync, verify
from agentotel.processors.audit._processor import attach_from_env, check_sampler
from agentotel.testing._capture import TelemetryCapture

APP = Path(__file__).with_name("audit_writer_app.py")
DROPPED = "agentotel.telemetry.dropped"
ERRORS = "agentotel.telemetry.errors"


@pytest.fixture
def audit_path(tmp_path: Path) -> Path:
    return tmp_path / "logs" / "audit.jsonl"


@pytest.fixture
def audited(agent_layer: TelemetryCapture, audit_path: Path) -> Iterator[AuditSpanProcessor]:
    """The agent API recording to ``agent_layer``, whose tracer provider has an audit processor."""
    processor = AuditSpanProcessor(
        audit_path, meter_provider=agent_layer.meter_provider, logger_provider=agent_layer.logger_provider
    )
    agent_layer.tracer_provider.add_span_processor(processor)
    yield processor
    processor.shutdown()


def provider_with(processor: AuditSpanProcessor) -> TracerProvider:
    provider = TracerProvider()
    provider.add_span_processor(processor)
    return provider


def end_tool_spans(provider: TracerProvider, count: int, prefix: str = "call") -> None:
    tracer = provider.get_tracer("test")
    for i in range(count):
        with tracer.start_as_current_span(
            "execute_tool search", attributes={**TOOL_ATTRS, "gen_ai.tool.call.id": f"{prefix}-{i}"}
        ):
            pass


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def call_ids(found: list[dict[str, Any]]) -> list[str]:
    return [r["metadata"]["gen_ai.tool.call.id"] for r in found if r["event_type"] == "tool_call"]


# --- what is written ---------------------------------------------------------------------------------
def test_an_agent_round_becomes_chained_records_with_actor_and_conversation(
    agent_layer: TelemetryCapture, audited: AuditSpanProcessor, audit_path: Path
) -> None:
    with agentotel.session("conv-1", user_id="u-1"), agentotel.agent("planner"):
        with agentotel.tool("search", call_id="call-1"):
            pass
        with agentotel.guard("pii") as g:
            g.block("PII in the prompt")
        with agentotel.approval("send_email", approver="ops") as a:
            a.approve()
    assert audited.force_flush()
    spans = {s.name: s for s in agent_layer.spans()}

    found = records(audit_path)

    assert [(r["seq"], r["event_type"], r["resource"], r["outcome"]) for r in found] == [
        (1, "tool_call", "search", "success"),
        (2, "guard_violation", "pii", "blocked"),
        (3, "approval_decision", "send_email", "approved"),
    ]
    tool = found[0]
    span = spans["execute_tool search"]
    assert tool == {
        "seq": 1,
        "timestamp": tool["timestamp"],
        "event_type": "tool_call",
        "actor": {"agent": "planner", "user": "u-1"},
        "action": "execute_tool",
        "resource": "search",
        "outcome": "success",
        "metadata": {"gen_ai.tool.call.id": "call-1", "gen_ai.tool.type": "function"},
        "trace_id": format(span.context.trace_id, "032x"),
        "span_id": format(span.context.span_id, "016x"),
        "conversation_id": "conv-1",
        "prev_hash": "0" * 64,
        "hash": tool["hash"],
    }
    assert [r["prev_hash"] for r in found[1:]] == [r["hash"] for r in found[:-1]]
    assert verify([audit_path]).summary() == "chain intact: 3 records, seq 1..3, 1 file, SHA-256"


def test_agent_names_come_from_the_nearest_agent_round_and_are_forgotten_at_end(
    agent_layer: TelemetryCapture, audited: AuditSpanProcessor, audit_path: Path
) -> None:
    with agentotel.agent("outer"):
        with agentotel.tool("a", call_id="1"):
            pass
        with agentotel.agent("inner"), agentotel.step("s"), agentotel.tool("b", call_id="2"):
            pass
    with agentotel.tool("c", call_id="3"):
        pass
    audited.force_flush()

    assert [(r["resource"], r["actor"]["agent"]) for r in records(audit_path)] == [
        ("a", "outer"),
        ("b", "inner"),
        ("c", None),
    ]
    assert audited._agents == {}


def test_the_file_and_its_rotations_are_created_0600(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    processor = AuditSpanProcessor(path, max_bytes=1000)
    end_tool_spans(provider_with(processor), 10)
    processor.shutdown()

    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir()}

    assert len(modes) > 2
    assert set(modes.values()) == {0o600}


def test_each_record_is_also_an_agentotel_audit_log_event(
    agent_layer: TelemetryCapture, audited: AuditSpanProcessor, audit_path: Path
) -> None:
    with agentotel.tool("search", call_id="call-1"), agentotel.guard("pii") as g:
        g.flag("odd")
    audited.force_flush()
    [guard_span, tool_span] = agent_layer.spans()

    logs = agent_layer.logs()

    assert [log.event_name for log in logs] == ["agentotel.audit", "agentotel.audit"]
    assert [log.body for log in logs] == records(audit_path)
    assert [(log.trace_id, log.span_id) for log in logs] == [
        (guard_span.context.trace_id, guard_span.context.span_id),
        (tool_span.context.trace_id, tool_span.context.span_id),
    ]


def test_an_hmac_key_from_the_env_hashes_the_chain_and_is_never_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENTOTEL_AUDIT_HMAC_KEY", "k3y-s3cret")
    path = tmp_path / "audit.jsonl"
    processor = AuditSpanProcessor(path)
    end_tool_spans(provider_with(processor), 3)
    processor.shutdown()

    assert verify([path], key=b"k3y-s3cret").summary() == (
        "chain intact: 3 records, seq 1..3, 1 file, HMAC-SHA-256"
    )
    assert not verify([path]).ok
    assert b"k3y-s3cret" not in b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert "k3y" not in repr(processor.settings)


def test_settings_come_from_the_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AGENTOTEL_AUDIT_PATH": "/var/log/a.jsonl",
        "AGENTOTEL_AUDIT_FSYNC": "record",
        "AGENTOTEL_AUDIT_QUEUE_POLICY": "DROP",
        "AGENTOTEL_AUDIT_QUEUE_SIZE": "64",
        "AGENTOTEL_AUDIT_MAX_BYTES": "4096",
        "AGENTOTEL_AUDIT_KEEP_FILES": "3",
        "AGENTOTEL_AUDIT_GUARD_CHECKS": "true",
        "AGENTOTEL_AUDIT_LLM_CALLS": "1",
    }.items():
        monkeypatch.setenv(name, value)

    assert AuditSettings.from_env() == AuditSettings(
        path="/var/log/a.jsonl",
        fsync=Fsync.RECORD,
        queue_policy=FullPolicy.DROP,
        queue_size=64,
        max_bytes=4096,
        keep_files=3,
        guard_checks=True,
        llm_calls=True,
    )
    assert AuditSettings.from_env({}) == AuditSettings()


def test_a_malformed_setting_names_its_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AGENTOTEL_AUDIT_FSYNC", "sometimes")

    with pytest.raises(ConfigError, match=r"AGENTOTEL_AUDIT_FSYNC='sometimes' is not valid"):
        AuditSpanProcessor(tmp_path / "audit.jsonl")


def test_no_path_at_all_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="no audit log path: pass path= or set AGENTOTEL_AUDIT_PATH"):
        AuditSpanProcessor()


# --- the writer thread: no I/O in on_end, durability, draining ------------------------------------------
@pytest.mark.parametrize(("fsync", "syncs"), [("batch", 2), ("record", 10), ("never", 0)])
def test_on_end_only_queues_and_fsync_follows_the_policy(tmp_path: Path, fsync: str, syncs: int) -> None:
    disk = GatedDisk()
    path = tmp_path / "audit.jsonl"
    processor = AuditSpanProcessor(path, fsync=fsync, opener=disk)
    provider = provider_with(processor)
    end_tool_spans(provider, 1, "first")
    assert disk.entered.wait(10)

    end_tool_spans(provider, 9)  # the writer is stuck in its first write: on_end must not wait

    assert path.stat().st_size == 0
    disk.release()
    assert processor.force_flush()
    assert (len(records(path)), disk.syncs) == (10, syncs)
    processor.shutdown()


def test_shutdown_writes_everything_queued(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    processor = AuditSpanProcessor(path)
    end_tool_spans(provider_with(processor), 2000)

    processor.shutdown()

    assert call_ids(records(path)) == [f"call-{i}" for i in range(2000)]


def test_on_end_never_raises_and_counts_our_errors(cap: TelemetryCapture, tmp_path: Path) -> None:
    processor = AuditSpanProcessor(tmp_path / "audit.jsonl", meter_provider=cap.meter_provider)

    processor.on_end(object())  # type: ignore[arg-type]

    assert cap.metric_sum(ERRORS, {"agentotel.component": "audit", "error.type": "AttributeError"}) == 1
    processor.shutdown()


# --- load ----------------------------------------------------------------------------------------------
def run_threads(provider: TracerProvider, threads: int, spans: int) -> None:
    workers = [
        threading.Thread(target=end_tool_spans, args=(provider, spans, f"t{n}")) for n in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


def test_eight_threads_blocking_on_a_small_queue_write_each_of_their_tool_spans_exactly_once(
    tmp_path: Path,
) -> None:
    # 8,000 spans through 16 slots: the threads contend for the queue and keep finding it full.
    path = tmp_path / "audit.jsonl"
    processor = AuditSpanProcessor(path, queue_size=16)
    run_threads(provider_with(processor), 8, 1_000)
    processor.shutdown()

    found = chain_records(path)

    assert [r["seq"] for r in found] == list(range(1, 8_001))
    assert Counter(call_ids(found)) == Counter(f"t{n}-{i}" for n in range(8) for i in range(1_000))
    assert verify([path]).summary() == "chain intact: 8000 records, seq 1..8000, 1 file, SHA-256"


def test_the_drop_policy_counts_every_lost_record_and_writes_gaps(
    cap: TelemetryCapture, tmp_path: Path
) -> None:
    path = tmp_path / "audit.jsonl"
    processor = AuditSpanProcessor(path, queue_policy="drop", queue_size=2, meter_provider=cap.meter_provider)
    run_threads(provider_with(processor), 8, 2_500)
    processor.shutdown()
    found = chain_records(path)
    dropped = cap.metric_sum(DROPPED, {"agentotel.component": "audit", "agentotel.drop.reason": "queue_full"})

    gaps = [r for r in found if r["event_type"] == "audit_gap"]

    assert dropped > 0
    assert len(call_ids(found)) + dropped == 20_000
    assert len(set(call_ids(found))) == len(call_ids(found))
    assert sum(g["metadata"]["dropped"] for g in gaps) == dropped
    assert {(g["action"], g["outcome"], g["metadata"]["reason"]) for g in gaps} == {
        ("queue_full", "lost", "queue_full")
    }
    result = verify([path])
    assert (result.ok, result.dropped, result.gaps) == (True, dropped, len(gaps))


# --- restarts, rotation and crashes -------------------------------------------------------------------
def test_a_restarted_processor_continues_the_chain_in_the_same_file(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    for run in range(2):
        processor = AuditSpanProcessor(path)
        end_tool_spans(provider_with(processor), 5, f"run{run}")
        processor.shutdown()

    assert [p.name for p in tmp_path.iterdir()] == ["audit.jsonl"]
    assert verify([path]).summary() == "chain intact: 10 records, seq 1..10, 1 file, SHA-256"


def test_a_damaged_end_is_not_appended_to_the_chain_goes_on_after_a_gap(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    processor = AuditSpanProcessor(path)
    end_tool_spans(provider_with(processor), 5)
    processor.shutdown()
    before = records(path)
    with open(path, "r+b") as fh:
        fh.truncate(path.stat().st_size - 20)
    damaged = path.read_bytes()
    damaged_bytes = len(damaged.splitlines(keepends=True)[-1])

    processor = AuditSpanProcessor(path)
    end_tool_spans(provider_with(processor), 2, "after")
    processor.shutdown()

    assert (tmp_path / "audit.jsonl.1").read_bytes() == damaged
    [gap, *rest] = records(path)
    assert (gap["seq"], gap["event_type"], gap["prev_hash"], gap["metadata"]) == (
        5,
        "audit_gap",
        before[3]["hash"],
        {"reason": "corrupt_tail", "discarded_bytes": damaged_bytes},
    )
    assert [(r["seq"], r["metadata"]["gen_ai.tool.call.id"]) for r in rest] == [
        (6, "after-0"),
        (7, "after-1"),
    ]
    assert (
        verify([path]).summary() == "chain intact: 7 records, seq 1..7, 2 files, SHA-256 "
        f"(1 audit_gap record; {damaged_bytes} bytes of damaged file ends discarded)"
    )


def test_a_crash_between_rotation_steps_resumes_from_the_rotated_file(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    processor = AuditSpanProcessor(path)
    end_tool_spans(provider_with(processor), 5)
    processor.shutdown()
    os.replace(path, tmp_path / "audit.jsonl.1")  # renamed, and the new file never created

    processor = AuditSpanProcessor(path)
    end_tool_spans(provider_with(processor), 1, "after")
    processor.shutdown()

    assert [r["seq"] for r in records(path)] == [6]
    assert verify([path]).summary() == "chain intact: 6 records, seq 1..6, 2 files, SHA-256"


def test_rotation_keeps_n_files_and_says_what_it_removed(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    processor = AuditSpanProcessor(path, max_bytes=2000, keep_files=2)
    end_tool_spans(provider_with(processor), 60)
    processor.shutdown()

    result = verify([path])

    assert sorted(p.name for p in tmp_path.iterdir()) == ["audit.jsonl", "audit.jsonl.1", "audit.jsonl.2"]
    assert result.ok and result.removed_through == result.first_seq - 1 > 0
    assert call_ids(chain_records(path))[-1] == "call-59"


def test_a_writer_killed_mid_run_verifies_to_its_last_complete_record_and_a_restart_continues(
    tmp_path: Path,
) -> None:
    path = tmp_path / "audit.jsonl"
    app = subprocess.Popen([sys.executable, str(APP), str(path), "0"])
    try:
        wait_for(lambda: path.exists() and path.stat().st_size > 300_000, "the app to write records")
    finally:
        app.send_signal(signal.SIGKILL)
        app.wait()
    data = path.read_bytes()
    complete = data[: data.rfind(b"\n") + 1]
    count = complete.count(b"\n")

    killed = verify([path])

    assert (killed.records, killed.last_seq) == (count, count)
    if complete != data:
        assert killed.broken is not None
        assert (killed.broken.seq, killed.broken.line) == (count + 1, count + 1)
    subprocess.run([sys.executable, str(APP), str(path), "100"], check=True, timeout=60)
    found = chain_records(path, torn=complete != data)  # the torn line is kept, rotated away
    assert verify([path]).ok, verify([path]).summary()
    assert [r["seq"] for r in found] == list(range(1, len(found) + 1))
    restarted = found[count:]
    assert restarted[0]["prev_hash"] == found[count - 1]["hash"]
    assert call_ids(restarted) == [f"call-{i}" for i in range(100)]
    assert len(restarted) == 100 + (complete != data)


# --- faults --------------------------------------------------------------------------------------------
def test_an_unusable_path_fails_at_start_up_naming_the_variable(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    path = tmp_path / "file" / "audit.jsonl"

    with pytest.raises(ConfigError) as raised:
        AuditSpanProcessor(path)

    assert str(raised.value).startswith(f"AGENTOTEL_AUDIT_PATH: cannot use '{path}' for the audit log (")
    with pytest.raises(ConfigError, match="Is a directory"):
        AuditSpanProcessor(tmp_path)


def test_a_read_only_directory_fails_at_start_up(tmp_path: Path) -> None:
    # A mode-0500 folder stops everyone but root; sysfs refuses new files even to root.
    target = tmp_path if os.geteuid() != 0 else Path("/sys")
    if target is tmp_path:
        tmp_path.chmod(0o500)
    try:
        with pytest.raises(ConfigError, match="Permission denied"):
            AuditSpanProcessor(target / "audit.jsonl")
    finally:
        tmp_path.chmod(0o700)


def test_a_full_disk_is_counted_logged_once_retried_and_loses_nothing(
    cap: TelemetryCapture, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="agentotel")
    path = tmp_path / "audit.jsonl"
    disk = FullDisk(failures=3)
    processor = AuditSpanProcessor(path, opener=disk, meter_provider=cap.meter_provider)

    end_tool_spans(provider_with(processor), 10)  # the app goes on as if nothing happened

    assert processor.force_flush()
    assert call_ids(records(path)) == [f"call-{i}" for i in range(10)]
    assert verify([path]).ok
    assert cap.metric_sum(ERRORS, {"agentotel.component": "audit", "error.type": "OSError"}) == 3
    assert [r.getMessage() for r in caplog.records] == [
        f"agentotel: cannot write {path} ([Errno 28] No space left on device); retrying",
        f"agentotel: writing {path} again",
    ]
    assert processor.healthy
    processor.shutdown()


def test_healthy_is_false_while_the_file_cannot_be_written(tmp_path: Path) -> None:
    disk = FullDisk(failures=1_000_000)
    processor = AuditSpanProcessor(tmp_path / "audit.jsonl", opener=disk)
    assert processor.healthy
    end_tool_spans(provider_with(processor), 1)

    wait_for(lambda: not processor.healthy, "the write to fail")
    disk.failures = 0

    assert processor.force_flush()
    assert processor.healthy
    processor.shutdown()


def test_a_real_full_tmpfs_is_survived(tmp_path: Path, cap: TelemetryCapture) -> None:
    with contextlib.ExitStack() as stack:
        try:
            directory = stack.enter_context(tiny_tmpfs(tmp_path / "small", "256k"))
        except OSError as exc:
            pytest.skip(str(exc))
        filler = directory / "filler"
        with open(filler, "wb", buffering=0) as fh, pytest.raises(OSError):
            while True:
                fh.write(b"x" * 4096)
        path = directory / "audit.jsonl"
        processor = AuditSpanProcessor(path, meter_provider=cap.meter_provider)
        stack.callback(processor.shutdown)

        end_tool_spans(provider_with(processor), 200)
        wait_for(lambda: cap.metric_sum(ERRORS, {"agentotel.component": "audit"}) > 0, "ENOSPC")
        filler.unlink()

        assert processor.force_flush()
        assert call_ids(records(path)) == [f"call-{i}" for i in range(200)]
        assert verify([path]).ok


# --- wiring: sampler check and attach_from_env ---------------------------------------------------------
@pytest.mark.parametrize(
    ("sampler", "ok"),
    [(ALWAYS_ON, True), (DEFAULT_ON, True), (ParentBased(ALWAYS_ON), True), (TraceIdRatioBased(0.5), False)],
    ids=["always_on", "default_on", "parent_based_always_on", "ratio"],
)
def test_check_sampler_warns_once_unless_every_span_is_recorded(
    caplog: pytest.LogCaptureFixture, sampler: Any, ok: bool
) -> None:
    caplog.set_level(logging.WARNING, logger="agentotel")

    assert check_sampler(TracerProvider(sampler=sampler)) is ok

    expected = [] if ok else [f"agentotel: the tracer provider's sampler is {sampler.get_description()}"]
    assert [r.getMessage().partition(", not")[0] for r in caplog.records] == expected


def test_attach_from_env_does_nothing_without_a_path() -> None:
    assert attach_from_env(TracerProvider()) is None


def test_attach_from_env_adds_a_processor_that_records_the_providers_spans(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "audit.jsonl"
    monkeypatch.setenv("AGENTOTEL_AUDIT_PATH", str(path))
    provider = TracerProvider()

    processor = attach_from_env(provider)

    assert processor is not None and processor.path == str(path)
    end_tool_spans(provider, 2)
    provider.shutdown()
    assert call_ids(records(path)) == ["call-0", "call-1"]


def test_attach_from_env_fails_at_start_up_for_an_unusable_path(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("AGENTOTEL_AUDIT_PATH", str(tmp_path / "file" / "audit.jsonl"))

    with pytest.raises(ConfigError, match=r"^AGENTOTEL_AUDIT_PATH: cannot use"):
        attach_from_env(TracerProvider())
