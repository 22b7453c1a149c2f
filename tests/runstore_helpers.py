"""What the run-store tests share: a processor attached to a test's providers, readers of the
store, and hand-made runs with fixed ids and times for exact CLI output.

Imported as ``from runstore_helpers import ...`` (``tests/`` is on ``sys.path``, see ``helpers.py``).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from agentotel.processors import RunStoreSpanProcessor
from agentotel.processors.runstore import _store
from agentotel.processors.runstore._events import RunInfo, summarize
from agentotel.testing._capture import TelemetryCapture

# A run id without the "-2", "-3" ... that a second run of one trace in the same millisecond gets.
RUN_ID = re.compile(r"^\d{8}T\d{6}\.\d{3}Z_[0-9a-f]{16}$")
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


@contextmanager
def run_store(cap: TelemetryCapture, root: Path, **options: Any) -> Iterator[RunStoreSpanProcessor]:
    """A :class:`RunStoreSpanProcessor` on ``cap``'s tracer provider for the block."""
    processor = RunStoreSpanProcessor(root, meter_provider=cap.meter_provider, **options)
    cap.tracer_provider.add_span_processor(processor)
    try:
        yield processor
    finally:
        processor.shutdown()


def run_ids(root: Path) -> list[str]:
    """Run folders (suffixed ids included), oldest first: by the root span's start in the run's
    summary (an id's stamp has millisecond resolution, and two runs started in the same
    millisecond would sort by trace id), by the stamp when there is no summary yet, then by id."""
    names = [p.name for p in root.iterdir() if _store.RUN_ID.match(p.name)]
    return sorted(names, key=lambda name: (_started(root, name), name))


def _started(root: Path, run_id: str) -> int:
    """A run's start in Unix nanoseconds: its summary's root span start, else its id's stamp."""
    try:
        start = summary_of(root, run_id)["root"]["start_time_unix_nano"]
    except (OSError, ValueError, KeyError, TypeError):
        start = None
    if isinstance(start, int):
        return start
    stamp = datetime.strptime(run_id[:19] + "000", "%Y%m%dT%H%M%S.%f").replace(tzinfo=timezone.utc)
    return int(stamp.timestamp()) * 1_000_000_000 + stamp.microsecond * 1000


def summary_of(root: Path, run_id: str) -> dict[str, Any]:
    return json.loads((root / run_id / "summary.json").read_text())  # type: ignore[no-any-return]


def wait_for_status(root: Path, run_id: str, timeout: float = 10.0) -> str:
    """The run's status once it is no longer ``running`` (or ``running`` after ``timeout`` s)."""
    deadline = time.monotonic() + timeout
    while True:
        status = str(summary_of(root, run_id)["status"])
        if status != "running" or time.monotonic() > deadline:
            return status
        time.sleep(0.02)


def events_of(root: Path, run_id: str) -> list[dict[str, Any]]:
    text = (root / run_id / "events.jsonl").read_text()
    return [json.loads(line) for line in text.splitlines()]


def names(events: list[dict[str, Any]]) -> list[str]:
    return [e["name"] for e in events]


# --- hand-made runs -------------------------------------------------------------------------------
def nanos(iso: str) -> int:
    """Unix nanoseconds of ``2026-11-21T10:15:02.123`` (UTC)."""
    moment = datetime.fromisoformat(iso).replace(tzinfo=timezone.utc)
    return int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1000


def span(
    name: str,
    span_id: str,
    parent: str | None,
    start: int,
    duration_ms: float,
    *,
    trace_id: str,
    status: str = "UNSET",
    message: str | None = None,
    attributes: dict[str, Any],
) -> dict[str, Any]:
    """One ``events.jsonl`` line."""
    event: dict[str, Any] = {
        "name": name,
        "trace_id": trace_id,
        "span_id": span_id,
        "parent_span_id": parent,
        "kind": "INTERNAL",
        "start_time_unix_nano": start,
        "end_time_unix_nano": start + int(duration_ms * 1_000_000),
        "duration_ms": duration_ms,
        "status": status,
    }
    if message is not None:
        event["status_message"] = message
    event["attributes"] = attributes
    return event


def write_run(root: Path, info: RunInfo, events: list[dict[str, Any]], *, running: bool = False) -> Path:
    """A run folder as the writer leaves it (``running``: the root has not ended yet)."""
    folder = root / info.run_id
    (folder / "artifacts").mkdir(parents=True)
    (folder / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    summary = summarize(info, [] if running else events)
    (folder / "summary.json").write_text(json.dumps(summary, indent=2))
    return folder


TRACE_A = "4bf92f3577b34da6a3ce929d0e0e4736"
RUN_A = "20261121T101502.123Z_4bf92f3577b34da6"
T_A = nanos("2026-11-21T10:15:02.123")
INFO_A = RunInfo(
    RUN_A, TRACE_A, "00000000000000a1", "invoke_agent helper", T_A, root_operation="invoke_agent"
)
QUESTION_JSON = json.dumps(
    [{"role": "user", "parts": [{"type": "text", "content": "What is the weather in Paris?"}]}]
)


CHAT = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o",
    "gen_ai.response.model": "gpt-4o-2024-08-06",
}


def events_a() -> list[dict[str, Any]]:
    """An agent round: two LLM calls (with cost), a tool call and a failed one, in end order."""
    a1, a2, a3, a4, a5 = (f"00000000000000a{i}" for i in range(1, 6))
    return [
        span(
            "chat gpt-4o",
            a2,
            a1,
            T_A + 10_000_000,
            400.0,
            trace_id=TRACE_A,
            attributes={
                **CHAT,
                "gen_ai.usage.input_tokens": 6,
                "gen_ai.usage.output_tokens": 2,
                "agentotel.usage.cost_usd": 0.0001,
                "gen_ai.input.messages": QUESTION_JSON,
            },
        ),
        span(
            "execute_tool get_weather",
            a3,
            a1,
            T_A + 420_000_000,
            12.0,
            trace_id=TRACE_A,
            attributes={
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": "get_weather",
                "gen_ai.tool.call.arguments": '{"city":"Paris"}',
                "gen_ai.tool.call.result": '"Sunny"',
            },
        ),
        span(
            "execute_tool broken",
            a4,
            a1,
            T_A + 440_000_000,
            1.0,
            trace_id=TRACE_A,
            status="ERROR",
            message="ValueError: boom",
            attributes={
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": "broken",
                "gen_ai.tool.call.arguments": "{}",
                "error.type": "ValueError",
            },
        ),
        span(
            "chat gpt-4o",
            a5,
            a1,
            T_A + 450_000_000,
            800.0,
            trace_id=TRACE_A,
            attributes={
                **CHAT,
                "gen_ai.usage.input_tokens": 12,
                "gen_ai.usage.output_tokens": 6,
                "agentotel.usage.cost_usd": 0.0002,
            },
        ),
        span(
            "invoke_agent helper",
            a1,
            None,
            T_A,
            1333.0,
            trace_id=TRACE_A,
            attributes={
                "gen_ai.operation.name": "invoke_agent",
                "gen_ai.agent.name": "helper",
                "gen_ai.usage.input_tokens": 18,
                "gen_ai.usage.output_tokens": 8,
            },
        ),
    ]


TRACE_B = "0af7651916cd43dd8448eb211c80319c"
RUN_B = "20261121T091000.000Z_0af7651916cd43dd"
T_B = nanos("2026-11-21T09:10:00.000")
INFO_B = RunInfo(
    RUN_B, TRACE_B, "00000000000000b1", "invoke_workflow research", T_B, root_operation="invoke_workflow"
)


def events_b() -> list[dict[str, Any]]:
    """A workflow that failed in its only step (a tool whose arguments were not recorded)."""
    return [
        span(
            "execute_tool search",
            "00000000000000b2",
            "00000000000000b1",
            T_B + 5_000_000,
            20.0,
            trace_id=TRACE_B,
            status="ERROR",
            message="TimeoutError: slow",
            attributes={
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": "search",
                "error.type": "TimeoutError",
            },
        ),
        span(
            "invoke_workflow research",
            "00000000000000b1",
            None,
            T_B,
            30.0,
            trace_id=TRACE_B,
            status="ERROR",
            message="TimeoutError: slow",
            attributes={"gen_ai.operation.name": "invoke_workflow", "error.type": "TimeoutError"},
        ),
    ]


TRACE_C = "c0ffee0000000000000000000000beef"
RUN_C = "20261121T110000.500Z_c0ffee0000000000"
T_C = nanos("2026-11-21T11:00:00.500")
INFO_C = RunInfo(RUN_C, TRACE_C, "00000000000000c1", "invoke_agent live", T_C, root_operation="invoke_agent")


def events_c() -> list[dict[str, Any]]:
    """A run whose root is still open: one tool call ended so far."""
    return [
        span(
            "execute_tool search",
            "00000000000000c2",
            "00000000000000c1",
            T_C + 2_000_000,
            3.0,
            trace_id=TRACE_C,
            attributes={"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "search"},
        )
    ]


def registry() -> dict[str, Any]:
    """A tool registry for ``runs replay --rerun --registry runstore_helpers:registry``."""

    def get_weather(city: str) -> str:
        return "Sunny" if city == "Paris" else "Rain"

    def broken() -> None:
        raise ValueError("still broken")

    return {"get_weather": get_weather, "broken": broken}


def not_a_registry() -> list[str]:
    return ["get_weather"]
