"""What the Groq test modules share: the model, the clients on the fake server, the attributes
the fake server's answers give."""

from __future__ import annotations

from typing import Any

import groq
import pytest

from agentotel.testing import FakeLLMServer
from agentotel.testing._fake.groq_chat import QUEUE_TIME

MODEL = "llama-3.3-70b-versatile"  # priced: $0.59 input, $0.79 output per million tokens
SPAN_NAME = f"chat {MODEL}"
API_KEY = "gsk_fakeGroqKey0123456789SECRET"
QUESTION = "What is the weather in Paris?"  # 6 tokens on the fake server
REPLY = "Hello from the fake LLM server."  # 6 tokens
STREAM_END = "agentotel.stream.end"
TOKENS = "gen_ai.client.token.usage"
DURATION = "gen_ai.client.operation.duration"
WEATHER_TOOLS: Any = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string", "enum": ["Paris"]}}},
        },
    }
]


def groq_client(server: FakeLLMServer, *, is_async: bool = False) -> Any:
    """A real ``Groq`` / ``AsyncGroq`` client on the fake server, no retries."""
    cls = groq.AsyncGroq if is_async else groq.Groq
    return cls(base_url=server.base_url, api_key=API_KEY, max_retries=0)


def is_async(client: Any) -> bool:
    return isinstance(client, groq.AsyncGroq)


def user(text: str = QUESTION) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


def request_attrs(server: FakeLLMServer, *, stream: bool = False) -> dict[str, Any]:
    """Request-side attributes of a ``chat llama-3.3-70b-versatile`` span without options."""
    attrs: dict[str, Any] = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "groq",
        "gen_ai.request.model": MODEL,
        "server.address": "127.0.0.1",
        "server.port": server.port,
    }
    if stream:
        attrs["gen_ai.request.stream"] = True
    return attrs


def reply_attrs(
    n: int = 1, *, input_tokens: int = 6, output_tokens: int = 6, reason: str = "stop"
) -> dict[str, Any]:
    """Response-side attributes of the fake server's n-th reply, with its cost."""
    return {
        "gen_ai.response.id": f"chatcmpl-{n}",
        "gen_ai.response.model": MODEL,
        "gen_ai.response.finish_reasons": (reason,),
        "gen_ai.usage.input_tokens": input_tokens,
        "gen_ai.usage.output_tokens": output_tokens,
        "groq.usage.queue_time": QUEUE_TIME,
        "groq.request.id": f"req_{n}",
        "agentotel.usage.cost_usd": cost(input_tokens, output_tokens),
    }


def cost(input_tokens: int, output_tokens: int) -> Any:
    """The cost of a call of llama-3.3-70b-versatile at its shipped price (no cache price: cached
    input tokens at the input price)."""
    return pytest.approx((input_tokens * 0.59 + output_tokens * 0.79) / 1e6, rel=1e-12)


def metric_attrs(server: FakeLLMServer, **extra: Any) -> dict[str, Any]:
    """The attributes of every metric point of a call against the fake server."""
    return {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "groq",
        "gen_ai.request.model": MODEL,
        "gen_ai.response.model": MODEL,
        "server.address": "127.0.0.1",
        "server.port": server.port,
        **extra,
    }
