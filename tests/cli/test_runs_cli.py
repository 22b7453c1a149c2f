"""``agentotel runs``: list, show, tail and replay, checked as text.

Most tests read hand-made runs with fixed ids and times (``runstore_helpers``): an agent round
(``RUN_A``), a failed workflow (``RUN_B``) and a run still going (``RUN_C``). The end-to-end tests
record real agent runs through the processor, one of them followed live by ``runs tail``.
"""

from __future__ import annotations

import io
import json
import re
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from runstore_helpers import (
    INFO_A,
    INFO_B,
    INFO_C,
    RUN_A,
    RUN_B,
    RUN_C,
    T_A,
    TRACE_A,
    events_a,
    events_b,
    events_c,
    run_ids,
    run_store,
    span,
    write_run,
)

import agentotel
from agentotel.agent import configure
from agentotel.cli import _runs as runs_cli
from agentotel.cli import main
from agentotel.config import CaptureMode, Settings
from agentotel.processors.runstore._events import RunInfo, summarize
from agentotel.testing._capture import TelemetryCapture


@pytest.fixture(autouse=True)
def wide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("AGENTOTEL_RUNS_DIR", raising=False)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    root = tmp_path / "runs"
    write_run(root, INFO_A, events_a())
    write_run(root, INFO_B, events_b())
    write_run(root, INFO_C, events_c(), running=True)
    return root


def runs(capsys: pytest.CaptureFixture[str], root: Path, *argv: str) -> tuple[int, list[str], str]:
    """Exit code, stdout lines (right-stripped) and stderr of ``agentotel runs ARGV --dir ROOT``."""
    code = main(["runs", *argv, "--dir", str(root)])
    captured = capsys.readouterr()
    return code, [line.rstrip() for line in captured.out.splitlines()], captured.err


# --- list -----------------------------------------------------------------------------------------
def test_list_shows_the_newest_runs_first(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = runs(capsys, store, "list")
    assert (code, err) == (0, "")
    assert out == [
        "RUN                                    STATUS   DURATION  TOKENS       COST       TOOL CALLS      ERRORS  OBJECTIVE",  # noqa: E501
        "20261121T110000.500Z_c0ffee0000000000  running  -         in=0 out=0   -          1 ok, 0 failed  0       invoke_agent live",  # noqa: E501
        "20261121T101502.123Z_4bf92f3577b34da6  ok       1.333 s   in=18 out=8  $0.000300  1 ok, 1 failed  1       invoke_agent helper: What is the weather in Paris?",  # noqa: E501
        "20261121T091000.000Z_0af7651916cd43dd  error    0.030 s   in=0 out=0   -          0 ok, 1 failed  2       invoke_workflow research",  # noqa: E501
    ]


def test_list_limit(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = runs(capsys, store, "list", "--limit", "1")
    assert code == 0
    assert [line.split()[0] for line in out] == ["RUN", RUN_C]


def test_list_of_an_empty_runs_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert runs(capsys, tmp_path, "list") == (0, [f"no runs in {tmp_path}"], "")


def test_list_of_a_missing_runs_dir_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nowhere"
    assert runs(capsys, missing, "list") == (
        1,
        [],
        f"error: no runs directory at {missing} (set AGENTOTEL_RUNS_DIR or pass --dir)\n",
    )


def test_runs_dir_defaults_to_the_environment(
    store: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENTOTEL_RUNS_DIR", str(store))
    assert main(["runs", "list", "--limit", "1"]) == 0
    assert RUN_C in capsys.readouterr().out


def test_list_names_an_unreadable_summary(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (store / RUN_B / "summary.json").write_text("{not json")
    code, out, err = runs(capsys, store, "list")
    assert code == 1
    assert out[-1].split() == [RUN_B, "unreadable", "-", "-", "-", "-", "-", "-"]
    assert err == (
        f"error: cannot read {store / RUN_B / 'summary.json'}: not valid JSON "
        "(Expecting property name enclosed in double quotes: line 1 column 2 (char 1))\n"
    )


def test_list_shows_markup_in_an_objective_as_it_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    info = RunInfo(
        RUN_A, TRACE_A, "00000000000000a1", "invoke_agent helper", T_A, root_operation="invoke_agent"
    )
    summary = summarize(info, events_a())
    summary["objective"] = "fix [/] and [bold]this[/bold] [[words:5]] :smile:"
    folder = write_run(tmp_path, info, events_a())
    (folder / "summary.json").write_text(json.dumps(summary))
    code, out, err = runs(capsys, tmp_path, "list")
    assert (code, err) == (0, "")
    assert out[1].endswith("  1       fix [/] and [bold]this[/bold] [[words:5]] :smile:")


LIST_AT = {
    80: [
        "RUN                   STATUS   DURATION  COST       ERRORS  OBJECTIVE",
        "20261121T110000.500Z  running  -         -          0       invoke_agent live",
        "20261121T101502.123Z  ok       1.333 s   $0.000300  1       invoke_agent helper…",
        "20261121T091000.000Z  error    0.030 s   -          2       invoke_workflow res…",
    ],
    100: [
        "RUN                   STATUS   DURATION  COST       TOOL CALLS      ERRORS  OBJECTIVE",
        "20261121T110000.500Z  running  -         -          1 ok, 0 failed  0       invoke_agent live",
        "20261121T101502.123Z  ok       1.333 s   $0.000300  1 ok, 1 failed  1       invoke_agent helper: Wh…",  # noqa: E501
        "20261121T091000.000Z  error    0.030 s   -          0 ok, 1 failed  2       invoke_workflow research",  # noqa: E501
    ],
    120: [
        "RUN                   STATUS   DURATION  TOKENS       COST       TOOL CALLS      ERRORS  OBJECTIVE",
        "20261121T110000.500Z  running  -         in=0 out=0   -          1 ok, 0 failed  0       invoke_agent live",  # noqa: E501
        "20261121T101502.123Z  ok       1.333 s   in=18 out=8  $0.000300  1 ok, 1 failed  1       invoke_agent helper: What is t…",  # noqa: E501
        "20261121T091000.000Z  error    0.030 s   in=0 out=0   -          0 ok, 1 failed  2       invoke_workflow research",  # noqa: E501
    ],
}


@pytest.mark.parametrize("width", sorted(LIST_AT))
def test_a_narrow_list_keeps_status_duration_cost_and_errors_whole(
    store: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, width: int
) -> None:
    """The run id is cut to its start time (still a prefix that selects the run), then the
    objective, tool calls and tokens give way."""
    monkeypatch.setenv("COLUMNS", str(width))
    code, out, err = runs(capsys, store, "list")
    assert (code, err) == (0, "")
    assert out == LIST_AT[width]
    assert max(len(line) for line in out) == width


def test_the_cut_run_id_still_selects_its_run(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = runs(capsys, store, "show", LIST_AT[80][2].split()[0])
    assert (code, out[0]) == (0, f"run         {RUN_A}")


# --- show -----------------------------------------------------------------------------------------
def test_show_prints_the_summary_and_the_indented_timeline(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = runs(capsys, store, "show", RUN_A)
    assert (code, err) == (0, "")
    assert out == [
        "run         20261121T101502.123Z_4bf92f3577b34da6",
        "objective   invoke_agent helper: What is the weather in Paris?",
        "status      ok",
        "trace       4bf92f3577b34da6a3ce929d0e0e4736",
        "start       2026-11-21T10:15:02.123Z",
        "end         2026-11-21T10:15:03.456Z",
        "duration    1.333 s",
        "tokens      in=18 out=8",
        "cost        $0.000300",
        "tool calls  1 ok, 1 failed",
        "models      gpt-4o, gpt-4o-2024-08-06",
        "parent run  -",
        "errors      1",
        "  execute_tool broken: ValueError: boom",
        "timeline",
        "    +0.000s  invoke_agent helper  1333.0 ms  tokens in=18 out=8",
        "    +0.010s    chat gpt-4o  400.0 ms  tokens in=6 out=2  cost $0.000100",
        "    +0.420s    execute_tool get_weather  12.0 ms",
        "    +0.440s    execute_tool broken  1.0 ms  ERROR ValueError",
        "    +0.450s    chat gpt-4o  800.0 ms  tokens in=12 out=6  cost $0.000200",
    ]


def test_show_of_a_running_run_counts_what_has_ended(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = runs(capsys, store, "show", RUN_C)
    assert code == 0
    assert out[2:11] == [
        "status      running",
        "trace       c0ffee0000000000000000000000beef",
        "start       2026-11-21T11:00:00.500Z",
        "end         -",
        "duration    -",
        "tokens      in=0 out=0",
        "cost        -",
        "tool calls  1 ok, 0 failed",
        "models      -",
    ]
    assert out[-2:] == ["timeline", "    +0.002s  execute_tool search  3.0 ms"]


@pytest.mark.parametrize(
    "query",
    [RUN_A, "20261121T1015", "20261121t1015", "4bf92f35", TRACE_A, TRACE_A[:20]],
    ids=["run id", "run id prefix", "any case", "trace id prefix", "trace id", "long trace prefix"],
)
def test_a_prefix_of_the_run_id_or_trace_id_selects_a_run(
    store: Path, capsys: pytest.CaptureFixture[str], query: str
) -> None:
    code, out, _ = runs(capsys, store, "show", query)
    assert (code, out[0]) == (0, f"run         {RUN_A}")


def test_an_unknown_run_is_a_one_line_error(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert runs(capsys, store, "show", "ffff") == (1, [], f"error: no run matches 'ffff' in {store}\n")


def test_a_trace_id_of_another_trace_with_the_same_first_half_is_unknown(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = runs(capsys, store, "show", TRACE_A[:16] + "0" * 16)
    assert (code, err.startswith("error: no run matches")) == (1, True)


def test_an_ambiguous_prefix_is_a_one_line_error(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert runs(capsys, store, "show", "20261121") == (
        1,
        [],
        f"error: '20261121' matches 3 runs ({RUN_C}, {RUN_A}, {RUN_B}); give more of the id\n",
    )


def test_an_unreadable_events_line_is_named(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with (store / RUN_A / "events.jsonl").open("a") as f:
        f.write("[1, 2]\n")
    assert runs(capsys, store, "show", RUN_A) == (
        1,
        [],
        f"error: cannot read {store / RUN_A / 'events.jsonl'} line 6: not a JSON object\n",
    )


def test_a_missing_summary_is_an_error(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (store / RUN_B / "summary.json").unlink()
    assert runs(capsys, store, "show", RUN_B) == (
        1,
        [],
        f"error: cannot read {store / RUN_B / 'summary.json'}: missing\n",
    )


# --- tail -----------------------------------------------------------------------------------------
def test_tail_of_an_ended_run_prints_every_span_and_the_outcome(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = runs(capsys, store, "tail", RUN_A[:13])
    assert code == 0
    assert out == [
        f"following run {RUN_A} (Ctrl-C to stop)",
        "10:15:02.533Z  chat gpt-4o  400.0 ms  tokens in=6 out=2  cost $0.000100",
        "10:15:02.555Z  execute_tool get_weather  12.0 ms",
        "10:15:02.564Z  execute_tool broken  1.0 ms  ERROR ValueError",
        "10:15:03.373Z  chat gpt-4o  800.0 ms  tokens in=12 out=6  cost $0.000200",
        "10:15:03.456Z  invoke_agent helper  1333.0 ms  tokens in=18 out=8",
        "run ended: ok in 1.333 s, tokens in=18 out=8, tool calls 1 ok, 1 failed",
    ]


def test_tail_stops_at_its_timeout(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = runs(capsys, store, "tail", RUN_C, "--timeout", "0")
    assert code == 0
    assert out == [
        f"following run {RUN_C} (Ctrl-C to stop)",
        "11:00:00.505Z  execute_tool search  3.0 ms",
        "still running after 0 s",
    ]


class _Watch(io.StringIO):
    """A stdout that signals when a given text has been printed."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text
        self.seen = threading.Event()

    def write(self, s: str) -> int:
        n = super().write(s)
        if self.text in self.getvalue():
            self.seen.set()
        return n


def test_tail_follows_a_live_run(
    agent_layer: TelemetryCapture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The agent finishes its second tool call only once ``runs tail`` has printed the first."""
    watch = _Watch("execute_tool first")
    monkeypatch.setattr("sys.stdout", watch)
    started = threading.Event()
    outcome: dict[str, bool] = {}

    @agentotel.tool()
    def first() -> str:
        return "1"

    @agentotel.tool()
    def second() -> str:
        return "2"

    def agent_run() -> None:
        with agentotel.agent("live"):
            first()
            started.set()
            outcome["tail saw the first tool while the run was open"] = watch.seen.wait(10)
            second()

    with run_store(agent_layer, tmp_path) as processor:
        thread = threading.Thread(target=agent_run)
        thread.start()
        assert started.wait(10)
        assert processor.force_flush()
        [rid] = run_ids(tmp_path)
        code = main(["runs", "tail", rid, "--dir", str(tmp_path), "--interval", "0.01", "--timeout", "20"])
        thread.join(10)
    assert code == 0
    assert outcome == {"tail saw the first tool while the run was open": True}
    lines = watch.getvalue().splitlines()
    assert lines[0] == f"following run {rid} (Ctrl-C to stop)"
    assert [re.sub(r"^\d\d:\d\d:\d\d\.\d{3}Z  | +\d+\.\d ms", "", line) for line in lines[1:4]] == [
        "execute_tool first",
        "execute_tool second",
        "invoke_agent live",
    ]
    assert re.fullmatch(
        r"run ended: ok in \d+\.\d{3} s, tokens in=0 out=0, tool calls 2 ok, 0 failed", lines[4]
    )
    assert len(lines) == 5


# --- replay ---------------------------------------------------------------------------------------
REPLAY_A = [
    "replaying run 20261121T101502.123Z_4bf92f3577b34da6: 5 spans, 1.333 s without pauses",
    "  +0.000s  start invoke_agent helper",
    "  +0.010s    start chat gpt-4o",
    "  +0.410s    end   chat gpt-4o  400.0 ms  tokens in=6 out=2  cost $0.000100",
    "  +0.420s    start execute_tool get_weather",
    "  +0.432s    end   execute_tool get_weather  12.0 ms",
    "  +0.440s    start execute_tool broken",
    "  +0.441s    end   execute_tool broken  1.0 ms  ERROR ValueError",
    "  +0.450s    start chat gpt-4o",
    "  +1.250s    end   chat gpt-4o  800.0 ms  tokens in=12 out=6  cost $0.000200",
    "  +1.333s  end   invoke_agent helper  1333.0 ms  tokens in=18 out=8",
]


def test_replay_prints_starts_and_ends_in_time_order(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert runs(capsys, store, "replay", RUN_A, "--speed", "0") == (0, REPLAY_A, "")


def test_replay_keeps_the_recorded_pace(
    store: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pauses: list[float] = []
    monkeypatch.setattr(runs_cli, "_sleep", pauses.append)
    code, out, _ = runs(capsys, store, "replay", RUN_A, "--speed", "2")
    assert code == 0
    assert out[0] == "replaying run 20261121T101502.123Z_4bf92f3577b34da6: 5 spans, 1.333 s at 2x"
    assert out[1:] == REPLAY_A[1:]
    # Half of each gap between two marks: 10, 400, 10, 12, 8, 1, 9, 800 and 83 ms.
    assert [round(p, 4) for p in pauses] == [0.005, 0.2, 0.005, 0.006, 0.004, 0.0005, 0.0045, 0.4, 0.0415]


RERUN_A = [
    *REPLAY_A[:6],
    '                   rerun get_weather({"city": "Paris"}) -> "Sunny"  (same as recorded)',
    *REPLAY_A[6:8],
    "                   rerun broken({}) failed: ValueError: still broken",
    *REPLAY_A[8:],
    "re-executed 2 tool call(s): 1 same, 0 different, 0 not compared, 1 failed; 0 skipped",
]


def test_rerun_re_executes_recorded_tool_calls_through_the_registry(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = runs(
        capsys,
        store,
        "replay",
        RUN_A,
        "--speed",
        "0",
        "--rerun",
        "--registry",
        "runstore_helpers:registry",
        "--yes",
    )
    assert code == 1  # a re-executed call raised
    assert out == ["tool calls to re-execute: 2; skipped: 0", *RERUN_A]


def test_rerun_asks_first(
    store: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))
    code, out, _ = runs(
        capsys, store, "replay", RUN_A, "--speed", "0", "--rerun", "--registry", "runstore_helpers:registry"
    )
    assert code == 1
    assert out == [
        "tool calls to re-execute: 2; skipped: 0",
        "Re-execute 2 tool call(s) with the registry's functions? [y/N]",
        *RERUN_A,
    ]


@pytest.mark.parametrize("answer", ["n\n", "\n", ""], ids=["no", "enter", "end of input"])
def test_rerun_declined_re_executes_nothing(
    store: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, answer: str
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(answer))
    code, out, _ = runs(capsys, store, "replay", RUN_A, "--rerun", "--registry", "runstore_helpers:registry")
    assert (code, out[-1]) == (1, "cancelled: no tool call re-executed")
    assert out[1] == "Re-execute 2 tool call(s) with the registry's functions? [y/N]"
    assert len(out) == 3


def test_rerun_skips_tool_calls_without_recorded_arguments(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = runs(
        capsys, store, "replay", RUN_B, "--speed", "0", "--rerun", "--registry", "runstore_helpers:registry"
    )
    assert code == 0
    assert out == [
        "tool calls to re-execute: 0; skipped: 1",
        "  skipped execute_tool search: arguments not recorded (no span of this run has content: "
        "content capture on spans was off)",
        "replaying run 20261121T091000.000Z_0af7651916cd43dd: 2 spans, 0.030 s without pauses",
        "  +0.000s  start invoke_workflow research",
        "  +0.005s    start execute_tool search",
        "  +0.025s    end   execute_tool search  20.0 ms  ERROR TimeoutError",
        "  +0.030s  end   invoke_workflow research  30.0 ms  ERROR TimeoutError",
        "re-executed 0 tool call(s): 0 same, 0 different, 0 not compared, 0 failed; 1 skipped",
    ]


def test_rerun_skips_tools_missing_from_the_registry(
    store: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "only_weather.py").write_text(
        "def tools():\n    return {'get_weather': lambda city: 'Rain'}\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    code, out, _ = runs(
        capsys, store, "replay", RUN_A, "--speed", "0", "--rerun", "--registry", "only_weather:tools", "--yes"
    )
    assert code == 0
    assert out[:2] == [
        "tool calls to re-execute: 1; skipped: 1",
        "  skipped execute_tool broken: not in the registry",
    ]
    assert out[8] == '                   rerun get_weather({"city": "Paris"}) -> "Rain"  (recorded "Sunny")'
    assert out[-1] == "re-executed 1 tool call(s): 0 same, 1 different, 0 not compared, 0 failed; 1 skipped"


@pytest.mark.parametrize(
    ("registry", "error"),
    [
        (None, "error: --rerun needs --registry module:function (a function returning name -> callable)\n"),
        ("runstore_helpers", "error: --registry 'runstore_helpers' is not module:function\n"),
        (
            "no_such_module:tools",
            "error: cannot load registry 'no_such_module:tools': ModuleNotFoundError: No module named 'no_such_module'\n",  # noqa: E501
        ),
        (
            "runstore_helpers:not_a_registry",
            "error: registry 'runstore_helpers:not_a_registry' did not return a dict of name -> callable\n",
        ),
    ],
    ids=["missing", "no function", "no module", "not a dict"],
)
def test_a_bad_registry_is_a_one_line_error(
    store: Path, capsys: pytest.CaptureFixture[str], registry: str | None, error: str
) -> None:
    argv: list[Any] = ["replay", RUN_A, "--rerun", "--yes"] + (["--registry", registry] if registry else [])
    assert runs(capsys, store, *argv) == (1, [], error)


# --- end to end -----------------------------------------------------------------------------------
def test_show_of_a_recorded_agent_run(
    agent_layer: TelemetryCapture, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    @agentotel.tool()
    def lookup(city: str) -> str:
        return "Sunny"

    with run_store(agent_layer, tmp_path) as processor:
        with agentotel.agent("helper"), agentotel.step("research", type="tool"):
            lookup("Paris")
        assert processor.force_flush()
    [rid] = run_ids(tmp_path)
    code, out, _ = runs(capsys, tmp_path, "show", rid[-16:])
    assert code == 0
    assert out[0] == f"run         {rid}"
    assert out[1:3] == ["objective   invoke_agent helper", "status      ok"]
    assert [re.sub(r"^    \+\d\.\d{3}s  | +\d+\.\d ms", "", line) for line in out[-3:]] == [
        "invoke_agent helper",
        "  step research",
        "    execute_tool lookup",
    ]


def test_rerun_says_when_arguments_were_cut_or_no_result_was_recorded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trace_id, start = "d" * 32, T_A
    tool = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "get_weather"}
    events = [
        span(
            "execute_tool get_weather",
            "d2",
            "d1",
            start,
            1.0,
            trace_id=trace_id,
            attributes={**tool, "gen_ai.tool.call.arguments": '{"city":"Pa...[truncated]'},
        ),
        span(
            "execute_tool get_weather",
            "d3",
            "d1",
            start + 2_000_000,
            1.0,
            trace_id=trace_id,
            attributes={**tool, "gen_ai.tool.call.arguments": '{"city":"Lyon"}'},
        ),
        span(
            "invoke_agent d",
            "d1",
            None,
            start,
            5.0,
            trace_id=trace_id,
            attributes={"gen_ai.operation.name": "invoke_agent"},
        ),
    ]
    write_run(
        tmp_path,
        RunInfo("20261121T101502.123Z_dddddddddddddddd", trace_id, "d1", "invoke_agent d", start),
        events,
    )
    code, out, _ = runs(
        capsys,
        tmp_path,
        "replay",
        "2026",
        "--speed",
        "0",
        "--rerun",
        "--yes",
        "--registry",
        "runstore_helpers:registry",
    )
    assert code == 0
    assert out[:2] == [
        "tool calls to re-execute: 1; skipped: 1",
        "  skipped execute_tool get_weather: arguments were cut at the content length limit",
    ]
    assert (
        '                   rerun get_weather({"city": "Lyon"}) -> "Rain"  (no recorded result to compare)'
        in out
    )
    assert out[-1] == "re-executed 1 tool call(s): 0 same, 0 different, 1 not compared, 0 failed; 1 skipped"


def test_the_registry_module_is_imported_from_the_current_folder(
    store: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As ``python -m`` would: ``mytools`` sits in the folder the command runs in."""
    here = tmp_path / "project"
    here.mkdir()
    (here / "cwd_tools_for_rerun.py").write_text(
        "def registry():\n    return {'get_weather': lambda city: 'Sunny', 'broken': lambda: None}\n"
    )
    monkeypatch.chdir(here)
    monkeypatch.delitem(sys.modules, "cwd_tools_for_rerun", raising=False)
    path_before = list(sys.path)
    code, out, err = runs(
        capsys, store, "replay", RUN_A, "--speed", "0", "--rerun", "--registry",
        "cwd_tools_for_rerun:registry", "--yes",
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert out[-1] == "re-executed 2 tool call(s): 1 same, 0 different, 1 not compared, 0 failed; 0 skipped"
    assert sys.path == path_before  # the folder was on the path for that import only
    sys.modules.pop("cwd_tools_for_rerun", None)


def rerun_plan(capsys: pytest.CaptureFixture[str], root: Path) -> list[str]:
    """What ``runs replay --rerun`` says it will re-execute and skip, for the one run in ``root``."""
    code, out, _ = runs(
        capsys, root, "replay", "2026", "--speed", "0", "--rerun", "--yes", "--registry",
        "runstore_helpers:registry",
    )  # fmt: skip
    assert code == 0
    return [line for line in out if line.startswith(("tool calls to re-execute", "  skipped"))]


def test_rerun_says_a_tool_call_had_no_arguments_when_capture_was_on(
    agent_layer: TelemetryCapture, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    configure(
        tracer_provider=agent_layer.tracer_provider,
        meter_provider=agent_layer.meter_provider,
        settings=Settings(capture=CaptureMode.SPAN_ONLY),
    )
    with run_store(agent_layer, tmp_path) as processor:
        with agentotel.agent("helper"), agentotel.tool("get_weather") as call:
            call.set_result("Sunny")  # a block given no arguments
        assert processor.force_flush()
    assert rerun_plan(capsys, tmp_path) == [
        "tool calls to re-execute: 0; skipped: 1",
        "  skipped execute_tool get_weather: no arguments were given to the tool span "
        "(content capture was on)",
    ]


def test_rerun_says_capture_was_off_when_no_span_has_content(
    agent_layer: TelemetryCapture, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    @agentotel.tool()
    def get_weather(city: str) -> str:
        return "Sunny"

    with run_store(agent_layer, tmp_path) as processor:
        with agentotel.agent("helper"):
            get_weather("Paris")
        assert processor.force_flush()
    assert rerun_plan(capsys, tmp_path) == [
        "tool calls to re-execute: 0; skipped: 1",
        "  skipped execute_tool get_weather: arguments not recorded (no span of this run has content: "
        "content capture on spans was off)",
    ]


def test_rerun_says_when_another_span_of_the_run_shows_capture_was_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The LLM call's messages were recorded; the tool span has no arguments and no result."""
    trace_id = "e" * 32
    chat = {**events_a()[0]["attributes"]}
    events = [
        span("chat gpt-4o", "e2", "e1", T_A, 1.0, trace_id=trace_id, attributes=chat),
        span(
            "execute_tool get_weather", "e3", "e1", T_A + 2_000_000, 1.0, trace_id=trace_id,
            attributes={"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "get_weather"},
        ),
        span(
            "execute_tool get_weather", "e4", "e1", T_A + 4_000_000, 1.0, trace_id=trace_id,
            attributes={
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": "get_weather",
                "agentotel.tool.inferred": True,
            },
        ),
        span("invoke_agent e", "e1", None, T_A, 9.0, trace_id=trace_id,
             attributes={"gen_ai.operation.name": "invoke_agent"}),
    ]  # fmt: skip
    info = RunInfo("20261121T101502.123Z_eeeeeeeeeeeeeeee", trace_id, "e1", "invoke_agent e", T_A)
    write_run(tmp_path, info, events)
    assert rerun_plan(capsys, tmp_path) == [
        "tool calls to re-execute: 0; skipped: 2",
        "  skipped execute_tool get_weather: no arguments were given to the tool span "
        "(content capture was on)",
        "  skipped execute_tool get_weather: inferred from the model's tool call, the tool ran "
        "without a tool span recording its arguments",
    ]
