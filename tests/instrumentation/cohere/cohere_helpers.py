"""What the Cohere test modules share: the models, the clients on the fake server, expected
attributes, and helpers that let one test body drive ``ClientV2`` and ``AsyncClientV2`` alike."""

from __future__ import annotations

import asyncio
import gc
import inspect
from typing import Any

import cohere
import pytest

from agentotel.testing import FakeLLMServer
from agentotel.testing._fake.cohere_v2 import TEMPLATE_TOKENS

MODEL = "command-r-08-2024"  # priced: $0.15 input, $0.60 output per million tokens
SPAN_NAME = f"chat {MODEL}"
EMBED_MODEL = "embed-v4.0"
RERANK_MODEL = "rerank-v3.5"
API_KEY = "co-FakeCohereKey-0123456789abcdef"
QUESTION = "What is the weather in Paris?"  # 6 words: the fake server's billed prompt tokens
REPLY = "Hello from the fake LLM server."  # 6 words
STREAM_END = "agentotel.stream.end"
TTFC = "gen_ai.response.time_to_first_chunk"

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
TOOL_ARGS = {"city": "Paris"}


# ``ClientV2(max_retries=...)`` appeared in 7.1.0; 7.0.x retries 429 and 5xx twice by default
# (``HttpClient.base_max_retries``); before 7.0 the SDK retried only when asked per request.
HAS_MAX_RETRIES = "max_retries" in inspect.signature(cohere.ClientV2.__init__).parameters
requires_max_retries = pytest.mark.skipif(
    not HAS_MAX_RETRIES, reason="ClientV2(max_retries=...): cohere>=7.1.0"
)


def _no_retries(client: Any) -> Any:
    """The client without the SDK's retries (an error is one request) on every version."""
    http = client._client_wrapper.httpx_client
    if not HAS_MAX_RETRIES and hasattr(http, "base_max_retries"):
        http.base_max_retries = 0
    return client


def make_client(cls: Any, base_url: str) -> Any:
    """A real ``cls`` (``ClientV2``, ``AsyncClientV2``, ``Client``) on ``base_url``, without the
    SDK's retries (an error is one request)."""
    retries = {"max_retries": 0} if HAS_MAX_RETRIES else {}
    return _no_retries(cls(api_key=API_KEY, base_url=base_url, **retries))


def sync_client(server: FakeLLMServer) -> cohere.ClientV2:
    """A real ``ClientV2`` on the fake server, without the SDK's retries."""
    return make_client(cohere.ClientV2, server.base_url)  # type: ignore[no-any-return]


def async_client(server: FakeLLMServer) -> cohere.AsyncClientV2:
    return make_client(cohere.AsyncClientV2, server.base_url)  # type: ignore[no-any-return]


def is_async(client: Any) -> bool:
    return isinstance(client, cohere.AsyncClientV2)


def user(text: str = QUESTION) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


def cost(input_tokens: int, output_tokens: int) -> Any:
    """The cost of a call of command-r-08-2024 at its shipped price."""
    return pytest.approx((input_tokens * 0.15 + output_tokens * 0.6) / 1e6, rel=1e-12)


def request_attrs(server: FakeLLMServer, *, stream: bool = False, model: str = MODEL) -> dict[str, Any]:
    """Request-side attributes of a ``chat`` span without options."""
    attrs: dict[str, Any] = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "cohere",
        "gen_ai.request.model": model,
        "server.address": "127.0.0.1",
        "server.port": server.port,
    }
    if stream:
        attrs["gen_ai.request.stream"] = True
    return attrs


def reply_attrs(
    response_id: str, input_tokens: int = 6, output_tokens: int = 6, reason: str = "complete"
) -> dict[str, Any]:
    """Response-side attributes of a chat reply: the billed tokens (never ``usage.tokens``, which
    adds the template's :data:`TEMPLATE_TOKENS`) and their cost."""
    assert TEMPLATE_TOKENS  # the fake server reports two different input counts
    return {
        "gen_ai.response.id": response_id,
        "gen_ai.response.finish_reasons": (reason,),
        "gen_ai.usage.input_tokens": input_tokens,
        "gen_ai.usage.output_tokens": output_tokens,
        "agentotel.usage.cost_usd": cost(input_tokens, output_tokens),
    }


def tool_call_attrs(call_id: str) -> dict[str, Any]:
    return {
        "agentotel.response.tool_calls.names": ("get_weather",),
        "agentotel.response.tool_calls.ids": (call_id,),
    }


# --- streams ------------------------------------------------------------------------------------
async def events_of(stream: Any) -> list[Any]:
    if hasattr(stream, "__aiter__"):
        return [event async for event in stream]
    return list(stream)


async def first_event(stream: Any) -> Any:
    return await stream.__anext__() if hasattr(stream, "__anext__") else next(stream)


async def close(stream: Any) -> None:
    if hasattr(stream, "aclose"):
        await stream.aclose()
    else:
        stream.close()


async def collect_garbage() -> None:
    # An abandoned async generator is closed by a task the event loop schedules.
    for _ in range(4):
        gc.collect()
        await asyncio.sleep(0)
