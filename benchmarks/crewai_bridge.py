"""Cost of the CrewAI bridge per agent run and per tool call, against hand-written spans that make
the same spans and metric records.

Every mode runs the same real CrewAI ``Agent.kickoff`` (CrewAI's own executor, native tool
calling) on a function LLM (a ``BaseLLM`` subclass answering from a script: no HTTP, no SDK, so
the provider instrumentors are not in the measure), with CrewAI's telemetry and tracing off:

* ``none``       no instrumentation (the baseline);
* ``hand``       the floor, written inline in the app: around ``agent.kickoff`` an
                 ``invoke_agent`` span (operation, agent name = role, agent id) made current, with
                 the agent layer's records (``agentotel.workflow.active`` +1/-1,
                 ``agentotel.workflow.duration``); inside the tool an ``execute_tool`` span
                 (operation, tool name and type, description) with ``agentotel.tool.duration``;
* ``agentotel``  ``CrewAIInstrumentor`` (the app's code is the ``none`` one): its wrappers of
                 ``Agent.kickoff`` and ``Tool.run``, and of every other patched method the run
                 goes through.

Workloads: ``run``: a run whose model answers at once; ``tool``: a run whose model calls one tool,
then answers. Per agent run: ``run``'s figures. Per tool call: ``tool`` minus ``run`` in each mode.
(No tool call id on either side: with no provider instrumentor no LLM response lists one.)

Target: ``(agentotel - none) / (hand - none) <= 1.3`` in callgrind instructions per call,
``(Ir(N2) - Ir(N1)) / (N2 - N1)`` (as ``overhead.py``). ``--no-callgrind``: CPU time instead.
Each (workload, mode) runs in a fresh subprocess, which first checks its spans.

    python benchmarks/crewai_bridge.py [--quick | --smoke] [--no-callgrind] [--jobs 1]

Needs ``crewai`` (``agentotel[crewai]``; not in ``.venv``: run it with the ``crewai`` nox row's
virtualenv, ``.nox/majors-crewai/bin/python``). The children, callgrind, the plans' use and the
tables are the harness's (``_bridge.py``).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

# Named crewai_bridge.py, not crewai.py: this folder is first on sys.path, and a crewai.py here
# would shadow the package.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bridge import Bridge, Floor, Plan, Telemetry, run, run_and_tool_tables

ROLE = "forecaster"
TOOL_DESCRIPTION = "Weather for a city."
EXPECTED = {
    "run": [f"invoke_agent {ROLE}"],
    "tool": ["execute_tool get_weather", f"invoke_agent {ROLE}"],
}
PLANS = {
    "full": Plan(warmup=20, n1=5, n2=55, cpu_calls=100, cpu_repeats=5),
    "quick": Plan(warmup=5, n1=2, n2=12, cpu_calls=30, cpu_repeats=3),
    "smoke": Plan(warmup=1, n1=1, n2=3, cpu_calls=3, cpu_repeats=1),
}


class _Hand:
    """The floor's spans and metric records, written inline."""

    def __init__(self, floor: Floor) -> None:
        from agentotel import semconv

        self.semconv = semconv
        self.tracer = floor.tracer
        self.tool_duration = floor.tool_duration
        self.run_duration = floor.run_duration
        self.active = floor.active

    def run(self, agent: Any, prompt: str) -> Any:
        sc = self.semconv
        metric = {sc.GEN_AI_OPERATION_NAME: sc.OP_INVOKE_AGENT, sc.GEN_AI_AGENT_NAME: ROLE}
        attrs = {**metric, sc.GEN_AI_AGENT_ID: str(agent.id)}
        self.active.add(1, metric)
        started = time.perf_counter()
        with self.tracer.start_as_current_span(f"invoke_agent {ROLE}", attributes=attrs):
            result = agent.kickoff(prompt)
        self.active.add(-1, metric)
        self.run_duration.record(time.perf_counter() - started, metric)
        return result

    def tool(self, city: str) -> str:
        sc = self.semconv
        attrs = {
            sc.GEN_AI_OPERATION_NAME: sc.OP_EXECUTE_TOOL,
            sc.GEN_AI_TOOL_NAME: "get_weather",
            sc.GEN_AI_TOOL_TYPE: sc.TOOL_TYPE_FUNCTION,
            sc.GEN_AI_TOOL_DESCRIPTION: TOOL_DESCRIPTION,
        }
        metric = {sc.GEN_AI_TOOL_NAME: "get_weather", sc.GEN_AI_TOOL_TYPE: sc.TOOL_TYPE_FUNCTION}
        started = time.perf_counter()
        with self.tracer.start_as_current_span("execute_tool get_weather", attributes=attrs):
            result = f"Sunny in {city}"
        self.tool_duration.record(time.perf_counter() - started, metric)
        return result


def _function_llm(workload: str) -> Any:
    """A CrewAI LLM that answers from a script: a tool call first in ``tool``, then the answer."""
    from crewai.llms.base_llm import BaseLLM

    call = SimpleNamespace(
        id="call-1", function=SimpleNamespace(name="get_weather", arguments='{"city": "Paris"}')
    )

    class FunctionLLM(BaseLLM):  # type: ignore[misc]
        def call(self, messages: Any, tools: Any = None, *args: Any, **kwargs: Any) -> Any:
            answered = any(isinstance(m, dict) and m.get("role") == "tool" for m in messages)
            if workload == "tool" and tools and not answered:
                return [call]
            return "Sunny."

        def supports_function_calling(self) -> bool:
            return True

        def supports_stop_words(self) -> bool:
            return False

        def get_context_window_size(self) -> int:
            return 8192

    return FunctionLLM(model="function-llm")


def _build(workload: str, mode: str, telemetry: Telemetry) -> Callable[[], None]:
    os.environ["CREWAI_DISABLE_TELEMETRY"] = "true"
    os.environ["CREWAI_TRACING_ENABLED"] = "false"
    os.environ.setdefault("CREWAI_STORAGE_DIR", str(Path(__file__).resolve().parent / "out" / "crewai"))
    from crewai import Agent
    from crewai.tools import tool

    hand = _Hand(telemetry.floor()) if mode == "hand" else None
    if mode == "agentotel":
        from agentotel.instrumentation.crewai import CrewAIInstrumentor

        CrewAIInstrumentor().instrument(
            tracer_provider=telemetry.tracer_provider, meter_provider=telemetry.meter_provider
        )

    @tool("get_weather")
    def get_weather(city: str) -> str:
        """Weather for a city."""
        if hand is None:
            return f"Sunny in {city}"
        return hand.tool(city)

    agent = Agent(
        role=ROLE,
        goal="Tell the weather",
        backstory="A meteorologist.",
        llm=_function_llm(workload),
        tools=[get_weather],
        verbose=False,
    )
    prompt = "Weather in Paris?"
    # CrewAI's event handlers run on its thread pool: each call waits for them (in every mode), so
    # none is left running (or printing) after the child's last call.
    from crewai.events.event_bus import crewai_event_bus

    if hand is not None:

        def call() -> None:
            hand.run(agent, prompt)
            crewai_event_bus.flush()

    else:

        def call() -> None:
            agent.kickoff(prompt)
            crewai_event_bus.flush()

    return call


BRIDGE = Bridge(
    description="CrewAI bridge vs. hand-written spans.",
    script=Path(__file__).resolve(),
    modes=("none", "hand", "agentotel"),
    workloads=("run", "tool"),
    expected=EXPECTED,
    plans=PLANS,
    build=_build,
    tables=run_and_tool_tables,
    noun="run",
    column="value",
    width=14,
)

if __name__ == "__main__":
    sys.exit(run(BRIDGE, sys.argv[1:]))
