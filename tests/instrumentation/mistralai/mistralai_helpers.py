"""What the Mistral test modules share: the models, the client on the fake server, the calls in
either mode, and the expected attributes."""

from __future__ import annotations

from typing import Any

import pytest
from mistralai.client import Mistral

from agentotel.testing import FakeLLMServer

MODEL = "mistral-small-latest"  # priced: $0.15 input, $0.60 output per million tokens
EMBED_MODEL = "mistral-embed"
SPAN_NAME = "chat mistral-small-latest"
API_KEY = "mistral-test-key-0123456789abcdef"
QUESTION = "What is the weather in Paris?"  # 6 words: the fake server's prompt tokens
REPLY = "Hello from the fake LLM server."  # 6 words
MESSAGES: list[dict[str, Any]] = [{"role": "user", "content": QUESTION}]
WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather of a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "enum": ["Paris"]}},
            "required": ["city"],
        },
    },
}
STREAM_END = "agentotel.stream.end"


def mistral_client(server: FakeLLMServer, **kwargs: Any) -> Mistral:
    """A real ``Mistral`` client on the fake server's Mistral routes."""
    return Mistral(api_key=API_KEY, server_url=f"{server.base_url}/mistral", **kwargs)


async def complete(client: Mistral, mode: str, **kwargs: Any) -> Any:
    """``chat.complete`` (sync) or ``chat.complete_async``."""
    if mode == "sync":
        return client.chat.complete(**kwargs)
    return await client.chat.complete_async(**kwargs)


async def stream_all(client: Mistral, mode: str, **kwargs: Any) -> list[Any]:
    """Every event of ``chat.stream`` (sync) or ``chat.stream_async``, read to the end."""
    if mode == "sync":
        return list(client.chat.stream(**kwargs))
    return [event async for event in await client.chat.stream_async(**kwargs)]


async def embed(client: Mistral, mode: str, **kwargs: Any) -> Any:
    """``embeddings.create`` (sync) or ``embeddings.create_async``."""
    if mode == "sync":
        return client.embeddings.create(**kwargs)
    return await client.embeddings.create_async(**kwargs)


def request_attrs(server: FakeLLMServer, *, stream: bool = False, model: str = MODEL) -> dict[str, Any]:
    """Request-side attributes of a chat span without options."""
    attrs: dict[str, Any] = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "mistral_ai",
        "gen_ai.request.model": model,
        "server.address": "127.0.0.1",
        "server.port": server.port,
    }
    if stream:
        attrs["gen_ai.request.stream"] = True
    return attrs


def reply_attrs(response_id: str, input_tokens: int = 6, output_tokens: int = 6) -> dict[str, Any]:
    """Response-side attributes of a plain text reply, with its cost."""
    return {
        "gen_ai.response.id": response_id,
        "gen_ai.response.model": MODEL,
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": input_tokens,
        "gen_ai.usage.output_tokens": output_tokens,
        "agentotel.usage.cost_usd": cost(input_tokens, output_tokens),
    }


def cost(input_tokens: int, output_tokens: int) -> Any:
    """The cost of a call of mistral-small-latest at its shipped price."""
    return pytest.approx((input_tokens * 0.15 + output_tokens * 0.6) / 1e6, rel=1e-12)
