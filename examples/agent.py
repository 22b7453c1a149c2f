"""A small tool-using agent, instrumented with no code change.

    # offline, against agentotel's fake LLM server (no key, no network):
    opentelemetry-instrument --traces_exporter console --metrics_exporter none python examples/agent.py

    # online: set OPENAI_API_KEY (and/or ANTHROPIC_API_KEY); AGENT_MODEL / CLAUDE_MODEL pick models
    OPENAI_API_KEY=sk-... opentelemetry-instrument --traces_exporter otlp python examples/agent.py

The agent itself (tool loop, stream, a handled API error, an embedding, a Claude stream) is in
``agentotel/cli/_demo_agent.py``; this script only chooses where it talks to.
"""

from __future__ import annotations

import os
import sys
from contextlib import ExitStack

import anthropic
import openai

from agentotel.cli._demo_agent import run_anthropic, run_openai


def main() -> int:
    offline = os.environ.get("AGENTOTEL_EXAMPLE_OFFLINE") == "1" or not (
        os.environ.get("OPENAI_API_KEY") or os.environ.get("ANTHROPIC_API_KEY")
    )
    with ExitStack() as stack:
        if offline:
            from agentotel.testing import FakeLLMServer

            server = stack.enter_context(FakeLLMServer())
            oai = openai.OpenAI(base_url=server.openai_base_url, api_key="sk-fake-offline", max_retries=0)
            run_openai(oai, "gpt-4o-mini", offline=True)
            url = server.anthropic_base_url
            claude = anthropic.Anthropic(base_url=url, api_key="sk-ant-fake", max_retries=0)
            run_anthropic(claude, "claude-opus-5", offline=True)
            return 0
        if os.environ.get("OPENAI_API_KEY"):
            run_openai(openai.OpenAI(), os.environ.get("AGENT_MODEL", "gpt-4o-mini"), offline=False)
        if os.environ.get("ANTHROPIC_API_KEY"):
            run_anthropic(
                anthropic.Anthropic(), os.environ.get("CLAUDE_MODEL", "claude-opus-5"), offline=False
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
