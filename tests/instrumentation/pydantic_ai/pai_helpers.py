"""What the Pydantic AI tests share: models on the fake server, the weather agent, the tree.

Imported as ``from pai_helpers import ...`` (``tests/instrumentation/pydantic_ai/`` is on ``sys.path``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from helpers import CLAUDE, FAKE_ANTHROPIC_KEY, FAKE_OPENAI_KEY, GPT
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind
from pydantic import BaseModel
from pydantic_ai import Agent, ModelRetry, RunContext

from agentotel.testing import FakeLLMServer, Reply
from agentotel.testing._capture import TelemetryCapture

MAX_TOKENS = 1024
"""Set on the Anthropic model: with the model's default (64,000) the ``anthropic`` SDK refuses a
non-streaming request before sending it (``ValueError``), which Pydantic AI then streams."""

ModelFactory = Callable[[], Any]


def openai_model(server: FakeLLMServer) -> Any:
    import openai
    from pydantic_ai.models.openai import OpenAIChatModel
    from pydantic_ai.providers.openai import OpenAIProvider

    client = openai.AsyncOpenAI(base_url=server.openai_base_url, api_key=FAKE_OPENAI_KEY, max_retries=0)
    return OpenAIChatModel(GPT, provider=OpenAIProvider(openai_client=client))


def anthropic_model(server: FakeLLMServer) -> Any:
    import anthropic
    from pydantic_ai.models.anthropic import AnthropicModel
    from pydantic_ai.providers.anthropic import AnthropicProvider

    client = anthropic.AsyncAnthropic(
        base_url=server.anthropic_base_url, api_key=FAKE_ANTHROPIC_KEY, max_retries=0
    )
    return AnthropicModel(
        CLAUDE, provider=AnthropicProvider(anthropic_client=client), settings={"max_tokens": MAX_TOKENS}
    )


MODELS = {"openai": (openai_model, f"chat {GPT}"), "anthropic": (anthropic_model, f"chat {CLAUDE}")}


INTERNAL, CLIENT = SpanKind.INTERNAL, SpanKind.CLIENT
RUN = "invoke_agent weather"
TOOL = "execute_tool get_weather"
ANSWER = "It is sunny in Paris."
TOOL_THEN_ANSWER = [Reply.tool_call("get_weather", {"city": "Paris"}), Reply.text(ANSWER)]
WORKFLOW_DURATION = "agentotel.workflow.duration"
TOOL_DURATION = "agentotel.tool.duration"

# Tokens the fake server counts for the two requests of TOOL_THEN_ANSWER (the question, then the
# question + the tool call + its result), the same on both wire formats.
TOOL_RUN_TOKENS = {"openai": {"input": 15, "output": 7}, "anthropic": {"input": 15, "output": 7}}


class Weather(BaseModel):
    city: str
    celsius: int


def weather_agent(
    model: Any, calls: list[str] | None = None, retry_first: bool = False, capabilities: Any = None
) -> Agent[str, str]:
    """An agent with a plain tool and a ``RunContext`` tool; ``retry_first``: the plain tool's
    first call raises ``ModelRetry``."""
    seen = calls if calls is not None else []
    agent: Agent[str, str] = Agent(model, name="weather", deps_type=str, capabilities=capabilities)

    @agent.tool_plain
    def get_weather(city: str) -> str:
        """Weather for a city."""
        seen.append(city)
        if retry_first and len(seen) == 1:
            raise ModelRetry("Say the city in English.")
        return f"Sunny in {city}"

    @agent.tool
    def local_time(ctx: RunContext[str], city: str) -> str:
        """Local time in a city."""
        return f"{ctx.deps} in {city}"

    return agent


def tree(cap: TelemetryCapture) -> list[tuple[str, SpanKind, str | None]]:
    """Every span as (name, kind, parent's name), in start order."""
    spans = sorted(cap.spans(), key=lambda s: s.start_time or 0)
    names = {s.context.span_id: s.name for s in spans if s.context is not None}
    return [(s.name, s.kind, names.get(s.parent.span_id) if s.parent else None) for s in spans]


def named(cap: TelemetryCapture, name: str) -> list[ReadableSpan]:
    return [s for s in cap.spans() if s.name == name]


def tool_run_tree(chat: str) -> list[tuple[str, SpanKind, str | None]]:
    return [(RUN, INTERNAL, None), (chat, CLIENT, RUN), (TOOL, INTERNAL, RUN), (chat, CLIENT, RUN)]


def llm_requests(server: FakeLLMServer) -> int:
    return len([r for r in server.requests if r.path in ("/v1/chat/completions", "/v1/messages")])
