"""Cost of the OpenAI Agents SDK bridge per tool call and per agent run, against a hand-written
tracing processor that makes the same spans and metric records.

The SDK's own tracing runs in every mode (``agents.tracing``: ``trace``, ``agent_span``,
``function_span``), with the SDK's processors replaced so that nothing is exported to OpenAI:

* ``sdk``        no processor: the SDK's span machinery alone (the baseline);
* ``hand``       one hand-written ``TracingProcessor``: for the trace an ``invoke_workflow`` span,
                 for an agent span an ``invoke_agent`` span, for a function span an
                 ``execute_tool`` span, each with the agent layer's attributes, its context attached
                 while the SDK span is open, and the agent layer's metric records
                 (``agentotel.workflow.active`` +1/-1 and ``agentotel.workflow.duration`` per run and
                 agent, ``agentotel.tool.duration`` per tool): the floor;
* ``agentotel``  ``OpenAIAgentsInstrumentor`` (its processor only).

Workloads: ``tool``: one ``with function_span("get_weather")`` inside a trace and an agent span
opened once before the loop; ``run``: one ``with trace("bench"), agent_span("triage")``.

Target: ``(agentotel - sdk) / (hand - sdk) <= 1.3`` in callgrind instructions per call,
``(Ir(N2) - Ir(N1)) / (N2 - N1)`` (as ``overhead.py``). ``--no-callgrind``: CPU time instead.
Each (workload, mode) runs in a fresh subprocess, which first checks its spans.

    python benchmarks/openai_agents.py [--quick | --smoke] [--workload tool] [--jobs 1]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from overhead import (
    _CHILD_FLAG,
    _READY,
    _RESULT_PREFIX,
    _callgrind_run,
    _DropExporter,
    _out_dir,
    _run_child,
    _settle,
)

MODES = ("sdk", "hand", "agentotel")
WORKLOADS = ("tool", "run")
TARGET = 1.3
EXPECTED = {
    "tool": ["execute_tool get_weather"],
    "run": ["invoke_agent triage", "invoke_workflow bench"],
}
_SELF = Path(__file__).resolve()


@dataclass(frozen=True)
class Plan:
    warmup: int
    n1: int
    n2: int
    cpu_calls: int
    cpu_repeats: int


PLANS = {
    "full": Plan(warmup=200, n1=100, n2=1100, cpu_calls=5000, cpu_repeats=7),
    "quick": Plan(warmup=20, n1=10, n2=110, cpu_calls=500, cpu_repeats=3),
    "smoke": Plan(warmup=2, n1=1, n2=3, cpu_calls=20, cpu_repeats=1),
}


# --- child ---------------------------------------------------------------------------------------
class _Exporter(_DropExporter):
    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] | None = None

    def export(self, spans: Sequence[Any]) -> Any:
        if self.names is not None:
            self.names.extend(s.name for s in spans)
        return super().export(spans)


def _hand_processor(tracer_provider: Any, meter_provider: Any) -> Any:
    """The floor: the bridge's spans and metric records, written inline."""
    from agents.tracing import TracingProcessor
    from opentelemetry import context, trace

    from agentotel import semconv

    tracer = tracer_provider.get_tracer("hand")
    meter = meter_provider.get_meter("hand")
    buckets = semconv.AGENT_DURATION_BUCKETS
    tool_duration = meter.create_histogram(
        semconv.TOOL_DURATION, unit="s", description="Duration of tool executions.",
        explicit_bucket_boundaries_advisory=buckets,
    )  # fmt: skip
    run_duration = meter.create_histogram(
        semconv.WORKFLOW_DURATION, unit="s", description="Duration of workflow runs, plans and agent rounds.",
        explicit_bucket_boundaries_advisory=buckets,
    )  # fmt: skip
    active = meter.create_up_down_counter(
        semconv.WORKFLOW_ACTIVE,
        unit="{run}",
        description="Workflow runs, plans and agent rounds in progress.",
    )
    clock = time.perf_counter
    opened: dict[str, tuple[Any, object, float, str, dict[str, Any]]] = {}

    def start(key: str, name: str, attrs: dict[str, Any], kind: str, metric: dict[str, Any]) -> None:
        span = tracer.start_span(name, attributes=attrs)
        if kind != "tool":
            active.add(1, metric)
        opened[key] = (span, context.attach(trace.set_span_in_context(span)), clock(), kind, metric)

    def end(key: str) -> None:
        found = opened.pop(key, None)
        if found is None:
            return
        span, token, started, kind, metric = found
        context.detach(token)  # type: ignore[arg-type]
        if kind == "workflow":
            span.set_attribute(semconv.AGENTOTEL_PLAN_STEP_COUNT, 0)
        span.end()
        seconds = clock() - started
        if kind == "tool":
            tool_duration.record(seconds, metric)
        else:
            active.add(-1, metric)
            run_duration.record(seconds, metric)

    class Hand(TracingProcessor):
        def on_trace_start(self, t: Any) -> None:
            attrs = {
                semconv.GEN_AI_OPERATION_NAME: semconv.OP_INVOKE_WORKFLOW,
                semconv.GEN_AI_WORKFLOW_NAME: t.name,
            }
            start(t.trace_id, f"invoke_workflow {t.name}", attrs, "workflow", dict(attrs))

        def on_trace_end(self, t: Any) -> None:
            end(t.trace_id)

        def on_span_start(self, s: Any) -> None:
            data = s.span_data
            if data.type == "agent":
                attrs = {
                    semconv.GEN_AI_OPERATION_NAME: semconv.OP_INVOKE_AGENT,
                    semconv.GEN_AI_AGENT_NAME: data.name,
                }
                start(s.span_id, f"invoke_agent {data.name}", attrs, "agent", dict(attrs))
            elif data.type == "function":
                attrs = {
                    semconv.GEN_AI_OPERATION_NAME: semconv.OP_EXECUTE_TOOL,
                    semconv.GEN_AI_TOOL_NAME: data.name,
                    semconv.GEN_AI_TOOL_TYPE: semconv.TOOL_TYPE_FUNCTION,
                }
                metric = {
                    semconv.GEN_AI_TOOL_NAME: data.name,
                    semconv.GEN_AI_TOOL_TYPE: semconv.TOOL_TYPE_FUNCTION,
                }
                start(s.span_id, f"execute_tool {data.name}", attrs, "tool", metric)

        def on_span_end(self, s: Any) -> None:
            end(s.span_id)

        def shutdown(self) -> None:
            pass

        def force_flush(self) -> None:
            pass

    return Hand()


def _build(workload: str, mode: str) -> tuple[Callable[[], None], _Exporter]:
    import agents
    from agents.tracing import agent_span, function_span, trace
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    exporter = _Exporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))  # type: ignore[arg-type]
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    processors: list[Any] = []
    if mode == "hand":
        processors = [_hand_processor(tracer_provider, meter_provider)]
    elif mode == "agentotel":
        from agentotel.instrumentation.openai_agents import OpenAIAgentsInstrumentor

        instrumentor = OpenAIAgentsInstrumentor()
        instrumentor.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
        processors = [instrumentor.processor]
    agents.set_trace_processors(processors)  # the SDK's exporter to OpenAI is out of every mode

    if workload == "tool":
        outer = trace("bench")
        outer.start(mark_as_current=True)
        agent = agent_span("triage")
        agent.start(mark_as_current=True)

        def call() -> None:
            with function_span("get_weather"):
                pass

    else:

        def call() -> None:
            with trace("bench"), agent_span("triage"):
                pass

    return call, exporter


def child_main(spec: dict[str, Any]) -> dict[str, Any]:
    workload, mode = spec["workload"], spec["mode"]
    call, exporter = _build(workload, mode)
    exporter.names = []
    call()
    names, exporter.names = sorted(exporter.names), None
    expected = [] if mode == "sdk" else EXPECTED[workload]
    if names != expected:
        raise RuntimeError(f"check {workload}/{mode}: spans {names}, expected {expected}")
    for _ in range(spec["warmup"]):
        call()
    _settle()
    result: dict[str, Any] = {"workload": workload, "mode": mode, "spans": names}
    if spec["measure"] == "callgrind":
        if spec.get("toggle"):
            # Started with --instr-atstart=no (importing the SDK under full callgrind takes minutes):
            # the parent switches instrumentation on now.
            print(_READY, flush=True)
            sys.stdin.readline()
        modules = set(sys.modules)
        for _ in range(spec["calls"]):
            call()
        result["late_imports"] = sorted(set(sys.modules) - modules)
        return result
    per_call: list[float] = []
    for _ in range(spec["repeats"]):
        t0 = time.process_time()
        for _ in range(spec["calls"]):
            call()
        per_call.append((time.process_time() - t0) / spec["calls"] * 1e6)
    result["cpu_us"] = per_call
    return result


# --- parent --------------------------------------------------------------------------------------
def _instructions(workload: str, plan: Plan, out_dir: Path, log: Callable[[str], None]) -> dict[str, float]:
    out: dict[str, float] = {}
    for mode in MODES:
        ir = {
            n: _callgrind_run(workload, mode, plan.warmup, n, out_dir, _SELF, toggle=True)
            for n in (plan.n2, plan.n1)
        }
        out[mode] = (ir[plan.n2] - ir[plan.n1]) / (plan.n2 - plan.n1)
        log(f"  callgrind {workload:<5} {mode:<10} {out[mode]:,.0f} instructions per call")
    return out


def _cpu(workload: str, plan: Plan, log: Callable[[str], None]) -> dict[str, float]:
    out: dict[str, float] = {}
    for mode in MODES:
        spec = {"measure": "cpu", "workload": workload, "mode": mode, "warmup": plan.warmup,
                "calls": plan.cpu_calls, "repeats": plan.cpu_repeats}  # fmt: skip
        out[mode] = statistics.median(_run_child(spec, script=_SELF)["cpu_us"])
        log(f"  cpu {workload:<5} {mode:<10} {out[mode]:.2f} µs per call")
    return out


def _table(workload: str, v: dict[str, float], unit: str, spec: str) -> str:
    over = {m: v[m] - v["sdk"] for m in MODES}
    ratio = over["agentotel"] / over["hand"] if over["hand"] > 0 else None
    verdict = "n/a" if ratio is None else ("ok" if ratio <= TARGET else "MISSED")
    what = "per tool call" if workload == "tool" else "per agent run (trace + agent span)"
    lines = [f"{workload}: {unit} {what}", f"{'mode':<10} {'per call':>12} {'- sdk':>12}", "-" * 36]
    lines += [f"{m:<10} {v[m]:>12{spec}} {over[m]:>+12{spec}}" for m in MODES]
    shown = "n/a" if ratio is None else f"{ratio:.2f}"
    lines.append(f"ratio (agentotel - sdk) / (hand - sdk) = {shown}  target <= {TARGET}: {verdict}")
    return "\n".join(lines)


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description="OpenAI Agents SDK bridge vs. a hand-written processor.")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="few iterations: a rough look")
    size.add_argument("--smoke", action="store_true", help="does every mode run (measures nothing)")
    parser.add_argument(
        "--workload", action="append", choices=WORKLOADS, help="only this workload (repeatable)"
    )
    parser.add_argument("--no-callgrind", action="store_true", help="CPU time instead of instructions")
    parser.add_argument("--callgrind-dir", type=Path, help="keep the callgrind.out files in DIR")
    args = parser.parse_args(argv)
    if not args.no_callgrind and shutil.which("valgrind") is None:
        print("valgrind not found: apt-get install -y valgrind, or pass --no-callgrind", file=sys.stderr)
        return 2
    plan = PLANS["smoke" if args.smoke else "quick" if args.quick else "full"]
    started = time.perf_counter()

    def log(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f}s] {message}", file=sys.stderr, flush=True)

    tables = []
    for workload in args.workload or WORKLOADS:
        if args.no_callgrind:
            tables.append(_table(workload, _cpu(workload, plan, log), "CPU µs", ",.2f"))
        else:
            with _out_dir(args.callgrind_dir) as out_dir:
                tables.append(
                    _table(workload, _instructions(workload, plan, out_dir, log), "instructions", ",.0f")
                )
    print("\n\n".join(tables))
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == _CHILD_FLAG:
        import json

        print(_RESULT_PREFIX + json.dumps(child_main(json.loads(sys.argv[2]))), flush=True)
        sys.exit(0)
    sys.exit(main(sys.argv[1:]))
