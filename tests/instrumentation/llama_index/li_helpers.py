"""What the LlamaIndex tests share: LLMs on the fake server, the agents, the tree.

Imported as ``from li_helpers import ...`` (``tests/instrumentation/llama_index/`` is on ``sys.path``)
by modules that have checked ``LLAMA_INDEX_INSTALLED`` first.
"""

from __future__ import annotations

import asyncio
from typing import Any

from helpers import FAKE_OPENAI_KEY, GPT
from llama_index.core.agent.workflow import AgentWorkflow, FunctionAgent, ReActAgent
from llama_index.core.instrumentation import root_manager
from llama_index.core.tools import FunctionTool
from llama_index.llms.openai import OpenAI
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind

from agentotel.testing import FakeLLMServer, Reply
from agentotel.testing._capture import TelemetryCapture

INTERNAL, CLIENT = SpanKind.INTERNAL, SpanKind.CLIENT
LLM = f"chat {GPT}"
AGENT = "invoke_agent weather"
TOOL = "execute_tool get_weather"
ANSWER = "It is sunny in Paris."
TOOL_THEN_ANSWER: list[Reply | str] = [Reply.tool_call("get_weather", {"city": "Paris"}), ANSWER]
# What the fake server counts for the two requests of TOOL_THEN_ANSWER (the question, then the
# question, the tool call and its result).
TOOL_RUN_TOKENS = {"input": 15, "output": 7}


def handlers_of_ours() -> dict[str, list[Any]]:
    """Our span handlers on LlamaIndex's dispatchers, by the dispatcher's name (those with one)."""
    found = {
        name: [h for h in dispatcher.span_handlers if type(h).__module__.startswith("agentotel.")]
        for name, dispatcher in root_manager.dispatchers.items()
    }
    return {name: handlers for name, handlers in found.items() if handlers}


def ours() -> list[Any]:
    """Our span handlers, each once (one handler is on several dispatchers)."""
    return list({id(h): h for handlers in handlers_of_ours().values() for h in handlers}.values())


def llm(fake: FakeLLMServer, **kwargs: Any) -> Any:
    """LlamaIndex's OpenAI LLM class on the fake server (its own SDK clients, made per call)."""
    return OpenAI(model=GPT, api_base=fake.openai_base_url, api_key=FAKE_OPENAI_KEY, max_retries=0, **kwargs)


def get_weather(city: str) -> str:
    """Weather for a city."""
    return f"Sunny in {city}"


async def aget_weather(city: str) -> str:
    """Weather for a city."""
    return f"Sunny in {city}"


def broken_weather(city: str) -> str:
    """Weather for a city, failing."""
    raise RuntimeError("station offline")


def weather_agent(
    fake: FakeLLMServer, tool: Any = get_weather, streaming: bool = False, **llm_kwargs: Any
) -> Any:
    return FunctionAgent(
        name="weather",
        description="Answers weather questions.",
        tools=[FunctionTool.from_defaults(tool, name="get_weather")],
        llm=llm(fake, **llm_kwargs),
        streaming=streaming,
    )


def react_agent(fake: FakeLLMServer) -> Any:
    return ReActAgent(
        name="weather",
        description="Answers weather questions.",
        tools=[FunctionTool.from_defaults(get_weather)],
        llm=llm(fake),
        streaming=False,
    )


def team(fake: FakeLLMServer) -> Any:
    """An ``AgentWorkflow``: ``researcher`` (with the weather tool) hands off to ``writer``."""
    researcher = FunctionAgent(
        name="researcher",
        description="Finds the weather.",
        tools=[FunctionTool.from_defaults(get_weather)],
        llm=llm(fake),
        can_handoff_to=["writer"],
        streaming=False,
    )
    writer = FunctionAgent(name="writer", description="Writes the answer.", llm=llm(fake), streaming=False)
    return AgentWorkflow(agents=[researcher, writer], root_agent="researcher")


def run(agent: Any, text: str, **kwargs: Any) -> Any:
    """``agent.run(user_msg=text)`` to its end, in a fresh event loop."""

    async def main() -> Any:
        return await agent.run(user_msg=text, **kwargs)

    return asyncio.run(main())


def tree(cap: TelemetryCapture) -> list[tuple[str, str | None, SpanKind]]:
    """(name, parent name, kind) of every span, in start order."""
    spans = sorted(cap.spans(), key=lambda s: s.start_time or 0)
    names = {s.context.span_id: s.name for s in spans if s.context is not None}
    return [(s.name, names.get(s.parent.span_id) if s.parent else None, s.kind) for s in spans]


def named(cap: TelemetryCapture, name: str) -> list[ReadableSpan]:
    return [s for s in cap.spans() if s.name == name]


def llm_requests(fake: FakeLLMServer) -> int:
    return len([r for r in fake.requests if r.path == "/v1/chat/completions"])
