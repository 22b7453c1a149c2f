"""A two-agent LlamaIndex ``AgentWorkflow`` (a researcher with a tool hands off to a writer),
instrumented with no code change.

    # offline, against agentotel's fake LLM server (no key, no network):
    opentelemetry-instrument --traces_exporter console --metrics_exporter none \\
        python examples/llama_index_agent.py

    # online: set OPENAI_API_KEY; AGENT_MODEL picks the model
    OPENAI_API_KEY=sk-... opentelemetry-instrument --traces_exporter otlp \\
        python examples/llama_index_agent.py

Needs ``llama-index-core`` and ``llama-index-llms-openai`` (which needs ``openai<3``). The spans:
``invoke_workflow AgentWorkflow`` > ``invoke_agent researcher`` (> ``chat``, ``execute_tool
get_weather``, ``chat``, ``execute_tool handoff``, a handoff event) and ``invoke_agent writer``
(> ``chat``).
"""

from __future__ import annotations

import asyncio
import os
from contextlib import ExitStack

from llama_index.core.agent.workflow import AgentWorkflow, FunctionAgent
from llama_index.llms.openai import OpenAI

QUESTION = "What is the weather in Paris? Write it up in one sentence."


def get_weather(city: str) -> str:
    """Weather for a city."""
    return f"Sunny in {city}"


def team(llm: OpenAI) -> AgentWorkflow:
    researcher = FunctionAgent(
        name="researcher",
        description="Finds the weather with get_weather.",
        system_prompt="Find the weather, then hand off to the writer.",
        tools=[get_weather],
        llm=llm,
        can_handoff_to=["writer"],
        streaming=False,
    )
    writer = FunctionAgent(
        name="writer",
        description="Writes the answer for the user.",
        system_prompt="Write the answer in one sentence.",
        llm=llm,
        streaming=False,
    )
    return AgentWorkflow(agents=[researcher, writer], root_agent="researcher")


async def ask(llm: OpenAI) -> str:
    result = await team(llm).run(user_msg=QUESTION)
    return f"{result.current_agent_name}: {result}"


def main() -> int:
    offline = os.environ.get("AGENTOTEL_EXAMPLE_OFFLINE") == "1" or not os.environ.get("OPENAI_API_KEY")
    model = os.environ.get("AGENT_MODEL", "gpt-4o-mini")
    with ExitStack() as stack:
        if offline:
            from agentotel.testing import FakeLLMServer, Reply

            script = [
                Reply.tool_call("get_weather", {"city": "Paris"}),
                Reply.tool_call("handoff", {"to_agent": "writer", "reason": "The weather is known."}),
                "It is sunny in Paris.",
            ]
            server = stack.enter_context(FakeLLMServer(script=script))
            llm = OpenAI(
                model=model, api_base=server.openai_base_url, api_key="sk-fake-offline", max_retries=0
            )
        else:
            llm = OpenAI(model=model)
        print(asyncio.run(ask(llm)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
