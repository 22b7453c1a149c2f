"""The planner agent: the agent layer (session, agent rounds, guard, context assembly, plan,
steps, tools, approval, MCP tool call) on top of instrumented OpenAI calls.

    # offline, against agentotel's fake LLM server and an in-memory MCP server:
    opentelemetry-instrument --traces_exporter console --metrics_exporter none python examples/planner.py

    # online: set OPENAI_API_KEY; AGENT_MODEL picks the model
    OPENAI_API_KEY=sk-... opentelemetry-instrument --traces_exporter otlp python examples/planner.py

The agent is ``agentotel/cli/_demo_planner.py`` (also run by ``agentotel demo``).
"""

from __future__ import annotations

import asyncio
import os
import sys
from contextlib import ExitStack

import openai

from agentotel.cli._demo_mcp import venue_server
from agentotel.cli._demo_planner import run_planner


async def _run(client: openai.OpenAI, model: str) -> None:
    async with venue_server() as lookup:
        await run_planner(client, model, mcp_lookup=lookup)


def main() -> int:
    with ExitStack() as stack:
        if os.environ.get("AGENTOTEL_EXAMPLE_OFFLINE") == "1" or not os.environ.get("OPENAI_API_KEY"):
            from agentotel.testing import FakeLLMServer

            server = stack.enter_context(FakeLLMServer())
            client = openai.OpenAI(base_url=server.openai_base_url, api_key="sk-fake-offline", max_retries=0)
            model = "gpt-4o-mini"
        else:
            client, model = openai.OpenAI(), os.environ.get("AGENT_MODEL", "gpt-4o-mini")
        asyncio.run(_run(client, model))
    return 0


if __name__ == "__main__":
    sys.exit(main())
