"""A triage agent on the OpenAI Agents SDK (a tool, a guardrail, a handoff), instrumented with no
code change.

    # offline, against agentotel's fake LLM server (no key, no network):
    opentelemetry-instrument --traces_exporter console --metrics_exporter none \\
        python examples/openai_agents_agent.py

    # online: set OPENAI_API_KEY; AGENT_MODEL picks the model
    OPENAI_API_KEY=sk-... opentelemetry-instrument --traces_exporter otlp \\
        python examples/openai_agents_agent.py

The spans: ``invoke_workflow Agent workflow`` > ``invoke_agent triage`` (> ``guardrail no_secrets``,
``chat``, ``execute_tool get_weather``, ``chat``, a handoff event) and ``invoke_agent billing``
(> ``chat``). Offline, the script also keeps only agentotel's processor in the SDK, the way to
stop the SDK's own export to OpenAI's tracing backend (online, that export is left as it is).
"""

from __future__ import annotations

import os
from contextlib import ExitStack
from typing import Any

import openai
from agents import (
    Agent,
    GuardrailFunctionOutput,
    OpenAIResponsesModel,
    RunConfig,
    Runner,
    function_tool,
    input_guardrail,
    set_trace_processors,
)

QUESTION = "What is the weather in Paris? Then send me the bill."


@function_tool
def get_weather(city: str) -> str:
    """Weather for a city."""
    return f"Sunny in {city}"


@input_guardrail(run_in_parallel=False)
def no_secrets(ctx: Any, agent: Any, text: Any) -> GuardrailFunctionOutput:
    """Stops any request that asks for a secret."""
    return GuardrailFunctionOutput(output_info=None, tripwire_triggered="secret" in str(text).lower())


def triage(model: OpenAIResponsesModel) -> Agent[Any]:
    billing = Agent(name="billing", instructions="You send the user their bill.", model=model)
    return Agent(
        name="triage",
        instructions="Answer weather questions with get_weather; hand billing questions to billing.",
        tools=[get_weather],
        handoffs=[billing],
        input_guardrails=[no_secrets],
        model=model,
    )


def _only_agentotel() -> None:
    """Keep agentotel's processor only: the SDK sends nothing to OpenAI's tracing backend."""
    from agentotel.instrumentation.openai_agents import OpenAIAgentsInstrumentor

    processor = OpenAIAgentsInstrumentor().processor
    if processor is not None:  # None when run without instrumentation
        set_trace_processors([processor])


def main() -> int:
    offline = os.environ.get("AGENTOTEL_EXAMPLE_OFFLINE") == "1" or not os.environ.get("OPENAI_API_KEY")
    with ExitStack() as stack:
        if offline:
            from agentotel.testing import FakeLLMServer, Reply

            script = [
                Reply.tool_call("get_weather", {"city": "Paris"}),
                Reply.tool_call("transfer_to_billing", {}),
                "Your bill is 42 EUR.",
            ]
            server = stack.enter_context(FakeLLMServer(script=script))
            client = openai.AsyncOpenAI(
                base_url=server.openai_base_url, api_key="sk-fake-offline", max_retries=0
            )
            _only_agentotel()
        else:
            client = openai.AsyncOpenAI()
        model = OpenAIResponsesModel(os.environ.get("AGENT_MODEL", "gpt-4o-mini"), client)
        result = Runner.run_sync(triage(model), QUESTION, run_config=RunConfig(group_id="conv-1"))
        print(f"{result.last_agent.name}: {result.final_output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
