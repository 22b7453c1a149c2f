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

    python benchmarks/pydantic_ai_bridge.py [--quick | --smoke] [--no-callgrind] [--jobs 1]

The children, callgrind, the plans' use and the tables are the harness's (``_bridge.py``).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Named pydantic_ai_bridge.py, not pydantic_ai.py: this folder is first on sys.path, and a
# pydantic_ai.py here would shadow the package.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bridge import Bridge, Floor, Plan, Telemetry, run, run_and_tool_tables
from pydantic_ai import RunContext  # module level: the tool's annotations are resolved here

EXPECTED = {
    "run": ["invoke_agent weather"],
    "tool": ["execute_tool get_weather", "invoke_agent weather"],
}
CONVERSATION = "conv-bench"
PLANS = {
    "full": Plan(warmup=30, n1=10, n2=110, cpu_calls=500, cpu_repeats=7),
    "quick": Plan(warmup=5, n1=2, n2=12, cpu_calls=100, cpu_repeats=3),
    "smoke": Plan(warmup=2, n1=1, n2=3, cpu_calls=5, cpu_repeats=1),
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


def _build(workload: str, mode: str, telemetry: Telemetry) -> Callable[[], None]:
    import asyncio

    from pydantic_ai import Agent
    from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart, ToolReturnPart
    from pydantic_ai.models.function import AgentInfo, FunctionModel

    hand = _Hand(telemetry.floor()) if mode == "hand" else None
    if mode == "agentotel":
        from agentotel.instrumentation.pydantic_ai import PydanticAIInstrumentor

        PydanticAIInstrumentor().instrument(
            tracer_provider=telemetry.tracer_provider, meter_provider=telemetry.meter_provider
        )

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

    return call


BRIDGE = Bridge(
    description="Pydantic AI bridge vs. hand-written spans.",
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
