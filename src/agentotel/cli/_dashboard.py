"""The ``agentotel top`` dashboard as ``rich`` renderables: a :class:`~agentotel.cli._board.Board`
in, tables out. Pure; :func:`render_text` gives the plain text at a fixed width (for tests). Names
(models, tools, workflows, errors, the source) are shown literally (:mod:`agentotel.cli._text`)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime, timezone

from rich import box
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from agentotel.cli._board import Board, ErrorRow, ModelRow, ToolRow, WorkflowRow
from agentotel.cli._text import literal, shown

TOP_TOOLS = 10
RECENT_ERRORS = 10


# --- formatting -----------------------------------------------------------------------------------
def seconds(value: float | None) -> str:
    """``12.5 ms`` below a second, ``1.25 s`` from there; ``-`` when unknown."""
    if value is None:
        return "-"
    return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"


def rate(value: float | None) -> str:
    """Per second, two decimals; ``-`` before a second read."""
    return "-" if value is None else f"{value:.2f}"


def count(value: float) -> str:
    """A whole number."""
    return f"{value:.0f}"


def usd(value: float | None) -> str:
    """US dollars to the micro-dollar, as ``agentotel runs`` shows them; ``-`` without a price."""
    return "-" if value is None else f"${value:.6f}"


def percent(value: float) -> str:
    """A ratio as a percentage, one decimal."""
    return f"{value * 100:.1f}%"


def clock(moment: float) -> str:
    """``HH:MM:SS`` UTC."""
    return datetime.fromtimestamp(moment, tz=timezone.utc).strftime("%H:%M:%S")


_TEXT_COLUMNS = frozenset({"provider", "model", "tool", "operation", "name", "when", "source", "error"})


def _table(title: str, *columns: str) -> Table:
    table = Table(
        title=title,
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
    )
    for i, column in enumerate(columns):
        table.add_column(column, justify="left" if i == 0 or column in _TEXT_COLUMNS else "right")
    return table


# --- sections -------------------------------------------------------------------------------------
def header(board: Board) -> Text:
    """Source, time, window and the totals."""
    window = f"rates over {board.window_s:.1f} s" if board.window_s is not None else "rates need two reads"
    text = Text(f"agentotel top  {shown(board.source)}  {clock(board.time)} UTC  {window}\n")
    text.append(
        f"requests/s {rate(board.requests_per_s)}  tokens/s {rate(board.tokens_per_s)}  "
        f"cost {usd(board.cost_usd)}  active workflows {count(board.active)}"
    )
    if board.status:
        text.append(f"\n{shown(board.status)}", style="bold red")
    return text


def model_table(rows: Sequence[ModelRow]) -> RenderableType:
    """Requests, errors, tokens, cost and latency per model."""
    if not rows:
        return Text("models: no LLM calls yet")
    table = _table(
        "models", "provider", "model", "requests", "req/s", "errors", "tokens in/out", "tok/s", "cost",
        "p50", "p95",
    )  # fmt: skip
    for r in rows:
        table.add_row(
            literal(r.provider or "-"), literal(r.model or "-"), count(r.requests), rate(r.requests_per_s),
            count(r.errors), f"{count(r.input_tokens)}/{count(r.output_tokens)}", rate(r.tokens_per_s),
            usd(r.cost_usd),
            seconds(r.p50), seconds(r.p95),
        )  # fmt: skip
    return table


def tool_table(rows: Sequence[ToolRow], limit: int | None = TOP_TOOLS) -> RenderableType:
    """The tools, most called first (the first ``limit``)."""
    if not rows:
        return Text("tools: no tool calls yet")
    table = _table(
        "tools", "tool", "calls", "calls/s", "success", "p50", "p95", "p99", "target p95", "speed", "score"
    )
    for r in rows[:limit] if limit is not None else rows:
        table.add_row(
            literal(r.name), count(r.calls), rate(r.calls_per_s), percent(r.success_rate), seconds(r.p50),
            seconds(r.p95), seconds(r.p99), seconds(r.target_p95), f"{r.speed:.2f}", f"{r.reliability:.2f}",
        )  # fmt: skip
    return table


def workflow_table(rows: Sequence[WorkflowRow]) -> RenderableType:
    """Workflows, plans and agent rounds: running now, finished, failed, latency."""
    if not rows:
        return Text("workflows: none yet")
    table = _table("workflows", "operation", "name", "active", "runs", "failed", "p50", "p95")
    for r in rows:
        table.add_row(
            literal(r.operation or "-"), literal(r.name or "-"), count(r.active), count(r.runs),
            count(r.failures), seconds(r.p50), seconds(r.p95),
        )  # fmt: skip
    return table


def error_table(rows: Sequence[ErrorRow], limit: int = RECENT_ERRORS) -> RenderableType:
    """The latest errors (``since start``: counted before the first read)."""
    if not rows:
        return Text("errors: none")
    table = _table("recent errors", "when", "source", "name", "error", "count")
    for r in rows[:limit]:
        when = clock(r.at) if r.at is not None else "since start"
        table.add_row(
            when, literal(r.source), literal(r.subject or "-"), literal(r.error_type), count(r.count)
        )
    return table


def render(board: Board, tool_limit: int | None = TOP_TOOLS) -> Group:
    """The whole dashboard."""
    gap = Text("")
    return Group(
        header(board),
        gap,
        model_table(board.models),
        gap,
        tool_table(board.tools, tool_limit),
        gap,
        workflow_table(board.workflows),
        gap,
        error_table(board.errors),
    )


def render_text(renderable: RenderableType, width: int = 120) -> str:
    """``renderable`` as plain text ``width`` columns wide, trailing spaces removed."""
    out = io.StringIO()
    console = Console(file=out, width=width, color_system=None, force_terminal=False, highlight=False)
    console.print(renderable)
    return "\n".join(line.rstrip() for line in out.getvalue().splitlines()) + "\n"
