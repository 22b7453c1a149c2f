"""Pure functions: LiteLLM request kwargs / responses -> span attributes and tokens.

LiteLLM answers every provider in the OpenAI format (``ModelResponse``, ``EmbeddingResponse``,
``ModelResponseStream`` chunks), so one set of extractors serves them all. Where the call went
(provider, model without LiteLLM's ``provider/`` prefix, host) comes from LiteLLM's own routing,
read in :mod:`.patch`; :func:`route_attributes` turns it into attributes. Message content and the
tool results a request sends back are in :mod:`.content`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeGuard
from urllib.parse import urlsplit

from agentotel import semconv
from agentotel._lifecycle import Attributes
from agentotel._usage import reported

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


def _num(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _model(kw: Mapping[str, Any]) -> str:
    model = kw.get("model")
    return model if isinstance(model, str) else ""


_SAMPLING = (
    ("temperature", semconv.GEN_AI_REQUEST_TEMPERATURE),
    ("top_p", semconv.GEN_AI_REQUEST_TOP_P),
    ("frequency_penalty", semconv.GEN_AI_REQUEST_FREQUENCY_PENALTY),
    ("presence_penalty", semconv.GEN_AI_REQUEST_PRESENCE_PENALTY),
)


def completion_request_attributes(kw: Mapping[str, Any]) -> Attributes:
    """Request attributes of ``completion`` / ``acompletion`` (the model as given; the routing
    attributes replace it with the model without the provider prefix)."""
    a: Attributes = {
        semconv.GEN_AI_OPERATION_NAME: semconv.OP_CHAT,
        semconv.GEN_AI_REQUEST_MODEL: _model(kw),
    }
    max_tokens = kw.get("max_completion_tokens")
    if max_tokens is None or not _num(max_tokens):
        max_tokens = kw.get("max_tokens")
    if max_tokens is not None and _num(max_tokens):
        a[semconv.GEN_AI_REQUEST_MAX_TOKENS] = int(max_tokens)
    for key, attr in _SAMPLING:
        value = kw.get(key)
        if value is not None and _num(value):
            a[attr] = float(value)
    seed = kw.get("seed")
    if seed is not None and _num(seed):
        a[semconv.GEN_AI_REQUEST_SEED] = int(seed)
    n = kw.get("n")
    if n is not None and _num(n) and n != 1:
        a[semconv.GEN_AI_REQUEST_CHOICE_COUNT] = int(n)
    stop = kw.get("stop")
    if isinstance(stop, str):
        a[semconv.GEN_AI_REQUEST_STOP_SEQUENCES] = [stop]
    elif isinstance(stop, (list, tuple)) and all(isinstance(s, str) for s in stop):
        a[semconv.GEN_AI_REQUEST_STOP_SEQUENCES] = list(stop)
    if kw.get("stream") is True:
        a[semconv.GEN_AI_REQUEST_STREAM] = True
    fmt = kw.get("response_format")
    if isinstance(fmt, type) or (
        isinstance(fmt, Mapping) and fmt.get("type") in ("json_schema", "json_object")
    ):
        a[semconv.GEN_AI_OUTPUT_TYPE] = semconv.OUTPUT_JSON
    return a


def embedding_request_attributes(kw: Mapping[str, Any]) -> Attributes:
    """Request attributes of ``embedding`` / ``aembedding``."""
    a: Attributes = {
        semconv.GEN_AI_OPERATION_NAME: semconv.OP_EMBEDDINGS,
        semconv.GEN_AI_REQUEST_MODEL: _model(kw),
    }
    fmt = kw.get("encoding_format")
    if isinstance(fmt, str):
        a[semconv.GEN_AI_REQUEST_ENCODING_FORMATS] = [fmt]
    dims = kw.get("dimensions")
    if _num(dims):
        a[semconv.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = int(dims)
    return a


def _get(obj: Any, key: str) -> Any:
    return obj.get(key) if isinstance(obj, Mapping) else getattr(obj, key, None)


def usage(a: Attributes, found: Any) -> tuple[int | None, int | None]:
    """Put LiteLLM's (OpenAI-shaped) usage on ``a``; returns (input, output) for the token metric.

    ``prompt_tokens`` is the whole input (LiteLLM adds the cached tokens in for every provider),
    ``prompt_tokens_details.cached_tokens`` the cache reads, ``cache_creation_input_tokens`` the
    cache writes (Anthropic), ``completion_tokens_details.reasoning_tokens`` the reasoning.
    """
    if found is None:
        return None, None
    i = reported(_get(found, "prompt_tokens"))
    o = reported(_get(found, "completion_tokens"))
    if i is not None:
        a[semconv.GEN_AI_USAGE_INPUT_TOKENS] = i
    if o is not None:
        a[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] = o
    details = _get(found, "prompt_tokens_details")
    cached = reported(_get(details, "cached_tokens")) if details is not None else None
    if cached:
        a[semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = cached
    written = reported(_get(found, "cache_creation_input_tokens"))
    if written:
        a[semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] = written
    details = _get(found, "completion_tokens_details")
    reasoning = reported(_get(details, "reasoning_tokens")) if details is not None else None
    if reasoning:
        a[semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] = reasoning
    return i, o


def put_tool_calls(a: Attributes, names: list[str], ids: list[str]) -> None:
    """Names and ids of the tool calls the model asked for (no arguments: those are content)."""
    if names:
        a[semconv.AGENTOTEL_TOOL_CALL_NAMES] = names
        a[semconv.AGENTOTEL_TOOL_CALL_IDS] = ids


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
    reasons: list[str] = []
    names: list[str] = []
    ids: list[str] = []
    for choice in getattr(response, "choices", None) or ():
        reason = getattr(choice, "finish_reason", None)
        reasons.append(reason if isinstance(reason, str) else "")
        message = getattr(choice, "message", None)
        for call in getattr(message, "tool_calls", None) or ():
            names.append(str(_get(_get(call, "function"), "name") or ""))
            ids.append(str(_get(call, "id") or ""))
    if reasons:
        a[semconv.GEN_AI_RESPONSE_FINISH_REASONS] = reasons
    put_tool_calls(a, names, ids)
    i, o = usage(a, getattr(response, "usage", None))
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
