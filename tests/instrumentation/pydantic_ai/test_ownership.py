"""Ownership when the app also switches Pydantic AI's own instrumentation on (``agent.instrument``,
``Agent.instrument_all()``, the ``Instrumentation`` capability, ``InstrumentedModel``): inside a run
of ours, one span per run, per tool call and per HTTP request, and tokens counted once, whichever
combination is on. Pydantic AI's instrumentation records to the test's own providers here, so any
span or metric point it made would be seen."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from helpers import QUESTION, TOKENS, attrs_of, instrumented
from opentelemetry.trace import SpanKind
from pai_helpers import (
    ANSWER,
    RUN,
    TOOL_RUN_TOKENS,
    TOOL_THEN_ANSWER,
    ModelFactory,
    llm_requests,
    tool_run_tree,
    tree,
    weather_agent,
)
from pydantic_ai import Agent
from pydantic_ai.capabilities import Instrumentation
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.models.instrumented import InstrumentationSettings, InstrumentedModel

from agentotel.instrumentation.anthropic import AnthropicInstrumentor
from agentotel.instrumentation.openai import OpenAIInstrumentor
from agentotel.testing import FakeLLMServer, Reply
from agentotel.testing._capture import TelemetryCapture

THEIRS = "pydantic-ai"
"""The instrumentation scope of Pydantic AI's own spans and metrics."""


def token_totals(cap: TelemetryCapture) -> dict[str, float]:
    """Token usage by type, summed over every instrumentation scope that recorded it."""
    totals: dict[str, float] = {}
    for point in cap.metric_points(TOKENS):
        kind = dict(point.attributes)["gen_ai.token.type"]
        totals[kind] = totals.get(kind, 0) + point.sum
    return totals


def their_spans(cap: TelemetryCapture) -> list[str]:
    return [s.name for s in cap.spans() if s.instrumentation_scope and s.instrumentation_scope.name == THEIRS]


def settings_of(cap: TelemetryCapture) -> InstrumentationSettings:
    return InstrumentationSettings(tracer_provider=cap.tracer_provider, meter_provider=cap.meter_provider)


@pytest.fixture
def all_agents() -> Iterator[None]:
    """``Agent.instrument_all()`` is process-wide: switched off again after the test."""
    yield
    Agent.instrument_all(False)


def by_attribute(agent: Agent[str, str], settings: InstrumentationSettings) -> Agent[str, str]:
    agent.instrument = settings
    return agent


def by_instrument_all(agent: Agent[str, str], settings: InstrumentationSettings) -> Agent[str, str]:
    Agent.instrument_all(settings)
    return agent


SWITCHES: dict[str, Callable[[Agent[str, str], InstrumentationSettings], Agent[str, str]]] = {
    "agent.instrument": by_attribute,
    "Agent.instrument_all": by_instrument_all,
}


@pytest.mark.parametrize("switch", sorted(SWITCHES))
@pytest.mark.usefixtures("all_agents")
async def test_with_pydantic_ais_instrumentation_on_the_tree_is_ours_alone(
    pai: TelemetryCapture,
    make_model: ModelFactory,
    chat_span: str,
    provider: str,
    fresh_fake_llm: FakeLLMServer,
    switch: str,
) -> None:
    fresh_fake_llm.script(TOOL_THEN_ANSWER)
    agent = SWITCHES[switch](weather_agent(make_model()), settings_of(pai))

    result = await agent.run(QUESTION, deps="noon")

    assert result.output == ANSWER
    assert their_spans(pai) == []
    assert tree(pai) == tool_run_tree(chat_span)
    assert llm_requests(fresh_fake_llm) == 2
    assert token_totals(pai) == TOOL_RUN_TOKENS[provider]


@pytest.mark.usefixtures("all_agents")
async def test_an_instrumented_model_gets_no_second_llm_span(
    pai: TelemetryCapture,
    make_model: ModelFactory,
    chat_span: str,
    provider: str,
    fresh_fake_llm: FakeLLMServer,
) -> None:
    fresh_fake_llm.script(TOOL_THEN_ANSWER)
    agent = weather_agent(InstrumentedModel(make_model(), settings_of(pai)))

    await agent.run(QUESTION, deps="noon")

    assert their_spans(pai) == []
    assert tree(pai) == tool_run_tree(chat_span)
    assert token_totals(pai) == TOOL_RUN_TOKENS[provider]


async def test_the_instrumentation_capability_gets_no_second_span(
    pai: TelemetryCapture,
    make_model: ModelFactory,
    chat_span: str,
    provider: str,
    fresh_fake_llm: FakeLLMServer,
) -> None:
    fresh_fake_llm.script(TOOL_THEN_ANSWER)
    agent = weather_agent(make_model(), capabilities=[Instrumentation(settings=settings_of(pai))])

    await agent.run(QUESTION, deps="noon")

    assert their_spans(pai) == []
    assert tree(pai) == tool_run_tree(chat_span)
    assert token_totals(pai) == TOOL_RUN_TOKENS[provider]


async def test_with_a_streamed_run_too(
    pai: TelemetryCapture,
    make_model: ModelFactory,
    chat_span: str,
    provider: str,
    fresh_fake_llm: FakeLLMServer,
) -> None:
    fresh_fake_llm.script(TOOL_THEN_ANSWER)
    agent = by_attribute(weather_agent(make_model()), settings_of(pai))

    async with agent.run_stream(QUESTION, deps="noon") as stream:
        assert await stream.get_output() == ANSWER

    assert their_spans(pai) == []
    assert tree(pai) == tool_run_tree(chat_span)
    assert token_totals(pai) == TOOL_RUN_TOKENS[provider]


async def test_without_the_bridge_their_spans_double_the_llm_spans(
    providers_only: TelemetryCapture, make_model: ModelFactory, provider: str, fresh_fake_llm: FakeLLMServer
) -> None:
    """What the ownership rule prevents: the provider instrumentor's span under Pydantic AI's own
    ``chat`` span for each request, and the tokens recorded twice."""
    fresh_fake_llm.script(TOOL_THEN_ANSWER)
    agent = by_attribute(weather_agent(make_model()), settings_of(providers_only))

    await agent.run(QUESTION, deps="noon")

    chats = [s for s in providers_only.spans() if attrs_of(s).get("gen_ai.operation.name") == "chat"]
    assert llm_requests(fresh_fake_llm) == 2
    assert len(chats) == 4
    assert sorted(their_spans(providers_only)) == [
        f"chat {chats[0].name.split()[1]}",
        f"chat {chats[0].name.split()[1]}",
        "execute_tool get_weather",
        "invoke_agent weather",
    ]
    doubled = {kind: 2 * count for kind, count in TOOL_RUN_TOKENS[provider].items()}
    assert token_totals(providers_only) == doubled


async def test_a_model_on_another_sdk_keeps_pydantic_ais_llm_span(pai: TelemetryCapture) -> None:
    """A model agentotel does not instrument (here Pydantic AI's ``FunctionModel``, no HTTP):
    Pydantic AI's ``chat`` span is its only LLM span, kept under our run."""

    def reply(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        return ModelResponse(parts=[TextPart(ANSWER)])

    agent: Agent[None, str] = Agent(FunctionModel(reply), name="weather")
    agent.instrument = settings_of(pai)

    result = await agent.run(QUESTION)

    assert result.output == ANSWER
    assert tree(pai) == [(RUN, SpanKind.INTERNAL, None), ("chat function:reply:", SpanKind.CLIENT, RUN)]
    assert their_spans(pai) == ["chat function:reply:"]


def test_uninstrument_gives_pydantic_ai_its_spans_back(
    cap: TelemetryCapture, make_model: ModelFactory, fresh_fake_llm: FakeLLMServer
) -> None:
    from agentotel.instrumentation.pydantic_ai import PydanticAIInstrumentor

    with instrumented(cap, OpenAIInstrumentor, AnthropicInstrumentor, PydanticAIInstrumentor):
        pass
    fresh_fake_llm.script([TOOL_THEN_ANSWER[1]])
    agent = by_attribute(weather_agent(make_model()), settings_of(cap))

    agent.run_sync(QUESTION, deps="noon")

    assert [s.name for s in cap.spans()] == [f"chat {agent.model.model_name}", "invoke_agent weather"]  # type: ignore[union-attr]


async def test_an_anthropic_model_with_its_default_max_tokens_has_one_llm_span_per_request(
    pai: TelemetryCapture, fresh_fake_llm: FakeLLMServer
) -> None:
    import anthropic
    from helpers import CLAUDE, FAKE_ANTHROPIC_KEY
    from pydantic_ai.models.anthropic import AnthropicModel
    from pydantic_ai.providers.anthropic import AnthropicProvider

    fresh_fake_llm.clear()
    fresh_fake_llm.script([Reply.text(ANSWER)])
    client = anthropic.AsyncAnthropic(
        base_url=fresh_fake_llm.anthropic_base_url, api_key=FAKE_ANTHROPIC_KEY, max_retries=0
    )
    agent: Agent[None, str] = Agent(
        AnthropicModel(CLAUDE, provider=AnthropicProvider(anthropic_client=client))
    )

    assert (await agent.run(QUESTION)).output == ANSWER

    assert llm_requests(fresh_fake_llm) == 1
    assert [s.name for s in pai.spans() if s.kind is SpanKind.CLIENT] == [f"chat {CLAUDE}"]
