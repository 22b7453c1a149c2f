"""A two-agent CrewAI crew (a forecaster with a tool, then a stylist), instrumented with no code
change.

    # offline, against agentotel's fake LLM server (no key, no network):
    opentelemetry-instrument --traces_exporter console --metrics_exporter none \\
        python examples/crewai_agent.py

    # online: set OPENAI_API_KEY; AGENT_MODEL picks the model
    OPENAI_API_KEY=sk-... opentelemetry-instrument --traces_exporter otlp \\
        python examples/crewai_agent.py

The spans: ``invoke_workflow weather crew`` > ``step forecast`` > ``invoke_agent forecaster``
(> ``chat``, ``execute_tool get_weather``, ``chat``), then ``step outfit`` > ``invoke_agent
stylist`` (> ``chat``). Offline, the script also turns CrewAI's own telemetry and tracing off
(there is no network to send them to); online they are left as your environment sets them
(``CREWAI_DISABLE_TELEMETRY=true``, ``CREWAI_TRACING_ENABLED=false`` turn them off).
"""

from __future__ import annotations

import os
from contextlib import ExitStack

OFFLINE = os.environ.get("AGENTOTEL_EXAMPLE_OFFLINE") == "1" or not os.environ.get("OPENAI_API_KEY")
if OFFLINE:  # before CrewAI is imported: it reads these when it sets its telemetry up
    os.environ["CREWAI_DISABLE_TELEMETRY"] = "true"
    os.environ["CREWAI_TRACING_ENABLED"] = "false"

from crewai import LLM, Agent, Crew, Task  # noqa: E402
from crewai.tools import tool  # noqa: E402


@tool("get_weather")
def get_weather(city: str) -> str:
    """Weather for a city."""
    return f"Sunny in {city}"


def weather_crew(llm: LLM) -> Crew:
    forecaster = Agent(
        role="forecaster",
        goal="Tell the weather with get_weather",
        backstory="A meteorologist.",
        llm=llm,
        tools=[get_weather],
    )
    stylist = Agent(role="stylist", goal="Say what to wear", backstory="A tailor.", llm=llm)
    forecast = Task(
        name="forecast",
        description="What is the weather in {city}?",
        expected_output="One sentence.",
        agent=forecaster,
    )
    outfit = Task(
        name="outfit",
        description="What should I wear for it?",
        expected_output="One sentence.",
        agent=stylist,
    )
    return Crew(name="weather crew", agents=[forecaster, stylist], tasks=[forecast, outfit])


def main() -> int:
    model = os.environ.get("AGENT_MODEL", "gpt-4o-mini")
    with ExitStack() as stack:
        if OFFLINE:
            from agentotel.testing import FakeLLMServer, Reply

            script = [
                Reply.tool_call("get_weather", {"city": "Paris"}),
                "It is sunny in Paris.",
                "A linen shirt and sunglasses.",
            ]
            server = stack.enter_context(FakeLLMServer(script=script))
            llm = LLM(model=model, base_url=server.openai_base_url, api_key="sk-fake-offline", max_retries=0)
        else:
            llm = LLM(model=model)
        result = weather_crew(llm).kickoff(inputs={"city": "Paris"})
        print(f"stylist: {result.raw}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
