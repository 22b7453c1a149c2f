"""An agent process for the Prometheus tests, run under ``opentelemetry-instrument``.

    opentelemetry-instrument --metrics_exporter prometheus python tests/prometheus_app.py agent
    AGENTOTEL_METRICS_SERVER=127.0.0.1:PORT opentelemetry-instrument --metrics_exporter none \\
        python tests/prometheus_app.py planner --attach

Starts the fake LLM server, runs one of the demo agents against it (``agent``: the plain SDK
OpenAI agent of ``examples/agent.py``; ``planner``: the planner of ``examples/planner.py``), prints
``ready`` and keeps the process (and its metrics endpoint) alive until its stdin is closed.
``--attach`` calls :func:`agentotel.endpoints._prometheus.attach_from_env` itself before the agent
runs (a no-op returning the same endpoint when agentotel's set-up already did).
"""

from __future__ import annotations

import argparse
import asyncio
import sys

import openai

from agentotel.cli._demo_agent import run_openai
from agentotel.cli._demo_mcp import venue_server
from agentotel.cli._demo_planner import run_planner
from agentotel.testing import FakeLLMServer

MODEL = "gpt-4o-mini"


async def _planner(client: openai.OpenAI) -> None:
    async with venue_server() as lookup:
        await run_planner(client, MODEL, mcp_lookup=lookup, say=lambda _: None)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("agent", choices=("agent", "planner"))
    parser.add_argument("--attach", action="store_true")
    args = parser.parse_args()
    if args.attach:
        from agentotel.endpoints._prometheus import attach_from_env

        exposed = attach_from_env()
        assert exposed is not None, "set AGENTOTEL_METRICS_SERVER or AGENTOTEL_METRICS_FILE"
    with FakeLLMServer() as server:
        client = openai.OpenAI(base_url=server.openai_base_url, api_key="sk-fake-offline", max_retries=0)
        if args.agent == "agent":
            run_openai(client, MODEL, offline=True, say=lambda _: None)
        else:
            asyncio.run(_planner(client))
    print("ready", flush=True)
    sys.stdin.read()
    return 0


if __name__ == "__main__":
    sys.exit(main())
