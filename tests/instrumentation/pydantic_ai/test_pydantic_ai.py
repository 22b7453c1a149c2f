"""The Pydantic AI instrumentor against real ``pydantic-ai`` agents on the real ``openai`` and
``anthropic`` SDKs, driven against the fake LLM server: the tree of each way to run an agent, tool
calls (plain, with ``RunContext``, retried), structured output, one LLM span per HTTP request and
exact token sums, with and without Pydantic AI's own instrumentation switched on."""

from __future__ import annotations

import pytest
from helpers import QUESTION, attrs_of, token_sums
from opentelemetry.trace import StatusCode
from pai_helpers import (
    ANSWER,
    CLIENT,
    INTERNAL,
    RUN,
    TOOL,
    TOOL_DURATION,
    TOOL_RUN_TOKENS,
    TOOL_THEN_ANSWER,
    WORKFLOW_DURATION,
    ModelFactory,
    Weather,
    llm_requests,
    named,
    tool_run_tree,
    tree,
    weather_agent,
)
from pydantic_ai import Agent

import agentotel
from agentotel.instrumentation.pydantic_ai import PydanticAIInstrumentor
from agentotel.testing import FakeLLMServer, Reply
from agentotel.testing._capture import TelemetryCapture


# --- the ways to run an agent ------------------------------------------------------------------------
async def test_run_tree(
    pai: TelemetryCapture,
    make_model: ModelFactory,
    chat_span: str,
    provider: str,
    fresh_fake_llm: FakeLLMServer,
) -> None:
    fresh_fake_llm.script(TOOL_THEN_ANSWER)

    result = await weather_agent(make_model()).run(QUESTION, deps="noon")

    assert result.output == ANSWER
    assert tree(pai) == tool_run_tree(chat_span)
    assert llm_requests(fresh_fake_llm) == 2
    assert token_sums(pai) == TOOL_RUN_TOKENS[provider]
    assert token_sums(pai) == {"input": result.usage.input_tokens, "output": result.usage.output_tokens}
    [run] = named(pai, RUN)
    assert attrs_of(run)["gen_ai.usage.input_tokens"] == TOOL_RUN_TOKENS[provider]["input"]
    assert attrs_of(run)["gen_ai.usage.output_tokens"] == TOOL_RUN_TOKENS[provider]["output"]


def test_run_sync_tree(
    pai: TelemetryCapture,
    make_model: ModelFactory,
    chat_span: str,
    provider: str,
    fresh_fake_llm: FakeLLMServer,
) -> None:
    fresh_fake_llm.script(TOOL_THEN_ANSWER)

    result = weather_agent(make_model()).run_sync(QUESTION, deps="noon")

    assert result.output == ANSWER
    assert tree(pai) == tool_run_tree(chat_span)
    assert llm_requests(fresh_fake_llm) == 2
    assert token_sums(pai) == TOOL_RUN_TOKENS[provider]


async def test_run_stream_tree(
    pai: TelemetryCapture,
    make_model: ModelFactory,
    chat_span: str,
    provider: str,
    fresh_fake_llm: FakeLLMServer,
) -> None:
    fresh_fake_llm.script(TOOL_THEN_ANSWER)

    async with weather_agent(make_model()).run_stream(QUESTION, deps="noon") as stream:
        chunks = [chunk async for chunk in stream.stream_text(delta=True)]
        assert named(pai, RUN) == []  # the run is still open while the app streams
    assert "".join(chunks) == ANSWER
    assert tree(pai) == tool_run_tree(chat_span)
    assert llm_requests(fresh_fake_llm) == 2
    assert token_sums(pai) == TOOL_RUN_TOKENS[provider]


async def test_iter_tree(
    pai: TelemetryCapture,
    make_model: ModelFactory,
    chat_span: str,
    provider: str,
    fresh_fake_llm: FakeLLMServer,
) -> None:
    fresh_fake_llm.script(TOOL_THEN_ANSWER)

    async with weather_agent(make_model()).iter(QUESTION, deps="noon") as agent_run:
        nodes = [type(node).__name__ async for node in agent_run]

    assert agent_run.result is not None and agent_run.result.output == ANSWER
    assert nodes[-1] == "End"
    assert tree(pai) == tool_run_tree(chat_span)
    assert token_sums(pai) == TOOL_RUN_TOKENS[provider]


async def test_the_run_span_names_the_agent_and_the_conversation(
    pai: TelemetryCapture, make_model: ModelFactory, fresh_fake_llm: FakeLLMServer
) -> None:
    fresh_fake_llm.script([Reply.text(ANSWER)])

    result = await weather_agent(make_model()).run(QUESTION, deps="noon")

    [run] = named(pai, RUN)
    attrs = attrs_of(run)
    assert attrs["gen_ai.operation.name"] == "invoke_agent"
    assert attrs["gen_ai.agent.name"] == "weather"
    assert attrs["gen_ai.conversation.id"] == result.conversation_id
    assert pai.metric_count(WORKFLOW_DURATION, {"gen_ai.agent.name": "weather"}) == 1


async def test_every_span_of_the_run_carries_the_conversation_id(
    pai: TelemetryCapture, make_model: ModelFactory, fresh_fake_llm: FakeLLMServer
) -> None:
    fresh_fake_llm.script(TOOL_THEN_ANSWER)

    result = await weather_agent(make_model()).run(QUESTION, deps="noon")

    assert len(pai.spans()) == 4
    assert {attrs_of(s)["gen_ai.conversation.id"] for s in pai.spans()} == {result.conversation_id}


async def test_inside_an_agentotel_session_the_apps_conversation_id_wins(
    pai: TelemetryCapture, make_model: ModelFactory, fresh_fake_llm: FakeLLMServer
) -> None:
    fresh_fake_llm.script(TOOL_THEN_ANSWER)
    agent = weather_agent(make_model())

    with agentotel.session("conv-1", user_id="u-1"):
        await agent.run(QUESTION, deps="noon")
    fresh_fake_llm.script([Reply.text(ANSWER)])
    await agent.run(QUESTION, deps="noon")  # outside: Pydantic AI's own id, and no user
    runs = sorted(named(pai, RUN), key=lambda s: s.start_time or 0)

    assert len(pai.spans()) == 4 + 2
    inside = [s for s in pai.spans() if s.start_time and s.start_time < (runs[0].end_time or 0)]
    assert {(attrs_of(s)["gen_ai.conversation.id"], attrs_of(s)["user.id"]) for s in inside} == {
        ("conv-1", "u-1")
    }
    assert "user.id" not in attrs_of(runs[1])
    assert attrs_of(runs[1])["gen_ai.conversation.id"] != "conv-1"


async def test_an_unnamed_agent_is_named_agent(pai: TelemetryCapture, make_model: ModelFactory) -> None:
    await Agent(make_model()).run(QUESTION, infer_name=False)

    assert [s.name for s in pai.spans() if s.kind is INTERNAL] == ["invoke_agent agent"]


# --- tools ---------------------------------------------------------------------------------------------
async def test_tool_spans_carry_the_models_call_ids(
    pai: TelemetryCapture, make_model: ModelFactory, fresh_fake_llm: FakeLLMServer
) -> None:
    from agentotel.testing import ToolCall

    fresh_fake_llm.script(
        [
            Reply.tool_calls(
                ToolCall("get_weather", {"city": "Paris"}), ToolCall("local_time", {"city": "Rome"})
            ),
            Reply.text(ANSWER),
        ]
    )

    result = await weather_agent(make_model()).run(QUESTION, deps="noon")

    asked = {
        part.tool_name: part.tool_call_id
        for message in result.all_messages()
        for part in message.parts
        if type(part).__name__ == "ToolCallPart"
    }
    returned = {
        part.tool_name: part.content
        for message in result.all_messages()
        for part in message.parts
        if type(part).__name__ == "ToolReturnPart"
    }
    assert returned == {"get_weather": "Sunny in Paris", "local_time": "noon in Rome"}
    for name in ("get_weather", "local_time"):
        [span] = named(pai, f"execute_tool {name}")
        assert attrs_of(span) == {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": name,
            "gen_ai.tool.type": "function",
            "gen_ai.tool.call.id": asked[name],
            "gen_ai.conversation.id": result.conversation_id,
            "gen_ai.tool.description": "Weather for a city."
            if name == "get_weather"
            else "Local time in a city.",
        }
        assert span.status.status_code is StatusCode.UNSET
    assert pai.metric_count(TOOL_DURATION, {"gen_ai.tool.name": "local_time"}) == 1
    assert not [s for s in pai.spans() if attrs_of(s).get("agentotel.tool.inferred")]


async def test_a_model_retry_fails_the_tool_span_and_the_next_call_follows(
    pai: TelemetryCapture, make_model: ModelFactory, chat_span: str, fresh_fake_llm: FakeLLMServer
) -> None:
    fresh_fake_llm.script(
        [
            Reply.tool_call("get_weather", {"city": "Parigi"}),
            Reply.tool_call("get_weather", {"city": "Paris"}),
            Reply.text(ANSWER),
        ]
    )
    calls: list[str] = []

    result = await weather_agent(make_model(), calls, retry_first=True).run(QUESTION, deps="noon")

    assert result.output == ANSWER and calls == ["Parigi", "Paris"]
    assert tree(pai) == [
        (RUN, INTERNAL, None),
        (chat_span, CLIENT, RUN),
        (TOOL, INTERNAL, RUN),
        (chat_span, CLIENT, RUN),
        (TOOL, INTERNAL, RUN),
        (chat_span, CLIENT, RUN),
    ]
    assert llm_requests(fresh_fake_llm) == 3
    retried, succeeded = sorted(named(pai, TOOL), key=lambda s: s.start_time or 0)
    assert retried.status.status_code is StatusCode.ERROR
    assert attrs_of(retried)["error.type"] == "pydantic_ai.ModelRetry"
    assert succeeded.status.status_code is StatusCode.UNSET
    assert "error.type" not in attrs_of(succeeded)
    assert pai.metric_count(TOOL_DURATION, {"error.type": "pydantic_ai.ModelRetry"}) == 1
    [run] = named(pai, RUN)
    assert run.status.status_code is StatusCode.UNSET


async def test_invalid_arguments_are_one_failed_tool_span(
    pai: TelemetryCapture, make_model: ModelFactory, chat_span: str, fresh_fake_llm: FakeLLMServer
) -> None:
    fresh_fake_llm.script([Reply.tool_call("get_weather", {"town": "Paris"}), Reply.text(ANSWER)])
    calls: list[str] = []

    result = await weather_agent(make_model(), calls).run(QUESTION, deps="noon")

    assert result.output == ANSWER and calls == []
    assert tree(pai) == tool_run_tree(chat_span)
    [span] = named(pai, TOOL)
    assert span.status.status_code is StatusCode.ERROR
    # The tool did not run: the span names what Pydantic AI raised, the retry sent to the model.
    assert attrs_of(span)["error.type"] == "pydantic_ai.exceptions.ToolRetryError"


async def test_structured_output_is_no_tool_span(
    pai: TelemetryCapture,
    make_model: ModelFactory,
    chat_span: str,
    provider: str,
    fresh_fake_llm: FakeLLMServer,
) -> None:
    fresh_fake_llm.script([Reply.tool_call("final_result", {"city": "Paris", "celsius": 21})])

    result = await weather_agent(make_model()).run(QUESTION, deps="noon", output_type=Weather)

    assert result.output == Weather(city="Paris", celsius=21)
    assert tree(pai) == [(RUN, INTERNAL, None), (chat_span, CLIENT, RUN)]
    assert llm_requests(fresh_fake_llm) == 1


async def test_a_rejected_structured_output_gets_no_inferred_tool_span(
    pai: TelemetryCapture, make_model: ModelFactory, chat_span: str, fresh_fake_llm: FakeLLMServer
) -> None:
    fresh_fake_llm.script(
        [
            Reply.tool_call("final_result", {"city": "Paris", "celsius": "warm"}),
            Reply.tool_call("final_result", {"city": "Paris", "celsius": 21}),
        ]
    )

    result = await weather_agent(make_model()).run(QUESTION, deps="noon", output_type=Weather)

    assert result.output == Weather(city="Paris", celsius=21)
    assert tree(pai) == [(RUN, INTERNAL, None), (chat_span, CLIENT, RUN), (chat_span, CLIENT, RUN)]


# --- lifecycle -------------------------------------------------------------------------------------
def test_every_patch_point_exists_and_uninstrument_restores_it() -> None:
    import wrapt

    patches = PydanticAIInstrumentor().patches
    assert sorted(f"{p.module}:{p.name}" for p in patches) == [
        "pydantic_ai.agent:Agent.iter",
        "pydantic_ai.capabilities.instrumentation:Instrumentation.on_tool_validate_error",
        "pydantic_ai.capabilities.instrumentation:Instrumentation.wrap_model_request",
        "pydantic_ai.capabilities.instrumentation:Instrumentation.wrap_output_process",
        "pydantic_ai.capabilities.instrumentation:Instrumentation.wrap_run",
        "pydantic_ai.capabilities.instrumentation:Instrumentation.wrap_tool_execute",
        "pydantic_ai.tool_manager:ToolManager.execute_tool_call",
        "pydantic_ai.tool_manager:ToolManager.validate_output_tool_call",
    ]
    targets = [p.owner() for p in patches]
    assert None not in targets
    originals = [vars(owner)[attr] for owner, attr in targets]  # type: ignore[misc]

    instrumentor = PydanticAIInstrumentor()
    instrumentor.instrument(tracer_provider=TelemetryCapture().tracer_provider)
    for (owner, attr), original in zip(targets, originals, strict=True):  # type: ignore[misc]
        assert isinstance(vars(owner)[attr], wrapt.FunctionWrapper)
        assert vars(owner)[attr].__wrapped__ is original
    instrumentor.uninstrument()
    assert [vars(owner)[attr] for owner, attr in targets] == originals  # type: ignore[misc]


def test_registered_entry_point_and_supported_range() -> None:
    from pathlib import Path

    import tomllib
    from packaging.requirements import Requirement

    from agentotel._registry import available

    assert available()["agentotel_pydantic_ai"] is PydanticAIInstrumentor
    assert PydanticAIInstrumentor().instrumentation_dependencies() == ("pydantic-ai-slim >= 2.68, < 3",)
    project = tomllib.loads((Path(__file__).parents[3] / "pyproject.toml").read_text())["project"]
    [extra] = project["optional-dependencies"]["pydantic-ai"]
    assert Requirement(extra).name == "pydantic-ai-slim"
    assert Requirement(extra).specifier == Requirement("pydantic-ai-slim >= 2.68, < 3").specifier
    assert "pydantic-ai" in project["optional-dependencies"]["all"][0]


def test_uninstrument_stops_the_spans(
    cap: TelemetryCapture, make_model: ModelFactory, fresh_fake_llm: FakeLLMServer
) -> None:
    instrumentor = PydanticAIInstrumentor()
    instrumentor.instrument(**cap.providers)
    instrumentor.uninstrument()
    fresh_fake_llm.script(TOOL_THEN_ANSWER)

    assert weather_agent(make_model()).run_sync(QUESTION, deps="noon").output == ANSWER
    assert cap.spans() == []


async def test_a_tool_failed_without_retry_names_tool_failed(
    pai: TelemetryCapture, make_model: ModelFactory, chat_span: str, fresh_fake_llm: FakeLLMServer
) -> None:
    from pydantic_ai import ToolFailed

    fresh_fake_llm.script([Reply.tool_call("lookup", {"city": "Paris"}), Reply.text(ANSWER)])
    agent = Agent(make_model(), name="weather")

    @agent.tool_plain
    def lookup(city: str) -> str:
        """Weather for a city."""
        raise ToolFailed("the weather service is down")

    result = await agent.run(QUESTION)

    assert result.output == ANSWER
    assert tree(pai) == [
        (RUN, INTERNAL, None),
        (chat_span, CLIENT, RUN),
        ("execute_tool lookup", INTERNAL, RUN),
        (chat_span, CLIENT, RUN),
    ]
    [span] = named(pai, "execute_tool lookup")
    assert span.status.status_code is StatusCode.ERROR
    assert attrs_of(span)["error.type"] == "pydantic_ai.ToolFailed"


async def test_run_stream_events_tree(
    pai: TelemetryCapture, make_model: ModelFactory, chat_span: str, fresh_fake_llm: FakeLLMServer
) -> None:
    fresh_fake_llm.script(TOOL_THEN_ANSWER)

    async with weather_agent(make_model()).run_stream_events(QUESTION, deps="noon") as stream:
        events = [type(e).__name__ async for e in stream]

    assert events[-1] == "AgentRunResultEvent"
    assert tree(pai) == tool_run_tree(chat_span)


def test_run_stream_sync_tree(
    pai: TelemetryCapture, make_model: ModelFactory, chat_span: str, fresh_fake_llm: FakeLLMServer
) -> None:
    fresh_fake_llm.script(TOOL_THEN_ANSWER)

    with weather_agent(make_model()).run_stream_sync(QUESTION, deps="noon") as stream:
        assert stream.get_output() == ANSWER

    assert tree(pai) == tool_run_tree(chat_span)


async def test_a_failed_run_is_an_error_span_and_the_app_gets_its_exception(
    pai: TelemetryCapture, make_model: ModelFactory, fresh_fake_llm: FakeLLMServer
) -> None:
    from pydantic_ai import ModelRetry
    from pydantic_ai.exceptions import UnexpectedModelBehavior

    fresh_fake_llm.script([Reply.tool_call("never", {"city": "Paris"})] * 2)
    agent: Agent[None, str] = Agent(make_model(), name="weather")

    @agent.tool_plain
    def never(city: str) -> str:
        """Never works."""
        raise ModelRetry("again")

    with pytest.raises(UnexpectedModelBehavior, match="exceeded max retries"):
        await agent.run(QUESTION)

    [run] = named(pai, RUN)
    assert run.status.status_code is StatusCode.ERROR
    assert attrs_of(run)["error.type"] == "pydantic_ai.UnexpectedModelBehavior"
    tools = sorted(named(pai, "execute_tool never"), key=lambda s: s.start_time or 0)
    # The last retry exhausted the tool's budget: its span names what ended the run.
    assert [(s.status.status_code, attrs_of(s)["error.type"]) for s in tools] == [
        (StatusCode.ERROR, "pydantic_ai.ModelRetry"),
        (StatusCode.ERROR, "pydantic_ai.UnexpectedModelBehavior"),
    ]


async def test_an_agent_called_from_a_tool_nests_under_the_tool(
    pai: TelemetryCapture, make_model: ModelFactory, chat_span: str, fresh_fake_llm: FakeLLMServer
) -> None:
    helper: Agent[None, str] = Agent(make_model(), name="helper")
    boss: Agent[None, str] = Agent(make_model(), name="boss")

    @boss.tool_plain
    async def ask_helper(question: str) -> str:
        """Ask the helper agent."""
        return (await helper.run(question)).output

    fresh_fake_llm.script(
        [Reply.tool_call("ask_helper", {"question": "Weather?"}), Reply.text("Sunny."), Reply.text(ANSWER)]
    )

    assert (await boss.run(QUESTION)).output == ANSWER
    assert tree(pai) == [
        ("invoke_agent boss", INTERNAL, None),
        (chat_span, CLIENT, "invoke_agent boss"),
        ("execute_tool ask_helper", INTERNAL, "invoke_agent boss"),
        ("invoke_agent helper", INTERNAL, "execute_tool ask_helper"),
        (chat_span, CLIENT, "invoke_agent helper"),
        (chat_span, CLIENT, "invoke_agent boss"),
    ]


async def test_concurrent_runs_keep_their_own_trees(
    pai: TelemetryCapture, make_model: ModelFactory, chat_span: str
) -> None:
    import asyncio

    agent = weather_agent(make_model())

    # No script: the fake server calls the offered tool (get_weather, Paris), then answers.
    await asyncio.gather(*(agent.run(QUESTION, deps="noon") for _ in range(3)))

    runs = named(pai, RUN)
    assert len(runs) == 3 and len(pai.spans()) == 3 * 4
    for run in runs:
        children = sorted(
            (s for s in pai.spans() if s.parent and s.parent.span_id == run.context.span_id),
            key=lambda s: s.start_time or 0,
        )
        assert {s.context.trace_id for s in children} == {run.context.trace_id}
        assert [s.name for s in children] == [chat_span, TOOL, chat_span]
