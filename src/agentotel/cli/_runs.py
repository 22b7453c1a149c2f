"""``agentotel runs``: list, show, follow and replay the runs of the run store.

agentotel runs list [--limit N]             newest runs first
agentotel runs show RUN                     summary and the indented span timeline
agentotel runs tail RUN [--timeout S]       print spans as they end, until the run ends
agentotel runs replay RUN [--speed X]       the timeline again at the recorded pace (0: no pauses)
    [--rerun --registry module:function [--yes]]   and re-execute the recorded tool calls

RUN is a prefix of a run id (the folder name) or of a trace id. The runs dir is ``--dir``, else
``AGENTOTEL_RUNS_DIR``, else ``.agentotel/runs``. Errors (unknown run, unreadable file) are one
line on stderr and exit code 1. ``list`` fits the terminal: status, duration, cost and errors
always show whole, the run id, objective, tool calls and tokens give way (:mod:`._columns`).
What comes from the runs is printed literally (:mod:`._text`).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.text import Text

from agentotel import semconv
from agentotel.cli import _rerun, _timeline
from agentotel.cli._columns import Column, fitted
from agentotel.cli._text import literal, say
from agentotel.processors import runstore
from agentotel.processors.runstore import RUNNING, RunStoreError

_sleep: Callable[[float], None] = time.sleep
"""Pauses of ``tail`` and ``replay`` (tests replace it)."""


def _console() -> Console:
    return Console(highlight=False, soft_wrap=True)


def _err(message: str) -> int:
    say(Console(stderr=True, highlight=False, soft_wrap=True), f"error: {message}")
    return 1


# --- formatting -----------------------------------------------------------------------------------
def _seconds(value: Any) -> str:
    return f"{value:.3f} s" if isinstance(value, (int, float)) else "-"


def _cost(value: Any) -> str:
    return f"${value:.6f}" if isinstance(value, (int, float)) else "-"


def _tools(calls: Mapping[str, Any]) -> str:
    return f"{calls.get('ok', 0)} ok, {calls.get('failed', 0)} failed"


def _tokens(tokens: Mapping[str, Any]) -> str:
    return f"in={tokens.get('input', 0)} out={tokens.get('output', 0)}"


def _span_extras(event: Mapping[str, Any]) -> str:
    attrs = event.get("attributes") or {}
    parts: list[str] = []
    if semconv.GEN_AI_USAGE_INPUT_TOKENS in attrs or semconv.GEN_AI_USAGE_OUTPUT_TOKENS in attrs:
        parts.append(
            f"tokens in={attrs.get(semconv.GEN_AI_USAGE_INPUT_TOKENS, '-')} "
            f"out={attrs.get(semconv.GEN_AI_USAGE_OUTPUT_TOKENS, '-')}"
        )
    if isinstance(attrs.get(semconv.AGENTOTEL_USAGE_COST_USD), (int, float)):
        parts.append(f"cost {_cost(attrs[semconv.AGENTOTEL_USAGE_COST_USD])}")
    if event.get("status") == "ERROR":
        reason = attrs.get(semconv.ERROR_TYPE) or event.get("status_message") or "error"
        parts.append(f"ERROR {reason}")
    return "  ".join(parts)


def _span_line(event: Mapping[str, Any]) -> str:
    duration = event.get("duration_ms")
    text = (
        f"{event.get('name')}  {duration:.1f} ms"
        if isinstance(duration, (int, float))
        else str(event.get("name"))
    )
    extras = _span_extras(event)
    return f"{text}  {extras}" if extras else text


def _short(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _offset(nanos: int) -> str:
    return f"+{nanos / 1e9:.3f}s"


# --- reading ------------------------------------------------------------------------------------
def _runs_dir(args: argparse.Namespace) -> Path:
    return Path(args.dir) if args.dir is not None else runstore.runs_dir()


# --- list ---------------------------------------------------------------------------------------
_LIST_COLUMNS = (
    Column("RUN", min_width=20, overflow="crop"),  # cut to the start time: still a prefix to select it
    Column("STATUS", keep=True),
    Column("DURATION", keep=True),
    Column("TOKENS"),
    Column("COST", keep=True),
    Column("TOOL CALLS"),
    Column("ERRORS", keep=True),
    Column("OBJECTIVE", min_width=12),
)
_LIST_PRIORITY = (0, 7, 5, 3)  # run, objective, tool calls, tokens: the first to give way is last
_LIST_GROW = (7, 0)


def _list_row(rid: str, summary: Mapping[str, Any]) -> list[Text]:
    return [
        literal(rid),
        literal(summary.get("status")),
        literal(_seconds(summary.get("duration_s"))),
        literal(_tokens(summary.get("tokens") or {})),
        literal(_cost(summary.get("cost_usd"))),
        literal(_tools(summary.get("tool_calls") or {})),
        literal(summary.get("error_count", 0)),
        literal(summary.get("objective", "")),
    ]


def _list(args: argparse.Namespace) -> int:
    root = _runs_dir(args)
    rows: list[list[Text]] = []
    failures: list[str] = []
    for rid in runstore.list_runs(root)[: args.limit]:
        try:
            summary, _ = runstore.load_run(root / rid)
        except RunStoreError as exc:
            failures.append(str(exc))
            rows.append([literal(rid), literal("unreadable"), *(literal("-") for _ in range(6))])
            continue
        rows.append(_list_row(rid, summary))
    console = _console()
    if not rows:
        say(console, f"no runs in {root}")
        return 0
    console.print(fitted(_LIST_COLUMNS, rows, console.width, _LIST_PRIORITY, _LIST_GROW))
    return _err(failures[0]) if failures else 0


# --- show ---------------------------------------------------------------------------------------
def _show(args: argparse.Namespace) -> int:
    summary, events = runstore.load_run(runstore.find_run(_runs_dir(args), args.run))
    console = _console()
    models = ", ".join(summary.get("models") or ()) or "-"
    rows = [
        ("run", summary.get("run_id")),
        ("objective", summary.get("objective")),
        ("status", summary.get("status")),
        ("trace", summary.get("trace_id")),
        ("start", summary.get("start")),
        ("end", summary.get("end") or "-"),
        ("duration", _seconds(summary.get("duration_s"))),
        ("tokens", _tokens(summary.get("tokens") or {})),
        ("cost", _cost(summary.get("cost_usd"))),
        ("tool calls", _tools(summary.get("tool_calls") or {})),
        ("models", models),
        ("parent run", summary.get("parent_run") or "-"),
        ("errors", str(summary.get("error_count", 0))),
    ]
    for label, value in rows:
        say(console, f"{label:<11} {value}")
    for error in summary.get("errors") or ():
        reason = str(error.get("message") or error.get("error_type") or "error")
        say(console, f"  {error.get('span')}: {_short(reason)}")
    say(console, "timeline")
    origin = _origin(summary, events)
    for depth, event in _timeline.tree(events):
        start = event.get("start_time_unix_nano") or origin
        say(console, f"  {_offset(start - origin):>9}  {'  ' * depth}{_span_line(event)}")
    return 0


def _origin(summary: Mapping[str, Any], events: Sequence[Mapping[str, Any]]) -> int:
    start = (summary.get("root") or {}).get("start_time_unix_nano")
    return start if isinstance(start, int) and start else _timeline.run_start(events)


# --- tail ---------------------------------------------------------------------------------------
def _clock(unix_nano: Any) -> str:
    if not isinstance(unix_nano, int):
        return "-"
    moment = datetime.fromtimestamp(unix_nano // 1_000_000_000, tz=timezone.utc)
    return moment.strftime("%H:%M:%S.") + f"{unix_nano // 1_000_000 % 1000:03d}Z"


def _tail(args: argparse.Namespace) -> int:
    folder = runstore.find_run(_runs_dir(args), args.run)
    events = runstore.EventTail(folder)
    console = _console()
    say(console, f"following run {folder.name} (Ctrl-C to stop)")
    deadline = None if args.timeout is None else time.monotonic() + args.timeout
    try:
        while True:
            summary = runstore.read_summary(folder)  # read before the events: all of them precede it
            for event in events.new_events():
                say(console, f"{_clock(event.get('end_time_unix_nano'))}  {_span_line(event)}")
            if summary is not None and summary.get("status") != RUNNING:
                say(console, _ended(summary))
                return 0
            if deadline is not None and time.monotonic() >= deadline:
                say(console, f"still running after {args.timeout:g} s")
                return 0
            _sleep(args.interval)
    except KeyboardInterrupt:
        return 0


def _ended(summary: Mapping[str, Any]) -> str:
    return (
        f"run ended: {summary.get('status')} in {_seconds(summary.get('duration_s'))}, "
        f"tokens {_tokens(summary.get('tokens') or {})}, tool calls {_tools(summary.get('tool_calls') or {})}"
    )


# --- replay -------------------------------------------------------------------------------------
def _replay(args: argparse.Namespace) -> int:
    folder = runstore.find_run(_runs_dir(args), args.run)
    summary, events = runstore.load_run(folder)
    console = _console()
    rerun: _rerun.Rerun | None = None
    if args.rerun:
        if not args.registry:
            return _err("--rerun needs --registry module:function (a function returning name -> callable)")
        rerun = _rerun.Rerun(_rerun.load_registry(args.registry), events)
        rerun.print_plan(console)
        if rerun.calls and not args.yes and not _rerun.confirm(console, len(rerun.calls)):
            say(console, "cancelled: no tool call re-executed")
            return 1
    speed = args.speed
    say(
        console,
        f"replaying run {folder.name}: {len(events)} spans, {_seconds(summary.get('duration_s'))}"
        + (f" at {speed:g}x" if speed else " without pauses"),
    )
    marks = _timeline.marks(events)
    origin = _origin(summary, events)
    previous = marks[0].time if marks else 0
    for mark in marks:
        if speed and mark.time > previous:
            _sleep((mark.time - previous) / 1e9 / speed)
        previous = max(previous, mark.time)
        indent = "  " * mark.depth
        if mark.ending:
            say(console, f"{_offset(mark.time - origin):>9}  {indent}end   {_span_line(mark.event)}")
            if rerun is not None:
                rerun.on_end(console, mark.event, f"{'':>9}  {indent}      ")
        else:
            say(console, f"{_offset(mark.time - origin):>9}  {indent}start {mark.event.get('name')}")
    if rerun is None:
        return 0
    return rerun.print_totals(console)


# --- parser -------------------------------------------------------------------------------------
def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _non_negative(text: str) -> float:
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def _guarded(handler: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except RunStoreError as exc:
            return _err(str(exc))

    return run


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("runs", help="list, show, tail and replay runs of the run store")
    runs = parser.add_subparsers(dest="runs_command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--dir", help="the runs dir (default: $AGENTOTEL_RUNS_DIR, else .agentotel/runs)")

    p = runs.add_parser("list", parents=[common], help="the newest runs")
    p.add_argument("--limit", type=_positive_int, default=20, help="runs shown (default 20)")
    p.set_defaults(handler=_guarded(_list))

    p = runs.add_parser("show", parents=[common], help="a run's summary and span timeline")
    p.add_argument("run", help="a prefix of the run id or trace id")
    p.set_defaults(handler=_guarded(_show))

    p = runs.add_parser("tail", parents=[common], help="print a run's spans as they end, until it ends")
    p.add_argument("run", help="a prefix of the run id or trace id")
    p.add_argument("--timeout", type=_non_negative, default=None, help="stop after this many seconds")
    p.add_argument("--interval", type=_non_negative, default=0.25, help="seconds between polls (0.25)")
    p.set_defaults(handler=_guarded(_tail))

    p = runs.add_parser("replay", parents=[common], help="replay a run's timeline at the recorded pace")
    p.add_argument("run", help="a prefix of the run id or trace id")
    p.add_argument("--speed", type=_non_negative, default=1.0, help="pace factor (default 1; 0: no pauses)")
    p.add_argument(
        "--rerun", action="store_true", help="re-execute the tool calls whose arguments were recorded"
    )
    p.add_argument("--registry", help="module:function returning a dict of tool name -> callable")
    p.add_argument("--yes", action="store_true", help="do not ask before re-executing tool calls")
    p.set_defaults(handler=_guarded(_replay))
