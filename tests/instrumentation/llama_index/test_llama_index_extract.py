"""The pure readers of the LlamaIndex bridge, on stand-ins for LlamaIndex's objects (they run
without LlamaIndex installed)."""

from __future__ import annotations

from types import SimpleNamespace

from agentotel.instrumentation.llama_index import extract


def test_a_run_is_named_by_the_agent_or_else_the_workflow_class() -> None:
    class AgentWorkflow:
        pass

    assert extract.run_name(SimpleNamespace(name="weather")) == "weather"
    assert extract.run_name(AgentWorkflow()) == "AgentWorkflow"
    assert extract.run_name(SimpleNamespace(name="")) == "SimpleNamespace"


def test_an_empty_description_is_none() -> None:
    assert extract.description(SimpleNamespace(description="Finds things.")) == "Finds things."
    assert extract.description(SimpleNamespace(description="")) is None
    assert extract.description(None) is None


def test_an_event_names_its_agent_only_when_it_carries_one() -> None:
    assert extract.agent_name(SimpleNamespace(current_agent_name="writer")) == "writer"
    assert extract.agent_name(SimpleNamespace(tool_name="get_weather")) is None


def test_a_tool_call_event_gives_name_id_and_arguments() -> None:
    event = SimpleNamespace(tool_name="get_weather", tool_id="call_1", tool_kwargs={"city": "Paris"})

    assert extract.tool_call(event, True) == ("get_weather", "call_1", {"city": "Paris"})
    unnamed = SimpleNamespace(tool_name="t", tool_id="", tool_kwargs={})
    assert extract.tool_call(unnamed, True) == ("t", None, {})


def test_a_tool_call_event_without_content_never_reads_the_arguments() -> None:
    class ToolCall:
        tool_name = "get_weather"
        tool_id = "call_1"

        @property
        def tool_kwargs(self) -> dict[str, str]:  # a pydantic event: each read costs lookups
            raise AssertionError("arguments read with content capture off")

    assert extract.tool_call(ToolCall(), False) == ("get_weather", "call_1", None)


def test_a_tools_description_comes_from_its_metadata() -> None:
    tool = SimpleNamespace(metadata=SimpleNamespace(description="Weather for a city."))

    assert extract.tool_description(tool) == "Weather for a city."
    assert extract.tool_description(SimpleNamespace()) is None


def test_a_tool_is_described_from_the_agents_own_tool_of_its_name_the_last_of_that_name() -> None:
    def tool(name: str | None, description: str | None) -> SimpleNamespace:
        return SimpleNamespace(metadata=SimpleNamespace(name=name, description=description))

    agent = SimpleNamespace(
        tools=[
            tool("search", "Searches the web."),
            tool("get_weather", "Old weather."),
            tool(None, "A tool with no name."),
            tool("get_weather", "Weather for a city."),
            tool("noop", ""),
        ]
    )

    assert extract.agent_tool_description(agent, "get_weather") == "Weather for a city."
    assert extract.agent_tool_description(agent, "search") == "Searches the web."
    assert extract.agent_tool_description(agent, "noop") is None  # an empty description
    assert extract.agent_tool_description(agent, "handoff") is None  # not one of its tools
    assert extract.agent_tool_description(SimpleNamespace(tools=None), "search") is None
    assert extract.agent_tool_description(None, "search") is None  # no agent (a missing one)


def test_a_tool_outcome_tells_an_error_and_the_exception_the_tool_raised() -> None:
    raised = RuntimeError("station offline")

    def result(**output: object) -> SimpleNamespace:
        return SimpleNamespace(tool_output=SimpleNamespace(**output))

    assert extract.tool_outcome(result(is_error=False, exception=None, content="Sunny")) == (
        False,
        None,
        "Sunny",
    )
    assert extract.tool_outcome(result(is_error=True, exception=raised, content="station offline")) == (
        True,
        raised,
        "station offline",
    )
    assert extract.tool_outcome(result(is_error=True, content="Tool x not found.")) == (
        True,
        None,
        "Tool x not found.",
    )
    assert extract.tool_outcome(None) == (False, None, None)  # a step waiting for an event returns none


def test_a_tool_outcome_without_content_never_reads_the_output_content() -> None:
    class Output:
        is_error = True
        exception = None

        @property
        def content(self) -> str:  # LlamaIndex joins the output's blocks here
            raise AssertionError("content read with content capture off")

    assert extract.tool_outcome(SimpleNamespace(tool_output=Output()), content=False) == (True, None, None)


def test_a_successful_tool_outcome_never_reads_the_exception() -> None:
    class Output:
        is_error = False
        content = "Sunny"

        @property
        def exception(self) -> BaseException | None:  # LlamaIndex's reads a pydantic private attribute
            raise AssertionError("exception read for a successful output")

    assert extract.tool_outcome(SimpleNamespace(tool_output=Output()), content=False) == (False, None, None)
