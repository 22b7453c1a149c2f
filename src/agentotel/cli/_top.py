"""``agentotel top``: a live terminal dashboard of an agent's LLM calls, tools and workflows.

agentotel top [--url URL | --runs DIR] [--interval 1.0] [--window 60] [--p95-target [TOOL=]S] [--once]

Reads a Prometheus ``/metrics`` page (default ``http://127.0.0.1:9464/metrics``, where the
OpenTelemetry Prometheus exporter listens) of any process exposing agentotel's metrics, or a run
store (``--runs DIR``), every ``--interval`` seconds, and shows: requests/s, tokens/s, cost and
p50/p95 latency per model; the workflows running; the most called tools with success rate,
p50/p95/p99 latency and reliability score; the latest errors. Rates and the tools' recent p95 are
over the last ``--window`` seconds (see :mod:`agentotel.cli._board` for every formula).

``--once`` prints one frame and exits: 1 with a one-line error when the source cannot be read.
While live, a failed read shows a status line and the last frame, and reading goes on. ``q`` (or
Ctrl-C) quits.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import deque
from collections.abc import Callable

from rich.console import Console
from rich.live import Live

from agentotel.cli import _dashboard as dashboard
from agentotel.cli._board import Board, ErrorRow, Targets, board, error_totals, new_errors
from agentotel.cli._keys import Keys
from agentotel.cli._scrape import Snapshot
from agentotel.cli._sources import Source, SourceError, add_arguments, fail, from_args

_sleep: Callable[[float], None] = time.sleep
"""The pause between frames when no key can be read (tests replace it)."""
QUIT = frozenset("qQ")


class Monitor:
    """Reads ``source`` once per :meth:`tick` and keeps what the board needs across reads: the
    snapshots of the last ``window`` seconds (rates) and the latest errors."""

    def __init__(self, source: Source, targets: Targets, window: float = 60.0, max_errors: int = 10) -> None:
        self.source = source
        self.targets = targets
        self.window = window
        self._history: deque[Snapshot] = deque()
        self._errors: deque[ErrorRow] = deque(maxlen=max_errors)

    def tick(self, clock: Callable[[], float] = time.time) -> Board:
        """Read the source and return the frame; a failed read returns the last frame with a status."""
        try:
            snap = self.source.snapshot()
        except SourceError as exc:
            status = f"{exc} (retrying)"
            if not self._history:
                return board(Snapshot(time=clock()), source=self.source.label, errors=[], status=status)
            return self._board(status)
        if self._history:
            previous = self._history[-1]
            self._errors.extendleft(reversed(new_errors(snap, previous)))
        else:  # the counts so far, the largest first
            self._errors.extend(error_totals(snap)[: self._errors.maxlen])
        self._history.append(snap)
        while len(self._history) > 2 and snap.time - self._history[1].time >= self.window:
            self._history.popleft()
        return self._board(None)

    def _board(self, status: str | None) -> Board:
        now = self._history[-1]
        before = self._history[0] if len(self._history) > 1 else None
        return board(
            now,
            before,
            source=self.source.label,
            targets=self.targets,
            errors=list(self._errors),
            status=status,
        )


def run(args: argparse.Namespace) -> int:
    """``agentotel top``: one frame (``--once``) or live frames until ``q`` or Ctrl-C."""
    try:
        source, targets = from_args(args)
        snap = source.snapshot() if args.once else None
    except (ValueError, SourceError) as exc:
        return fail(str(exc))
    console = Console(highlight=False)
    if snap is not None:
        console.print(dashboard.render(board(snap, source=source.label, targets=targets)))
        return 0
    monitor = Monitor(source, targets, args.window)
    try:
        with (
            Keys(sys.stdin, _sleep) as keys,
            Live(dashboard.render(monitor.tick()), console=console, auto_refresh=False) as live,
        ):
            while not QUIT.intersection(keys.wait(args.interval)):
                live.update(dashboard.render(monitor.tick()), refresh=True)
    except KeyboardInterrupt:
        pass
    return 0


def _positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, not {text}")
    return value


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``agentotel top``."""
    parser = sub.add_parser("top", help="live dashboard of LLM calls, tools and workflows from /metrics")
    add_arguments(parser)
    parser.add_argument("--interval", type=_positive, default=1.0, help="seconds between reads (default 1)")
    parser.add_argument("--window", type=_positive, default=60.0, help="seconds of rates (default 60)")
    parser.add_argument("--once", action="store_true", help="print one frame and exit")
    parser.set_defaults(handler=run)
