"""The run store at shut-down and on disk: a run whose root has not ended when the processor
shuts down is ``interrupted``; the store's folders are 0700 and its files 0600.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from runstore_helpers import events_of, names, run_ids, run_store, summary_of

import agentotel
from agentotel.processors import RunStoreSpanProcessor
from agentotel.processors.runstore import save_artifact
from agentotel.testing._capture import TelemetryCapture

APP = Path(__file__).with_name("runstore_app.py")
BIN = Path(sys.executable).parent
CHAT = {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai"}


@pytest.fixture(autouse=True)
def no_runs_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AGENTOTEL_RUNS_DIR", "AGENTOTEL_RUNS_KEEP", "AGENTOTEL_RUNS_IDLE_GAP"):
        monkeypatch.delenv(name, raising=False)


@agentotel.tool()
def lookup(city: str) -> str:
    """Today's weather."""
    return "Sunny"


def interrupted(summary: dict[str, object], before: int, after: int) -> bool:
    """The summary says interrupted, with an end between ``before`` and ``after`` (unix ns)."""
    end = summary["end"]
    assert isinstance(end, str) and isinstance(summary["duration_s"], float)
    low = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(before // 1_000_000_000))
    high = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(after // 1_000_000_000 + 1))
    return summary["status"] == "interrupted" and low <= end[:19] <= high


# --- interrupted ----------------------------------------------------------------------------------
def test_an_agent_run_open_at_shutdown_is_interrupted(agent_layer: TelemetryCapture, tmp_path: Path) -> None:
    before = time.time_ns()
    with run_store(agent_layer, tmp_path) as processor, agentotel.agent("long"):
        lookup("Paris")
        processor.shutdown()
        after = time.time_ns()
    [rid] = run_ids(tmp_path)
    summary = summary_of(tmp_path, rid)
    assert interrupted(summary, before, after)
    assert (summary["span_count"], summary["tool_calls"]) == (1, {"ok": 1, "failed": 0})
    assert names(events_of(tmp_path, rid)) == ["execute_tool lookup"]  # the root ended too late


def test_an_implicit_run_busy_at_shutdown_is_interrupted(
    agent_layer: TelemetryCapture, tmp_path: Path
) -> None:
    tracer = agent_layer.tracer_provider.get_tracer("test")
    before = time.time_ns()
    with run_store(agent_layer, tmp_path) as processor:
        tracer.start_span("chat gpt-4o", attributes=CHAT).end()
        call = tracer.start_span("chat gpt-4o", attributes=CHAT)
        processor.shutdown()
        after = time.time_ns()
        call.end()
    [rid] = run_ids(tmp_path)
    summary = summary_of(tmp_path, rid)
    assert interrupted(summary, before, after)
    assert summary["span_count"] == 1


def test_an_idle_implicit_run_at_shutdown_is_over(agent_layer: TelemetryCapture, tmp_path: Path) -> None:
    tracer = agent_layer.tracer_provider.get_tracer("test")
    with run_store(agent_layer, tmp_path):
        call = tracer.start_span("chat gpt-4o", attributes=CHAT)
        call.end()
    [rid] = run_ids(tmp_path)
    summary = summary_of(tmp_path, rid)
    assert call.end_time is not None and call.start_time is not None
    assert (summary["status"], summary["duration_s"]) == (
        "ok",
        round((call.end_time - call.start_time) / 1e9, 6),
    )


def test_a_finished_run_stays_as_it_was_at_shutdown(agent_layer: TelemetryCapture, tmp_path: Path) -> None:
    with run_store(agent_layer, tmp_path) as processor:
        with agentotel.agent("short"):
            lookup("Paris")
        assert processor.force_flush()
        [rid] = run_ids(tmp_path)
        before = summary_of(tmp_path, rid)
    assert summary_of(tmp_path, rid) == before
    assert before["status"] == "ok"


def test_shutdown_from_a_signal_handler_on_a_thread_inside_the_processor_returns(
    agent_layer: TelemetryCapture, tmp_path: Path
) -> None:
    """A SIGTERM handler runs on the main thread between two bytecodes, maybe while that thread
    is inside ``on_start`` with the processor's lock held: shutting down from there must not hang."""
    with run_store(agent_layer, tmp_path) as processor, agentotel.agent("long"):

        def handler() -> None:
            with processor._lock:  # the interrupted on_start
                processor.shutdown()

        thread = threading.Thread(target=handler, daemon=True)
        thread.start()
        thread.join(10)
        stuck = thread.is_alive()
        if stuck:
            processor._lock.release()  # so that the test can end
        assert not stuck
    [rid] = run_ids(tmp_path)
    assert summary_of(tmp_path, rid)["status"] == "interrupted"


def test_a_second_shutdown_waits_for_the_first(
    agent_layer: TelemetryCapture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The provider and agentotel's SIGTERM handling may both shut the processor down, at once:
    the second must not stop the writer before the first has queued the interrupted runs."""
    with run_store(agent_layer, tmp_path) as processor, agentotel.agent("long"):
        first_inside, second_done = threading.Event(), threading.Event()
        real_join = processor._implicit.join_thread

        def join_thread() -> None:  # between ending the runs and queueing them
            if not first_inside.is_set():
                first_inside.set()
                second_done.wait(2)
            real_join()

        def second() -> None:
            processor.shutdown()
            second_done.set()

        monkeypatch.setattr(processor._implicit, "join_thread", join_thread)
        assert processor.force_flush()  # the run's start is written
        threads = [threading.Thread(target=processor.shutdown), threading.Thread(target=second)]
        threads[0].start()
        assert first_inside.wait(10)
        threads[1].start()
        for thread in threads:
            thread.join(30)
    [rid] = run_ids(tmp_path)
    assert summary_of(tmp_path, rid)["status"] == "interrupted"


def app(runs_dir: Path, mode: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENTOTEL_", "OTEL_"))}
    return subprocess.Popen(
        [sys.executable, str(APP), str(runs_dir), mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**env, "PYTHONUNBUFFERED": "1"},
    )


def test_a_process_shut_down_in_the_middle_of_its_runs_leaves_them_interrupted(tmp_path: Path) -> None:
    with app(tmp_path, "shutdown") as process:
        stdout, stderr = process.communicate(timeout=60)
    assert (process.returncode, stdout, stderr) == (0, "ready\n", "")
    summaries = [summary_of(tmp_path, rid) for rid in run_ids(tmp_path)]  # may start in one ms
    assert sorted((s["root"]["name"], s["status"], s["span_count"]) for s in summaries) == [
        ("chat gpt-4o", "interrupted", 0),
        ("invoke_agent long", "interrupted", 1),
    ]


def test_sigterm_in_the_middle_of_its_runs_leaves_them_interrupted(tmp_path: Path) -> None:
    """Under ``opentelemetry-instrument``, agentotel's SIGTERM handling shuts the providers down."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENTOTEL_", "OTEL_"))}
    env.update(
        PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        OTEL_PYTHON_DISTRO="agentotel",
        OTEL_PYTHON_CONFIGURATOR="agentotel",
        OTEL_TRACES_EXPORTER="none",
        OTEL_METRICS_EXPORTER="none",
        OTEL_LOGS_EXPORTER="none",
        AGENTOTEL_RUNS_DIR=str(tmp_path),
        PYTHONUNBUFFERED="1",
    )
    with subprocess.Popen(
        [str(BIN / "opentelemetry-instrument"), "python", str(APP), "-", "sigterm"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    ) as process:
        assert process.stdout is not None
        assert process.stdout.readline() == "ready\n"
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    assert process.returncode == -signal.SIGTERM, stderr
    summaries = [summary_of(tmp_path, rid) for rid in run_ids(tmp_path)]
    assert sorted((s["root"]["name"], s["status"], s["span_count"]) for s in summaries) == [
        ("chat gpt-4o", "interrupted", 0),
        ("invoke_agent long", "interrupted", 1),
    ]


# --- permissions ----------------------------------------------------------------------------------
@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def private_run(cap: TelemetryCapture, root: Path) -> tuple[Path, Path | None]:
    """A run with an event and an artifact, under a umask of 022: its folder and the artifact."""
    with run_store(cap, root) as processor, agentotel.agent("writer"):
        lookup("Paris")
        saved = save_artifact("draft.md", "# Title\n")
        assert processor.force_flush()
    [rid] = run_ids(root)
    return root / rid, saved


def test_the_stores_files_are_private_to_its_user(
    agent_layer: TelemetryCapture, tmp_path: Path, umask_022: None
) -> None:
    root = tmp_path / "runs"
    folder, saved = private_run(agent_layer, root)
    assert saved == folder / "artifacts" / "draft.md"
    assert {
        p.name: oct(mode(p)) for p in (root, folder / "events.jsonl", folder / "summary.json", saved)
    } == {
        "runs": "0o700",
        "events.jsonl": "0o600",
        "summary.json": "0o600",
        "draft.md": "0o600",
    }


def test_a_runs_folders_are_private_to_its_user(
    agent_layer: TelemetryCapture, tmp_path: Path, umask_022: None
) -> None:
    folder, _ = private_run(agent_layer, tmp_path / "runs")
    assert (oct(mode(folder)), oct(mode(folder / "artifacts"))) == ("0o700", "0o700")


def test_a_runs_dir_that_exists_keeps_its_mode(tmp_path: Path, umask_022: None) -> None:
    root = tmp_path / "shared-runs"
    root.mkdir(mode=0o750)
    RunStoreSpanProcessor(root).shutdown()
    assert oct(mode(root)) == "0o750"
