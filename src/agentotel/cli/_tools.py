"""``agentotel tools report``: the tools' calls, success rate, latency and reliability, once.

agentotel tools report [--url URL | --runs DIR] [--p95-target [TOOL=]SECONDS] [--json]

The table ``agentotel top`` shows, for every tool, from one read of a Prometheus ``/metrics`` page
(default ``http://127.0.0.1:9464/metrics``) or of a run store. ``--json`` prints
``{"source", "time", "tools": [{"tool", "calls", "failures", "success_rate", "p50_s", "p95_s",
"p99_s", "target_p95_s", "observed_p95_s", "speed", "reliability", ...}]}``, most called first.
Reliability is ``0.8 * success_rate + 0.2 * speed`` (see :mod:`agentotel.cli._board`). A
source that cannot be read is a one-line error and exit code 1.
"""

from __future__ import annotations

import argparse
import json
import sys

from rich.console import Console

from agentotel.cli import _dashboard as dashboard
from agentotel.cli._board import tool_rows
from agentotel.cli._sources import SourceError, add_arguments, fail, from_args


def report(args: argparse.Namespace) -> int:
    """``agentotel tools report``: the tool table (or JSON) from one read."""
    try:
        source, targets = from_args(args)
        snap = source.snapshot()
    except (ValueError, SourceError) as exc:
        return fail(str(exc))
    rows = tool_rows(snap, targets=targets)
    if args.json:
        document = {"source": source.label, "time": snap.time, "tools": [row.as_json() for row in rows]}
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
    else:
        Console(highlight=False).print(dashboard.tool_table(rows, limit=None))
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``agentotel tools report``."""
    parser = sub.add_parser("tools", help="tool reliability from /metrics or a run store")
    actions = parser.add_subparsers(dest="action", required=True)
    rep = actions.add_parser("report", help="calls, success rate, p50/p95/p99 and reliability per tool")
    add_arguments(rep)
    rep.add_argument("--json", action="store_true", help="print JSON")
    rep.set_defaults(handler=report)
