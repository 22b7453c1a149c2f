"""Every CLI renderer shows user-derived text literally, whatever it holds.

Objectives, tool names, model names, error messages and workflow names come from the app and its
runs: ``[/]`` must not crash a table, ``[bold]`` or ``[[words:5]]`` must not be eaten as markup,
``:smile:`` must not become an emoji. Control characters and line separators are shown escaped
(``agentotel.cli._text.shown``), everything else exactly. Hypothesis draws arbitrary strings; the
explicit examples are the ones the issue names.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from rich.cells import cell_len
from runstore_helpers import T_A, span

from agentotel import config
from agentotel.cli import main
from agentotel.cli._board import Board, ErrorRow, ModelRow, ToolRow, WorkflowRow
from agentotel.cli._dashboard import render, render_text
from agentotel.cli._text import shown
from agentotel.processors.runstore._events import RunInfo, summarize

MARKUP = ["[/]", "[bold]x[/bold]", "[[words:5]]", ":smile:", "a]b[c", "[red", "\\[x]", "\x1b[31mred"]
ANYTHING = st.text(
    alphabet=st.one_of(st.characters(), st.sampled_from(["[", "]", "/", ":", "\\", "=", "界", "🙂"])),
    min_size=1,
    max_size=30,
)
ENVIRONMENT_VALUE = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=30
)
"""Any text an environment variable can hold (no NUL, no surrogate)."""
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
RID = "20261121T101502.123Z_dddddddddddddddd"
TRACE = "d" * 32


@pytest.fixture(autouse=True)
def wide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "1000")  # room for every cell: nothing is cut
    monkeypatch.delenv("AGENTOTEL_RUNS_DIR", raising=False)


def cli(*argv: str) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of ``agentotel ARGV``."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


# --- the helper -----------------------------------------------------------------------------------
@pytest.mark.parametrize("text", MARKUP)
def test_markup_and_emoji_codes_are_shown_as_they_are(text: str) -> None:
    assert shown(text) == text.replace("\x1b", "\\x1b")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a\nb", "a\\nb"),
        ("a\tb", "a\\tb"),
        ("a\rb", "a\\rb"),
        ("\x00\x1b\x7f", "\\x00\\x1b\\x7f"),
        ("\x85", "\\x85"),
        ("line\u2028sep\u2029", "line\\u2028sep\\u2029"),
        ("\udc80", "\\udc80"),
    ],
)
def test_control_characters_are_shown_as_escapes(text: str, expected: str) -> None:
    assert shown(text) == expected


@given(st.text(alphabet=st.characters(exclude_categories=["Cc", "Zl", "Zp", "Cs"])))
def test_text_without_control_characters_is_unchanged(text: str) -> None:
    assert shown(text) == text


# --- agentotel runs -------------------------------------------------------------------------------
@contextlib.contextmanager
def run_of(text: str) -> Iterator[Path]:
    """A runs dir with one ended agent round whose every user-derived string is ``text``: the
    objective, the agent, model and tool names, the error type and message, the parent run."""
    chat = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": text,
        "gen_ai.usage.input_tokens": 3,
        "error.type": text,
    }
    tool = {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": text,
        "gen_ai.tool.call.arguments": "{}",
    }
    agent = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": text}
    events: list[dict[str, Any]] = [
        span(f"chat {text}", "d2", "d1", T_A + 1_000_000, 2.0, trace_id=TRACE, status="ERROR",
             message=text, attributes=chat),
        span(f"execute_tool {text}", "d3", "d1", T_A + 4_000_000, 1.0, trace_id=TRACE, attributes=tool),
        span(f"invoke_agent {text}", "d1", None, T_A, 9.0, trace_id=TRACE, attributes=agent),
    ]  # fmt: skip
    info = RunInfo(RID, TRACE, "d1", f"invoke_agent {text}", T_A, root_operation="invoke_agent")
    summary = {**summarize(info, events), "objective": text, "parent_run": text}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / RID
        (folder / "artifacts").mkdir(parents=True)
        (folder / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
        (folder / "summary.json").write_text(json.dumps(summary))
        yield Path(tmp)


@FUZZ
@given(ANYTHING)
@example("[/]")
@example("[bold]x[/bold] [[words:5]] :smile:")
@example("\x1b[31m\n\t界")
def test_runs_list_shows_the_objective_literally(text: str) -> None:
    with run_of(text) as root:
        code, out, err = cli("runs", "list", "--dir", str(root))
    assert (code, err) == (0, "")
    [row] = [line for line in out.splitlines() if line.startswith(RID)]
    assert row.rstrip().endswith(shown(text).rstrip())


@FUZZ
@given(ANYTHING)
@example("界" * 30)
@example("[/]" * 10)
def test_runs_list_at_80_columns_keeps_status_duration_cost_and_errors_whole(
    monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    with run_of(text) as root:
        code, out, err = cli("runs", "list", "--dir", str(root))
    assert (code, err) == (0, "")
    header, row = out.splitlines()
    assert re.match(r"RUN +STATUS +DURATION +(TOKENS +)?COST +(TOOL CALLS +)?ERRORS +OBJECTIVE", header)
    assert re.match(r"20261121T101502\.123Z\S* +ok +0\.009 s +(in=3 out=0 +)?- +(1 ok, 0 failed +)?1 ", row)
    assert cell_len(row.rstrip()) <= 80


@FUZZ
@given(ANYTHING)
@example("[/]")
@example("[bold]x[/bold] [[words:5]] :smile:")
@example("\x1b[31m\n\t界")
def test_runs_show_shows_every_string_literally(text: str) -> None:
    with run_of(text) as root:
        code, out, err = cli("runs", "show", RID, "--dir", str(root))
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert f"objective   {shown(text)}" in lines
    assert f"parent run  {shown(text)}" in lines
    assert f"models      {shown(text)}" in lines
    assert f"  chat {shown(text)}: {shown(text)}" in lines
    assert f"    +0.000s  invoke_agent {shown(text)}  9.0 ms" in lines
    assert f"    +0.001s    chat {shown(text)}  2.0 ms  tokens in=3 out=-  ERROR {shown(text)}" in lines
    assert f"    +0.004s    execute_tool {shown(text)}  1.0 ms" in lines


@FUZZ
@given(ANYTHING)
@example("[/]")
@example(":smile: [[words:5]]")
def test_runs_replay_and_rerun_show_span_and_tool_names_literally(text: str) -> None:
    assume(text not in ("get_weather", "broken"))
    with run_of(text) as root:
        code, out, err = cli(
            "runs", "replay", RID, "--dir", str(root), "--speed", "0",
            "--rerun", "--registry", "runstore_helpers:registry", "--yes",
        )  # fmt: skip
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert f"  skipped execute_tool {shown(text)}: not in the registry" in lines
    assert f"  +0.004s    start execute_tool {shown(text)}" in lines
    assert f"  +0.000s  start invoke_agent {shown(text)}" in lines


@FUZZ
@given(ANYTHING)
@example("[/]")
@example(":smile:")
def test_runs_tail_shows_span_names_literally(text: str) -> None:
    with run_of(text) as root:
        code, out, err = cli("runs", "tail", RID, "--dir", str(root))
    assert (code, err) == (0, "")
    assert re.search(
        rf"^\d\d:\d\d:\d\d\.\d{{3}}Z  execute_tool {re.escape(shown(text))}  1\.0 ms$", out, re.M
    )


@FUZZ
@given(ANYTHING)
@example("[/]")
@example(":smile:")
def test_an_unknown_run_is_named_literally(text: str) -> None:
    with run_of("x") as root:
        code, out, err = cli("runs", "show", f"zz{text}", "--dir", str(root))
    assert (code, out) == (1, "")
    assert err == f"error: no run matches {shown(repr('zz' + text))} in {shown(root)}\n"


# --- agentotel top / tools report -----------------------------------------------------------------
@FUZZ
@given(ANYTHING)
@example("[/]")
@example("[bold]x[/bold] [[words:5]] :smile:")
@example("\x1b[31m\n\t界")
def test_top_once_from_a_run_store_shows_names_literally(text: str) -> None:
    with run_of(text) as root:
        code, out, err = cli("top", "--once", "--runs", str(root))
    assert (code, err) == (0, "")
    name = re.escape(shown(text))
    assert out.startswith(f"agentotel top  {shown(root)}  ")
    assert re.search(rf"^openai +{name} +1 +- +1 +3/0 ", out, re.M)
    assert re.search(rf"^{name} +1 +- +100\.0% ", out, re.M)
    assert re.search(rf"^invoke_agent +{name} +0 +1 +0 ", out, re.M)
    assert re.search(rf"^since start +llm +{name} +{name} +1$", out, re.M)


@FUZZ
@given(ANYTHING)
@example("[/]")
@example(":smile:")
def test_tools_report_shows_tool_names_literally(text: str) -> None:
    with run_of(text) as root:
        code, out, err = cli("tools", "report", "--runs", str(root))
    assert (code, err) == (0, "")
    assert re.fullmatch(rf"{re.escape(shown(text))} +1 +- +100\.0% .* 1\.00 +1\.00", out.splitlines()[3])


@settings(max_examples=80, deadline=None)
@given(ANYTHING, st.integers(min_value=20, max_value=200))
@example("[/]", 80)
@example("[bold]x[/bold] [[words:5]] :smile:", 100)
def test_every_dashboard_section_shows_strings_literally(text: str, width: int) -> None:
    board = Board(
        source=text,
        time=0.0,
        window_s=None,
        models=[ModelRow(text, text, 1, 0, None, 1, 1, None, None, None, None)],
        tools=[ToolRow(text, 1, 0, None, 1.0, None, None, None, None, None, 1.0, 1.0)],
        workflows=[WorkflowRow(text, text, 1, 0, 0, None, None)],
        errors=[ErrorRow(text, text, text, 1)],
        status=text,
    )
    render_text(render(board), width=width)  # any width: no exception
    out = render_text(render(board), width=2000)
    lines = out.splitlines()
    assert lines[0].startswith(f"agentotel top  {shown(text)}  00:00:00 UTC")
    assert lines[2] == shown(text).rstrip()  # the status line
    name = re.escape(shown(text))
    assert re.search(rf"^{name} +{name} +1 +- +0 +1/1 ", out, re.M)  # models
    assert re.search(rf"^{name} +1 +- +100\.0% ", out, re.M)  # tools
    assert re.search(rf"^{name} +{name} +1 +0 +0 ", out, re.M)  # workflows
    assert re.search(rf"^since start +{name} +{name} +{name} +1$", out, re.M)  # errors


# --- agentotel doctor -----------------------------------------------------------------------------
@FUZZ
@given(ENVIRONMENT_VALUE)
@example("[/]")
@example(":smile: [bold]x")
def test_doctor_shows_environment_values_literally(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setenv(config.METRICS_FILE, f"<{text}>")
    code, out, err = cli("doctor")
    assert (code, err) == (0, "")
    assert f"<{shown(text)}>" in out


@FUZZ
@given(ENVIRONMENT_VALUE)
@example("[/]")
@example(":smile: [bold]x")
def test_doctor_names_a_bad_value_literally(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setenv(config.CONTENT_MAX_LENGTH, f"x{text}")
    with pytest.raises(config.ConfigError) as raised:
        config.Settings.from_env()
    code, out, _ = cli("doctor")
    assert code == 1
    assert out == f"configuration error: {shown(raised.value)}\n"
