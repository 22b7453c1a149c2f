"""A table that fits the terminal by giving up its least useful columns first.

Each :class:`Column` is kept whole (``keep``: always shown, never cut), cut down to ``min_width``
(then cropped or ended with "…", as ``overflow`` says), or shown whole only if it fits. Columns
are placed in priority order, then the room left widens the ``grow`` columns, in order, up to
their full width. Columns keep their order on screen; the ones that did not fit are left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from rich.cells import cell_len
from rich.table import Table
from rich.text import Text

GAP = 2
"""Cells between two columns (one cell of padding on each side)."""


@dataclass(frozen=True)
class Column:
    """One column of a :func:`fitted` table."""

    header: str
    keep: bool = False
    """Always shown, whole."""
    min_width: int | None = None
    """The narrowest it may be cut to; None: shown whole or not at all."""
    overflow: Literal["crop", "ellipsis"] = "ellipsis"


def widths(
    columns: Sequence[Column],
    rows: Sequence[Sequence[Text]],
    width: int,
    priority: Sequence[int],
    grow: Sequence[int],
) -> dict[int, int]:
    """The width of each column shown (by index) in a table at most ``width`` cells wide (the
    ``keep`` columns are shown even when they alone are wider)."""
    full = [
        max([cell_len(column.header), *(row[i].cell_len for row in rows)]) for i, column in enumerate(columns)
    ]
    shown = {i: full[i] for i, column in enumerate(columns) if column.keep}

    def used() -> int:
        return sum(shown.values()) + GAP * (len(shown) - 1)

    for i in priority:
        cut = columns[i].min_width
        least = full[i] if cut is None else min(full[i], cut)
        if i not in shown and used() + GAP + least <= width:
            shown[i] = least
    for i in grow:
        if i in shown:
            shown[i] += max(0, min(full[i] - shown[i], width - used()))
    return shown


def fitted(
    columns: Sequence[Column],
    rows: Sequence[Sequence[Text]],
    width: int,
    priority: Sequence[int],
    grow: Sequence[int] = (),
) -> Table:
    """A borderless table of ``rows`` with the columns :func:`widths` chose."""
    chosen = widths(columns, rows, width, priority, grow)
    table = Table(box=None, pad_edge=False, show_edge=False)
    kept = sorted(chosen)
    for i in kept:
        column = columns[i]
        table.add_column(column.header, width=chosen[i], no_wrap=True, overflow=column.overflow)
    for row in rows:
        table.add_row(*(row[i] for i in kept))
    return table
