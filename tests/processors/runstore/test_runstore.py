"""The run store: one folder per run with events as spans end, an atomic summary when the root
ends (and again for stragglers), retention, artifacts, fork lineage, configuration and safety.

Every test records through a real tracer provider (the ``agent_layer`` fixture) with a
:class:`RunStoreSpanProcessor` added, and reads the folder back.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from helpers import GPT, QUESTION, TELEMETRY_ERRORS, instrumented, user
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from runstore_helpers import RUN_ID, events_of, names, run_ids, run_store, summary_of

import agentotel
from agentotel.agent import configure
from agentotel.cli._timeline import marks
from agentotel.config import ConfigError
from agentotel.instrumentation.openai import OpenAIInstrumentor
from agentotel.processors import RunStoreSpanProcessor
from agentotel.processors.runstore import fork_run, save_artifact
from agentotel.processors.runstore._events import first_user_text
from agentotel.processors.runstore._processor import attach_from_env
from agentotel.testing._capture import TelemetryCapture


@pytest.fixture(autouse=True)
def no_runs_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AGENTOTEL_RUNS_DIR", "AGENTOTEL_RUNS_KEEP", "AGENTOTEL_RUNS_QUEUE_SIZE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def store(agent_layer: TelemetryCapture, tmp_path: Path) -> Iterator[RunStoreSpanProcessor]:
    with run_store(agent_layer, tmp_path) as processor:
        yield processor


@pytest.fixture
def content_on(agent_layer: TelemetryCapture, monkeypatch: pytest.MonkeyPatch) -> TelemetryCapture:
    """Content capture on the spans, for the agent layer and the instrumentors made after it."""
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "SPAN_ONLY")
    configure(tracer_provider=agent_layer.tracer_provider, meter_provider=agent_layer.meter_provider)
    return agent_layer


@agentotel.tool()
def lookup(city: str) -> str:
    """Today's weather."""
    return "Sunny"


@agentotel.tool()
def broken() -> None:
    raise ValueError("boom")


def agent_round(name: str = "helper") -> None:
    with agentotel.agent(name):
        lookup("Paris")
        with contextlib.suppress(ValueError):
            broken()


def span_named(cap: TelemetryCapture, name: str) -> ReadableSpan:
    [span] = [s for s in cap.spans() if s.name == name]
    return span


def utc(unix_nano: int, fmt: str) -> str:
    moment = datetime.fromtimestamp(unix_nano // 1_000_000_000, tz=timezone.utc)
    return moment.strftime(fmt) + f"{unix_nano // 1_000_000 % 1000:03d}Z"


def expected_run_id(root: ReadableSpan) -> str:
    assert root.start_time is not None and root.context is not None
    return utc(root.start_time, "%Y%m%dT%H%M%S.") + f"_{root.context.trace_id:032x}"[:17]


def times(root: ReadableSpan) -> dict[str, Any]:
    """The summary's times for a run whose root is ``root``."""
    assert root.start_time is not None and root.end_time is not None
    return {
        "start": utc(root.start_time, "%Y-%m-%dT%H:%M:%S."),
        "end": utc(root.end_time, "%Y-%m-%dT%H:%M:%S."),
        "duration_s": round((root.end_time - root.start_time) / 1e9, 6),
    }


def root_info(root: ReadableSpan, operation: str | None, llm: bool = False) -> dict[str, Any]:
    assert root.context is not None
    return {
        "name": root.name,
        "span_id": f"{root.context.span_id:016x}",
        "operation": operation,
        "llm": llm,
        "start_time_unix_nano": root.start_time,
    }


# --- one run ------------------------------------------------------------------------------------
def test_an_agent_round_is_one_folder_with_events_in_end_order(
    agent_layer: TelemetryCapture, store: RunStoreSpanProcessor, tmp_path: Path
) -> None:
    agent_round()
    assert store.force_flush()
    root = span_named(agent_layer, "invoke_agent helper")
    assert run_ids(tmp_path) == [expected_run_id(root)]
    [rid] = run_ids(tmp_path)
    assert sorted(os.listdir(tmp_path / rid)) == ["artifacts", "events.jsonl", "summary.json"]
    events = events_of(tmp_path, rid)
    assert names(events) == ["execute_tool lookup", "execute_tool broken", "invoke_agent helper"]
    assert events[0]["attributes"] == {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "lookup",
        "gen_ai.tool.type": "function",
        "gen_ai.tool.description": "Today's weather.",
    }
    assert {k: events[1][k] for k in ("parent_span_id", "kind", "status", "status_message")} == {
        "parent_span_id": f"{root.context.span_id:016x}",  # type: ignore[union-attr]
        "kind": "INTERNAL",
        "status": "ERROR",
        "status_message": "ValueError: boom",
    }
    assert [e["name"] for e in events[1]["events"]] == ["exception"]


def test_the_summary_of_an_agent_round(
    agent_layer: TelemetryCapture, store: RunStoreSpanProcessor, tmp_path: Path
) -> None:
    agent_round()
    assert store.force_flush()
    root = span_named(agent_layer, "invoke_agent helper")
    failed = span_named(agent_layer, "execute_tool broken")
    [rid] = run_ids(tmp_path)
    assert summary_of(tmp_path, rid) == {
        "run_id": rid,
        "trace_id": f"{root.context.trace_id:032x}",  # type: ignore[union-attr]
        "trace_ids": [f"{root.context.trace_id:032x}"],  # type: ignore[union-attr]
        "root": root_info(root, "invoke_agent"),
        "implicit": False,
        "objective": "invoke_agent helper",
        "status": "ok",
        **times(root),
        "tokens": {"input": 0, "output": 0},
        "cost_usd": None,
        "tool_calls": {"ok": 1, "failed": 1},
        "errors": [
            {
                "span": "execute_tool broken",
                "span_id": f"{failed.context.span_id:016x}",  # type: ignore[union-attr]
                "error_type": "ValueError",
                "message": "ValueError: boom",
            }
        ],
        "error_count": 1,
        "models": [],
        "parent_run": None,
        "span_count": 3,
    }


def test_a_failed_root_makes_a_failed_run(store: RunStoreSpanProcessor, tmp_path: Path) -> None:
    with pytest.raises(KeyError), agentotel.workflow("research"):
        raise KeyError("x")
    assert store.force_flush()
    summary = summary_of(tmp_path, run_ids(tmp_path)[0])
    assert (summary["status"], summary["error_count"], summary["errors"][0]["error_type"]) == (
        "error",
        1,
        "KeyError",
    )


def test_llm_calls_give_tokens_models_and_the_objective(
    content_on: TelemetryCapture, tmp_path: Path, openai_client: Any
) -> None:
    with instrumented(content_on, OpenAIInstrumentor), run_store(content_on, tmp_path) as processor:
        with agentotel.agent("helper"):
            openai_client.chat.completions.create(model=GPT, messages=user(QUESTION))
            openai_client.chat.completions.create(model="gpt-4o-mini", messages=user("And tomorrow?"))
        assert processor.force_flush()
    summary = summary_of(tmp_path, run_ids(tmp_path)[0])
    assert summary["objective"] == "invoke_agent helper: What is the weather in Paris?"
    assert summary["tokens"] == {"input": 6 + 2, "output": 6 + 6}
    assert summary["models"] == ["gpt-4o", "gpt-4o-2024-08-06", "gpt-4o-mini", "gpt-4o-mini-2024-08-06"]
    llm_costs = [
        s.attributes["agentotel.usage.cost_usd"] for s in content_on.spans() if s.name.startswith("chat")
    ]
    assert len(llm_costs) == 2
    assert summary["cost_usd"] == round(sum(llm_costs), 10)  # the agent span's own sum not added again


def test_an_llm_call_without_a_parent_is_a_run(
    content_on: TelemetryCapture, tmp_path: Path, openai_client: Any
) -> None:
    with instrumented(content_on, OpenAIInstrumentor), run_store(content_on, tmp_path) as processor:
        openai_client.chat.completions.create(model=GPT, messages=user(QUESTION))
        assert processor.force_flush()
    [rid] = run_ids(tmp_path)
    summary = summary_of(tmp_path, rid)
    assert (summary["objective"], summary["root"]["llm"], summary["span_count"]) == (
        "chat gpt-4o: What is the weather in Paris?",
        True,
        1,
    )


def test_cost_is_summed_over_the_llm_spans_that_carry_it(
    agent_layer: TelemetryCapture, store: RunStoreSpanProcessor, tmp_path: Path
) -> None:
    tracer = agent_layer.tracer_provider.get_tracer("test")
    llm = {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": GPT}
    with agentotel.agent("helper") as run:
        for cost in (0.25, None, 0.5):
            extra = {} if cost is None else {"agentotel.usage.cost_usd": cost}
            tracer.start_span("chat gpt-4o", attributes={**llm, **extra}).end()
        run.set_attribute("agentotel.usage.cost_usd", 100.0)  # an agent span's own sum is not counted
    assert store.force_flush()
    assert summary_of(tmp_path, run_ids(tmp_path)[0])["cost_usd"] == 0.75


def test_the_app_can_name_the_objective(store: RunStoreSpanProcessor, tmp_path: Path) -> None:
    with agentotel.agent("helper") as run:
        run.set_attribute("agentotel.run.objective", "Book a table for two")
    assert store.force_flush()
    assert summary_of(tmp_path, run_ids(tmp_path)[0])["objective"] == "Book a table for two"


# --- what is a run --------------------------------------------------------------------------------
def test_spans_of_other_instrumentations_alone_are_not_stored(
    agent_layer: TelemetryCapture, store: RunStoreSpanProcessor, tmp_path: Path
) -> None:
    """A request with no agentotel span below it (no LLM call, tool, step ...) is no run; one with
    an LLM call is (see test_runstore_runs.py)."""
    tracer = agent_layer.tracer_provider.get_tracer("test")
    with tracer.start_as_current_span("GET /"):
        tracer.start_span("db query").end()
        tracer.start_span("POST", attributes={"http.request.method": "POST"}).end()
    tracer.start_span("background job").end()
    assert store.force_flush()
    assert os.listdir(tmp_path) == []


def test_an_llm_span_under_a_request_span_makes_the_request_a_run(
    agent_layer: TelemetryCapture, store: RunStoreSpanProcessor, tmp_path: Path
) -> None:
    tracer = agent_layer.tracer_provider.get_tracer("test")
    with tracer.start_as_current_span("GET /"):
        tracer.start_span("db query").end()
        tracer.start_span("chat gpt-4o", attributes={"gen_ai.provider.name": "openai"}).end()
    assert store.force_flush()
    [rid] = run_ids(tmp_path)
    assert names(events_of(tmp_path, rid)) == ["db query", "chat gpt-4o", "GET /"]
    assert summary_of(tmp_path, rid)["root"] == {
        "name": "GET /",
        "span_id": events_of(tmp_path, rid)[-1]["span_id"],
        "operation": None,
        "llm": False,
        "start_time_unix_nano": events_of(tmp_path, rid)[-1]["start_time_unix_nano"],
    }


def test_an_agent_span_under_a_request_span_starts_a_run(
    agent_layer: TelemetryCapture, store: RunStoreSpanProcessor, tmp_path: Path
) -> None:
    tracer = agent_layer.tracer_provider.get_tracer("test")
    with tracer.start_as_current_span("GET /"):
        agent_round("first")
        agent_round("second")
    assert store.force_flush()
    rounds = [events_of(tmp_path, rid) for rid in run_ids(tmp_path)]
    assert sorted(names(events)[-1] for events in rounds) == ["invoke_agent first", "invoke_agent second"]
    assert all(len(events) == 3 for events in rounds)


def test_two_runs_of_one_trace_in_the_same_millisecond_get_distinct_ids(
    agent_layer: TelemetryCapture, store: RunStoreSpanProcessor, tmp_path: Path
) -> None:
    tracer = agent_layer.tracer_provider.get_tracer("test")
    start = 1_795_000_000_123_000_000
    with tracer.start_as_current_span("GET /"):
        for name in ("a", "b"):
            attrs = {"gen_ai.operation.name": "invoke_agent"}
            tracer.start_span(f"invoke_agent {name}", attributes=attrs, start_time=start).end()
    assert store.force_flush()
    first, second = run_ids(tmp_path)[0], sorted(os.listdir(tmp_path))[1]
    assert RUN_ID.match(first) and second == f"{first}-2"
    assert [summary_of(tmp_path, rid)["root"]["name"] for rid in (first, second)] == [
        "invoke_agent a",
        "invoke_agent b",
    ]


# --- while it runs and after ----------------------------------------------------------------------
def test_the_summary_says_running_until_the_root_ends(store: RunStoreSpanProcessor, tmp_path: Path) -> None:
    with agentotel.agent("helper"):
        lookup("Paris")
        assert store.force_flush()
        [rid] = run_ids(tmp_path)
        during = summary_of(tmp_path, rid)
        assert names(events_of(tmp_path, rid)) == ["execute_tool lookup"]
    assert store.force_flush()
    assert (during["status"], during["end"], during["duration_s"]) == ("running", None, None)
    assert summary_of(tmp_path, rid)["status"] == "ok"


def test_a_straggler_is_appended_and_rewrites_the_summary(
    agent_layer: TelemetryCapture, store: RunStoreSpanProcessor, tmp_path: Path
) -> None:
    tracer = agent_layer.tracer_provider.get_tracer("test")
    with agentotel.agent("helper"):
        late = tracer.start_span("execute_tool late", attributes={"gen_ai.operation.name": "execute_tool"})
    assert store.force_flush()
    [rid] = run_ids(tmp_path)
    before = summary_of(tmp_path, rid)
    late.end()
    assert store.force_flush()
    after = summary_of(tmp_path, rid)
    assert names(events_of(tmp_path, rid)) == ["invoke_agent helper", "execute_tool late"]
    assert (before["span_count"], before["tool_calls"]) == (1, {"ok": 0, "failed": 0})
    assert (after["span_count"], after["tool_calls"], after["status"]) == (2, {"ok": 1, "failed": 0}, "ok")


def test_nothing_of_a_run_is_kept_once_it_is_over(
    agent_layer: TelemetryCapture, store: RunStoreSpanProcessor
) -> None:
    tracer = agent_layer.tracer_provider.get_tracer("test")
    with agentotel.agent("helper"):
        late = tracer.start_span("execute_tool late")
    assert (len(store._open), len(store._active)) == (1, 0)  # the straggler only
    late.end()
    assert store.force_flush()
    assert (store._open, store._active, store._writer.sink._live) == ({}, {}, set())  # type: ignore[attr-defined]


def test_the_summary_is_replaced_atomically(
    store: RunStoreSpanProcessor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each write goes to a temp file beside ``summary.json``, renamed over it once complete."""
    real = os.replace
    seen: list[tuple[str, str, str | None]] = []

    def replace(src: Any, dst: Any) -> None:
        src, dst = Path(src), Path(dst)
        assert src.parent == dst.parent
        old = json.loads(dst.read_text())["status"] if dst.exists() else None
        seen.append((src.name.rpartition(".")[0][:14], json.loads(src.read_text())["status"], old))
        real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    with agentotel.agent("helper"):
        assert store.force_flush()
    assert store.force_flush()
    assert seen == [(".summary.json.", "running", None), (".summary.json.", "ok", "running")]
    assert sorted(os.listdir(tmp_path / run_ids(tmp_path)[0])) == [
        "artifacts",
        "events.jsonl",
        "summary.json",
    ]


def test_a_failed_write_is_retried_without_writing_events_twice(
    store: RunStoreSpanProcessor,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    real = os.replace
    retrying, release = threading.Event(), threading.Event()
    final_writes: list[int] = []

    def replace(src: Any, dst: Any) -> None:
        if json.loads(Path(src).read_text())["status"] == "ok":
            final_writes.append(1)
            if len(final_writes) == 1:
                raise OSError(28, "No space left on device")
            retrying.set()
            release.wait(10)
        real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    assert store.healthy
    agent_round()
    assert retrying.wait(10)
    assert not store.healthy
    release.set()
    assert store.force_flush()
    assert store.healthy
    [rid] = run_ids(tmp_path)
    assert names(events_of(tmp_path, rid)) == [
        "execute_tool lookup",
        "execute_tool broken",
        "invoke_agent helper",
    ]
    assert summary_of(tmp_path, rid)["status"] == "ok"
    assert sorted(os.listdir(tmp_path / rid)) == ["artifacts", "events.jsonl", "summary.json"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        f"agentotel: cannot write {tmp_path} ([Errno 28] No space left on device); retrying",
        f"agentotel: writing {tmp_path} again",
    ]


# --- retention ------------------------------------------------------------------------------------
def test_the_newest_runs_are_kept(agent_layer: TelemetryCapture, tmp_path: Path) -> None:
    (tmp_path / "notes").mkdir()
    (tmp_path / "README").write_text("mine")
    with run_store(agent_layer, tmp_path, keep=3) as processor:
        for i in range(5):
            with agentotel.agent(f"round-{i}"):
                pass
        assert processor.force_flush()
    all_ids = sorted(expected_run_id(span_named(agent_layer, f"invoke_agent round-{i}")) for i in range(5))
    assert sorted(run_ids(tmp_path)) == all_ids[-3:]  # the store prunes in id order
    assert sorted(os.listdir(tmp_path)) == sorted([*all_ids[-3:], "README", "notes"])


def test_a_run_still_going_is_never_pruned(agent_layer: TelemetryCapture, tmp_path: Path) -> None:
    tracer = agent_layer.tracer_provider.get_tracer("test")
    with run_store(agent_layer, tmp_path, keep=1) as processor:
        an_hour_ago = time.time_ns() - 3600 * 1_000_000_000
        attrs = {"gen_ai.operation.name": "invoke_agent"}
        long = tracer.start_span("invoke_agent long", attributes=attrs, start_time=an_hour_ago)
        for name in ("b", "c"):
            with agentotel.agent(name):
                pass
        assert processor.force_flush()
        during = run_ids(tmp_path)
        long.end()
        assert processor.force_flush()
    # Of b and c (maybe started in the same millisecond), the newest by run id is kept.
    newest = max(expected_run_id(span_named(agent_layer, f"invoke_agent {name}")) for name in "bc")
    assert during == [expected_run_id(long), newest]  # type: ignore[arg-type]
    assert run_ids(tmp_path) == [newest]


def test_retention_comes_from_the_environment(
    agent_layer: TelemetryCapture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENTOTEL_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("AGENTOTEL_RUNS_KEEP", "1")
    processor = RunStoreSpanProcessor()
    processor.shutdown()
    assert (processor.runs_dir, processor.keep) == (tmp_path / "runs", 1)


# --- artifacts ------------------------------------------------------------------------------------
def test_artifacts_are_stored_in_the_current_run(store: RunStoreSpanProcessor, tmp_path: Path) -> None:
    with agentotel.agent("writer"):
        with agentotel.step("draft"):
            text = save_artifact("draft.md", "# Title\n")
        blob = save_artifact("image.bin", b"\x00\x01")
        doc = save_artifact("plan.json", {"steps": ["search", "write"], "ok": True})
    assert store.force_flush()
    folder = tmp_path / run_ids(tmp_path)[0] / "artifacts"
    assert (text, blob, doc) == (folder / "draft.md", folder / "image.bin", folder / "plan.json")
    assert (folder / "draft.md").read_text() == "# Title\n"
    assert (folder / "image.bin").read_bytes() == b"\x00\x01"
    assert json.loads((folder / "plan.json").read_text()) == {"steps": ["search", "write"], "ok": True}
    assert sorted(os.listdir(folder)) == ["draft.md", "image.bin", "plan.json"]


def test_outside_a_run_nothing_is_saved(store: RunStoreSpanProcessor, tmp_path: Path) -> None:
    assert save_artifact("draft.md", "text") is None
    assert os.listdir(tmp_path) == []


def test_without_a_run_store_nothing_is_saved(agent_layer: TelemetryCapture) -> None:
    with agentotel.agent("writer"):
        assert save_artifact("draft.md", "text") is None


@pytest.mark.parametrize("name", ["../escape", "a/b", "a\\b", ".hidden", "", " x", "-rf", "x" * 201, "a\nb"])
def test_unsafe_artifact_names_are_refused(store: RunStoreSpanProcessor, tmp_path: Path, name: str) -> None:
    with agentotel.agent("writer"), pytest.raises(ValueError, match=r"artifact name .* is not allowed"):
        save_artifact(name, "text")
    assert store.force_flush()
    assert os.listdir(tmp_path / run_ids(tmp_path)[0] / "artifacts") == []


def test_artifact_data_must_be_text_bytes_or_json(store: RunStoreSpanProcessor) -> None:
    with agentotel.agent("writer"), pytest.raises(TypeError):
        save_artifact("data.json", {"when": object()})


# --- fork lineage ---------------------------------------------------------------------------------
def test_a_fork_is_a_new_run_that_names_its_parent(
    agent_layer: TelemetryCapture, store: RunStoreSpanProcessor, tmp_path: Path
) -> None:
    with (
        agentotel.session("conv-1"),
        agentotel.agent("planner"),
        agentotel.step("choose"),
        fork_run("try the cheaper plan"),
    ):
        lookup("Paris")
    assert store.force_flush()
    planner = span_named(agent_layer, "invoke_agent planner")
    choose = span_named(agent_layer, "step choose")
    fork = span_named(agent_layer, "invoke_workflow fork")
    parent_id = expected_run_id(planner)
    [fork_id] = [rid for rid in run_ids(tmp_path) if rid != parent_id]
    assert fork_id == expected_run_id(fork)
    assert fork.context.trace_id != planner.context.trace_id  # type: ignore[union-attr]
    assert fork.parent is None
    assert [link.context for link in fork.links] == [choose.context]
    assert dict(fork.attributes or {}) == {
        "gen_ai.operation.name": "invoke_workflow",
        "gen_ai.workflow.name": "fork",
        "agentotel.run.parent": parent_id,
        "agentotel.run.objective": "try the cheaper plan",
        "gen_ai.conversation.id": "conv-1",
        "agentotel.plan.step_count": 0,
    }
    summary = summary_of(tmp_path, fork_id)
    assert (summary["parent_run"], summary["objective"], summary["tool_calls"]) == (
        parent_id,
        "try the cheaper plan",
        {"ok": 1, "failed": 0},
    )
    assert names(events_of(tmp_path, parent_id)) == ["step choose", "invoke_agent planner"]
    assert summary_of(tmp_path, parent_id)["parent_run"] is None
    assert events_of(tmp_path, fork_id)[-1]["links"] == [
        {"trace_id": f"{choose.context.trace_id:032x}", "span_id": f"{choose.context.span_id:016x}"}  # type: ignore[union-attr]
    ]


def test_a_fork_outside_a_run_has_no_parent(store: RunStoreSpanProcessor, tmp_path: Path) -> None:
    @fork_run()
    def retry() -> str:
        return lookup("Paris")

    assert retry() == "Sunny"
    assert store.force_flush()
    summary = summary_of(tmp_path, run_ids(tmp_path)[0])
    assert (summary["parent_run"], summary["objective"]) == (None, "invoke_workflow fork")


def test_the_fork_is_current_inside_and_the_parent_after(agent_layer: TelemetryCapture) -> None:
    with agentotel.agent("planner") as planner:
        with fork_run() as fork:
            inside = trace.get_current_span()
        after = trace.get_current_span()
    assert (inside, after) == (fork.span, planner.span)


# --- configuration and safety ---------------------------------------------------------------------
def test_an_unusable_runs_dir_is_a_configuration_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ConfigError, match=rf"^AGENTOTEL_RUNS_DIR='{blocker}/runs' is not usable: "):
        RunStoreSpanProcessor(blocker / "runs")
    with pytest.raises(
        ConfigError, match=rf"^AGENTOTEL_RUNS_DIR='{blocker}' is not usable: not a directory$"
    ):
        RunStoreSpanProcessor(blocker)


def test_a_bad_retention_setting_names_the_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTOTEL_RUNS_KEEP", "all")
    with pytest.raises(ConfigError, match="AGENTOTEL_RUNS_KEEP='all' is not valid"):
        RunStoreSpanProcessor(tmp_path)


def test_attach_from_env_only_when_the_runs_dir_is_set(
    agent_layer: TelemetryCapture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert attach_from_env(agent_layer.tracer_provider) is None
    monkeypatch.setenv("AGENTOTEL_RUNS_DIR", str(tmp_path))
    processor = attach_from_env(agent_layer.tracer_provider, agent_layer.meter_provider)
    assert processor is not None
    agent_round()
    assert processor.force_flush()
    assert len(run_ids(tmp_path)) == 1
    processor.shutdown()


def test_a_bug_in_the_run_store_never_reaches_the_app(
    agent_layer: TelemetryCapture, store: RunStoreSpanProcessor, monkeypatch: pytest.MonkeyPatch
) -> None:
    def bug(*args: Any) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(store, "_track", bug)
    agent_round()
    assert [s.name for s in agent_layer.spans()][-1] == "invoke_agent helper"
    assert agent_layer.metric_sum(TELEMETRY_ERRORS, {"agentotel.component": "runstore"}) == 3


def test_open_spans_tracked_at_once_are_bounded(
    agent_layer: TelemetryCapture,
    store: RunStoreSpanProcessor,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr("agentotel.processors.runstore._processor.MAX_OPEN_SPANS", 2)
    with agentotel.agent("helper"), agentotel.step("one"):
        lookup("Paris")  # a third open span: left out
    assert store.force_flush()
    assert names(events_of(tmp_path, run_ids(tmp_path)[0])) == ["step one", "invoke_agent helper"]
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] == [
        "agentotel: 2 spans of runs are open at once; the run store leaves new ones out"
    ]


# --- pure parts -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("messages", "text"),
    [
        (
            '[{"role":"user","parts":[{"type":"text","content":"Hi"},{"type":"text","content":"there"}]}]',
            "Hi there",
        ),
        (
            '[{"role":"system","parts":[{"type":"text","content":"Be brief"}]},'
            '{"role":"user","parts":[{"type":"text","content":"  Two\\n lines "}]}]',
            "Two lines",
        ),
        ('[{"role":"user","parts":[{"type":"text","content":"cut...[truncated]', None),
        ('[{"role":"assistant","parts":[{"type":"text","content":"Hello"}]}]', None),
        (None, None),
    ],
    ids=["parts joined", "first user message, spaces collapsed", "cut JSON", "no user message", "no content"],
)
def test_first_user_text(messages: str | None, text: str | None) -> None:
    assert first_user_text(messages) == text


def test_marks_at_equal_times_nest() -> None:
    def event(span_id: str, parent: str | None, start: int, end: int) -> dict[str, Any]:
        return {
            "span_id": span_id,
            "parent_span_id": parent,
            "start_time_unix_nano": start,
            "end_time_unix_nano": end,
        }

    events = [event("b", "a", 0, 5), event("c", "a", 5, 5), event("a", None, 0, 5)]
    assert [(m.event["span_id"], "end" if m.ending else "start", m.depth) for m in marks(events)] == [
        ("a", "start", 0),
        ("b", "start", 1),
        ("b", "end", 1),
        ("c", "start", 1),
        ("c", "end", 1),
        ("a", "end", 0),
    ]
