"""The queue writer on a full disk: the app is never held beyond ``AGENTOTEL_WRITER_BLOCK_TIMEOUT``,
``shutdown`` and ``force_flush`` return within ``AGENTOTEL_WRITER_SHUTDOWN_TIMEOUT``, and what was
lost is counted, logged once and written as a gap once space returns.

Disks: a sink of our own whose writes raise ENOSPC (the writer's contract), the audit test opener
whose files raise ENOSPC while ``full`` is set, and a real tmpfs filled to the last byte (root only;
skipped where mount is not permitted). Timeouts come from the environment, as in production.
"""

from __future__ import annotations

import errno
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from audit_helpers import TOOL_ATTRS, SlowDisk, SwitchableDisk, fill_disk, records, tiny_tmpfs
from opentelemetry.sdk.trace import TracerProvider
from prometheus_helpers import wait_until
from runstore_helpers import events_of, names, run_ids, run_store, summary_of

from agentotel._safe import Boundary
from agentotel.config import ConfigError
from agentotel.metrics.instruments import telemetry_dropped
from agentotel.processors import AuditSpanProcessor, RunStoreSpanProcessor
from agentotel.processors._writer import FullPolicy, QueueWriter, WriterSettings
from agentotel.processors.audit import verify
from agentotel.testing._capture import TelemetryCapture

DROPPED = "agentotel.telemetry.dropped"
BLOCK_TIMEOUT = 0.3
SHUTDOWN_TIMEOUT = 0.5
MARGIN = 1.0  # seconds a loaded 2-core machine may add to a bound
TESTS = Path(__file__).parent


@pytest.fixture(autouse=True)
def short_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTOTEL_WRITER_BLOCK_TIMEOUT", str(BLOCK_TIMEOUT))
    monkeypatch.setenv("AGENTOTEL_WRITER_SHUTDOWN_TIMEOUT", str(SHUTDOWN_TIMEOUT))


class Disk:
    """A sink whose writes raise ENOSPC while ``full``; it keeps what it wrote."""

    path = "/var/log/agent/records.jsonl"

    def __init__(self) -> None:
        self.full = False
        self.attempts = 0
        self.written: list[tuple[list[str], int]] = []
        self.closed = False

    def write(self, items: Sequence[str], dropped: int) -> None:
        self.attempts += 1
        if self.full:
            raise OSError(errno.ENOSPC, "No space left on device")
        self.written.append((list(items), dropped))

    def close(self) -> None:
        self.closed = True


def new_writer(
    cap: TelemetryCapture,
    disk: Disk,
    max_queue: int,
    policy: str = "block",
    on_drop: Callable[[str], None] | None = None,
) -> QueueWriter[str]:
    meter = cap.meter_provider.get_meter("test")
    return QueueWriter(
        disk,
        Boundary("audit", meter),
        telemetry_dropped(meter),
        max_queue=max_queue,
        policy=FullPolicy(policy),
        on_drop=on_drop,
    )


def returns_within(seconds: float, action: Callable[[], Any]) -> Any:
    """``action()``'s result; fails if it has not returned after ``seconds`` (it is then left
    running in a daemon thread)."""
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(action()), daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still waiting after {seconds} s"
    return result[0]


def dropped(cap: TelemetryCapture, component: str, reason: str) -> float:
    return cap.metric_sum(DROPPED, {"agentotel.component": component, "agentotel.drop.reason": reason})


def stuck_writer(cap: TelemetryCapture, max_queue: int) -> tuple[Disk, QueueWriter[str]]:
    """A writer retrying its first batch (``a``) on a full disk, its queue full of ``q0``, ``q1``..."""
    disk = Disk()
    disk.full = True
    writer = new_writer(cap, disk, max_queue)
    writer.submit("a")
    wait_until(lambda: disk.attempts > 0, "the first write to fail")
    for n in range(max_queue):
        writer.submit(f"q{n}")
    return disk, writer


# --- block: back-pressure for a bounded time, then drop -----------------------------------------
def test_block_waits_at_most_the_bound_then_drops_and_counts(cap: TelemetryCapture) -> None:
    disk, writer = stuck_writer(cap, max_queue=1)
    started = time.monotonic()

    returns_within(BLOCK_TIMEOUT + MARGIN, lambda: writer.submit("late"))

    assert time.monotonic() - started >= BLOCK_TIMEOUT  # it did wait for room first
    assert dropped(cap, "audit", "queue_full_timeout") == 1
    disk.full = False
    assert writer.flush(10)
    assert disk.written == [(["a"], 0), (["q0"], 1)]  # the gap is written with the next batch
    writer.shutdown()


def test_while_the_disk_stays_full_later_records_are_dropped_without_waiting(cap: TelemetryCapture) -> None:
    disk, writer = stuck_writer(cap, max_queue=1)
    returns_within(BLOCK_TIMEOUT + MARGIN, lambda: writer.submit("first"))  # waits the bound once

    # 50 more would wait 50 x the bound if each waited; they are dropped at once instead.
    returns_within(MARGIN, lambda: [writer.submit(f"late-{n}") for n in range(50)])

    assert dropped(cap, "audit", "queue_full_timeout") == 51
    disk.full = False
    assert writer.flush(10)
    assert disk.written == [(["a"], 0), (["q0"], 51)]
    writer.shutdown()


def test_once_the_disk_is_written_again_block_waits_for_room_again(cap: TelemetryCapture) -> None:
    disk, writer = stuck_writer(cap, max_queue=1)
    returns_within(BLOCK_TIMEOUT + MARGIN, lambda: writer.submit("dropped"))
    disk.full = False
    assert writer.flush(10)

    for n in range(200):  # back-pressure: nothing is dropped while the writer makes progress
        writer.submit(f"r{n}")

    assert writer.flush(10)
    assert dropped(cap, "audit", "queue_full_timeout") == 1
    written = [item for batch, _ in disk.written for item in batch]
    assert written == ["a", "q0"] + [f"r{n}" for n in range(200)]
    writer.shutdown()


def test_drop_policy_drops_at_once_and_hands_each_dropped_item_to_on_drop(cap: TelemetryCapture) -> None:
    disk = Disk()
    disk.full = True
    lost: list[str] = []
    writer = new_writer(cap, disk, max_queue=1, policy="drop", on_drop=lost.append)
    writer.submit("a")
    wait_until(lambda: disk.attempts > 0, "the first write to fail")
    writer.submit("q0")

    returns_within(MARGIN, lambda: [writer.submit(f"late-{n}") for n in range(20)])

    assert dropped(cap, "audit", "queue_full") == 20
    assert dropped(cap, "audit", "queue_full_timeout") == 0
    assert lost == [f"late-{n}" for n in range(20)]
    writer.shutdown()


# --- shutdown and flush: bounded, and they say what was not written -------------------------------
def test_shutdown_returns_within_the_bound_on_a_full_queue_and_reports_what_was_lost(
    cap: TelemetryCapture, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="agentotel")
    disk, writer = stuck_writer(cap, max_queue=2)

    lost = returns_within(SHUTDOWN_TIMEOUT + MARGIN, writer.shutdown)

    assert lost == 3  # "a" and the two queued
    assert dropped(cap, "audit", "shutdown_timeout") == 3
    assert [r.getMessage() for r in caplog.records] == [
        f"agentotel: cannot write {Disk.path} ([Errno 28] No space left on device); retrying",
        f"agentotel: 3 records not written to {Disk.path}: gave up after {SHUTDOWN_TIMEOUT} s at "
        f"shut-down (disk full at {Disk.path})",
    ]
    assert disk.written == []


def test_shutdown_returns_within_the_bound_when_a_write_never_returns(
    cap: TelemetryCapture, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="agentotel")
    gate = threading.Event()
    disk = Disk()
    disk.write = lambda items, dropped: gate.wait(60)  # type: ignore[method-assign,assignment,return-value]
    writer = new_writer(cap, disk, max_queue=10)
    writer.submit("a")
    writer.submit("b")

    lost = returns_within(SHUTDOWN_TIMEOUT + MARGIN, writer.shutdown)

    gate.set()
    assert lost == 2
    assert dropped(cap, "audit", "shutdown_timeout") == 2
    assert [r.getMessage() for r in caplog.records] == [
        f"agentotel: 2 records not written to {Disk.path}: gave up after {SHUTDOWN_TIMEOUT} s at "
        "shut-down (the writer was still busy)",
    ]


def test_shutdown_of_a_healthy_writer_writes_everything_and_reports_nothing(cap: TelemetryCapture) -> None:
    disk = Disk()
    writer = new_writer(cap, disk, max_queue=10)
    for n in range(5):
        writer.submit(f"r{n}")

    assert writer.shutdown() == 0

    assert [item for batch, _ in disk.written for item in batch] == [f"r{n}" for n in range(5)]
    assert disk.closed
    assert dropped(cap, "audit", "shutdown_timeout") == 0


def test_flush_gives_up_within_the_bound_while_the_disk_is_full(cap: TelemetryCapture) -> None:
    disk, writer = stuck_writer(cap, max_queue=1)

    assert returns_within(SHUTDOWN_TIMEOUT + MARGIN, lambda: writer.flush(3600)) is False

    disk.full = False
    assert writer.flush(10) is True
    writer.shutdown()


def test_writer_settings_name_the_variable_and_the_accepted_values() -> None:
    with pytest.raises(ConfigError, match=r"AGENTOTEL_WRITER_BLOCK_TIMEOUT='soon' is not valid: expected"):
        WriterSettings.from_env({"AGENTOTEL_WRITER_BLOCK_TIMEOUT": "soon"})
    with pytest.raises(ConfigError, match=r"AGENTOTEL_WRITER_SHUTDOWN_TIMEOUT='0' is not valid: expected"):
        WriterSettings.from_env({"AGENTOTEL_WRITER_SHUTDOWN_TIMEOUT": "0"})
    assert WriterSettings.from_env({}) == WriterSettings(block_timeout=5.0, shutdown_timeout=5.0)
    assert WriterSettings.from_env({"AGENTOTEL_WRITER_BLOCK_TIMEOUT": "0.25"}).block_timeout == 0.25


# --- the audit log on a full disk -----------------------------------------------------------------
def end_tool_spans(provider: TracerProvider, first: int, last: int) -> None:
    tracer = provider.get_tracer("test")
    for i in range(first, last + 1):
        attributes = {**TOOL_ATTRS, "gen_ai.tool.call.id": f"call-{i}"}
        with tracer.start_as_current_span("execute_tool search", attributes=attributes):
            pass


def summary(found: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    return [
        (r["event_type"], r["metadata"].get("gen_ai.tool.call.id", r["metadata"].get("dropped")))
        for r in found
    ]


@pytest.mark.parametrize(("policy", "reason"), [("block", "queue_full_timeout"), ("drop", "queue_full")])
def test_a_full_audit_disk_never_holds_tool_calls_and_the_gap_is_written_once_space_returns(
    cap: TelemetryCapture, tmp_path: Path, policy: str, reason: str
) -> None:
    path = tmp_path / "audit.jsonl"
    disk = SwitchableDisk()
    processor = AuditSpanProcessor(
        path, opener=disk, queue_policy=policy, queue_size=2, meter_provider=cap.meter_provider
    )
    provider = TracerProvider()
    provider.add_span_processor(processor)
    disk.full = True
    end_tool_spans(provider, 0, 0)
    wait_until(lambda: not processor.healthy, "the write to fail")

    returns_within(
        BLOCK_TIMEOUT + MARGIN, lambda: end_tool_spans(provider, 1, 9)
    )  # 1, 2 queued; 3..9 dropped

    assert dropped(cap, "audit", reason) == 7
    disk.full = False
    assert processor.force_flush(10_000)
    assert summary(records(path)) == [
        ("tool_call", "call-0"),
        ("audit_gap", 7),
        ("tool_call", "call-1"),
        ("tool_call", "call-2"),
    ]
    assert verify([path]).ok
    processor.shutdown()


def test_in_sync_mode_a_failing_disk_holds_the_agent_for_one_bound_and_sync_works_again_after(
    tmp_path: Path,
) -> None:
    path = tmp_path / "audit.jsonl"
    disk = SwitchableDisk()
    processor = AuditSpanProcessor(path, opener=disk, fsync="sync")
    provider = TracerProvider()
    provider.add_span_processor(processor)
    disk.full = True
    bound = BLOCK_TIMEOUT + SHUTDOWN_TIMEOUT
    started = time.monotonic()

    end_tool_spans(provider, 0, 9)  # the first waits the bound; the writer is then stuck

    assert time.monotonic() - started < 2 * bound
    disk.full = False
    wait_until(lambda: processor.healthy, "the writer to write again")
    end_tool_spans(provider, 10, 10)  # acknowledged: on disk when the span end returns
    assert summary(records(path)) == [("tool_call", f"call-{i}") for i in range(11)]
    processor.shutdown()


def test_in_sync_mode_a_span_end_waits_at_most_block_plus_shutdown_in_all_even_after_waiting_for_room(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    block, shutdown = 2.0, 0.5
    monkeypatch.setenv("AGENTOTEL_WRITER_BLOCK_TIMEOUT", str(block))
    monkeypatch.setenv("AGENTOTEL_WRITER_SHUTDOWN_TIMEOUT", str(shutdown))
    disk = SlowDisk(first=block - 0.2)
    processor = AuditSpanProcessor(tmp_path / "audit.jsonl", opener=disk, fsync="sync", queue_size=1)
    provider = TracerProvider()
    provider.add_span_processor(processor)
    threading.Thread(target=end_tool_spans, args=(provider, 0, 0), daemon=True).start()
    wait_until(lambda: disk.writes == 1, "call-0 being written (slowly)")
    threading.Thread(target=end_tool_spans, args=(provider, 1, 1), daemon=True).start()
    wait_until(lambda: processor._writer._queue.qsize() == 1, "call-1 filling the queue")
    started = time.monotonic()

    end_tool_spans(provider, 2, 2)  # room after ~1.8 s; then its record is never written

    took = time.monotonic() - started
    assert block + shutdown - 0.1 <= took < block + shutdown + MARGIN
    disk.release()
    processor.shutdown()


# --- a real full tmpfs ------------------------------------------------------------------------------
@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """``(folder on a 64 KiB tmpfs, the file that fills it)``."""
    try:
        with tiny_tmpfs(tmp_path / "small", "64k") as directory:
            folder = directory / "data"
            folder.mkdir()
            yield folder, fill_disk(directory)
    except OSError as exc:
        pytest.skip(str(exc))


def agent_run(provider: TracerProvider, tools: int, started: Callable[[], None]) -> None:
    """One run: an ``invoke_agent`` root and ``tools`` tool calls; ``started()`` once it began."""
    tracer = provider.get_tracer("test")
    agent = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "helper"}
    with tracer.start_as_current_span("invoke_agent helper", attributes=agent):
        started()
        end_tool_spans(provider, 0, tools - 1)


@pytest.mark.parametrize(("policy", "reason"), [("block", "queue_full_timeout"), ("drop", "queue_full")])
def test_a_full_run_store_disk_never_holds_the_agent_and_the_run_records_its_gap(
    cap: TelemetryCapture, full_disk: tuple[Path, Path], policy: str, reason: str
) -> None:
    runs, filler = full_disk
    with run_store(cap, runs, queue_size=1, queue_policy=policy) as processor:

        def started() -> None:  # the run's start is being retried on the full disk
            wait_until(lambda: not processor.healthy, "the run store's write to fail")

        # tool 0 is queued; tools 1..4 and the root are dropped (the root is kept for later)
        returns_within(BLOCK_TIMEOUT + MARGIN, lambda: agent_run(cap.tracer_provider, 5, started))
        assert dropped(cap, "runstore", reason) == 5
        filler.unlink()
        assert processor.force_flush(10_000)

        [rid] = run_ids(runs)
        assert names(events_of(runs, rid)) == ["execute_tool search", "invoke_agent helper"]
        run = summary_of(runs, rid)
        assert (run["status"], run["dropped_spans"]) == ("ok", 4)


@pytest.mark.parametrize("policy", ["block", "drop"])
def test_an_agent_process_with_a_full_audit_disk_exits_within_the_bound(
    full_disk: tuple[Path, Path], policy: str
) -> None:
    folder, _ = full_disk
    block, shutdown = 1.0, 1.0
    env = {
        **os.environ,
        "AGENTOTEL_AUDIT_PATH": str(folder / "audit.jsonl"),
        "AGENTOTEL_AUDIT_QUEUE_POLICY": policy,
        "AGENTOTEL_AUDIT_QUEUE_SIZE": "10",
        "AGENTOTEL_RUNS_DIR": str(folder / "runs"),
        "AGENTOTEL_RUNS_QUEUE_POLICY": policy,
        "AGENTOTEL_RUNS_QUEUE_SIZE": "10",
        "AGENTOTEL_WRITER_BLOCK_TIMEOUT": str(block),
        "AGENTOTEL_WRITER_SHUTDOWN_TIMEOUT": str(shutdown),
    }
    # Two writers (audit, run store): one bounded wait for room each under block, then two
    # bounded shut-downs at exit.
    bound = (2 * block if policy == "block" else 0) + 2 * shutdown
    app = subprocess.Popen(
        [sys.executable, str(TESTS / "full_disk_app.py"), "200"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert app.stdout is not None
    try:
        assert app.stdout.readline() == "started\n"  # imports and set-up done: the clock starts
        started = time.monotonic()
        out, err = app.communicate(timeout=bound + 2)
    except subprocess.TimeoutExpired:
        app.kill()
        app.communicate()
        pytest.fail(f"the agent process still runs {bound + 2} s after its start-up")
    took = time.monotonic() - started

    assert app.returncode == 0, err
    assert "runs done: 200" in out
    lost = [line for line in err.splitlines() if "not written to" in line]
    assert len(lost) == 2, err  # audit and run store, one warning each
    assert took < bound + 2


def test_the_run_store_policy_and_the_writer_timeouts_come_from_the_environment(
    cap: TelemetryCapture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENTOTEL_RUNS_QUEUE_POLICY", "drop")
    with run_store(cap, tmp_path / "runs") as processor:
        writer = processor._writer
        assert (writer.policy, writer.block_timeout, writer.shutdown_timeout) == (
            FullPolicy.DROP,
            BLOCK_TIMEOUT,
            SHUTDOWN_TIMEOUT,
        )

    monkeypatch.setenv("AGENTOTEL_RUNS_QUEUE_POLICY", "sometimes")
    with pytest.raises(ConfigError, match=r"AGENTOTEL_RUNS_QUEUE_POLICY='sometimes' is not valid"):
        RunStoreSpanProcessor(tmp_path / "runs")
