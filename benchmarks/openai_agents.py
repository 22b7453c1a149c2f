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

The children, callgrind, the plans' use and the tables are the harness's (``_bridge.py``).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bridge import Bridge, Plan, Telemetry, run

EXPECTED = {
    "tool": ["execute_tool get_weather"],
    "run": ["invoke_agent triage", "invoke_workflow bench"],
}
PLANS = {
    "full": Plan(warmup=200, n1=100, n2=1100, cpu_calls=5000, cpu_repeats=7),
    "quick": Plan(warmup=20, n1=10, n2=110, cpu_calls=500, cpu_repeats=3),
    "smoke": Plan(warmup=2, n1=1, n2=3, cpu_calls=20, cpu_repeats=1),
}


def _hand_processor(telemetry: Telemetry) -> Any:
    """The floor: the bridge's spans and metric records, written inline."""
    from agents.tracing import TracingProcessor
    from opentelemetry import context, trace

    from agentotel import semconv

    floor = telemetry.floor()
    tracer, tool_duration, run_duration, active = (
        floor.tracer, floor.tool_duration, floor.run_duration, floor.active
    )  # fmt: skip
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


def _build(workload: str, mode: str, telemetry: Telemetry) -> Callable[[], None]:
    import agents
    from agents.tracing import agent_span, function_span, trace

    processors: list[Any] = []
    if mode == "hand":
        processors = [_hand_processor(telemetry)]
    elif mode == "agentotel":
        from agentotel.instrumentation.openai_agents import OpenAIAgentsInstrumentor

        instrumentor = OpenAIAgentsInstrumentor()
        instrumentor.instrument(
            tracer_provider=telemetry.tracer_provider, meter_provider=telemetry.meter_provider
        )
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

    return call


_WHAT = {"tool": "per tool call", "run": "per agent run (trace + agent span)"}


def _tables(per: Mapping[str, Mapping[str, float]]) -> list[tuple[str, Mapping[str, float]]]:
    return [(f"{workload}: {{unit}} {_WHAT[workload]}", v) for workload, v in per.items()]


BRIDGE = Bridge(
    description="OpenAI Agents SDK bridge vs. a hand-written processor.",
    script=Path(__file__).resolve(),
    modes=("sdk", "hand", "agentotel"),
    workloads=("tool", "run"),
    expected=EXPECTED,
    plans=PLANS,
    build=_build,
    tables=_tables,
    workload_option=True,
)

if __name__ == "__main__":
    sys.exit(run(BRIDGE, sys.argv[1:]))
