"""One LLM span per model call whichever way CrewAI calls the model: its native OpenAI class (the
``openai`` SDK), its native Anthropic class (the ``anthropic`` SDK), or LiteLLM (which itself goes
through the ``openai`` SDK: the LiteLLM instrumentor owns the call, the OpenAI one makes no second
span); the tokens counted once, the tool call claimed by its span."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from helpers import CREWAI_INSTALLED, LITELLM_INSTALLED, sdk_installed

if not CREWAI_INSTALLED:
    pytest.skip("crewai is not installed: nox -s 'majors(crewai)'", allow_module_level=True)

from crewai import LLM, Agent, Crew, Task
from crewai_helpers import ANSWER, CLIENT, INTERNAL, TOOL, TOOL_THEN_ANSWER, tree, weather_tool
from helpers import CLAUDE, FAKE_ANTHROPIC_KEY, FAKE_OPENAI_KEY, GPT, attrs_of, instrumented, token_sums

from agentotel.instrumentation.anthropic import AnthropicInstrumentor
from agentotel.instrumentation.crewai import CrewAIInstrumentor
from agentotel.instrumentation.openai import OpenAIInstrumentor
from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture

CREW, TASK, AGENT = "invoke_workflow crew", "step task", "invoke_agent forecaster"


def openai_native(fake: FakeLLMServer) -> Any:
    return LLM(model=GPT, base_url=fake.openai_base_url, api_key=FAKE_OPENAI_KEY, max_retries=0)


def anthropic_native(fake: FakeLLMServer) -> Any:
    return LLM(
        model=f"anthropic/{CLAUDE}",
        base_url=fake.anthropic_base_url,
        api_key=FAKE_ANTHROPIC_KEY,
        max_tokens=1024,
    )


def through_litellm(fake: FakeLLMServer) -> Any:
    return LLM(model=f"openai/{GPT}", is_litellm=True, base_url=fake.openai_base_url, api_key=FAKE_OPENAI_KEY)


# name: (the LLM, its class in CrewAI, the LLM span's name, the path of a model call: the Anthropic
# class also asks /v1/messages/count_tokens, which is no model call)
ROUTES: dict[str, tuple[Callable[[FakeLLMServer], Any], str, str, str]] = {
    "openai": (openai_native, "OpenAICompletion", f"chat {GPT}", "/v1/chat/completions"),
    "anthropic": (anthropic_native, "AnthropicCompletion", f"chat {CLAUDE}", "/v1/messages"),
    "litellm": (through_litellm, "LLM", f"chat {GPT}", "/v1/chat/completions"),
}


@pytest.fixture(params=sorted(ROUTES))
def route(request: pytest.FixtureRequest) -> str:
    if request.param == "litellm" and not LITELLM_INSTALLED:
        pytest.skip("LiteLLM is not installed (crewai[litellm])")
    if request.param == "anthropic" and not sdk_installed("anthropic"):
        pytest.skip("anthropic is not installed (crewai[anthropic])")
    return str(request.param)


@pytest.fixture
def all_providers(cap: TelemetryCapture, monkeypatch: pytest.MonkeyPatch) -> Iterator[TelemetryCapture]:
    """The OpenAI, Anthropic, LiteLLM (where installed) and CrewAI instrumentors on ``cap``."""
    instrumentors: list[Any] = [OpenAIInstrumentor, AnthropicInstrumentor, CrewAIInstrumentor]
    if LITELLM_INSTALLED:
        monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no download of LiteLLM's cost map
        from agentotel.instrumentation.litellm import LiteLLMInstrumentor

        instrumentors.append(LiteLLMInstrumentor)
    with instrumented(cap, *instrumentors):
        yield cap


def test_one_llm_span_per_model_call_on_every_route(
    all_providers: TelemetryCapture, fake: FakeLLMServer, route: str
) -> None:
    factory, cls, llm_span, path = ROUTES[route]
    fake.script(TOOL_THEN_ANSWER)
    model = factory(fake)
    assert type(model).__name__ == cls
    agent = Agent(role="forecaster", goal="Tell the weather", backstory="A meteorologist.", llm=model)
    agent.tools = [weather_tool([])]
    task = Task(description="Weather in Paris?", expected_output="One sentence.", agent=agent)

    result = Crew(agents=[agent], tasks=[task]).kickoff()

    assert result.raw == ANSWER
    assert tree(all_providers) == [
        (CREW, None, INTERNAL),
        (TASK, CREW, INTERNAL),
        (AGENT, TASK, INTERNAL),
        (llm_span, AGENT, CLIENT),
        (TOOL, AGENT, INTERNAL),
        (llm_span, AGENT, CLIENT),
    ]
    calls = [r for r in fake.requests if r.path == path]
    llm_spans = [s for s in all_providers.spans() if s.kind is CLIENT]
    assert len(calls) == len(llm_spans) == 2
    usage = result.token_usage
    assert token_sums(all_providers) == {"input": usage.prompt_tokens, "output": usage.completion_tokens}
    [tool_span] = [s for s in all_providers.spans() if s.name == TOOL]
    assert attrs_of(tool_span)["gen_ai.tool.call.id"] == ("toolu_1" if route == "anthropic" else "call_1")
    assert os.environ.get("CREWAI_DISABLE_TELEMETRY") == "true"
