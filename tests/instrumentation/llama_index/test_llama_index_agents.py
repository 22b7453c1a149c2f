"""The LlamaIndex bridge against real ``llama-index-core`` agents (``FunctionAgent``,
``ReActAgent``, ``AgentWorkflow``) whose ``OpenAI`` LLM class calls the fake LLM server through the
real ``openai`` SDK with our OpenAI instrumentor on: the LLM spans come from it alone, one per
HTTP request the server received."""

from __future__ import annotations

import asyncio
from importlib.metadata import version
from typing import Any

import openai
import pytest
from helpers import GPT, LLAMA_INDEX_INSTALLED, QUESTION, TOKENS, attrs_of, expected_cost, token_sums

if not LLAMA_INDEX_INSTALLED:
    pytest.skip("llama-index-core and llama-index-llms-openai are not installed", allow_module_level=True)

from li_helpers import (
    AGENT,
    ANSWER,
    CLIENT,
    INTERNAL,
    LLM,
    TOOL,
    TOOL_RUN_TOKENS,
    TOOL_THEN_ANSWER,
    broken_weather,
    get_weather,
    llm,
    llm_requests,
    named,
    ours,
    react_agent,
    run,
    team,
    tree,
    weather_agent,
)
from llama_index.core.agent.workflow import CodeActAgent, FunctionAgent
from llama_index.core.tools import FunctionTool
from opentelemetry.trace import StatusCode
from packaging.version import Version

import agentotel
from agentotel.testing import FakeLLMServer, Reply, ToolCall
from agentotel.testing._capture import TelemetryCapture

TOOL_RUN_TREE = [(AGENT, None, INTERNAL), (LLM, AGENT, CLIENT), (TOOL, AGENT, INTERNAL), (LLM, AGENT, CLIENT)]

WORKFLOW = "invoke_workflow AgentWorkflow"
RESEARCHER = "invoke_agent researcher"
WRITER = "invoke_agent writer"
HANDOFF = "execute_tool handoff"
# The researcher calls the weather tool, then hands off to the writer, who answers.
TEAM_SCRIPT: list[Reply | str] = [
    Reply.tool_call("get_weather", {"city": "Paris"}),
    Reply.tool_call("handoff", {"to_agent": "writer", "reason": "The weather is known."}),
    ANSWER,
]
TEAM_TREE = [
    (WORKFLOW, None, INTERNAL),
    (RESEARCHER, WORKFLOW, INTERNAL),
    (LLM, RESEARCHER, CLIENT),
    (TOOL, RESEARCHER, INTERNAL),
    (LLM, RESEARCHER, CLIENT),
    (HANDOFF, RESEARCHER, INTERNAL),
    (WRITER, WORKFLOW, INTERNAL),
    (LLM, WRITER, CLIENT),
]

REACT_TOKENS = {"input": 765, "output": 26}  # the ReAct system prompt is most of it
# What the fake server counts (input, output): the researcher's two requests, the writer's one.
TEAM_USAGE = {"researcher": (15, 9), "writer": (31, 5)}
REACT_SCRIPT: list[Reply | str] = [
    'Thought: I need the weather.\nAction: get_weather\nAction Input: {"city": "Paris"}',
    f"Thought: I can answer without using any more tools.\nAnswer: {ANSWER}",
]


# The description LlamaIndex gives the weather tool (its signature, then its docstring).
DESCRIPTION = "get_weather(city: 'str') -> 'str'\nWeather for a city."


def usage(span: Any) -> tuple[Any, Any]:
    attrs = attrs_of(span)
    return attrs.get("gen_ai.usage.input_tokens"), attrs.get("gen_ai.usage.output_tokens")


# --- FunctionAgent -------------------------------------------------------------------------------
def test_a_function_agent_run_is_one_agent_span_over_its_llm_calls_and_tool_call(
    bridged: TelemetryCapture, fake: FakeLLMServer
) -> None:
    fake.script(TOOL_THEN_ANSWER)

    result = run(weather_agent(fake), QUESTION)

    assert str(result) == ANSWER
    assert tree(bridged) == TOOL_RUN_TREE
    assert llm_requests(fake) == 2
    assert token_sums(bridged) == TOOL_RUN_TOKENS
    [agent] = named(bridged, AGENT)
    assert usage(agent) == (TOOL_RUN_TOKENS["input"], TOOL_RUN_TOKENS["output"])
    assert attrs_of(agent)["agentotel.usage.cost_usd"] == pytest.approx(expected_cost(GPT, 15, 7))
    assert attrs_of(agent)["gen_ai.agent.name"] == "weather"
    assert attrs_of(agent)["gen_ai.agent.description"] == "Answers weather questions."


def test_the_tool_span_carries_the_models_call_id_and_no_tool_span_is_inferred(
    bridged: TelemetryCapture, fake: FakeLLMServer
) -> None:
    fake.script(TOOL_THEN_ANSWER)

    run(weather_agent(fake), QUESTION)

    [tool] = named(bridged, TOOL)
    assert attrs_of(tool) == {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "get_weather",
        "gen_ai.tool.type": "function",
        "gen_ai.tool.call.id": "call_1",
        "gen_ai.tool.description": DESCRIPTION,
    }
    assert tool.status.status_code is StatusCode.UNSET
    assert [s.name for s in bridged.spans() if s.name.startswith("execute_tool")] == [TOOL]
    assert bridged.metric_count("agentotel.tool.duration") == 1


def test_a_tool_from_a_tool_retriever_is_the_same_span_without_a_description(
    bridged: TelemetryCapture, fake: FakeLLMServer
) -> None:
    from llama_index.core.objects import ObjectRetriever

    class Tools(ObjectRetriever):  # type: ignore[misc]
        """The app's own retriever: always the weather tool (LlamaIndex's are index-backed)."""

        def __init__(self, tools: list[Any]) -> None:
            self.tools = tools

        def retrieve(self, str_or_query_bundle: Any) -> list[Any]:
            return self.tools

        async def aretrieve(self, str_or_query_bundle: Any) -> list[Any]:
            return self.tools

    fake.script(TOOL_THEN_ANSWER)
    agent = FunctionAgent(
        name="weather",
        description="Answers weather questions.",
        tool_retriever=Tools([FunctionTool.from_defaults(get_weather)]),
        llm=llm(fake),
        streaming=False,
    )

    result = run(agent, QUESTION)

    assert str(result) == ANSWER
    assert tree(bridged) == TOOL_RUN_TREE
    assert llm_requests(fake) == 2
    # Known only once the step has retrieved it: no description (the agent's own tools have one).
    assert attrs_of(named(bridged, TOOL)[0]) == {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "get_weather",
        "gen_ai.tool.type": "function",
        "gen_ai.tool.call.id": "call_1",
    }


def test_a_streaming_agent_with_usage_in_the_stream_has_the_same_tree_and_tokens(
    bridged: TelemetryCapture, fake: FakeLLMServer
) -> None:
    fake.script(TOOL_THEN_ANSWER)
    agent = weather_agent(fake, streaming=True, additional_kwargs={"stream_options": {"include_usage": True}})

    result = run(agent, QUESTION)

    assert str(result) == ANSWER
    assert tree(bridged) == TOOL_RUN_TREE
    assert llm_requests(fake) == 2
    assert token_sums(bridged) == TOOL_RUN_TOKENS
    assert usage(named(bridged, AGENT)[0]) == (15, 7)


def test_a_streaming_agent_without_usage_in_the_stream_counts_no_tokens(
    bridged: TelemetryCapture, fake: FakeLLMServer
) -> None:
    fake.script(TOOL_THEN_ANSWER)

    result = run(weather_agent(fake, streaming=True), QUESTION)

    assert str(result) == ANSWER
    assert tree(bridged) == TOOL_RUN_TREE
    assert llm_requests(fake) == 2
    assert token_sums(bridged) == {}
    assert usage(named(bridged, AGENT)[0]) == (None, None)


def test_parallel_calls_of_one_tool_get_one_span_each_with_its_own_call_id(
    bridged: TelemetryCapture, fake: FakeLLMServer
) -> None:
    fake.script(
        [
            Reply.tool_calls(
                ToolCall("get_weather", {"city": "Paris"}), ToolCall("get_weather", {"city": "Rome"})
            ),
            "Both sunny.",
        ]
    )

    result = run(weather_agent(fake), QUESTION)

    assert str(result) == "Both sunny."
    tools = named(bridged, TOOL)
    assert sorted(attrs_of(t)["gen_ai.tool.call.id"] for t in tools) == ["call_1", "call_2"]
    assert {t.parent.span_id for t in tools if t.parent} == {named(bridged, AGENT)[0].context.span_id}
    assert [s.name for s in bridged.spans() if s.name.startswith("execute_tool")] == [TOOL, TOOL]
    assert [attrs_of(t)["gen_ai.tool.description"] for t in tools] == [DESCRIPTION, DESCRIPTION]
    assert llm_requests(fake) == 2


def test_a_tool_that_raises_is_an_error_span_and_the_run_goes_on(
    bridged: TelemetryCapture, fake: FakeLLMServer
) -> None:
    fake.script([Reply.tool_call("get_weather", {"city": "Paris"}), "Sorry."])

    result = run(weather_agent(fake, tool=broken_weather), QUESTION)

    assert str(result) == "Sorry."
    [tool] = named(bridged, TOOL)
    assert tool.status.status_code is StatusCode.ERROR
    assert attrs_of(tool)["error.type"] == "RuntimeError"
    assert attrs_of(tool)["gen_ai.tool.call.id"] == "call_1"
    assert [e.name for e in tool.events] == ["exception"]
    assert bridged.metric_count("agentotel.tool.duration", {"error.type": "RuntimeError"}) == 1
    assert named(bridged, AGENT)[0].status.status_code is StatusCode.UNSET


def test_a_call_of_a_tool_the_agent_lacks_is_a_tool_error(
    bridged: TelemetryCapture, fake: FakeLLMServer
) -> None:
    fake.script([Reply.tool_call("get_weather", {"city": "Paris"}), "Sorry."])
    agent = weather_agent(fake)
    agent.tools[0].metadata.name = "get_forecast"  # the model calls a tool the agent no longer has

    result = run(agent, QUESTION)

    assert str(result) == "Sorry."
    [tool] = named(bridged, TOOL)
    assert tool.status.status_code is StatusCode.ERROR
    assert tool.status.description == "the tool returned an error result"
    assert attrs_of(tool)["error.type"] == "tool_error"
    assert [s.name for s in bridged.spans() if s.name.startswith("execute_tool")] == [TOOL]
    # The agent has no tool of the name called (nothing to describe it from); the handler forgets
    # the step when it ends.
    assert "gen_ai.tool.description" not in attrs_of(tool)
    [handler] = {id(h): h for h in ours()}.values()
    assert handler._open == {}


def test_a_run_that_fails_fails_the_agent_span(bridged: TelemetryCapture, fake: FakeLLMServer) -> None:
    fake.script([Reply.tool_call("get_weather", {"city": "Paris"})] * 2)

    with pytest.raises(Exception, match="Max iterations of 1 reached") as raised:
        run(weather_agent(fake), QUESTION, max_iterations=1)

    [agent] = named(bridged, AGENT)
    assert agent.status.status_code is StatusCode.ERROR
    assert (
        attrs_of(agent)["error.type"] == f"{type(raised.value).__module__}.{type(raised.value).__qualname__}"
    )
    assert (
        bridged.metric_count("agentotel.workflow.duration", {"error.type": attrs_of(agent)["error.type"]})
        == 1
    )


def test_concurrent_runs_keep_their_own_trees(bridged: TelemetryCapture, fake: FakeLLMServer) -> None:
    async def both() -> list[Any]:
        first, second = weather_agent(fake), weather_agent(fake)
        first.name, second.name = "first", "second"
        return await asyncio.gather(first.run(user_msg=QUESTION), second.run(user_msg=QUESTION))

    results = asyncio.run(both())  # no script: the fake server calls the offered tool, then answers

    assert len(results) == 2
    spans = bridged.spans()
    agents = {s.context.span_id: s for s in spans if s.name.startswith("invoke_agent")}
    assert sorted(s.name for s in agents.values()) == ["invoke_agent first", "invoke_agent second"]
    for agent in agents.values():
        children = sorted(s.name for s in spans if s.parent and s.parent.span_id == agent.context.span_id)
        assert children == [LLM, LLM, TOOL]
        assert {
            s.context.trace_id for s in spans if s.parent and s.parent.span_id == agent.context.span_id
        } == {agent.context.trace_id}
    assert llm_requests(fake) == 4


def test_every_span_of_a_run_in_an_agentotel_session_carries_its_conversation_id(
    bridged: TelemetryCapture, fake: FakeLLMServer
) -> None:
    fake.script(TOOL_THEN_ANSWER)

    with agentotel.session("conv-42", user_id="u-7"):
        run(weather_agent(fake), QUESTION)

    assert len(bridged.spans()) == 4
    assert {(attrs_of(s)["gen_ai.conversation.id"], attrs_of(s)["user.id"]) for s in bridged.spans()} == {
        ("conv-42", "u-7")
    }


def test_a_run_inside_an_app_span_nests_under_it(bridged: TelemetryCapture, fake: FakeLLMServer) -> None:
    fake.script(["Hi."])
    tracer = bridged.tracer_provider.get_tracer("app")

    with tracer.start_as_current_span("handle request"):
        run(weather_agent(fake), QUESTION)

    assert tree(bridged) == [
        ("handle request", None, INTERNAL),
        (AGENT, "handle request", INTERNAL),
        (LLM, AGENT, CLIENT),
    ]


def test_an_app_span_in_an_async_tool_nests_under_the_tool_span(
    bridged: TelemetryCapture, fake: FakeLLMServer
) -> None:
    tracer = bridged.tracer_provider.get_tracer("app")

    async def get_weather(city: str) -> str:
        """Weather for a city."""
        with tracer.start_as_current_span("lookup"):
            return f"Sunny in {city}"

    fake.script(TOOL_THEN_ANSWER)

    run(weather_agent(fake, tool=get_weather), QUESTION)

    assert ("lookup", TOOL, INTERNAL) in tree(bridged)


@pytest.mark.skipif(
    Version(version("llama-index-core")) < Version("0.14.22"),
    reason="a sync tool runs in a thread with the step's context: llama-index-core>=0.14.22",
)
def test_an_app_span_in_a_sync_tool_nests_under_the_tool_span(
    bridged: TelemetryCapture, fake: FakeLLMServer
) -> None:
    tracer = bridged.tracer_provider.get_tracer("app")

    def get_weather(city: str) -> str:
        """Weather for a city."""
        with tracer.start_as_current_span("lookup"):
            return f"Sunny in {city}"

    fake.script(TOOL_THEN_ANSWER)

    run(weather_agent(fake, tool=get_weather), QUESTION)

    assert ("lookup", TOOL, INTERNAL) in tree(bridged)


# --- ReActAgent ----------------------------------------------------------------------------------
def test_a_react_agent_run_is_the_same_tree_with_llama_indexs_call_id(
    bridged: TelemetryCapture, fake: FakeLLMServer
) -> None:
    fake.script(REACT_SCRIPT)

    result = run(react_agent(fake), QUESTION)

    assert str(result) == ANSWER
    assert tree(bridged) == TOOL_RUN_TREE
    assert llm_requests(fake) == 2
    [call] = result.tool_calls
    assert attrs_of(named(bridged, TOOL)[0])["gen_ai.tool.call.id"] == call.tool_id
    sums = token_sums(bridged)
    assert usage(named(bridged, AGENT)[0]) == (sums["input"], sums["output"])
    assert sums == REACT_TOKENS


# --- AgentWorkflow -------------------------------------------------------------------------------
def test_an_agent_workflow_is_one_workflow_span_with_an_agent_span_per_turn(
    bridged: TelemetryCapture, fake: FakeLLMServer
) -> None:
    fake.script(TEAM_SCRIPT)

    result = run(team(fake), QUESTION)

    assert str(result) == ANSWER
    assert result.current_agent_name == "writer"
    assert tree(bridged) == TEAM_TREE
    assert llm_requests(fake) == 3
    assert [attrs_of(t)["gen_ai.tool.call.id"] for t in named(bridged, TOOL) + named(bridged, HANDOFF)] == [
        "call_1",
        "call_2",
    ]
    assert [
        attrs_of(s)["gen_ai.agent.description"] for s in named(bridged, RESEARCHER) + named(bridged, WRITER)
    ] == [
        "Finds the weather.",
        "Writes the answer.",
    ]
    # The researcher's own tool is described; the handoff tool LlamaIndex adds is not one of them.
    assert attrs_of(named(bridged, TOOL)[0])["gen_ai.tool.description"] == DESCRIPTION
    assert "gen_ai.tool.description" not in attrs_of(named(bridged, HANDOFF)[0])


def test_a_handoff_is_an_event_on_the_handing_agent(bridged: TelemetryCapture, fake: FakeLLMServer) -> None:
    fake.script(TEAM_SCRIPT)

    run(team(fake), QUESTION)

    [event] = named(bridged, RESEARCHER)[0].events
    assert (event.name, dict(event.attributes or {})) == (
        "agentotel.handoff",
        {"agentotel.handoff.from_agent": "researcher", "agentotel.handoff.to_agent": "writer"},
    )
    assert named(bridged, WRITER)[0].events == ()


def test_usage_is_summed_onto_agents_and_workflow_and_counted_once_in_metrics(
    bridged: TelemetryCapture, fake: FakeLLMServer
) -> None:
    fake.script(TEAM_SCRIPT)

    run(team(fake), QUESTION)

    researcher, writer = named(bridged, RESEARCHER)[0], named(bridged, WRITER)[0]
    [workflow] = named(bridged, WORKFLOW)
    assert usage(researcher) == TEAM_USAGE["researcher"]
    assert usage(writer) == TEAM_USAGE["writer"]
    total = tuple(a + b for a, b in zip(TEAM_USAGE["researcher"], TEAM_USAGE["writer"], strict=True))
    assert usage(workflow) == total
    assert token_sums(bridged) == {"input": total[0], "output": total[1]}
    assert bridged.metric_count(TOKENS) == 2 * 3  # input and output of each of the 3 calls
    assert attrs_of(workflow)["agentotel.usage.cost_usd"] == pytest.approx(expected_cost(GPT, *total))


def test_a_failed_model_call_fails_the_llm_span_and_the_agent_span(
    bridged: TelemetryCapture, fake: FakeLLMServer
) -> None:
    fake.script([Reply.error("server_error")])

    with pytest.raises(openai.InternalServerError):
        run(weather_agent(fake), QUESTION)

    assert tree(bridged) == [(AGENT, None, INTERNAL), (LLM, AGENT, CLIENT)]
    for span in bridged.spans():
        assert span.status.status_code is StatusCode.ERROR
        assert attrs_of(span)["error.type"] == "openai.InternalServerError"


def test_an_agent_run_inside_a_tool_nests_under_the_tool_span(
    bridged: TelemetryCapture, fake: FakeLLMServer
) -> None:
    async def ask_expert(question: str) -> str:
        """Asks the expert agent."""
        expert = weather_agent(fake)
        expert.name = "expert"
        return str(await expert.run(user_msg=question))

    # The outer agent calls ask_expert; the expert calls get_weather and answers; the outer answers.
    fake.script(
        [Reply.tool_call("get_weather", {"question": "Paris?"}), *TOOL_THEN_ANSWER, "The expert says: sunny."]
    )

    result = run(weather_agent(fake, tool=ask_expert), QUESTION)

    assert str(result) == "The expert says: sunny."
    assert tree(bridged) == [
        (AGENT, None, INTERNAL),
        (LLM, AGENT, CLIENT),
        (TOOL, AGENT, INTERNAL),
        ("invoke_agent expert", TOOL, INTERNAL),
        (LLM, "invoke_agent expert", CLIENT),
        (TOOL, "invoke_agent expert", INTERNAL),
        (LLM, "invoke_agent expert", CLIENT),
        (LLM, AGENT, CLIENT),
    ]
    assert llm_requests(fake) == 4


# --- CodeActAgent --------------------------------------------------------------------------------
def test_a_code_act_agent_runs_its_code_as_an_execute_tool_call(
    bridged: TelemetryCapture, fake: FakeLLMServer
) -> None:
    ran: list[str] = []

    async def run_code(code: str) -> dict[str, str]:
        ran.append(code)
        return {"output": "Sunny"}

    agent = CodeActAgent(name="coder", code_execute_fn=run_code, llm=llm(fake), streaming=False)
    fake.script(["<execute>\nprint(weather('Paris'))\n</execute>", ANSWER])

    result = run(agent, QUESTION)

    assert str(result) == ANSWER
    assert ran == ["print(weather('Paris'))"]
    coder = "invoke_agent coder"
    assert tree(bridged) == [
        (coder, None, INTERNAL),
        (LLM, coder, CLIENT),
        ("execute_tool execute", coder, INTERNAL),
        (LLM, coder, CLIENT),
    ]
    assert llm_requests(fake) == 2


def test_a_run_whose_events_the_app_streams_has_the_same_tree(
    bridged: TelemetryCapture, fake: FakeLLMServer
) -> None:
    fake.script(TOOL_THEN_ANSWER)
    agent = weather_agent(fake, streaming=True, additional_kwargs={"stream_options": {"include_usage": True}})

    async def streamed() -> tuple[list[str], Any]:
        handler = agent.run(user_msg=QUESTION)
        kinds = [type(event).__name__ async for event in handler.stream_events()]
        return kinds, await handler

    kinds, result = asyncio.run(streamed())

    assert str(result) == ANSWER
    assert {"AgentStream", "ToolCall", "ToolCallResult", "AgentOutput"} <= set(kinds)
    assert tree(bridged) == TOOL_RUN_TREE
    assert token_sums(bridged) == TOOL_RUN_TOKENS
