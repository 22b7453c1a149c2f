"""A small tool-using agent, instrumented with no code change.

    # offline, against agentotel's fake LLM server (no key, no network):
    opentelemetry-instrument --traces_exporter console --metrics_exporter none python examples/agent.py

    # online: set OPENAI_API_KEY (and/or ANTHROPIC_API_KEY); AGENT_MODEL / CLAUDE_MODEL pick models
    OPENAI_API_KEY=sk-... opentelemetry-instrument --traces_exporter otlp python examples/agent.py

The agent itself (tool loop, stream, a handled API error, an embedding, a Claude stream) is in
``agentotel/cli/_demo_agent.py``; then one call through each other provider whose SDK is installed
(``agentotel/cli/_demo_providers.py``): Gemini ``generate_content``, Bedrock ``converse``, Mistral,
Cohere, Ollama and Groq chat, LiteLLM ``completion``. Online, each runs when its key is set:
``GEMINI_API_KEY`` / ``GOOGLE_API_KEY`` (``GEMINI_MODEL``), AWS credentials in ``AWS_ACCESS_KEY_ID``
or ``AWS_BEARER_TOKEN_BEDROCK`` (``BEDROCK_MODEL``, region from ``AWS_REGION``; a shell's
``AWS_PROFILE`` alone does not make real Bedrock calls), ``MISTRAL_API_KEY``, ``CO_API_KEY``,
``OLLAMA_HOST`` (a local Ollama server), ``GROQ_API_KEY``, the key of the provider of
``LITELLM_MODEL`` (default ``openai/gpt-4o-mini``: ``OPENAI_API_KEY``). This script only chooses
where each talks to.
"""

from __future__ import annotations

import importlib
import os
import sys
from contextlib import ExitStack

import anthropic
import openai

from agentotel.cli import _demo_providers as providers
from agentotel.cli._demo_agent import run_anthropic, run_openai

GEMINI_KEYS = ("GEMINI_API_KEY", "GOOGLE_API_KEY")
AWS_KEYS = ("AWS_ACCESS_KEY_ID", "AWS_BEARER_TOKEN_BEDROCK")
# What makes each provider module of _demo_providers.MORE_PROVIDERS call its real API.
MORE_KEYS = {
    "mistralai": "MISTRAL_API_KEY",
    "cohere": "CO_API_KEY",
    "ollama": "OLLAMA_HOST",
    "groq": "GROQ_API_KEY",
}
# The key LiteLLM needs for the provider prefix of LITELLM_MODEL.
LITELLM_KEYS = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY", "gemini": "GEMINI_API_KEY"}


def _set(*names: str) -> bool:
    return any(os.environ.get(name) for name in names)


def main() -> int:
    offline = os.environ.get("AGENTOTEL_EXAMPLE_OFFLINE") == "1" or not _set(
        "OPENAI_API_KEY", "ANTHROPIC_API_KEY", *GEMINI_KEYS, *AWS_KEYS, *MORE_KEYS.values()
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
            providers.run_offline(server.base_url, server.openai_base_url, print)
            return 0
        if os.environ.get("OPENAI_API_KEY"):
            run_openai(openai.OpenAI(), os.environ.get("AGENT_MODEL", "gpt-4o-mini"), offline=False)
        if os.environ.get("ANTHROPIC_API_KEY"):
            run_anthropic(
                anthropic.Anthropic(), os.environ.get("CLAUDE_MODEL", "claude-opus-5"), offline=False
            )
        _online_providers()
    return 0


def _online_providers() -> None:
    """One call per other provider whose key is set, against its real API."""
    if _set(*GEMINI_KEYS):
        model = os.environ.get("GEMINI_MODEL", providers.GEMINI_MODEL)
        try:
            providers.run_gemini(providers.gemini_client(None), model, print)
        except ImportError:
            providers.skipped("gemini", "google-genai", print)
    if _set(*AWS_KEYS):
        model = os.environ.get("BEDROCK_MODEL", providers.BEDROCK_MODEL)
        try:
            providers.run_bedrock(providers.bedrock_client(None), model, print)
        except ImportError:
            providers.skipped("bedrock", "bedrock", print)
    for name, shown in providers.MORE_PROVIDERS:
        if _set(MORE_KEYS[name]):
            module = importlib.import_module(f"agentotel.cli._demo_{name}")
            try:
                module.run(module.client(None), module.MODEL, print)
            except ImportError:
                providers.skipped(shown, name, print)
    model = os.environ.get("LITELLM_MODEL", providers.LITELLM_MODEL)
    if _set(LITELLM_KEYS.get(model.split("/", 1)[0], "LITELLM_MODEL")):
        try:
            litellm = providers.import_litellm()
        except ImportError:
            providers.skipped("litellm", "litellm", print)
        else:
            providers.run_litellm(litellm, model, print)


if __name__ == "__main__":
    sys.exit(main())
