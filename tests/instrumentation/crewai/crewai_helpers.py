"""What the CrewAI tests share: an LLM on the fake server, the weather crew, the tree.

Imported as ``from crewai_helpers import ...`` (``tests/instrumentation/crewai/`` is on ``sys.path``).
"""

from __future__ import annotations

from typing import Any

from crewai import LLM, Agent, Crew, Task
from crewai.tools import tool
from helpers import FAKE_OPENAI_KEY, GPT
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind

from agentotel.testing import FakeLLMServer, Reply
from agentotel.testing._capture import TelemetryCapture

INTERNAL, CLIENT = SpanKind.INTERNAL, SpanKind.CLIENT
CREW = "invoke_workflow weather crew"
TASK = "step forecast"
AGENT = "invoke_agent forecaster"
TOOL = "execute_tool get_weather"
LLM_SPAN = f"chat {GPT}"
ANSWER = "It is sunny in Paris."
TOOL_THEN_ANSWER = [Reply.tool_call("get_weather", {"city": "Paris"}), Reply.text(ANSWER)]
DESCRIPTION = "Tell the weather in {city}."

TREE = [
    (CREW, None, INTERNAL),
    (TASK, CREW, INTERNAL),
    (AGENT, TASK, INTERNAL),
    (LLM_SPAN, AGENT, CLIENT),
    (TOOL, AGENT, INTERNAL),
    (LLM_SPAN, AGENT, CLIENT),
]


def llm(fake: FakeLLMServer) -> Any:
    """CrewAI's native OpenAI LLM (``openai`` SDK) on the fake server."""
    return LLM(model=GPT, base_url=fake.openai_base_url, api_key=FAKE_OPENAI_KEY, max_retries=0)


def weather_tool(calls: list[str]) -> Any:
    @tool("Get Weather")
    def get_weather(city: str) -> str:
        """Weather for a city."""
        calls.append(city)
        return f"Sunny in {city}"

    return get_weather


def forecaster(fake: FakeLLMServer, calls: list[str] | None = None, **options: Any) -> Any:
    return Agent(
        role="forecaster",
        goal="Tell the weather",
        backstory="A meteorologist.",
        llm=llm(fake),
        tools=[weather_tool(calls if calls is not None else [])],
        verbose=False,
        **options,
    )


def weather_crew(fake: FakeLLMServer, calls: list[str] | None = None, **options: Any) -> Any:
    """One agent with one tool, one task: a tool call, then the answer."""
    agent = forecaster(fake, calls)
    task = Task(name="forecast", description=DESCRIPTION, expected_output="One sentence.", agent=agent)
    return Crew(name="weather crew", agents=[agent], tasks=[task], verbose=False, **options)


def tree(cap: TelemetryCapture) -> list[tuple[str, str | None, SpanKind]]:
    """Every span as (name, parent's name, kind), in start order."""
    spans = sorted(cap.spans(), key=lambda s: s.start_time or 0)
    names = {s.context.span_id: s.name for s in spans if s.context is not None}
    return [(s.name, names.get(s.parent.span_id) if s.parent else None, s.kind) for s in spans]


def named(cap: TelemetryCapture, name: str) -> list[ReadableSpan]:
    return sorted((s for s in cap.spans() if s.name == name), key=lambda s: s.start_time or 0)


def llm_requests(fake: FakeLLMServer) -> int:
    return len([r for r in fake.requests if r.path == "/v1/chat/completions"])
