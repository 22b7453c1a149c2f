"""Pure functions: LiteLLM request kwargs / responses -> span attributes and tokens.

LiteLLM answers every provider in the OpenAI format (``ModelResponse``, ``EmbeddingResponse``,
``ModelResponseStream`` chunks), so one set of extractors serves them all; what it reads as the
OpenAI instrumentation does (request options, choices) is in
:mod:`agentotel.instrumentation._openai_wire`. Where the call went (provider, model without
LiteLLM's ``provider/`` prefix, host) comes from LiteLLM's own routing, read in :mod:`.patch`;
:func:`route_attributes` turns it into attributes. Message content and the tool results a request
sends back are in :mod:`.content`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from agentotel import semconv
from agentotel._lifecycle import Attributes
from agentotel._usage import reported
from agentotel.instrumentation import _openai_wire as wire

# LiteLLM's provider names -> gen_ai.provider.name (the conventions' names); any other name is
# recorded as LiteLLM spells it.
PROVIDERS: Mapping[str, str] = {
    "openai": semconv.PROVIDER_OPENAI,
    "text-completion-openai": semconv.PROVIDER_OPENAI,
    "azure": semconv.PROVIDER_AZURE_OPENAI,
    "azure_text": semconv.PROVIDER_AZURE_OPENAI,
    "azure_ai": semconv.PROVIDER_AZURE_AI_INFERENCE,
    "anthropic": semconv.PROVIDER_ANTHROPIC,
    "groq": semconv.PROVIDER_GROQ,
    "deepseek": semconv.PROVIDER_DEEPSEEK,
    "xai": semconv.PROVIDER_X_AI,
    "mistral": semconv.PROVIDER_MISTRAL,
    "gemini": semconv.PROVIDER_GEMINI,
    "vertex_ai": semconv.PROVIDER_VERTEX_AI,
    "vertex_ai_beta": semconv.PROVIDER_VERTEX_AI,
    "perplexity": semconv.PROVIDER_PERPLEXITY,
    "bedrock": semconv.PROVIDER_LITELLM_AWS_BEDROCK,
    "cohere": semconv.PROVIDER_COHERE,
    "cohere_chat": semconv.PROVIDER_COHERE,
    "watsonx": semconv.PROVIDER_IBM_WATSONX,
}
_DEFAULT_PORTS = {"https": 443, "http": 80}


def provider_name(litellm_provider: str) -> str:
    """The conventions' ``gen_ai.provider.name`` for a LiteLLM provider name."""
    return PROVIDERS.get(litellm_provider, litellm_provider)


def route_attributes(provider: str, model: str, api_base: str | None) -> tuple[tuple[str, Any], ...]:
    """Provider, request model (no ``provider/`` prefix) and, when the base URL is known, server."""
    found: list[tuple[str, Any]] = [
        (semconv.GEN_AI_PROVIDER_NAME, provider_name(provider)),
        (semconv.GEN_AI_REQUEST_MODEL, model),
    ]
    if api_base:
        url = urlsplit(api_base)
        if url.hostname:
            found.append((semconv.SERVER_ADDRESS, url.hostname))
            port = url.port if url.port is not None else _DEFAULT_PORTS.get(url.scheme, 443)
            found.append((semconv.SERVER_PORT, port))
    return tuple(found)


def completion_request_attributes(kw: Mapping[str, Any]) -> Attributes:
    """Request attributes of ``completion`` / ``acompletion`` (the model as given; the routing
    attributes replace it with the model without the provider prefix)."""
    a: Attributes = {
        semconv.GEN_AI_OPERATION_NAME: semconv.OP_CHAT,
        semconv.GEN_AI_REQUEST_MODEL: wire.model_of(kw),
    }
    wire.put_chat_options(a, kw)
    fmt = kw.get("response_format")
    if isinstance(fmt, type) or (
        isinstance(fmt, Mapping) and fmt.get("type") in ("json_schema", "json_object")
    ):
        a[semconv.GEN_AI_OUTPUT_TYPE] = semconv.OUTPUT_JSON
    return a


embedding_request_attributes = wire.embeddings_request_attributes
_get = wire.get
_ABSENT = object()


def field(obj: Any, name: str) -> Any:
    """``getattr(obj, name, None)`` for a LiteLLM (pydantic) object, without its exceptions.

    LiteLLM keeps many values as pydantic *extras* or drops unset optional fields (a streamed
    choice's ``delta``, ``finish_reason`` and ``index``, a delta's ``content`` and ``tool_calls``,
    a chunk's or a response's ``usage``, Anthropic's ``cache_creation_input_tokens``): an
    attribute read reaches those only after pydantic's ``__getattr__`` has failed its own lookups,
    one to four ``AttributeError`` raised and caught, several microseconds per read. Here: a
    declared field from the instance's ``__dict__``, else an extra from ``__pydantic_extra__``,
    else None. Any other object (a mapping, a plain object) is read as :func:`_get` reads it.
    """
    try:
        found = obj.__dict__.get(name, _ABSENT)
        if found is _ABSENT:
            extra = obj.__pydantic_extra__
            found = extra.get(name) if extra else None
    except AttributeError:  # not a pydantic model
        return _get(obj, name)
    return found


def _values(obj: Any) -> Mapping[str, Any]:
    """A LiteLLM (pydantic) object's declared fields and extras in one mapping (a declared field
    wins, as in :func:`field`): one read for several of its values. Any other object: ``{}``."""
    try:
        extra = obj.__pydantic_extra__
        return {**extra, **obj.__dict__} if extra else obj.__dict__
    except AttributeError:
        return {}


def usage(a: Attributes, found: Any) -> tuple[int | None, int | None]:
    """Put LiteLLM's (OpenAI-shaped) usage on ``a``; returns (input, output) for the token metric.

    ``prompt_tokens`` is the whole input (LiteLLM adds the cached tokens in for every provider),
    ``prompt_tokens_details.cached_tokens`` the cache reads, ``cache_creation_input_tokens`` the
    cache writes (Anthropic), ``completion_tokens_details.reasoning_tokens`` the reasoning.
    """
    if found is None:
        return None, None
    values = _values(found)
    if not values:  # not a pydantic object (a mapping, a plain object): read field by field
        values = {name: field(found, name) for name in _USAGE_FIELDS}
    i = values.get("prompt_tokens")
    if i is not None and type(i) is not int:
        i = reported(i)
    o = values.get("completion_tokens")
    if o is not None and type(o) is not int:
        o = reported(o)
    if i is not None:
        a[semconv.GEN_AI_USAGE_INPUT_TOKENS] = i
    if o is not None:
        a[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] = o
    details = values.get("prompt_tokens_details")
    cached = reported(field(details, "cached_tokens")) if details is not None else None
    if cached:
        a[semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = cached
    written = reported(values.get("cache_creation_input_tokens"))
    if written:
        a[semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] = written
    details = values.get("completion_tokens_details")
    reasoning = reported(field(details, "reasoning_tokens")) if details is not None else None
    if reasoning:
        a[semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] = reasoning
    return i, o


_USAGE_FIELDS = (
    "prompt_tokens",
    "completion_tokens",
    "prompt_tokens_details",
    "cache_creation_input_tokens",
    "completion_tokens_details",
)


def put_head(a: Attributes, response: Any) -> str | None:
    """Response id and model; returns the model."""
    rid = getattr(response, "id", None)
    if isinstance(rid, str) and rid:
        a[semconv.GEN_AI_RESPONSE_ID] = rid
    model = getattr(response, "model", None)
    if isinstance(model, str) and model:
        a[semconv.GEN_AI_RESPONSE_MODEL] = model
        return model
    return None


def completion_response_attributes(response: Any) -> tuple[Attributes, int | None, int | None, str | None]:
    """Attributes, input tokens, output tokens and response model of a ``ModelResponse``."""
    a: Attributes = {}
    model = put_head(a, response)
    wire.put_choices(a, getattr(response, "choices", None))
    i, o = usage(a, field(response, "usage"))
    return a, i, o, model


def embedding_response_attributes(response: Any) -> tuple[Attributes, int | None, int | None, str | None]:
    """Attributes, input tokens and model of an ``EmbeddingResponse`` (no output tokens)."""
    a: Attributes = {}
    model = getattr(response, "model", None)
    if isinstance(model, str) and model:
        a[semconv.GEN_AI_RESPONSE_MODEL] = model
    else:
        model = None
    data = getattr(response, "data", None) or ()
    if data:
        vector = _get(data[0], "embedding")
        if isinstance(vector, list):
            a[semconv.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = len(vector)
    i = reported(_get(getattr(response, "usage", None), "prompt_tokens"))
    if i is not None:
        a[semconv.GEN_AI_USAGE_INPUT_TOKENS] = i
    return a, i, None, model
