"""The compose stack's agent: the demo agents in a loop, in one long-lived process.

Run under ``opentelemetry-instrument`` (see docker-compose.yaml), offline against agentotel's fake
LLM server: every ``DEMO_INTERVAL`` seconds (default 10) the planner agent (``examples/planner.py``)
and the plain SDK agents (``examples/agent.py``: tool loops, a stream, a rate-limited call, an
embedding, Claude) run once more. One process keeps its counters growing, so Prometheus rates and
the Grafana panels move; ``AGENTOTEL_METRICS_SERVER`` gives it ``/metrics``, ``/healthz`` and
``/readyz`` for the container's health check.
"""

from __future__ import annotations

import asyncio
import os
import time

import anthropic
import openai

from agentotel.cli._mcp_demo import venue_server
from agentotel.cli.agent import run_anthropic, run_openai
from agentotel.cli.planner import run_planner
from agentotel.metrics.prometheus import attach_from_env
from agentotel.testing import FakeLLMServer


async def _planner(client: openai.OpenAI) -> None:
    async with venue_server() as lookup:
        await run_planner(client, "gpt-4o-mini", mcp_lookup=lookup)


def main() -> None:
    attach_from_env()  # no-op when agentotel's set-up already started the endpoint
    interval = float(os.environ.get("DEMO_INTERVAL", "10"))
    with FakeLLMServer() as server:
        gpt = openai.OpenAI(base_url=server.openai_base_url, api_key="sk-fake-offline", max_retries=0)
        claude = anthropic.Anthropic(base_url=server.anthropic_base_url, api_key="sk-ant-fake", max_retries=0)
        while True:
            asyncio.run(_planner(gpt))
            run_openai(gpt, "gpt-4o-mini", offline=True)
            run_anthropic(claude, "claude-opus-5", offline=True)
            time.sleep(interval)


if __name__ == "__main__":
    main()
