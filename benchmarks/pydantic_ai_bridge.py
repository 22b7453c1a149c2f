"""Cost of the Pydantic AI bridge per agent run and per tool call, against hand-written spans that
make the same spans and metric records.

Every mode runs the same real Pydantic AI agent on a ``FunctionModel`` (no HTTP, no SDK: the
provider instrumentors are not in the measure) in one event loop:

* ``none``       no instrumentation (the baseline);
* ``hand``       the floor, written inline in the app: around ``agent.run`` an ``invoke_agent``
                 span (operation, agent name, conversation id) made current, with the agent layer's
                 records (``agentotel.workflow.active`` +1/-1, ``agentotel.workflow.duration``);
                 inside the tool an ``execute_tool`` span (operation, tool name and type, call id,
                 description, conversation id) with ``agentotel.tool.duration``;
* ``agentotel``  ``PydanticAIInstrumentor`` (the app's code is the ``none`` one).

Workloads: ``run``: a run whose model answers at once; ``tool``: a run whose model calls one tool,
then answers. Per agent run: ``run``'s figures. Per tool call: ``tool`` minus ``run`` in each mode.

Target: ``(agentotel - none) / (hand - none) <= 1.3`` in callgrind instructions per call,
``(Ir(N2) - Ir(N1)) / (N2 - N1)`` (as ``overhead.py``). ``--no-callgrind``: CPU time instead.
Each (workload, mode) runs in a fresh subprocess, which first checks its spans.

    python benchmarks/pydantic_ai_bridge.py [--quick | --smoke] [--no-callgrind]
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

# Named pydantic_ai_bridge.py, not pydantic_ai.py: this folder is first on sys.path, and a
# pydantic_ai.py here would shadow the package.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from overhead import _CHILD_FLAG, _RESULT_PREFIX, _callgrind_run, _DropExporter, _out_dir, _run_child, _settle
from pydantic_ai import RunContext  # module level: the tool's annotations are resolved here

MODES = ("none", "hand", "agentotel")
WORKLOADS = ("run", "tool")
TARGET = 1.3
EXPECTED = {
    "run": ["invoke_agent weather"],
    "tool": ["execute_tool get_weather", "invoke_agent weather"],
}
CONVERSATION = "conv-bench"
_SELF = Path(__file__).resolve()


@dataclass(frozen=True)
class Plan:
    warmup: int
    n1: int
    n2: int
    cpu_calls: int
    cpu_repeats: int


PLANS = {
    "full": Plan(warmup=30, n1=10, n2=110, cpu_calls=500, cpu_repeats=7),
    "quick": Plan(warmup=5, n1=2, n2=12, cpu_calls=100, cpu_repeats=3),
    "smoke": Plan(warmup=2, n1=1, n2=3, cpu_calls=5, cpu_repeats=1),
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


class _Hand:
    """The floor's spans and metric records, written inline."""

    def __init__(self, tracer_provider: Any, meter_provider: Any) -> None:
        from agentotel import semconv

        self.semconv = semconv
        self.tracer = tracer_provider.get_tracer("hand")
        meter = meter_provider.get_meter("hand")
        buckets = semconv.AGENT_DURATION_BUCKETS
        self.tool_duration = meter.create_histogram(
            semconv.TOOL_DURATION, unit="s", description="Duration of tool executions.",
            explicit_bucket_boundaries_advisory=buckets,
        )  # fmt: skip
        self.run_duration = meter.create_histogram(
            semconv.WORKFLOW_DURATION,
            unit="s",
            description="Duration of workflow runs, plans and agent rounds.",
            explicit_bucket_boundaries_advisory=buckets,
        )
        self.active = meter.create_up_down_counter(
            semconv.WORKFLOW_ACTIVE,
            unit="{run}",
            description="Workflow runs, plans and agent rounds in progress.",
        )

    async def run(self, agent: Any, prompt: str) -> Any:
        sc = self.semconv
        metric = {sc.GEN_AI_OPERATION_NAME: sc.OP_INVOKE_AGENT, sc.GEN_AI_AGENT_NAME: "weather"}
        attrs = {**metric, sc.GEN_AI_CONVERSATION_ID: CONVERSATION}
        self.active.add(1, metric)
        started = time.perf_counter()
        with self.tracer.start_as_current_span("invoke_agent weather", attributes=attrs):
            result = await agent.run(prompt, conversation_id=CONVERSATION)
        self.active.add(-1, metric)
        self.run_duration.record(time.perf_counter() - started, metric)
        return result

    def tool(self, call_id: str) -> Any:
        sc = self.semconv
        attrs = {
            sc.GEN_AI_OPERATION_NAME: sc.OP_EXECUTE_TOOL,
            sc.GEN_AI_TOOL_NAME: "get_weather",
            sc.GEN_AI_TOOL_TYPE: sc.TOOL_TYPE_FUNCTION,
            sc.GEN_AI_TOOL_CALL_ID: call_id,
            sc.GEN_AI_TOOL_DESCRIPTION: "Weather for a city.",
            sc.GEN_AI_CONVERSATION_ID: CONVERSATION,
        }
        metric = {sc.GEN_AI_TOOL_NAME: "get_weather", sc.GEN_AI_TOOL_TYPE: sc.TOOL_TYPE_FUNCTION}
        return _ToolSpan(self, attrs, metric)


class _ToolSpan:
    def __init__(self, hand: _Hand, attrs: dict[str, Any], metric: dict[str, Any]) -> None:
        self.hand, self.attrs, self.metric = hand, attrs, metric

    def __enter__(self) -> None:
        self.started = time.perf_counter()
        self.cm = self.hand.tracer.start_as_current_span("execute_tool get_weather", attributes=self.attrs)
        self.cm.__enter__()

    def __exit__(self, *exc: Any) -> None:
        self.cm.__exit__(*exc)
        self.hand.tool_duration.record(time.perf_counter() - self.started, self.metric)


def _build(workload: str, mode: str) -> tuple[Callable[[], None], _Exporter]:
    import asyncio

    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from pydantic_ai import Agent
    from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart, ToolReturnPart
    from pydantic_ai.models.function import AgentInfo, FunctionModel

    exporter = _Exporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))  # type: ignore[arg-type]
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    hand = _Hand(tracer_provider, meter_provider) if mode == "hand" else None
    if mode == "agentotel":
        from agentotel.instrumentation.pydantic_ai import PydanticAIInstrumentor

        PydanticAIInstrumentor().instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)

    def reply(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        answered = any(isinstance(p, ToolReturnPart) for p in messages[-1].parts)
        if workload == "tool" and not answered:
            return ModelResponse(
                parts=[ToolCallPart("get_weather", {"city": "Paris"}, tool_call_id="call-1")]
            )
        return ModelResponse(parts=[TextPart("Sunny.")])

    agent: Agent[None, str] = Agent(FunctionModel(reply), name="weather")

    @agent.tool
    def get_weather(ctx: RunContext[None], city: str) -> str:
        """Weather for a city."""
        if hand is None:
            return f"Sunny in {city}"
        with hand.tool(ctx.tool_call_id or ""):
            return f"Sunny in {city}"

    loop = asyncio.new_event_loop()
    if hand is not None:

        def call() -> None:
            loop.run_until_complete(hand.run(agent, "Weather in Paris?"))

    else:

        def call() -> None:
            loop.run_until_complete(agent.run("Weather in Paris?", conversation_id=CONVERSATION))

    return call, exporter


def child_main(spec: dict[str, Any]) -> dict[str, Any]:
    workload, mode = spec["workload"], spec["mode"]
    call, exporter = _build(workload, mode)
    exporter.names = []
    call()
    names, exporter.names = sorted(exporter.names), None
    expected = [] if mode == "none" else EXPECTED[workload]
    if names != expected:
        raise RuntimeError(f"check {workload}/{mode}: spans {names}, expected {expected}")
    for _ in range(spec["warmup"]):
        call()
    _settle()
    result: dict[str, Any] = {"workload": workload, "mode": mode, "spans": names}
    if spec["measure"] == "callgrind":
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
        ir = {n: _callgrind_run(workload, mode, plan.warmup, n, out_dir, _SELF) for n in (plan.n2, plan.n1)}
        out[mode] = (ir[plan.n2] - ir[plan.n1]) / (plan.n2 - plan.n1)
        log(f"  callgrind {workload:<4} {mode:<10} {out[mode]:,.0f} instructions per run")
    return out


def _cpu(workload: str, plan: Plan, log: Callable[[str], None]) -> dict[str, float]:
    out: dict[str, float] = {}
    for mode in MODES:
        spec = {"measure": "cpu", "workload": workload, "mode": mode, "warmup": plan.warmup,
                "calls": plan.cpu_calls, "repeats": plan.cpu_repeats}  # fmt: skip
        out[mode] = statistics.median(_run_child(spec, script=_SELF)["cpu_us"])
        log(f"  cpu {workload:<4} {mode:<10} {out[mode]:.2f} µs per run")
    return out


def _table(what: str, v: dict[str, float], unit: str, spec: str) -> str:
    over = {m: v[m] - v["none"] for m in MODES}
    ratio = over["agentotel"] / over["hand"] if over["hand"] > 0 else None
    verdict = "n/a" if ratio is None else ("ok" if ratio <= TARGET else "MISSED")
    lines = [f"{unit} {what}", f"{'mode':<10} {'value':>14} {'- none':>12}", "-" * 38]
    lines += [f"{m:<10} {v[m]:>14{spec}} {over[m]:>+12{spec}}" for m in MODES]
    shown = "n/a" if ratio is None else f"{ratio:.2f}"
    lines.append(f"ratio (agentotel - none) / (hand - none) = {shown}  target <= {TARGET}: {verdict}")
    return "\n".join(lines)


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description="Pydantic AI bridge vs. hand-written spans.")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="few iterations: a rough look")
    size.add_argument("--smoke", action="store_true", help="does every mode run (measures nothing)")
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

    if args.no_callgrind:
        unit, spec = "CPU µs", ",.2f"
        per = {w: _cpu(w, plan, log) for w in WORKLOADS}
    else:
        unit, spec = "instructions", ",.0f"
        with _out_dir(args.callgrind_dir) as out_dir:
            per = {w: _instructions(w, plan, out_dir, log) for w in WORKLOADS}
    tool = {m: per["tool"][m] - per["run"][m] for m in MODES}
    print(_table("per agent run (a run whose model answers at once)", per["run"], unit, spec))
    print()
    print(_table("per tool call (the tool run minus the plain run)", tool, unit, spec))
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == _CHILD_FLAG:
        import json

        print(_RESULT_PREFIX + json.dumps(child_main(json.loads(sys.argv[2]))), flush=True)
        sys.exit(0)
    sys.exit(main(sys.argv[1:]))
