"""The CrewAI bridge against real ``crewai`` crews whose LLM calls the fake LLM server through the
real ``openai`` SDK with our OpenAI instrumentor on: the exact tree of every way to run a crew or
an agent, one LLM span per HTTP request the server received, exact token sums."""

from __future__ import annotations

import asyncio

import pytest
from helpers import CREWAI_INSTALLED

if not CREWAI_INSTALLED:
    pytest.skip("crewai is not installed: nox -s 'majors(crewai)'", allow_module_level=True)

from crewai import Crew, Task
from crewai_helpers import (
    AGENT,
    ANSWER,
    CLIENT,
    CREW,
    INTERNAL,
    LLM_SPAN,
    TOOL,
    TOOL_THEN_ANSWER,
    TREE,
    forecaster,
    llm_requests,
    named,
    tree,
    weather_crew,
)
from helpers import attrs_of, token_sums

from agentotel.testing import FakeLLMServer, Reply
from agentotel.testing._capture import TelemetryCapture


def assert_usage(cap: TelemetryCapture, result: object) -> None:
    """The tokens of the LLM spans, summed once in the token metric and onto the agent, the
    crew, and CrewAI's own count."""
    usage = result.token_usage  # type: ignore[attr-defined]
    expected = {"input": usage.prompt_tokens, "output": usage.completion_tokens}
    llm_spans = named(cap, LLM_SPAN)
    assert expected == {
        "input": sum(attrs_of(s)["gen_ai.usage.input_tokens"] for s in llm_spans),
        "output": sum(attrs_of(s)["gen_ai.usage.output_tokens"] for s in llm_spans),
    }
    assert token_sums(cap) == expected
    for name in (AGENT, CREW):
        [span] = named(cap, name)
        assert attrs_of(span)["gen_ai.usage.input_tokens"] == expected["input"]
        assert attrs_of(span)["gen_ai.usage.output_tokens"] == expected["output"]


# --- the ways to run a crew ------------------------------------------------------------------------
def test_kickoff_tree(bridged: TelemetryCapture, fake: FakeLLMServer) -> None:
    fake.script(TOOL_THEN_ANSWER)
    calls: list[str] = []

    result = weather_crew(fake, calls).kickoff(inputs={"city": "Paris"})

    assert result.raw == ANSWER and calls == ["Paris"]
    assert tree(bridged) == TREE
    assert llm_requests(fake) == 2
    assert usage_requests(result) == 2
    assert_usage(bridged, result)


def usage_requests(result: object) -> int:
    return int(result.token_usage.successful_requests)  # type: ignore[attr-defined]


def test_kickoff_async_tree(bridged: TelemetryCapture, fake: FakeLLMServer) -> None:
    fake.script(TOOL_THEN_ANSWER)

    result = asyncio.run(weather_crew(fake).kickoff_async(inputs={"city": "Paris"}))

    assert result.raw == ANSWER
    assert tree(bridged) == TREE
    assert llm_requests(fake) == 2
    assert_usage(bridged, result)


def test_akickoff_tree(bridged: TelemetryCapture, fake: FakeLLMServer) -> None:
    fake.script(TOOL_THEN_ANSWER)

    result = asyncio.run(weather_crew(fake).akickoff(inputs={"city": "Paris"}))

    assert result.raw == ANSWER
    assert tree(bridged) == TREE
    assert llm_requests(fake) == 2
    assert_usage(bridged, result)


def test_kickoff_for_each_is_one_workflow_per_input(bridged: TelemetryCapture, fake: FakeLLMServer) -> None:
    fake.script([*TOOL_THEN_ANSWER, *TOOL_THEN_ANSWER])

    results = weather_crew(fake).kickoff_for_each(inputs=[{"city": "Paris"}, {"city": "Rome"}])

    assert [r.raw for r in results] == [ANSWER, ANSWER]
    assert tree(bridged) == TREE + TREE
    assert llm_requests(fake) == 4
    runs = named(bridged, CREW)
    assert len({s.context.trace_id for s in runs}) == 2


def test_a_task_run_asynchronously_is_a_step_of_the_crew(
    bridged: TelemetryCapture, fake: FakeLLMServer
) -> None:
    fake.script([*TOOL_THEN_ANSWER, Reply.text("Pack an umbrella.")])
    agent = forecaster(fake)
    first = Task(
        name="forecast",
        description="Weather in Paris?",
        expected_output="One sentence.",
        agent=agent,
        async_execution=True,
    )
    second = Task(name="advice", description="What to wear?", expected_output="One sentence.", agent=agent)

    result = Crew(name="weather crew", agents=[agent], tasks=[first, second]).kickoff()

    assert result.raw == "Pack an umbrella."
    assert tree(bridged) == [
        *TREE,
        ("step advice", CREW, INTERNAL),
        (AGENT, "step advice", INTERNAL),
        (LLM_SPAN, AGENT, CLIENT),
    ]
    [crew] = named(bridged, CREW)
    assert attrs_of(crew)["agentotel.plan.step_count"] == 2
    assert llm_requests(fake) == 3


def test_two_agents_two_tasks(bridged: TelemetryCapture, fake: FakeLLMServer) -> None:
    from crewai import Agent
    from crewai_helpers import llm

    fake.script([*TOOL_THEN_ANSWER, Reply.text("Pack an umbrella.")])
    agent = forecaster(fake)
    stylist = Agent(role="stylist", goal="Dress people", backstory="A tailor.", llm=llm(fake), verbose=False)
    tasks = [
        Task(name="forecast", description="Weather in Paris?", expected_output="One sentence.", agent=agent),
        Task(name="advice", description="What to wear?", expected_output="One sentence.", agent=stylist),
    ]

    result = Crew(name="weather crew", agents=[agent, stylist], tasks=tasks).kickoff()

    assert result.raw == "Pack an umbrella."
    assert tree(bridged) == [
        *TREE,
        ("step advice", CREW, INTERNAL),
        ("invoke_agent stylist", "step advice", INTERNAL),
        (LLM_SPAN, "invoke_agent stylist", CLIENT),
    ]
    forecast_tokens = sum(attrs_of(s)["gen_ai.usage.input_tokens"] for s in named(bridged, LLM_SPAN)[:2])
    [forecasting] = named(bridged, AGENT)
    assert attrs_of(forecasting)["gen_ai.usage.input_tokens"] == forecast_tokens
    [crew] = named(bridged, CREW)
    assert attrs_of(crew)["gen_ai.usage.input_tokens"] == result.token_usage.prompt_tokens


# --- a standalone agent --------------------------------------------------------------------------------
AGENT_TREE = [
    (AGENT, None, INTERNAL),
    (LLM_SPAN, AGENT, CLIENT),
    (TOOL, AGENT, INTERNAL),
    (LLM_SPAN, AGENT, CLIENT),
]


def test_agent_kickoff_tree(bridged: TelemetryCapture, fake: FakeLLMServer) -> None:
    fake.script(TOOL_THEN_ANSWER)

    output = forecaster(fake).kickoff("What is the weather in Paris?")

    assert output.raw == ANSWER
    assert tree(bridged) == AGENT_TREE
    assert llm_requests(fake) == 2


def test_agent_kickoff_async_tree(bridged: TelemetryCapture, fake: FakeLLMServer) -> None:
    fake.script(TOOL_THEN_ANSWER)

    output = asyncio.run(forecaster(fake).kickoff_async("What is the weather in Paris?"))

    assert output.raw == ANSWER
    assert tree(bridged) == AGENT_TREE
    assert llm_requests(fake) == 2


def test_agent_kickoff_inside_an_event_loop_is_one_agent_span(
    bridged: TelemetryCapture, fake: FakeLLMServer
) -> None:
    fake.script(TOOL_THEN_ANSWER)

    async def main() -> object:
        pending = forecaster(fake).kickoff("What is the weather in Paris?")  # a coroutine in a loop
        return await pending  # type: ignore[misc]

    output = asyncio.run(main())

    assert output.raw == ANSWER  # type: ignore[attr-defined]
    assert tree(bridged) == AGENT_TREE


def test_a_streaming_kickoff_is_one_workflow(bridged: TelemetryCapture, fake: FakeLLMServer) -> None:
    fake.script(TOOL_THEN_ANSWER)

    streaming = weather_crew(fake, stream=True).kickoff(inputs={"city": "Paris"})
    chunks = list(streaming)

    assert chunks and streaming.result.raw == ANSWER
    assert tree(bridged) == TREE
    assert llm_requests(fake) == 2
    assert_usage(bridged, streaming.result)


def test_a_hierarchical_crew_nests_the_delegated_agent_under_the_managers_tool_call(
    bridged: TelemetryCapture, fake: FakeLLMServer
) -> None:
    from crewai import Process
    from crewai_helpers import llm

    delegate = {"task": "Weather in Paris?", "context": "The user asks.", "coworker": "forecaster"}
    fake.script(
        [Reply.tool_call("delegate_work_to_coworker", delegate), *TOOL_THEN_ANSWER, Reply.text("Sunny.")]
    )
    task = Task(name="forecast", description="Weather in Paris?", expected_output="One sentence.")
    crew = Crew(
        name="weather crew",
        agents=[forecaster(fake)],
        tasks=[task],
        process=Process.hierarchical,
        manager_llm=llm(fake),
    )

    result = crew.kickoff()

    assert result.raw == "Sunny."
    manager, delegation = "invoke_agent Crew Manager", "execute_tool delegate_work_to_coworker"
    assert tree(bridged) == [
        (CREW, None, INTERNAL),
        ("step forecast", CREW, INTERNAL),
        (manager, "step forecast", INTERNAL),
        (LLM_SPAN, manager, CLIENT),
        (delegation, manager, INTERNAL),
        (AGENT, delegation, INTERNAL),
        (LLM_SPAN, AGENT, CLIENT),
        (TOOL, AGENT, INTERNAL),
        (LLM_SPAN, AGENT, CLIENT),
        (LLM_SPAN, manager, CLIENT),
    ]
    assert llm_requests(fake) == 4
    [delegated] = named(bridged, delegation)
    [weather] = named(bridged, TOOL)
    assert (attrs_of(delegated)["gen_ai.tool.call.id"], attrs_of(weather)["gen_ai.tool.call.id"]) == (
        "call_1",
        "call_2",
    )
    assert_usage_of_manager_covers_everything(bridged, result)


def assert_usage_of_manager_covers_everything(cap: TelemetryCapture, result: object) -> None:
    usage = result.token_usage  # type: ignore[attr-defined]
    [manager] = named(cap, "invoke_agent Crew Manager")
    [crew] = named(cap, CREW)
    for span in (manager, crew):
        assert attrs_of(span)["gen_ai.usage.input_tokens"] == usage.prompt_tokens
    assert token_sums(cap) == {"input": usage.prompt_tokens, "output": usage.completion_tokens}
