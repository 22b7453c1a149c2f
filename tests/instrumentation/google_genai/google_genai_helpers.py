"""What the Google GenAI test modules share: the model, the clients on the fake server, expected
attributes, and the helpers that let one test body drive ``client.models`` and
``client.aio.models`` alike."""

from __future__ import annotations

from typing import Any

from google import genai

from agentotel.testing import FakeLLMServer

MODEL = "gemini-2.5-flash"
MODEL_VERSION = "gemini-2.5-flash-001"  # what the fake server reports as ``modelVersion``
SPAN_NAME = "generate_content gemini-2.5-flash"
EMBED_MODEL = "text-embedding-004"
API_KEY = "AIzaFakeGeminiKey0123456789"
QUESTION = "What is the weather in Paris?"  # 6 words: the fake server's prompt tokens
REPLY = "Hello from the fake LLM server."  # 6 words
STREAM_END = "agentotel.stream.end"


def gemini_client(server: FakeLLMServer, *, vertexai: bool = False) -> genai.Client:
    """A real client on the fake server: the Gemini API, or Vertex AI in express mode (an API key,
    no project, no credentials lookup) with ``vertexai=True``."""
    return genai.Client(
        vertexai=vertexai or None, api_key=API_KEY, http_options={"base_url": server.base_url}
    )


def is_async(models: Any) -> bool:
    return isinstance(models, genai.models.AsyncModels)


def request_attrs(
    server: FakeLLMServer, *, stream: bool = False, provider: str = "gcp.gemini"
) -> dict[str, Any]:
    """Request-side attributes of a ``generate_content gemini-2.5-flash`` span without config."""
    attrs: dict[str, Any] = {
        "gen_ai.operation.name": "generate_content",
        "gen_ai.provider.name": provider,
        "gen_ai.request.model": MODEL,
        "server.address": "127.0.0.1",
        "server.port": server.port,
    }
    if stream:
        attrs["gen_ai.request.stream"] = True
    return attrs


def reply_attrs(response_id: str, input_tokens: int = 6, output_tokens: int = 6) -> dict[str, Any]:
    """Response-side attributes of a plain text reply."""
    return {
        "gen_ai.response.id": response_id,
        "gen_ai.response.model": MODEL_VERSION,
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": input_tokens,
        "gen_ai.usage.output_tokens": output_tokens,
    }


def get_weather(city: str) -> str:
    """The weather of a city."""
    return f"sunny in {city}"


WEATHER_TOOL: Any = {
    "function_declarations": [
        {
            "name": "get_weather",
            "description": "The weather of a city.",
            "parameters_json_schema": {
                "type": "object",
                "properties": {"city": {"type": "string", "enum": ["Paris"]}},
                "required": ["city"],
            },
        }
    ]
}
