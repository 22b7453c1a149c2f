"""What the Google GenAI test modules share: the model, the clients on the fake server, expected
attributes, and the helpers that let one test body drive ``client.models`` and
``client.aio.models`` alike."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from google import genai
from google.genai import models as genai_models

from agentotel._safe import error_type
from agentotel.testing import FakeLLMServer

MODEL = "gemini-2.5-flash"
MODEL_VERSION = "gemini-2.5-flash-001"  # what the fake server reports as ``modelVersion``
SPAN_NAME = "generate_content gemini-2.5-flash"
EMBED_MODEL = "text-embedding-004"
API_KEY = "AIzaFakeGeminiKey0123456789"
QUESTION = "What is the weather in Paris?"  # 6 words: the fake server's prompt tokens
REPLY = "Hello from the fake LLM server."  # 6 words
STREAM_END = "agentotel.stream.end"

# The Gemini API's ``responseId`` is read into ``response_id`` only by newer SDKs (1.10.0 reads it
# for Vertex AI only): the attribute is expected where the installed SDK gives the app the id.
READS_RESPONSE_ID = "'responseId'" in inspect.getsource(genai_models._GenerateContentResponse_from_mldev)
VERTEX_READS_RESPONSE_ID = "'responseId'" in inspect.getsource(
    genai_models._GenerateContentResponse_from_vertex
)


def response_ids(*numbers: int) -> list[str | None]:
    """The ``gen_ai.response.id`` of the n-th responses of the fake server, as recorded."""
    return [f"resp_{n}" if READS_RESPONSE_ID else None for n in numbers]


def error_name(cls: type[BaseException]) -> str:
    """``error.type`` of an exception of class ``cls``."""
    return error_type(cls.__new__(cls))


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


def reply_attrs(
    response_id: str, input_tokens: int = 6, output_tokens: int = 6, *, vertex: bool = False
) -> dict[str, Any]:
    """Response-side attributes of a plain text reply: on the Gemini API its cost at Gemini 2.5
    Flash's shipped price ($0.30 input, $2.50 output per million tokens); Vertex AI ships unpriced."""
    reads = VERTEX_READS_RESPONSE_ID if vertex else READS_RESPONSE_ID
    head = {"gen_ai.response.id": response_id} if reads else {}
    cost = {} if vertex else {"agentotel.usage.cost_usd": gemini_cost(input_tokens, output_tokens)}
    return {
        **head,
        "gen_ai.response.model": MODEL_VERSION,
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": input_tokens,
        "gen_ai.usage.output_tokens": output_tokens,
        **cost,
    }


def gemini_cost(input_tokens: int, output_tokens: int) -> Any:
    """The cost of a Gemini API call of gemini-2.5-flash at its shipped price (no cache price is
    shipped: cached tokens cost the input price)."""
    return pytest.approx((input_tokens * 0.3 + output_tokens * 2.5) / 1e6, rel=1e-12)


def get_weather(city: str) -> str:
    """The weather of a city."""
    return f"sunny in {city}"


# Real annotations, not the strings ``from __future__ import annotations`` leaves (which the SDK's
# automatic function calling cannot read before 1.x's later releases).
get_weather.__annotations__ = {"city": str, "return": str}


WEATHER_TOOL: Any = {
    "function_declarations": [
        {
            "name": "get_weather",
            "description": "The weather of a city.",
            "parameters": {
                "type": "OBJECT",
                "properties": {"city": {"type": "STRING", "enum": ["Paris"]}},
                "required": ["city"],
            },
        }
    ]
}
