"""The run store's public read API (``agentotel.processors.runstore``): what ``agentotel runs`` and
``agentotel top --runs`` read runs with, and nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest
from runstore_helpers import INFO_A, RUN_A, events_a, write_run

from agentotel.processors import runstore


def test_list_runs_gives_the_run_folders_newest_first(tmp_path: Path) -> None:
    older, newer = RUN_A, "20261121T101503.000Z_0123456789abcdef"
    for name in (older, newer, "notes"):
        (tmp_path / name).mkdir()

    assert runstore.list_runs(tmp_path) == [newer, older]


def test_list_runs_of_a_missing_dir_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(runstore.RunStoreError) as caught:
        runstore.list_runs(tmp_path / "nowhere")

    missing = tmp_path / "nowhere"
    assert str(caught.value) == f"no runs directory at {missing} (set AGENTOTEL_RUNS_DIR or pass --dir)"


def test_find_run_takes_a_prefix_of_the_trace_id(tmp_path: Path) -> None:
    (tmp_path / RUN_A).mkdir()

    assert runstore.find_run(tmp_path, "4bf92f") == tmp_path / RUN_A
    with pytest.raises(runstore.RunStoreError) as caught:
        runstore.find_run(tmp_path, "ffff")
    assert str(caught.value) == f"no run matches 'ffff' in {tmp_path}"


def test_load_run_brings_the_summary_of_a_running_run_up_to_date(tmp_path: Path) -> None:
    so_far = events_a()[:-1]  # every span but the root, which has not ended
    folder = write_run(tmp_path, INFO_A, so_far, running=True)
    assert runstore.read_summary(folder)["tokens"] == {"input": 0, "output": 0}  # type: ignore[index]

    summary, events = runstore.load_run(folder)

    assert summary["status"] == runstore.RUNNING == "running"
    assert summary["tokens"] == {"input": 18, "output": 8}
    assert summary["tool_calls"] == {"ok": 1, "failed": 1}
    assert events == so_far


def test_load_run_without_a_summary_is_a_one_line_error(tmp_path: Path) -> None:
    folder = tmp_path / RUN_A
    folder.mkdir()

    with pytest.raises(runstore.RunStoreError) as caught:
        runstore.load_run(folder)

    assert str(caught.value) == f"cannot read {folder / 'summary.json'}: missing"


def test_event_tail_returns_complete_lines_once_each(tmp_path: Path) -> None:
    folder = tmp_path / RUN_A
    folder.mkdir()
    tail = runstore.EventTail(folder)
    assert list(tail.new_events()) == []  # no file yet

    (folder / "events.jsonl").write_text('{"name": "a"}\n{"name": ')
    assert list(tail.new_events()) == [{"name": "a"}]
    with (folder / "events.jsonl").open("a") as f:
        f.write('"b"}\n\n')
    assert list(tail.new_events()) == [{"name": "b"}]
    assert list(tail.new_events()) == []


def test_event_tail_names_the_line_that_is_not_json(tmp_path: Path) -> None:
    folder = tmp_path / RUN_A
    folder.mkdir()
    (folder / "events.jsonl").write_text('{"name": "a"}\nnot json\n')
    events = runstore.EventTail(folder).new_events()

    assert next(events) == {"name": "a"}
    with pytest.raises(runstore.RunStoreError, match=r"events\.jsonl line 2: not valid JSON"):
        next(events)


def test_run_stamp_changes_when_the_run_grows(tmp_path: Path) -> None:
    folder = write_run(tmp_path, INFO_A, events_a())
    before = runstore.run_stamp(folder)
    assert runstore.run_stamp(folder) == before

    with (folder / "events.jsonl").open("a") as f:
        f.write("{}\n")

    assert runstore.run_stamp(folder) != before
    assert runstore.run_stamp(tmp_path / "gone") == (-1, -1, -1, -1)


def test_is_llm_span_tells_an_llm_call_from_an_agent_span() -> None:
    llm, tool = (event["attributes"] for event in events_a()[:2])

    assert (runstore.is_llm_span(llm), runstore.is_llm_span(tool)) == (True, False)
