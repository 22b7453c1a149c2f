"""What the Ollama test modules share: the model, the clients on the fake server, the expected
attributes, and a helper that lets one test body drive ``Client`` and ``AsyncClient`` alike."""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

import ollama
import pytest
from packaging.version import Version

from agentotel._safe import error_type
from agentotel.testing import FakeLLMServer

MODEL = "llama3.2"
EMBED_MODEL = "nomic-embed-text"
API_KEY = "ollama-fake-key-0123456789abcdef"
QUESTION = "What is the weather in Paris?"  # 6 words: the fake server's prompt tokens
REPLY = "Hello from the fake LLM server."  # 6 words
STREAM_END = "agentotel.stream.end"

SDK_VERSION = Version(version("ollama"))
THINKING = pytest.mark.skipif(Version("0.5.0") > SDK_VERSION, reason="think= / thinking: ollama>=0.5.0")
DIMENSIONS = pytest.mark.skipif(Version("0.5.4") > SDK_VERSION, reason="embed(dimensions=): ollama>=0.5.4")
API_KEY_ENV = pytest.mark.skipif(Version("0.6.0") > SDK_VERSION, reason="OLLAMA_API_KEY: ollama>=0.6.0")
# What the app sees when nothing listens at the host: the SDK wraps httpx's error from 0.4.7.
CONNECT_ERROR = "ConnectionError" if Version("0.4.7") <= SDK_VERSION else "httpx.ConnectError"


def error_name(cls: type[BaseException]) -> str:
    """``error.type`` of an exception of class ``cls``."""
    return error_type(cls.__new__(cls))


def client(server: FakeLLMServer, *, is_async: bool = False) -> Any:
    """A real ``Client`` (or ``AsyncClient``) on the fake server."""
    return (ollama.AsyncClient if is_async else ollama.Client)(host=server.base_url)


def user(text: str = QUESTION) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


def request_attrs(server: FakeLLMServer, operation: str = "chat", *, stream: bool = False) -> dict[str, Any]:
    """Request-side attributes of a call of :data:`MODEL` without options."""
    attrs: dict[str, Any] = {
        "gen_ai.operation.name": operation,
        "gen_ai.provider.name": "ollama",
        "gen_ai.request.model": MODEL,
        "server.address": "127.0.0.1",
        "server.port": server.port,
    }
    if stream:
        attrs["gen_ai.request.stream"] = True
    return attrs


def reply_attrs(input_tokens: int = 6, output_tokens: int = 6, reason: str = "stop") -> dict[str, Any]:
    """Response-side attributes of a reply: the fake server's durations (5 ms to load, 1 ms per
    prompt token, 10 ms per output token, 1 ms more in all), in seconds. Local models are unpriced."""
    prompt_s = input_tokens * 0.001
    eval_s = output_tokens * 0.01
    return {
        "gen_ai.response.model": MODEL,
        "gen_ai.response.finish_reasons": (reason,),
        "gen_ai.usage.input_tokens": input_tokens,
        "gen_ai.usage.output_tokens": output_tokens,
        "ollama.total_duration": (
            5_000_000 + input_tokens * 1_000_000 + output_tokens * 10_000_000 + 1_000_000
        )
        / 1e9,
        "ollama.load_duration": 0.005,
        "ollama.prompt_eval_duration": prompt_s,
        "ollama.eval_duration": eval_s,
    }


def get_weather(city: str) -> str:
    """Get the weather of a city.

    Args:
      city: The city
    """
    return f"sunny in {city}"


get_weather.__annotations__ = {"city": str, "return": str}

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
