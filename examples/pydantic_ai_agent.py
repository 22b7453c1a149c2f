"""A Pydantic AI agent with a tool, instrumented with no code change.

    pip install "agentotel[pydantic-ai,openai]" "pydantic-ai-slim[openai]"

    # offline, against agentotel's fake LLM server (no key, no network):
    opentelemetry-instrument --traces_exporter console --metrics_exporter none \\
        python examples/pydantic_ai_agent.py

    # online: set OPENAI_API_KEY; PYDANTIC_AI_MODEL picks the model (default gpt-4o-mini)
    OPENAI_API_KEY=sk-... opentelemetry-instrument --traces_exporter otlp python examples/pydantic_ai_agent.py

One run gives one ``invoke_agent weather`` span with, below it, a ``chat`` span per request to the
model (from the OpenAI instrumentor) and an ``execute_tool get_weather`` span for the tool call.
Offline, the fake server is told to answer the first request with a ``get_weather`` call and the
second with a text. This script only chooses where the model talks to.
"""

from __future__ import annotations

import os
import sys
from contextlib import ExitStack

import openai
from pydantic_ai import Agent
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.openai import OpenAIProvider

QUESTION = "What is the weather in Paris?"


def weather_agent(client: openai.AsyncOpenAI, model: str) -> Agent[None, str]:
    agent: Agent[None, str] = Agent(
        OpenAIChatModel(model, provider=OpenAIProvider(openai_client=client)),
        name="weather",
        instructions="Answer with the weather tool.",
    )

    @agent.tool_plain
    def get_weather(city: str) -> str:
        """Today's weather in a city."""
        return f"Sunny, 21 degrees in {city}"

    return agent


def main() -> int:
    offline = os.environ.get("AGENTOTEL_EXAMPLE_OFFLINE") == "1" or not os.environ.get("OPENAI_API_KEY")
    with ExitStack() as stack:
        if offline:
            from agentotel.testing import FakeLLMServer, Reply

            server = stack.enter_context(FakeLLMServer())
            server.script([Reply.tool_call("get_weather", {"city": "Paris"}), Reply.text("Sunny in Paris.")])
            client = openai.AsyncOpenAI(
                base_url=server.openai_base_url, api_key="sk-fake-offline", max_retries=0
            )
            model = "gpt-4o-mini"
        else:
            client = openai.AsyncOpenAI()
            model = os.environ.get("PYDANTIC_AI_MODEL", "gpt-4o-mini")
        result = weather_agent(client, model).run_sync(QUESTION)
    print(result.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
