"""Cost of the LlamaIndex bridge per agent run and per tool call, against hand-written spans that
make the same spans and metric records.

Every mode runs the same real LlamaIndex ``FunctionAgent`` on LlamaIndex's own
``MockFunctionCallingLLM`` (no HTTP, no SDK: the provider instrumentors are not in the measure) in
one event loop:

* ``none``       no instrumentation (the baseline);
* ``hand``       the floor, written inline in the app: around ``agent.run`` an ``invoke_agent``
                 span (operation, agent name, description) made current, with the agent layer's
                 records (``agentotel.workflow.active`` +1/-1, ``agentotel.workflow.duration``);
                 inside the tool an ``execute_tool`` span (operation, tool name and type, call id,
                 description) with ``agentotel.tool.duration``;
* ``agentotel``  ``LlamaIndexInstrumentor`` (the app's code is the ``none`` one): its span handler
                 hears every dispatcher span of the run (workflow steps, LLM calls, tool calls).

Workloads: ``run``: a run whose model answers at once; ``tool``: a run whose model calls one tool,
then answers. Per agent run: ``run``'s figures. Per tool call: ``tool`` minus ``run`` in each mode.

Target: ``(agentotel - none) / (hand - none) <= 1.3`` in callgrind instructions per call,
``(Ir(N2) - Ir(N1)) / (N2 - N1)`` (as ``overhead.py``). ``--no-callgrind``: CPU time instead.
Each (workload, mode) runs in a fresh subprocess, which first checks its spans.

What kept the figure from repeating (three quick runs gave 1.59, 1.22 and 1.66 per tool call):
the garbage collector (a LlamaIndex run leaves cycles: about one collection per run, and a
generation-1 collection every ten or so, falling between N1 and N2 or not), and the sync tool's
worker thread. Each measured call now ends with a full collection, the collector off in between
(``Bridge.collect``), the tool is async, and ``--seeds`` measures under several hash seeds.
What still moved the tool-call figure by up to 2x between seeds: LlamaIndex's memory, whose async
methods run its sync ones in a worker thread (``asyncio.to_thread``, four times per plain run,
five per tool run), so the event loop's iterations per run depend on when the thread finishes
(LlamaIndex's own tool call moved by up to 2,700 bytecodes from one run to the next, as much as
the floor's whole tool span). Every mode now runs with a fresh ``ChatMemoryBuffer`` per run whose
async methods call the sync ones in the loop's thread (``_inline_memory_class``): no thread, the
same dispatcher spans for the bridge to hear.

``--interleaved`` (the method of the figures from this round on): every mode of a seed in one child,
the modes' calls in turn and each counted alone, the bridge's handler put on the dispatchers for
the ``agentotel`` calls only (``_switch``): in a child per mode, the process's own layout (CPython's
type attribute cache) moved LlamaIndex's instructions by more than the bridge costs, and the
floor's own per-tool-call figure from +271,737 to +568,292 instructions over seven seeds.

    python benchmarks/llama_index_bridge.py [--quick | --smoke] [--no-callgrind] [--interleaved]
                                            [--jobs 1] [--seeds 0,1,2]

Needs ``llama-index-core`` (>= 0.14.25 for ``MockFunctionCallingLLM``'s ``response_generator``).
The children, callgrind, the plans' use and the tables are the harness's (``_bridge.py``).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Named llama_index_bridge.py, not llama_index.py: this folder is first on sys.path, and a
# llama_index.py here would shadow the package.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bridge import Bridge, Floor, Plan, Telemetry, run, run_and_tool_tables

AGENT_DESCRIPTION = "Answers weather questions."
# The description LlamaIndex gives a FunctionTool made from ``get_weather`` (its signature, with
# this module's string annotations, then its docstring): what the bridge records.
TOOL_DESCRIPTION = "get_weather(city: 'str') -> 'str'\nWeather for a city."
EXPECTED = {
    "run": ["invoke_agent weather"],
    "tool": ["execute_tool get_weather", "invoke_agent weather"],
}
PLANS = {
    "full": Plan(warmup=30, n1=10, n2=110, cpu_calls=300, cpu_repeats=7),
    "quick": Plan(warmup=5, n1=2, n2=12, cpu_calls=60, cpu_repeats=3),
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

    async def run(self, agent: Any, prompt: str, memory: Any) -> Any:
        sc = self.semconv
        metric = {sc.GEN_AI_OPERATION_NAME: sc.OP_INVOKE_AGENT, sc.GEN_AI_AGENT_NAME: "weather"}
        attrs = {**metric, sc.GEN_AI_AGENT_DESCRIPTION: AGENT_DESCRIPTION}
        self.active.add(1, metric)
        started = time.perf_counter()
        with self.tracer.start_as_current_span("invoke_agent weather", attributes=attrs):
            result = await agent.run(user_msg=prompt, memory=memory)
        self.active.add(-1, metric)
        self.run_duration.record(time.perf_counter() - started, metric)
        return result

    def tool(self, city: str) -> str:
        sc = self.semconv
        attrs = {
            sc.GEN_AI_OPERATION_NAME: sc.OP_EXECUTE_TOOL,
            sc.GEN_AI_TOOL_NAME: "get_weather",
            sc.GEN_AI_TOOL_TYPE: sc.TOOL_TYPE_FUNCTION,
            sc.GEN_AI_TOOL_CALL_ID: "call-1",
            sc.GEN_AI_TOOL_DESCRIPTION: TOOL_DESCRIPTION,
        }
        metric = {sc.GEN_AI_TOOL_NAME: "get_weather", sc.GEN_AI_TOOL_TYPE: sc.TOOL_TYPE_FUNCTION}
        started = time.perf_counter()
        with self.tracer.start_as_current_span("execute_tool get_weather", attributes=attrs):
            result = f"Sunny in {city}"
        self.tool_duration.record(time.perf_counter() - started, metric)
        return result


def _inline_memory_class() -> Any:
    """LlamaIndex's default memory (``ChatMemoryBuffer``), its async methods running the sync ones
    in the event loop's thread. LlamaIndex's own run them in a worker thread
    (``asyncio.to_thread``: four per plain run, five per tool run), so the event loop's iterations
    per run, and LlamaIndex's instructions, depend on when the thread finishes: they moved
    LlamaIndex's own tool call by up to 2,700 bytecodes from one run to the next, as much as the
    whole floor. The bridge hears the same dispatcher spans either way."""
    from llama_index.core.memory import ChatMemoryBuffer

    class InlineMemory(ChatMemoryBuffer):  # type: ignore[misc]
        async def aget(self, input: Any = None, **kwargs: Any) -> Any:
            return self.get(input=input, **kwargs)

        async def aget_all(self) -> Any:
            return self.get_all()

        async def aput(self, message: Any) -> None:
            self.put(message)

        async def aput_messages(self, messages: Any) -> None:
            self.put_messages(messages)

        async def aset(self, messages: Any) -> None:
            self.set(messages)

        async def areset(self) -> None:
            self.reset()

    return InlineMemory


def _build(workload: str, mode: str, telemetry: Telemetry) -> Callable[[], None]:
    import asyncio

    from llama_index.core.agent.workflow import FunctionAgent
    from llama_index.core.base.llms.types import ChatMessage, MessageRole, ToolCallBlock
    from llama_index.core.llms.mock import MockFunctionCallingLLM
    from llama_index.core.tools import FunctionTool

    hand = _Hand(telemetry.floor()) if mode == "hand" else None
    if mode == "agentotel":
        from agentotel.instrumentation.llama_index import LlamaIndexInstrumentor

        LlamaIndexInstrumentor().instrument(
            tracer_provider=telemetry.tracer_provider, meter_provider=telemetry.meter_provider
        )

    def reply(messages: Any, **kwargs: Any) -> Any:
        answered = any(m.role == MessageRole.TOOL for m in messages)
        if workload == "tool" and not answered:
            call = ToolCallBlock(
                tool_call_id="call-1", tool_name="get_weather", tool_kwargs={"city": "Paris"}
            )
            return ChatMessage(role=MessageRole.ASSISTANT, blocks=[call])
        return ChatMessage(role=MessageRole.ASSISTANT, content="Sunny.")

    # Async: LlamaIndex runs a sync tool in a worker thread, and the event loop's iterations per
    # run (so its instructions) then depend on the thread's timing (68 or 70 per tool run).
    async def get_weather(city: str) -> str:
        """Weather for a city."""
        if hand is None:
            return f"Sunny in {city}"
        return hand.tool(city)

    llm = MockFunctionCallingLLM(response_generator=reply)
    agent = FunctionAgent(
        name="weather",
        description=AGENT_DESCRIPTION,
        tools=[FunctionTool.from_defaults(get_weather)],
        llm=llm,
        streaming=False,
    )

    memory_class = _inline_memory_class()

    async def plain() -> Any:
        # A workflow runs in a running loop; a fresh memory per run, as LlamaIndex's default.
        return await agent.run(user_msg="Weather in Paris?", memory=memory_class.from_defaults(llm=llm))

    loop = asyncio.new_event_loop()
    if hand is not None:

        def call() -> None:
            loop.run_until_complete(hand.run(agent, "Weather in Paris?", memory_class.from_defaults(llm=llm)))

    else:

        def call() -> None:
            loop.run_until_complete(plain())

    return call


def _switch(on: bool, telemetry: Telemetry) -> None:
    """The bridge's span handler on the workflow dispatchers (``on``) or off them: the
    ``--interleaved`` measure's baseline and hand calls run without it, in the same process."""
    from llama_index.core.instrumentation import get_dispatcher

    from agentotel.instrumentation.llama_index import WORKFLOW_DISPATCHERS, LlamaIndexInstrumentor

    handler = LlamaIndexInstrumentor().handler  # the instrumentor is a singleton
    for name in WORKFLOW_DISPATCHERS:
        dispatcher = get_dispatcher(name)
        present = any(h is handler for h in dispatcher.span_handlers)
        if on and not present:
            dispatcher.add_span_handler(handler)
        elif not on and present:
            dispatcher.span_handlers = [h for h in dispatcher.span_handlers if h is not handler]


BRIDGE = Bridge(
    description="LlamaIndex bridge vs. hand-written spans.",
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
    collect=True,
    switch=_switch,
)

if __name__ == "__main__":
    sys.exit(run(BRIDGE, sys.argv[1:]))
