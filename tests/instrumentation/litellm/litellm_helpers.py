"""What the LiteLLM test modules share: the models, expected attributes, and calls that drive the
sync or the async LiteLLM function alike (``flavour``)."""

from __future__ import annotations

from typing import Any

import litellm

from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture

litellm.suppress_debug_info = True  # no "Give Feedback" banner on every error

GPT = "gpt-4o"
CLAUDE = "claude-opus-5"
EMBEDDING = "text-embedding-3-small"
KEY = "sk-litellm-test-0123456789SECRET"
MAX_TOKENS = 100


def openai_kw(server: FakeLLMServer, **extra: Any) -> dict[str, Any]:
    """``openai/gpt-4o`` on the fake server, no SDK retries (one request per call)."""
    return {
        "model": f"openai/{GPT}",
        "api_base": server.openai_base_url,
        "api_key": KEY,
        "max_retries": 0,
        **extra,
    }


def azure_kw(server: FakeLLMServer, **extra: Any) -> dict[str, Any]:
    """``azure/gpt-4o`` (a deployment) on the fake server: LiteLLM sends it through the ``openai``
    SDK's ``AzureOpenAI`` client (``chat.completions.create``, which the OpenAI instrumentor wraps)."""
    return {
        "model": f"azure/{GPT}",
        "api_base": server.base_url,
        "api_version": "2024-10-21",
        "api_key": KEY,
        "max_retries": 0,
        **extra,
    }


def anthropic_kw(server: FakeLLMServer, **extra: Any) -> dict[str, Any]:
    """``anthropic/claude-opus-5`` on the fake server."""
    return {
        "model": f"anthropic/{CLAUDE}",
        "api_base": server.anthropic_base_url,
        "api_key": KEY,
        "max_tokens": MAX_TOKENS,
        "max_retries": 0,
        **extra,
    }


async def complete(flavour: str, **kwargs: Any) -> Any:
    """``litellm.completion`` or ``await litellm.acompletion`` with ``kwargs``."""
    if flavour == "async":
        return await litellm.acompletion(**kwargs)
    return litellm.completion(**kwargs)


async def embed(flavour: str, **kwargs: Any) -> Any:
    """``litellm.embedding`` or ``await litellm.aembedding`` with ``kwargs``."""
    if flavour == "async":
        return await litellm.aembedding(**kwargs)
    return litellm.embedding(**kwargs)


def route_attrs(server: FakeLLMServer, provider: str, model: str, operation: str = "chat") -> dict[str, Any]:
    """Request-side attributes every LiteLLM span to the fake server has."""
    return {
        "gen_ai.operation.name": operation,
        "gen_ai.provider.name": provider,
        "gen_ai.request.model": model,
        "server.address": "127.0.0.1",
        "server.port": server.port,
    }


def tokens(cap: TelemetryCapture) -> dict[str, float]:
    """Token usage by ``gen_ai.token.type``, summed over every call (and every other attribute)."""
    found: dict[str, float] = {}
    for point in cap.metric_points("gen_ai.client.token.usage"):
        kind = str(dict(point.attributes)["gen_ai.token.type"])
        found[kind] = found.get(kind, 0) + point.sum
    return found
