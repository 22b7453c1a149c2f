"""What the conventions tables test runs: one small workload per instrumentor and for the agent
layer, each against the fake LLM server with the real SDK, and what it observed (span names,
kinds and attribute keys; metric names and attribute keys; log event names).

Imported as ``from workloads import ...`` (``tests/conventions/`` is on ``sys.path``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from helpers import CHAT_TOOLS, CLAUDE, FAKE_ANTHROPIC_KEY, FAKE_OPENAI_KEY, GPT, QUESTION, sdk_installed
from opentelemetry.trace import SpanKind

from agentotel.testing import FakeLLMServer, Reply
from agentotel.testing._capture import TelemetryCapture

INTERNAL, CLIENT = SpanKind.INTERNAL, SpanKind.CLIENT
GEMINI = "gemini-2.5-flash"
BEDROCK_CLAUDE = "anthropic.claude-3-5-sonnet-20240620-v1:0"
EMBEDDING_MODEL = "text-embedding-3-small"
CACHE = "[[scenario:cached:3]] [[scenario:cache_write:4]]"
"""A prompt whose reply reports 3 input tokens read from and 4 written to the provider's cache."""


@dataclass(frozen=True)
class Span:
    """One span as the tables pin it."""

    kind: str
    """Which of the conventions' span tables it follows (see the test module)."""
    name: str
    span_kind: SpanKind
    keys: frozenset[str]


@dataclass(frozen=True)
class Observed:
    spans: tuple[Span, ...]
    metrics: dict[str, frozenset[str]]
    """Metric name -> the union of its points' attribute keys."""
    events: frozenset[str]


def _span_kind(name: str, op: object, mcp: bool) -> str:
    if mcp:
        return "mcp"
    first = str(op or name.split(" ")[0])
    return {
        "chat": "inference",
        "generate_content": "inference",
        "text_completion": "inference",
        "embeddings": "embeddings",
        "invoke_agent": "invoke_agent",
        "invoke_workflow": "invoke_workflow",
        "plan": "plan",
        "execute_tool": "execute_tool",
        "apply_guardrail": "apply_guardrail",
        "rerank": "client_extension",
    }.get(first, "extension")


def observe(cap: TelemetryCapture) -> Observed:
    """What ``cap`` holds, as the tables pin it (spans in end order)."""
    spans = tuple(
        Span(
            _span_kind(
                s.name,
                (s.attributes or {}).get("gen_ai.operation.name"),
                "mcp.method.name" in (s.attributes or {}),
            ),
            s.name,
            s.kind,
            frozenset(s.attributes or {}),
        )
        for s in cap.spans()
    )
    metrics: dict[str, set[str]] = {}
    data = cap.metric_reader.get_metrics_data()
    for rm in data.resource_metrics if data else ():
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                keys = metrics.setdefault(metric.name, set())
                for point in metric.data.data_points:
                    keys.update(point.attributes or {})
    events = frozenset(str(r.event_name) for r in cap.logs() if getattr(r, "event_name", None))
    return Observed(spans, {k: frozenset(v) for k, v in metrics.items()}, events)


# --- the workloads ---------------------------------------------------------------------------------
# Each takes the fake server and makes its calls; the test has instrumented what ``INSTRUMENTORS``
# names on ``cap`` (and pointed the agent API at it) in the mode under test.


def openai_chat(server: FakeLLMServer) -> None:
    """A chat call (with a tool offered and answered), a stream, an embeddings call, a failed call."""
    import openai

    client = openai.OpenAI(base_url=server.openai_base_url, api_key=FAKE_OPENAI_KEY, max_retries=0)
    client.chat.completions.create(
        model=GPT,
        messages=[{"role": "user", "content": f"{QUESTION} [[scenario:reasoning:2]]"}],
        temperature=0.5,
        max_tokens=50,
    )
    stream = client.chat.completions.create(
        model=GPT,
        messages=[{"role": "user", "content": QUESTION}],
        stream=True,
        stream_options={"include_usage": True},
    )
    for _ in stream:
        pass
    client.embeddings.create(model=EMBEDDING_MODEL, input=QUESTION)
    with contextlib.suppress(openai.BadRequestError):
        client.chat.completions.create(
            model=GPT, messages=[{"role": "user", "content": "[[scenario:bad_request]]"}]
        )


def anthropic_messages(server: FakeLLMServer) -> None:
    """A message call with cache tokens (``top_k``: anthropic 2.x has no such argument)."""
    import anthropic

    client = anthropic.Anthropic(
        base_url=server.anthropic_base_url, api_key=FAKE_ANTHROPIC_KEY, max_retries=0
    )
    client.messages.create(
        model=CLAUDE,
        max_tokens=100,
        messages=[{"role": "user", "content": f"{QUESTION} {CACHE}"}],
    )


def google_genai(server: FakeLLMServer) -> None:
    """A Gemini ``generate_content`` call with ``top_k``."""
    from google import genai

    client = genai.Client(api_key="AIzaFakeGeminiKey0123456789", http_options={"base_url": server.base_url})
    client.models.generate_content(model=GEMINI, contents=QUESTION, config={"top_k": 40, "temperature": 0.5})


def bedrock_converse(server: FakeLLMServer) -> None:
    """A Bedrock ``converse`` call with cache tokens."""
    import boto3
    from botocore.config import Config

    client = boto3.session.Session().client(
        "bedrock-runtime",
        region_name="us-east-1",
        endpoint_url=server.base_url,
        aws_access_key_id="AKIAFAKEACCESSKEY0001",
        aws_secret_access_key="fakeSecretKey0123456789SECRETabcdefghijkl",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )
    client.converse(
        modelId=BEDROCK_CLAUDE,
        messages=[{"role": "user", "content": [{"text": f"{QUESTION} {CACHE}"}]}],
        inferenceConfig={"maxTokens": 50},
    )


def litellm_completion(server: FakeLLMServer) -> None:
    """LiteLLM routed to Anthropic (cache tokens, ``top_k``)."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    litellm.completion(
        model=f"anthropic/{CLAUDE}",
        api_base=server.anthropic_base_url,
        api_key=FAKE_ANTHROPIC_KEY,
        max_tokens=100,
        top_k=40,
        max_retries=0,
        messages=[{"role": "user", "content": f"{QUESTION} {CACHE}"}],
    )


def langchain_graph(server: FakeLLMServer) -> None:
    """A LangChain tool invoked, and a one-node LangGraph graph."""
    from langchain_core.tools import tool
    from langgraph.graph import END, START, MessagesState, StateGraph

    @tool
    def get_weather(city: str) -> str:
        """Weather for a city."""
        return f"Sunny in {city}"

    get_weather.invoke({"city": "Paris"})
    graph = StateGraph(MessagesState)
    graph.add_node("agent", lambda state: {"messages": []})
    graph.add_edge(START, "agent")
    graph.add_edge("agent", END)
    graph.compile(name="weather").invoke({"messages": []})


def openai_agents_run(server: FakeLLMServer) -> None:
    """An OpenAI Agents run: a guardrail, a tool call, an answer."""
    import agents
    import openai

    @agents.function_tool
    def get_weather(city: str) -> str:
        """Weather for a city."""
        return f"Sunny in {city}"

    def _no_secrets(ctx: Any, agent: Any, text: Any) -> Any:
        return agents.GuardrailFunctionOutput(output_info=None, tripwire_triggered=False)

    _no_secrets.__name__ = "no_secrets"
    server.script([Reply.tool_call("get_weather", {"city": "Paris"}), "Done."])
    client = openai.AsyncOpenAI(base_url=server.openai_base_url, api_key=FAKE_OPENAI_KEY, max_retries=0)
    agent = agents.Agent(
        name="triage",
        instructions="You triage.",
        model=agents.OpenAIChatCompletionsModel(GPT, client),
        tools=[get_weather],
        input_guardrails=[agents.input_guardrail(_no_secrets)],
    )
    asyncio.run(agents.Runner.run(agent, QUESTION))


def pydantic_ai_run(server: FakeLLMServer) -> None:
    """A Pydantic AI agent run: a tool call, an answer."""
    import openai
    from pydantic_ai import Agent
    from pydantic_ai.models.openai import OpenAIChatModel
    from pydantic_ai.providers.openai import OpenAIProvider

    server.script([Reply.tool_call("get_weather", {"city": "Paris"}), Reply.text("Sunny.")])
    client = openai.AsyncOpenAI(base_url=server.openai_base_url, api_key=FAKE_OPENAI_KEY, max_retries=0)
    agent: Agent[None, str] = Agent(
        OpenAIChatModel(GPT, provider=OpenAIProvider(openai_client=client)), name="weather"
    )

    @agent.tool_plain
    def get_weather(city: str) -> str:
        """Weather for a city."""
        return f"Sunny in {city}"

    agent.run_sync(QUESTION)


def mcp_tool_call(server: FakeLLMServer) -> None:
    """An MCP ``tools/call`` (in-process client and server) inside an agent round."""
    from mcp import Client
    from mcp.server.mcpserver import MCPServer

    import agentotel

    mcp_server = MCPServer("weather-server")

    @mcp_server.tool()
    def get_weather(city: str) -> str:
        """Weather for a city."""
        return f"Sunny in {city}"

    async def call() -> None:
        async with Client(mcp_server, mode="legacy") as client:
            await client.call_tool("get_weather", {"city": "Paris"})

    with agentotel.agent("helper"):
        asyncio.run(call())


def agent_layer(server: FakeLLMServer) -> None:
    """Every agent-layer API in one trace, with LLM calls in an agent round: a workflow, an agent
    round (with an id), a guard, a plan with a step and a tool, an approval, a context assembly,
    a model call asking for a tool and the next call sending its result back (an inferred tool)."""
    import openai

    import agentotel

    client = openai.OpenAI(base_url=server.openai_base_url, api_key=FAKE_OPENAI_KEY, max_retries=0)
    with agentotel.workflow("research"), agentotel.agent("helper", agent_id="agent-7", description="Answers"):
        with agentotel.guard("pii") as guard:
            guard.flag("an e-mail address")
        with agentotel.plan("helper"), agentotel.step("lookup", type="tool"), agentotel.tool("search"):
            pass
        asked = client.chat.completions.create(
            model=GPT, messages=[{"role": "user", "content": QUESTION}], tools=CHAT_TOOLS
        )
        call = asked.choices[0].message.tool_calls[0]
        client.chat.completions.create(
            model=GPT,
            tools=CHAT_TOOLS,
            messages=[
                {"role": "user", "content": QUESTION},
                asked.choices[0].message.model_dump(exclude_none=True),
                {"role": "tool", "tool_call_id": call.id, "content": "Sunny"},
            ],
        )
        with agentotel.approval("send_email", approver="ops") as approval:
            approval.approve()


def _quiet(_: str) -> None:
    """The demo calls' printed answer, not needed here."""


def mistral_chat(server: FakeLLMServer) -> None:
    """The demo's Mistral chat call (``agentotel.cli._demo_mistralai``)."""
    from agentotel.cli import _demo_mistralai as demo

    demo.run(demo.client(server.base_url), demo.MODEL, _quiet)


def cohere_chat_rerank(server: FakeLLMServer) -> None:
    """The demo's Cohere chat call and a rerank (an operation neither inference nor embeddings)."""
    from agentotel.cli import _demo_cohere as demo

    client = demo.client(server.base_url)
    demo.run(client, demo.MODEL, _quiet)
    client.rerank(model="rerank-v3.5", query="q", documents=["d1", "d2"])


def ollama_chat_generate(server: FakeLLMServer) -> None:
    """The demo's Ollama chat call and a ``generate`` (``text_completion``)."""
    from agentotel.cli import _demo_ollama as demo

    client = demo.client(server.base_url)
    demo.run(client, demo.MODEL, _quiet)
    client.generate(model=demo.MODEL, prompt=QUESTION)


def groq_chat(server: FakeLLMServer) -> None:
    """The demo's Groq chat call."""
    from agentotel.cli import _demo_groq as demo

    demo.run(demo.client(server.base_url), demo.MODEL, _quiet)


def crewai_kickoff(server: FakeLLMServer) -> None:
    """A one-task crew whose agent calls a tool, then answers (CrewAI's native OpenAI LLM class)."""
    import os
    import tempfile

    os.environ.setdefault("CREWAI_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("CREWAI_TRACING_ENABLED", "false")
    os.environ.setdefault("CREWAI_STORAGE_DIR", tempfile.mkdtemp(prefix="agentotel-crewai-"))
    from crewai import LLM, Agent, Crew, Task
    from crewai.tools import tool

    from agentotel.testing import Reply

    @tool("get_weather")
    def get_weather(city: str) -> str:
        """Weather for a city."""
        return f"Sunny in {city}"

    server.script([Reply.tool_call("get_weather", {"city": "Paris"}), "It is sunny in Paris."])
    llm = LLM(
        model="gpt-4o-mini", base_url=server.openai_base_url, api_key="sk-fake-conventions", max_retries=0
    )
    agent = Agent(
        role="forecaster", goal="Tell the weather", backstory="A meteorologist.", llm=llm, tools=[get_weather]
    )
    task = Task(
        name="forecast", description="Weather in Paris?", expected_output="One sentence.", agent=agent
    )
    Crew(name="weather crew", agents=[agent], tasks=[task]).kickoff()


def llama_index_agent(server: FakeLLMServer) -> None:
    """A LlamaIndex ``FunctionAgent`` that calls a tool, then answers."""
    import asyncio

    from llama_index.core.agent.workflow import FunctionAgent
    from llama_index.llms.openai import OpenAI

    from agentotel.testing import Reply

    def get_weather(city: str) -> str:
        """Weather for a city."""
        return f"Sunny in {city}"

    server.script([Reply.tool_call("get_weather", {"city": "Paris"}), "It is sunny in Paris."])
    llm = OpenAI(
        model="gpt-4o-mini", api_base=server.openai_base_url, api_key="sk-fake-conventions", max_retries=0
    )
    agent = FunctionAgent(name="forecaster", tools=[get_weather], llm=llm, streaming=False)

    async def ask() -> object:
        return await agent.run(user_msg="What is the weather in Paris?")

    asyncio.run(ask())


@dataclass(frozen=True)
class Workload:
    run: Callable[[FakeLLMServer], None]
    instrumentors: tuple[str, ...]
    """``module:Class`` of each instrumentor, under ``agentotel.instrumentation``."""
    distributions: tuple[str, ...]
    """What must be installed (the test skips otherwise)."""
    agent_api: bool = False


WORKLOADS: dict[str, Workload] = {
    "openai": Workload(openai_chat, ("openai:OpenAIInstrumentor",), ("openai",)),
    "anthropic": Workload(anthropic_messages, ("anthropic:AnthropicInstrumentor",), ("anthropic",)),
    "google_genai": Workload(google_genai, ("google_genai:GoogleGenAIInstrumentor",), ("google-genai",)),
    "bedrock": Workload(bedrock_converse, ("bedrock:BedrockInstrumentor",), ("boto3",)),
    "litellm": Workload(
        litellm_completion, ("litellm:LiteLLMInstrumentor", "anthropic:AnthropicInstrumentor"), ("litellm",)
    ),
    "langchain": Workload(
        langchain_graph, ("langchain:LangChainInstrumentor",), ("langchain-core", "langgraph")
    ),
    "openai_agents": Workload(
        openai_agents_run,
        ("openai:OpenAIInstrumentor", "openai_agents:OpenAIAgentsInstrumentor"),
        ("openai-agents",),
    ),
    "pydantic_ai": Workload(
        pydantic_ai_run,
        ("openai:OpenAIInstrumentor", "pydantic_ai:PydanticAIInstrumentor"),
        ("pydantic-ai-slim",),
    ),
    "mistralai": Workload(mistral_chat, ("mistralai:MistralInstrumentor",), ("mistralai",)),
    "cohere": Workload(cohere_chat_rerank, ("cohere:CohereInstrumentor",), ("cohere",)),
    "ollama": Workload(ollama_chat_generate, ("ollama:OllamaInstrumentor",), ("ollama",)),
    "groq": Workload(groq_chat, ("groq:GroqInstrumentor",), ("groq",)),
    # In their own nox rows (crewai and llama-index need openai<3): skipped in .venv.
    "crewai": Workload(
        crewai_kickoff, ("openai:OpenAIInstrumentor", "crewai:CrewAIInstrumentor"), ("crewai",)
    ),
    "llama_index": Workload(
        llama_index_agent,
        ("openai:OpenAIInstrumentor", "llama_index:LlamaIndexInstrumentor"),
        ("llama-index-core", "llama-index-llms-openai"),
    ),
    "mcp": Workload(mcp_tool_call, ("mcp:MCPInstrumentor",), ("mcp",), agent_api=True),
    "agent_layer": Workload(agent_layer, ("openai:OpenAIInstrumentor",), ("openai",), agent_api=True),
}


def installed(workload: Workload) -> bool:
    return all(sdk_installed(d) for d in workload.distributions)
