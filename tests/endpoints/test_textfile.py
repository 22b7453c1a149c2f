"""``AGENTOTEL_METRICS_FILE``: the node_exporter textfile, written atomically at an interval and at
exit, in the Prometheus text format."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import GPT, QUESTION, user
from prometheus_helpers import APP, BIN, ROOT, app_env, families, total, wait_until

from agentotel import semconv
from agentotel.config import METRICS_FILE, METRICS_FILE_INTERVAL
from agentotel.endpoints import _prometheus as prometheus
from agentotel.endpoints._textfile import TextfileWriter, write_atomically
from agentotel.testing._capture import TelemetryCapture


def test_the_file_is_the_text_exposition_of_the_calls_made(
    openai_instrumented: TelemetryCapture, openai_client: Any, tmp_path: Path
) -> None:
    path = tmp_path / "agent.prom"
    exposed = prometheus.write_textfile(
        path, interval=3600, meter_provider=openai_instrumented.meter_provider
    )
    try:
        openai_client.chat.completions.create(model=GPT, messages=user(QUESTION))
        assert exposed.textfile is not None
        exposed.textfile.write()
    finally:
        exposed.close()

    found = families(path.read_bytes())
    tokens = "gen_ai_client_token_usage_sum"
    assert total(found, tokens, gen_ai_request_model=GPT, gen_ai_token_type="input") == 6
    assert total(found, tokens, gen_ai_request_model=GPT, gen_ai_token_type="output") == 6
    assert total(found, "gen_ai_client_operation_duration_seconds_count", gen_ai_request_model=GPT) == 1
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["agent.prom"]


def test_the_file_is_written_at_start_and_again_every_interval(tmp_path: Path) -> None:
    path = tmp_path / "agent.prom"
    renders = iter(range(1, 1_000_000))
    writer = TextfileWriter(path, lambda: f"writes {next(renders)}\n".encode(), interval=0.05)

    writer.start()
    try:
        assert path.read_text() == "writes 1\n"
        wait_until(lambda: writer.writes >= 3, "two interval writes")
    finally:
        writer.close()
    assert path.read_text() == f"writes {writer.writes}\n"


def test_close_writes_the_final_numbers(tmp_path: Path) -> None:
    path = tmp_path / "agent.prom"
    value = ["before"]
    writer = TextfileWriter(path, lambda: f"state {value[0]}\n".encode(), interval=3600).start()
    value[0] = "after"

    writer.close()
    writer.close()  # a second close (at exit, after an explicit one) writes nothing more

    assert path.read_text() == "state after\n"
    assert writer.writes == 2


def test_a_reader_never_sees_a_partial_file(tmp_path: Path) -> None:
    """One thread rewrites the file 300 times, alternating a 2 MiB and a tiny version; another
    reads it as fast as it can. Every read is one whole version, and the folder never holds a
    second ``*.prom`` file (the temporary file is hidden from node_exporter's glob)."""
    path = tmp_path / "agent.prom"
    big = b"# big\n" + b"x_total 1\n" * 200_000 + b"# end\n"
    small = b"# small\nx_total 2\n# end\n"
    write_atomically(str(path), small)
    done = threading.Event()
    seen: set[bytes] = set()
    globs: set[tuple[str, ...]] = set()

    def read() -> None:
        while not done.is_set():
            seen.add(path.read_bytes())
            globs.add(tuple(sorted(p.name for p in tmp_path.glob("*.prom"))))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for i in range(300):
            write_atomically(str(path), big if i % 2 else small)
    finally:
        done.set()
        reader.join()

    assert seen <= {big, small}
    assert globs == {("agent.prom",)}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["agent.prom"]


def test_a_failed_write_leaves_the_previous_file_and_no_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / "agent.prom"
    write_atomically(str(path), b"good 1\n")

    def render() -> bytes:
        raise RuntimeError("collection failed")

    writer = TextfileWriter(path, render, interval=3600)
    assert writer.flush() is False
    assert isinstance(writer.last_error, RuntimeError)
    assert not writer.healthy
    assert path.read_bytes() == b"good 1\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["agent.prom"]


def test_a_write_error_is_counted_in_telemetry_errors(cap: TelemetryCapture, tmp_path: Path) -> None:
    folder = tmp_path / "textfiles"
    folder.mkdir()
    exposed = prometheus.write_textfile(
        folder / "agent.prom", interval=3600, meter_provider=cap.meter_provider
    )
    try:
        shutil.rmtree(folder)
        assert exposed.textfile is not None
        assert exposed.textfile.flush() is False
    finally:
        folder.mkdir()
        exposed.close()

    errors = {semconv.AGENTOTEL_COMPONENT: "textfile", semconv.ERROR_TYPE: "FileNotFoundError"}
    assert cap.metric_sum(semconv.TELEMETRY_ERRORS, errors) == 1


@pytest.fixture
def attached_file(cap: TelemetryCapture, tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "agent.prom"
    exposed = prometheus.attach_from_env(cap.meter_provider, environ={METRICS_FILE: str(path)})
    yield path
    assert exposed is not None
    exposed.close()


def test_attach_from_env_writes_the_file_at_once(attached_file: Path) -> None:
    assert attached_file.exists()
    assert families(attached_file.read_bytes()) == []


def test_the_file_is_written_at_exit_of_a_batch_process(tmp_path: Path) -> None:
    """A batch agent whose run is shorter than the interval: the file written at start-up holds no
    call; the one left behind holds them all, so it was written at exit."""
    path = tmp_path / "batch.prom"
    env = app_env(**{METRICS_FILE: str(path), METRICS_FILE_INTERVAL: "3600"})

    proc = subprocess.run(
        [str(BIN / "opentelemetry-instrument"), "python", str(APP), "agent", "--attach"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "ready\n"
    found = families(path.read_bytes())
    tokens = "gen_ai_client_token_usage_sum"
    assert total(found, tokens, gen_ai_operation_name="chat", gen_ai_token_type="input") == 26
    assert total(found, tokens, gen_ai_operation_name="chat", gen_ai_token_type="output") == 28
    assert total(found, "agentotel_tool_duration_seconds_count", gen_ai_tool_name="get_weather") == 1
    assert sorted(os.listdir(tmp_path)) == ["batch.prom"]
