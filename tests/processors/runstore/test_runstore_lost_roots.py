"""Root spans the run store's queue had no room for are kept aside, up to 1,000 runs.

The writer side (:class:`~agentotel.processors.runstore._sink.RunSink`) is driven as its queue
writer drives it: each run's start is written, then its root span finds the queue full
(``on_drop``), then the disk takes data again (``write`` with the count of dropped items).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.trace import format_span_id, format_trace_id

from agentotel._safe import Boundary
from agentotel.processors.runstore._events import RunInfo
from agentotel.processors.runstore._sink import Item, Run, RunSink

AGENT = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "helper"}
KEPT = 1000  # the bound the manual states (docs/run-store.md)


def started_run(sink: RunSink, root: Path, tracer: Any, number: int) -> tuple[Run, ReadableSpan]:
    """A run whose start is written, and its ended root span."""
    span = tracer.start_span("invoke_agent helper", attributes=AGENT)
    ctx = span.get_span_context()
    info = RunInfo(
        run_id=f"run-{number:04d}",
        trace_id=format_trace_id(ctx.trace_id),
        root_span_id=format_span_id(ctx.span_id),
        root_name="invoke_agent helper",
        start_time_unix_nano=span.start_time,
        root_operation="invoke_agent",
    )
    run = Run(info, ctx.span_id, root / info.run_id)
    sink.write([Item(run)], 0)
    span.end()
    return run, span


def summaries(root: Path) -> dict[str, dict[str, Any]]:
    return {folder.name: json.loads((folder / "summary.json").read_text()) for folder in root.iterdir()}


def test_up_to_1000_dropped_roots_are_kept_and_their_runs_end_ok_once_the_disk_takes_data(
    tmp_path: Path,
) -> None:
    root = tmp_path / "runs"
    root.mkdir(mode=0o700)
    sink = RunSink(root, keep=KEPT + 10, boundary=Boundary("runstore", MeterProvider().get_meter("test")))
    tracer = TracerProvider().get_tracer("test")
    for number in range(KEPT + 1):
        run, span = started_run(sink, root, tracer, number)
        sink.on_drop(Item(run, span, root=True))  # the queue had no room for the root
    assert {s["status"] for s in summaries(root).values()} == {"running"}

    sink.write([], KEPT + 1)

    found = summaries(root)
    assert len(found) == KEPT + 1
    kept = [name for name, s in found.items() if (s["status"], s.get("dropped_spans")) == ("ok", None)]
    assert sorted(kept) == [f"run-{n:04d}" for n in range(KEPT)]
    # Past the bound the root counts as dropped: the run says so and stays running.
    assert (found["run-1000"]["status"], found["run-1000"]["dropped_spans"]) == ("running", 1)
