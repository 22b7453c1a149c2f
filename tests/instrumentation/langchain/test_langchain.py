"""The LangChain / LangGraph instrumentor against real ``langchain-core`` tools and real
``langgraph`` graphs. The chat model is a small ``BaseChatModel`` that calls the real ``openai``
SDK against the fake LLM server, with our OpenAI instrumentor on: LLM spans come from it alone.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import json
import logging
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Annotated, Any, TypedDict

import pytest
from helpers import GPT, QUESTION, REPLY, TELEMETRY_ERRORS, attrs_of, expected_cost, only_span
from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    ToolMessage,
    convert_to_openai_messages,
)
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import RunnableLambda
from langchain_core.tools import BaseTool, InjectedToolArg, StructuredTool, ToolException, tool
from langchain_core.utils.function_calling import convert_to_openai_tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode
from langgraph.pregel import Pregel, _runner
from langgraph.types import interrupt
from opentelemetry import trace
from opentelemetry.instrumentation import dependencies
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode

from agentotel.instrumentation.langchain import LangChainInstrumentor, extract
from agentotel.testing._capture import TelemetryCapture

TOOL_DURATION = "agentotel.tool.duration"
WORKFLOW_DURATION = "agentotel.workflow.duration"
STEP_DURATION = "agentotel.step.duration"

pytestmark = pytest.mark.usefixtures("fresh_fake_llm")


# --- fixtures ----------------------------------------------------------------------------------
@pytest.fixture
def lc(cap: TelemetryCapture) -> Iterator[TelemetryCapture]:
    """The LangChain instrumentor active on ``cap`` (the holder of ``cap``'s providers, shared with
    the OpenAI instrumentor of :func:`llm`)."""
    instrumentor = LangChainInstrumentor()
    instrumentor.instrument(**cap.providers)
    yield cap
    instrumentor.uninstrument()


@pytest.fixture
def llm(lc: TelemetryCapture, openai_instrumented: TelemetryCapture) -> TelemetryCapture:
    """LangChain and OpenAI instrumentors both active on ``cap``."""
    return lc


@pytest.fixture
def chat(openai_client: Any, async_openai_client: Any) -> FakeServerChat:
    return FakeServerChat(client=openai_client, async_client=async_openai_client)


# --- a chat model on the fake server, tools, graphs -------------------------------------------------
class FakeServerChat(BaseChatModel):
    """A LangChain chat model calling ``chat.completions.create`` of the real ``openai`` SDK."""

    client: Any
    async_client: Any
    model: str = GPT

    @property
    def _llm_type(self) -> str:
        return "agentotel-test-openai"

    def bind_tools(self, tools: Any, **kwargs: Any) -> Any:
        return self.bind(tools=[convert_to_openai_tool(t) for t in tools], **kwargs)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        reply = self.client.chat.completions.create(
            model=self.model, messages=convert_to_openai_messages(messages), **kwargs
        )
        return _chat_result(reply)

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        reply = await self.async_client.chat.completions.create(
            model=self.model, messages=convert_to_openai_messages(messages), **kwargs
        )
        return _chat_result(reply)


def _chat_result(reply: Any) -> ChatResult:
    message = reply.choices[0].message
    calls = [
        {"name": c.function.name, "args": json.loads(c.function.arguments), "id": c.id, "type": "tool_call"}
        for c in message.tool_calls or ()
    ]
    return ChatResult(
        generations=[ChatGeneration(message=AIMessage(message.content or "", tool_calls=calls))]
    )


@tool
def get_weather(city: str) -> str:
    """Weather for a city."""
    return f"Sunny in {city}"


@tool
async def aget_weather(city: str) -> str:
    """Weather for a city, asynchronously."""
    return f"Sunny in {city}"


class Forecast(BaseTool):
    """A ``BaseTool`` subclass with its own ``_run`` / ``_arun``."""

    name: str = "forecast"
    description: str = "Tomorrow's forecast for a city."

    def _run(self, city: str) -> str:
        return f"Rain in {city}"

    async def _arun(self, city: str) -> str:
        return f"Rain in {city}"


TOOLS: dict[str, BaseTool] = {"get_weather": get_weather}


def _last_calls(state: MessagesState) -> list[Any]:
    last = state["messages"][-1]
    return list(last.tool_calls) if isinstance(last, AIMessage) else []


def _route(state: MessagesState) -> str:
    return "tools" if _last_calls(state) else END


def weather_graph(chat: FakeServerChat, tools_node: str = "custom", name: str = "weather") -> Any:
    """agent (LLM) -> tools (get_weather, invoked with the model's ToolCall) -> agent (LLM) -> end.

    Nodes have a sync and an async body, so ``invoke``/``stream`` and ``ainvoke``/``astream`` each
    take their own path through LangGraph (executor threads vs asyncio tasks)."""
    model = chat.bind_tools([get_weather])

    def agent(state: MessagesState) -> dict[str, Any]:
        return {"messages": [model.invoke(state["messages"])]}

    async def aagent(state: MessagesState) -> dict[str, Any]:
        return {"messages": [await model.ainvoke(state["messages"])]}

    def tools(state: MessagesState) -> dict[str, Any]:
        return {"messages": [TOOLS[c["name"]].invoke(c) for c in _last_calls(state)]}

    async def atools(state: MessagesState) -> dict[str, Any]:
        return {"messages": [await TOOLS[c["name"]].ainvoke(c) for c in _last_calls(state)]}

    graph = StateGraph(MessagesState)
    graph.add_node("agent", RunnableLambda(agent, afunc=aagent))
    if tools_node == "prebuilt":
        graph.add_node("tools", ToolNode([get_weather]))
    else:
        graph.add_node("tools", RunnableLambda(tools, afunc=atools))
    graph.add_edge(START, "agent")
    graph.add_conditional_edges("agent", _route, ["tools", END])
    graph.add_edge("tools", "agent")
    return graph.compile(name=name)


QUESTION_INPUT = {"messages": [HumanMessage(QUESTION)]}


def run_invoke(graph: Any) -> Any:
    return graph.invoke(QUESTION_INPUT)


def run_ainvoke(graph: Any) -> Any:
    return asyncio.run(graph.ainvoke(QUESTION_INPUT))


def run_stream(graph: Any) -> Any:
    return list(graph.stream(QUESTION_INPUT))


def run_astream(graph: Any) -> Any:
    async def consume() -> list[Any]:
        return [chunk async for chunk in graph.astream(QUESTION_INPUT)]

    return asyncio.run(consume())


GRAPH_ENTRIES: dict[str, Callable[[Any], Any]] = {
    "invoke": run_invoke,
    "ainvoke": run_ainvoke,
    "stream": run_stream,
    "astream": run_astream,
}


# --- span helpers ------------------------------------------------------------------------------------
def names(cap: TelemetryCapture) -> list[str]:
    return [s.name for s in cap.spans()]


def named(cap: TelemetryCapture, name: str) -> list[ReadableSpan]:
    return [s for s in cap.spans() if s.name == name]


def one(cap: TelemetryCapture, name: str) -> ReadableSpan:
    spans = named(cap, name)
    assert len(spans) == 1, names(cap)
    return spans[0]


def parent_id(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


def span_id(span: ReadableSpan) -> int:
    assert span.context is not None
    return span.context.span_id


def metric_attrs(cap: TelemetryCapture, name: str) -> list[dict[str, Any]]:
    return [dict(p.attributes) for p in cap.metric_points(name)]


# --- tools -----------------------------------------------------------------------------------------
def test_tool_invoke_is_one_execute_tool_span(lc: TelemetryCapture) -> None:
    assert get_weather.invoke({"city": "Paris"}) == "Sunny in Paris"

    span = only_span(lc)
    assert span.name == "execute_tool get_weather"
    assert span.kind is SpanKind.INTERNAL
    assert span.status.status_code is StatusCode.UNSET
    assert attrs_of(span) == {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "get_weather",
        "gen_ai.tool.type": "function",
        "gen_ai.tool.description": "Weather for a city.",
    }
    assert metric_attrs(lc, TOOL_DURATION) == [
        {"gen_ai.tool.name": "get_weather", "gen_ai.tool.type": "function"}
    ]
    assert lc.metric_count(TOOL_DURATION) == 1


async def _run_entry(t: BaseTool, entry: str) -> Any:
    args = {"city": "Paris"}
    if entry == "invoke":
        return t.invoke(args)
    if entry == "run":
        return t.run(args)
    if entry == "ainvoke":
        return await t.ainvoke(args)
    return await t.arun(args)


TOOL_ENTRIES = [
    *[
        pytest.param(get_weather, "Sunny in Paris", e, id=f"sync_tool-{e}")
        for e in ("invoke", "run", "ainvoke", "arun")
    ],
    *[pytest.param(aget_weather, "Sunny in Paris", e, id=f"async_tool-{e}") for e in ("ainvoke", "arun")],
    *[
        pytest.param(Forecast(), "Rain in Paris", e, id=f"subclass-{e}")
        for e in ("invoke", "run", "ainvoke", "arun")
    ],
]


@pytest.mark.parametrize(("t", "expected", "entry"), TOOL_ENTRIES)
def test_every_tool_entry_gives_exactly_one_span(
    lc: TelemetryCapture, t: BaseTool, expected: str, entry: str
) -> None:
    assert asyncio.run(_run_entry(t, entry)) == expected

    span = only_span(lc)
    assert span.name == f"execute_tool {t.name}"
    assert attrs_of(span)["gen_ai.tool.description"] == t.description
    assert lc.metric_count(TOOL_DURATION, {"gen_ai.tool.name": t.name}) == 1


@pytest.mark.parametrize("use_async", [False, True], ids=["invoke", "ainvoke"])
def test_tool_call_invocation_records_the_call_id(lc: TelemetryCapture, use_async: bool) -> None:
    call = {"type": "tool_call", "name": "get_weather", "args": {"city": "Paris"}, "id": "call_abc"}

    result = asyncio.run(get_weather.ainvoke(call)) if use_async else get_weather.invoke(call)

    assert isinstance(result, ToolMessage)
    assert (result.content, result.tool_call_id, result.status) == ("Sunny in Paris", "call_abc", "success")
    span = only_span(lc)
    assert attrs_of(span)["gen_ai.tool.call.id"] == "call_abc"
    assert span.status.status_code is StatusCode.UNSET


def test_tool_span_is_a_child_of_the_current_span(lc: TelemetryCapture) -> None:
    with trace.get_tracer("test", tracer_provider=lc.tracer_provider).start_as_current_span("outer") as outer:
        get_weather.invoke({"city": "Paris"})

    assert parent_id(one(lc, "execute_tool get_weather")) == outer.get_span_context().span_id


DOWN = LookupError("weather station unreachable")


@tool
def broken_weather(city: str) -> str:
    """Always fails."""
    raise DOWN


@tool
async def abroken_weather(city: str) -> str:
    """Always fails, asynchronously."""
    raise DOWN


@pytest.mark.parametrize(
    ("t", "call"),
    [
        (broken_weather, lambda t: t.invoke({"city": "Paris"})),
        (abroken_weather, lambda t: asyncio.run(t.ainvoke({"city": "Paris"}))),
    ],
    ids=["invoke", "ainvoke"],
)
def test_raising_tool_is_an_error_span_and_the_same_exception_propagates(
    lc: TelemetryCapture, t: BaseTool, call: Callable[[BaseTool], Any]
) -> None:
    with pytest.raises(LookupError) as info:
        call(t)

    assert info.value is DOWN
    span = only_span(lc)
    assert span.status.status_code is StatusCode.ERROR
    assert attrs_of(span)["error.type"] == "LookupError"
    assert [e.name for e in span.events] == ["exception"]
    assert metric_attrs(lc, TOOL_DURATION) == [
        {"gen_ai.tool.name": t.name, "gen_ai.tool.type": "function", "error.type": "LookupError"}
    ]


def _flaky_weather(city: str) -> str:
    """Fails in a way the tool handles itself."""
    raise ToolException("station offline")


flaky_weather = StructuredTool.from_function(_flaky_weather, name="flaky_weather", handle_tool_error=True)


def test_handled_tool_error_returned_as_error_message_is_an_error_span(lc: TelemetryCapture) -> None:
    call = {"type": "tool_call", "name": "flaky_weather", "args": {"city": "Paris"}, "id": "call_1"}

    result = flaky_weather.invoke(call)

    assert isinstance(result, ToolMessage)
    assert (result.content, result.status, result.tool_call_id) == ("station offline", "error", "call_1")
    span = only_span(lc)
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "the tool returned an error result"
    assert attrs_of(span)["error.type"] == "tool_error"
    assert span.events == ()
    assert metric_attrs(lc, TOOL_DURATION) == [
        {"gen_ai.tool.name": "flaky_weather", "gen_ai.tool.type": "function", "error.type": "tool_error"}
    ]


def test_handled_tool_error_without_call_id_is_plain_content_and_ok(lc: TelemetryCapture) -> None:
    assert flaky_weather.invoke({"city": "Paris"}) == "station offline"

    span = only_span(lc)
    assert span.status.status_code is StatusCode.UNSET
    assert "error.type" not in attrs_of(span)


@tool
def lookup(city: str, user_id: Annotated[str, InjectedToolArg]) -> str:
    """Looks a city up for a user the app injects."""
    return f"{city} for {user_id}"


@pytest.mark.parametrize(
    ("t", "args", "arguments", "result"),
    [
        (get_weather, {"city": "Paris"}, '{"city":"Paris"}', '"Sunny in Paris"'),
        (lookup, {"city": "Paris", "user_id": "u-1"}, '{"city":"Paris"}', '"Paris for u-1"'),
    ],
    ids=["tool_call", "injected_argument_left_out"],
)
def test_tool_arguments_and_result_with_content_capture(
    cap: TelemetryCapture,
    monkeypatch: pytest.MonkeyPatch,
    t: BaseTool,
    args: Any,
    arguments: str,
    result: str,
) -> None:
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "SPAN_ONLY")
    instrumentor = LangChainInstrumentor()
    instrumentor.instrument(tracer_provider=cap.tracer_provider, meter_provider=cap.meter_provider)
    try:
        t.invoke({"type": "tool_call", "name": t.name, "args": args, "id": "c1"})
    finally:
        instrumentor.uninstrument()

    attrs = attrs_of(only_span(cap))
    assert attrs["gen_ai.tool.call.arguments"] == arguments
    assert attrs["gen_ai.tool.call.result"] == result  # the ToolMessage's content


def test_no_content_by_default(lc: TelemetryCapture) -> None:
    get_weather.invoke({"city": "Paris"})

    attrs = attrs_of(only_span(lc))
    assert "gen_ai.tool.call.arguments" not in attrs
    assert "gen_ai.tool.call.result" not in attrs


def test_suppressed_instrumentation_records_nothing(lc: TelemetryCapture) -> None:
    with suppress_instrumentation():
        assert get_weather.invoke({"city": "Paris"}) == "Sunny in Paris"

    assert lc.spans() == []


# --- graphs ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("entry", list(GRAPH_ENTRIES))
def test_every_graph_entry_gives_one_workflow_span_with_node_steps(
    llm: TelemetryCapture, chat: FakeServerChat, entry: str
) -> None:
    GRAPH_ENTRIES[entry](weather_graph(chat))

    # One LLM span per HTTP request (from the OpenAI instrumentor), none from LangChain itself.
    assert names(llm) == [
        f"chat {GPT}",
        "step agent",
        "execute_tool get_weather",
        "step tools",
        f"chat {GPT}",
        "step agent",
        "invoke_workflow weather",
    ]
    first_chat, first_agent, tool_span, tools_step, second_chat, second_agent, workflow = llm.spans()
    assert parent_id(workflow) is None
    assert [parent_id(s) for s in (first_agent, tools_step, second_agent)] == [span_id(workflow)] * 3
    assert parent_id(first_chat) == span_id(first_agent)
    assert parent_id(second_chat) == span_id(second_agent)
    assert parent_id(tool_span) == span_id(tools_step)
    assert llm.metric_count(WORKFLOW_DURATION) == 1
    assert llm.metric_count(STEP_DURATION) == 3
    assert llm.metric_count(TOOL_DURATION) == 1


def test_graph_run_attributes_and_metrics(llm: TelemetryCapture, chat: FakeServerChat) -> None:
    result = weather_graph(chat).invoke(QUESTION_INPUT)

    assert [m.type for m in result["messages"]] == ["human", "ai", "tool", "ai"]
    assert result["messages"][-1].content == REPLY
    workflow = one(llm, "invoke_workflow weather")
    assert workflow.kind is SpanKind.INTERNAL
    assert workflow.status.status_code is StatusCode.UNSET
    first_call, second_call = named(llm, f"chat {GPT}")
    input_tokens = sum(attrs_of(c)["gen_ai.usage.input_tokens"] for c in (first_call, second_call))
    output_tokens = sum(attrs_of(c)["gen_ai.usage.output_tokens"] for c in (first_call, second_call))
    assert (input_tokens, output_tokens) == (15, 8)
    assert attrs_of(workflow) == {
        "gen_ai.operation.name": "invoke_workflow",
        "gen_ai.workflow.name": "weather",
        "agentotel.plan.step_count": 3,
        "gen_ai.usage.input_tokens": 15,
        "gen_ai.usage.output_tokens": 8,
        "agentotel.usage.cost_usd": pytest.approx(expected_cost(GPT, 15, 8), rel=1e-12),
    }
    assert attrs_of(named(llm, "step tools")[0]) == {
        "gen_ai.operation.name": "step",
        "agentotel.step.name": "tools",
        "agentotel.step.type": "node",
    }
    # The tool ran with the model's tool call: its id, and no second (inferred) tool span.
    assert attrs_of(one(llm, "execute_tool get_weather"))["gen_ai.tool.call.id"] == "call_1"
    assert metric_attrs(llm, WORKFLOW_DURATION) == [
        {"gen_ai.operation.name": "invoke_workflow", "gen_ai.workflow.name": "weather"}
    ]
    assert metric_attrs(llm, STEP_DURATION) == [{"agentotel.step.type": "node"}]
    assert llm.metric_count(STEP_DURATION, {"agentotel.step.type": "node"}) == 3


def test_prebuilt_tool_node_runs_under_its_step(llm: TelemetryCapture, chat: FakeServerChat) -> None:
    weather_graph(chat, tools_node="prebuilt").invoke(QUESTION_INPUT)

    assert len(llm.spans()) == 7, names(llm)
    tools_step = one(llm, "step tools")
    tool_span = one(llm, "execute_tool get_weather")
    assert parent_id(tool_span) == span_id(tools_step)
    assert attrs_of(tool_span)["gen_ai.tool.call.id"] == "call_1"


def test_unnamed_graph_is_named_langgraph(lc: TelemetryCapture) -> None:
    graph = StateGraph(MessagesState)
    graph.add_node("echo", lambda state: {"messages": []})
    graph.add_edge(START, "echo")

    graph.compile().invoke({"messages": []})

    assert names(lc) == ["step echo", "invoke_workflow LangGraph"]


def test_stream_left_early_ends_the_workflow_span(llm: TelemetryCapture, chat: FakeServerChat) -> None:
    for chunk in weather_graph(chat).stream(QUESTION_INPUT):
        assert list(chunk) == ["agent"]
        break

    assert names(llm) == [f"chat {GPT}", "step agent", "invoke_workflow weather"]
    workflow = one(llm, "invoke_workflow weather")
    assert workflow.status.status_code is StatusCode.UNSET
    assert attrs_of(workflow)["agentotel.plan.step_count"] == 1
    assert llm.metric_count(WORKFLOW_DURATION) == 1


def test_stream_closed_early_ends_the_workflow_span(llm: TelemetryCapture, chat: FakeServerChat) -> None:
    stream = weather_graph(chat).stream(QUESTION_INPUT)
    next(stream)
    assert named(llm, "invoke_workflow weather") == []

    stream.close()

    assert names(llm) == [f"chat {GPT}", "step agent", "invoke_workflow weather"]


def test_astream_closed_early_ends_the_workflow_span(llm: TelemetryCapture, chat: FakeServerChat) -> None:
    async def first_chunk() -> Any:
        stream = weather_graph(chat).astream(QUESTION_INPUT)
        try:
            async for chunk in stream:
                return chunk
        finally:
            await stream.aclose()

    assert list(asyncio.run(first_chunk())) == ["agent"]
    assert names(llm) == [f"chat {GPT}", "step agent", "invoke_workflow weather"]
    assert one(llm, "invoke_workflow weather").status.status_code is StatusCode.UNSET


class NodeFailed(Exception):
    """Raised by a graph node."""


FAILURE = NodeFailed("node failed")


def _failing_graph() -> Any:
    def ok(state: MessagesState) -> dict[str, Any]:
        return {"messages": []}

    def fail(state: MessagesState) -> dict[str, Any]:
        raise FAILURE

    graph = StateGraph(MessagesState)
    graph.add_node("ok", ok)
    graph.add_node("fail", fail)
    graph.add_edge(START, "ok")
    graph.add_edge("ok", "fail")
    return graph.compile(name="fragile")


@pytest.mark.parametrize("entry", ["invoke", "ainvoke"])
def test_failing_node_marks_step_and_workflow_error(lc: TelemetryCapture, entry: str) -> None:
    with pytest.raises(NodeFailed) as info:
        GRAPH_ENTRIES[entry](_failing_graph())

    assert info.value is FAILURE
    assert names(lc) == ["step ok", "step fail", "invoke_workflow fragile"]
    ok, fail, workflow = lc.spans()
    assert ok.status.status_code is StatusCode.UNSET
    for span in (fail, workflow):
        assert span.status.status_code is StatusCode.ERROR
        assert attrs_of(span)["error.type"] == "test_langchain.NodeFailed"
    assert metric_attrs(lc, WORKFLOW_DURATION) == [
        {
            "gen_ai.operation.name": "invoke_workflow",
            "gen_ai.workflow.name": "fragile",
            "error.type": "test_langchain.NodeFailed",
        }
    ]
    assert lc.metric_count(STEP_DURATION, {"agentotel.step.type": "node"}) == 2
    assert lc.metric_count(STEP_DURATION, {"error.type": "test_langchain.NodeFailed"}) == 1


@tool
def approve(action: str) -> str:
    """Asks a human (a LangGraph interrupt)."""
    return str(interrupt(f"approve {action}?"))


def test_interrupt_ends_tool_step_and_workflow_without_error(lc: TelemetryCapture) -> None:
    def ask(state: MessagesState) -> dict[str, Any]:
        approve.invoke({"action": "refund"})
        return {"messages": []}

    graph = StateGraph(MessagesState)
    graph.add_node("ask", ask)
    graph.add_edge(START, "ask")
    app = graph.compile(name="approval", checkpointer=InMemorySaver())

    result = app.invoke({"messages": []}, {"configurable": {"thread_id": "t1"}})

    assert [i.value for i in result["__interrupt__"]] == ["approve refund?"]
    assert names(lc) == ["execute_tool approve", "step ask", "invoke_workflow approval"]
    for span in lc.spans():
        assert span.status.status_code is StatusCode.UNSET
        assert "error.type" not in attrs_of(span)
    assert metric_attrs(lc, TOOL_DURATION) == [
        {"gen_ai.tool.name": "approve", "gen_ai.tool.type": "function"}
    ]
    assert metric_attrs(lc, STEP_DURATION) == [{"agentotel.step.type": "node"}]


class Fanned(TypedDict):
    left: Annotated[list[int], lambda a, b: a + b]
    right: Annotated[list[int], lambda a, b: a + b]


def test_parallel_nodes_on_executor_threads_are_children_of_the_workflow(lc: TelemetryCapture) -> None:
    threads: dict[str, int] = {}
    barrier = threading.Barrier(2, timeout=5)

    def node(key: str) -> Callable[[Fanned], dict[str, Any]]:
        def run(state: Fanned) -> dict[str, Any]:
            threads[key] = threading.get_ident()
            barrier.wait()  # both run at once: on two threads
            get_weather.invoke({"city": key})
            return {key: [1]}

        return run

    graph = StateGraph(Fanned)
    graph.add_node("left", node("left"))
    graph.add_node("right", node("right"))
    graph.add_edge(START, "left")
    graph.add_edge(START, "right")

    graph.compile(name="fan").invoke({"left": [], "right": []})

    assert threads["left"] != threads["right"]
    workflow = one(lc, "invoke_workflow fan")
    steps = {s.name: s for s in lc.spans() if s.name.startswith("step ")}
    assert sorted(steps) == ["step left", "step right"]
    assert {parent_id(s) for s in steps.values()} == {span_id(workflow)}
    tool_parents = {parent_id(s) for s in named(lc, "execute_tool get_weather")}
    assert tool_parents == {span_id(s) for s in steps.values()}


def test_subgraph_is_a_nested_workflow_under_its_step(lc: TelemetryCapture) -> None:
    inner = StateGraph(MessagesState)
    inner.add_node("leaf", lambda state: {"messages": []})
    inner.add_edge(START, "leaf")
    outer = StateGraph(MessagesState)
    outer.add_node("sub", inner.compile(name="inner"))
    outer.add_edge(START, "sub")

    outer.compile(name="outer").invoke({"messages": []})

    assert names(lc) == ["step leaf", "invoke_workflow inner", "step sub", "invoke_workflow outer"]
    leaf, inner_run, sub, outer_run = lc.spans()
    assert parent_id(outer_run) is None
    assert parent_id(sub) == span_id(outer_run)
    assert parent_id(inner_run) == span_id(sub)
    assert parent_id(leaf) == span_id(inner_run)
    assert attrs_of(outer_run)["agentotel.plan.step_count"] == 2  # its own step and the nested one
    assert lc.metric_count(WORKFLOW_DURATION) == 2


# --- instrument / uninstrument / versions ------------------------------------------------------------
PATCHED = [
    (BaseTool, "run"),
    (BaseTool, "arun"),
    (Pregel, "stream"),
    (Pregel, "astream"),
    (_runner, "run_with_retry"),
    (_runner, "arun_with_retry"),
]


def _originals() -> list[Any]:
    return [vars(owner)[attr] for owner, attr in PATCHED]


def _echo_graph() -> Any:
    graph = StateGraph(MessagesState)
    graph.add_node("echo", lambda state: {"messages": []})
    graph.add_edge(START, "echo")
    return graph.compile()


def test_uninstrument_restores_the_originals(cap: TelemetryCapture) -> None:
    before = _originals()
    instrumentor = LangChainInstrumentor()
    instrumentor.instrument(tracer_provider=cap.tracer_provider, meter_provider=cap.meter_provider)
    wrapped = _originals()
    instrumentor.uninstrument()

    assert all(w is not b for w, b in zip(wrapped, before, strict=True))
    assert _originals() == before
    get_weather.invoke({"city": "Paris"})
    _echo_graph().invoke({"messages": []})
    assert cap.spans() == []


def _installed_as(monkeypatch: pytest.MonkeyPatch, name: str, found: str | None) -> None:
    """Make the dependency check see ``name`` at version ``found`` (None: not installed)."""
    real = dependencies.version

    def version(dist: str) -> str:
        if dist != name:
            return real(dist)
        if found is None:
            raise importlib.metadata.PackageNotFoundError(dist)
        return found

    monkeypatch.setattr(dependencies, "version", version)


@pytest.mark.parametrize(
    ("found", "warnings"), [("2.0.0", 1), (None, 0)], ids=["langgraph_2", "no_langgraph"]
)
def test_without_a_supported_langgraph_only_tools_are_instrumented(
    cap: TelemetryCapture,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    found: str | None,
    warnings: int,
) -> None:
    _installed_as(monkeypatch, "langgraph", found)
    before = _originals()
    instrumentor = LangChainInstrumentor()
    with caplog.at_level(logging.WARNING):
        instrumentor.instrument(tracer_provider=cap.tracer_provider, meter_provider=cap.meter_provider)
    try:
        after = _originals()
        graph_output = _echo_graph().invoke({"messages": []})
        get_weather.invoke({"city": "Paris"})
    finally:
        instrumentor.uninstrument()

    assert [after[i] is before[i] for i in range(len(PATCHED))] == [False, False, True, True, True, True]
    assert graph_output == {"messages": []}
    assert names(cap) == ["execute_tool get_weather"]
    records = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(records) == warnings
    if warnings:
        assert "langgraph 2.0.0" in records[0].getMessage()


WITHOUT_LANGGRAPH = """
import sys


class NoLangGraph:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] == "langgraph":
            raise ImportError(f"No module named {name!r}")


sys.meta_path.insert(0, NoLangGraph())
from langchain_core.tools import tool

from agentotel.instrumentation.langchain import LangChainInstrumentor
from agentotel.testing._capture import TelemetryCapture

cap = TelemetryCapture()
LangChainInstrumentor().instrument(tracer_provider=cap.tracer_provider, meter_provider=cap.meter_provider)


@tool
def get_weather(city: str) -> str:
    \"\"\"Weather for a city.\"\"\"
    return f"Sunny in {city}"


print(get_weather.invoke({"city": "Paris"}), [s.name for s in cap.spans()], "langgraph" in sys.modules)
"""


def test_tools_are_instrumented_where_langgraph_cannot_be_imported() -> None:
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_LANGGRAPH], capture_output=True, text=True, timeout=60, check=False
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout == "Sunny in Paris ['execute_tool get_weather'] False\n"


def test_unsupported_langchain_core_skips_the_instrumentor(
    cap: TelemetryCapture, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _installed_as(monkeypatch, "langchain-core", "2.1.0")
    before = _originals()
    instrumentor = LangChainInstrumentor()
    with caplog.at_level(logging.WARNING):
        instrumentor.instrument(tracer_provider=cap.tracer_provider, meter_provider=cap.meter_provider)

    assert _originals() == before
    assert not instrumentor.is_instrumented_by_opentelemetry
    assert len([r for r in caplog.records if r.levelno >= logging.WARNING]) == 1
    get_weather.invoke({"city": "Paris"})
    assert cap.spans() == []


# --- safety ----------------------------------------------------------------------------------------
class TelemetryBug(RuntimeError):
    """Stands for a bug in our own code."""


def _boom(*_args: Any, **_kwargs: Any) -> Any:
    raise TelemetryBug("agentotel bug (simulated)")


def _errors(cap: TelemetryCapture) -> float:
    return cap.metric_sum(
        TELEMETRY_ERRORS, {"agentotel.component": "langchain", "error.type": "test_langchain.TelemetryBug"}
    )


def test_a_bug_reading_a_tool_call_never_reaches_the_app(
    lc: TelemetryCapture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(extract, "tool_call", _boom)

    assert get_weather.invoke({"city": "Paris"}) == "Sunny in Paris"
    assert asyncio.run(get_weather.ainvoke({"city": "Paris"})) == "Sunny in Paris"

    assert lc.spans() == []
    assert _errors(lc) == 2


def test_a_bug_naming_a_graph_or_node_never_reaches_the_app(
    lc: TelemetryCapture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(extract, "graph_name", _boom)
    monkeypatch.setattr(extract, "node_name", _boom)

    assert _echo_graph().invoke({"messages": []}) == {"messages": []}
    assert list(_echo_graph().stream({"messages": []})) == [{"echo": {"messages": []}}]

    assert lc.spans() == []
    assert _errors(lc) == 6  # per run: the graph, and the __start__ and echo tasks


# --- extract ---------------------------------------------------------------------------------------
def test_tool_call_reads_input_and_call_id_as_run_receives_them() -> None:
    assert extract.tool_call(({"city": "Paris"},), {}) == ({"city": "Paris"}, None)
    assert extract.tool_call(("Paris", True), {"tool_call_id": "call_9", "config": {}}) == ("Paris", "call_9")
    assert extract.tool_call((), {"tool_input": {"a": 1}}) == ({"a": 1}, None)


def test_tool_outcome_reads_tool_messages() -> None:
    message = ToolMessage("boom", tool_call_id="c1", status="error")
    assert extract.tool_outcome(message) == ("boom", True)
    assert extract.tool_outcome(ToolMessage("ok", tool_call_id="c1")) == ("ok", False)
    assert extract.tool_outcome({"k": 1}) == ({"k": 1}, False)


def test_hidden_tag_is_langgraphs() -> None:
    from langgraph.constants import TAG_HIDDEN

    assert extract.HIDDEN_TAG == TAG_HIDDEN


def test_astream_dropped_early_ends_the_workflow_span(llm: TelemetryCapture, chat: FakeServerChat) -> None:
    async def first_chunk() -> Any:
        async for chunk in weather_graph(chat).astream(QUESTION_INPUT):
            return chunk

    assert list(asyncio.run(first_chunk())) == ["agent"]
    assert names(llm) == [f"chat {GPT}", "step agent", "invoke_workflow weather"]
