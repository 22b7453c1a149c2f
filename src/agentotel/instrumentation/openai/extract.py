"""Pure functions: OpenAI request kwargs / response objects -> span attributes and tokens.

Nothing here touches OpenTelemetry; everything is a function of its arguments and is unit-tested
without a tracer. SDK sentinels (``omit``/``NOT_GIVEN``) fail the type checks and are skipped.
Message content and the tool results a request sends back are in :mod:`.content`. What the
Chat Completions and Embeddings formats share with LiteLLM is read in
:mod:`agentotel.instrumentation._openai_wire`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

from agentotel import semconv
from agentotel._lifecycle import Attributes
from agentotel._usage import reported
from agentotel.instrumentation import _openai_wire as wire
from agentotel.instrumentation._openai_wire import (
    embeddings_request_attributes as embeddings_request_attributes,
)
from agentotel.instrumentation._openai_wire import model_of as model_of
from agentotel.instrumentation._openai_wire import put_tool_calls as put_tool_calls

# Host (exact, or a suffix starting with ".") -> gen_ai.provider.name, for OpenAI-compatible APIs.
PROVIDER_HOSTS: tuple[tuple[str, str], ...] = (
    (".openai.azure.com", semconv.PROVIDER_AZURE_OPENAI),
    (".cognitiveservices.azure.com", semconv.PROVIDER_AZURE_OPENAI),
    (".services.ai.azure.com", semconv.PROVIDER_AZURE_OPENAI),
    ("api.groq.com", semconv.PROVIDER_GROQ),
    ("api.deepseek.com", semconv.PROVIDER_DEEPSEEK),
    ("api.x.ai", semconv.PROVIDER_X_AI),
    ("api.mistral.ai", semconv.PROVIDER_MISTRAL),
    ("generativelanguage.googleapis.com", semconv.PROVIDER_GEMINI),
    ("api.perplexity.ai", semconv.PROVIDER_PERPLEXITY),
)
_DEFAULT_PORTS = {"https": 443, "http": 80}


def provider_for_host(host: str) -> str:
    """The GenAI provider behind an OpenAI-compatible host; ``openai`` for anything unknown."""
    host = host.lower().rstrip(".")
    for pattern, provider in PROVIDER_HOSTS:
        if host == pattern or (pattern.startswith(".") and host.endswith(pattern)):
            return provider
    return semconv.PROVIDER_OPENAI


def server_attributes(scheme: str, host: str, port: int | None) -> tuple[tuple[str, Any], ...]:
    """Provider, ``server.address`` (host only) and ``server.port`` for a base URL."""
    return (
        (semconv.GEN_AI_PROVIDER_NAME, provider_for_host(host)),
        (semconv.SERVER_ADDRESS, host),
        (semconv.SERVER_PORT, port if port is not None else _DEFAULT_PORTS.get(scheme, 443)),
    )


def _put_common(a: Attributes, kw: Mapping[str, Any]) -> None:
    # ``value is not None and`` before each ``num``: most options are absent, and the test is
    # cheaper than the call (every request comes here).
    for key, attr in wire.SAMPLING:
        value = kw.get(key)
        if value is not None and wire.num(value):
            a[attr] = float(value)
    tier = kw.get("service_tier")
    if isinstance(tier, str):
        a[semconv.OPENAI_REQUEST_SERVICE_TIER] = tier
    if kw.get("stream") is True:
        a[semconv.GEN_AI_REQUEST_STREAM] = True


def output_type(response_format: Any) -> str | None:
    """``gen_ai.output.type`` from a ``response_format``/``text.format`` value or a parse() class."""
    if isinstance(response_format, type):
        return semconv.OUTPUT_JSON
    if isinstance(response_format, dict) or (
        response_format is not None and isinstance(response_format, Mapping)
    ):
        kind = response_format.get("type")
        if kind in ("json_schema", "json_object"):
            return semconv.OUTPUT_JSON
        if kind == "text":
            return semconv.OUTPUT_TEXT
    return None


def chat_request_attributes(kw: Mapping[str, Any]) -> Attributes:
    """Request attributes of ``chat.completions.create``/``parse``."""
    a: Attributes = {
        semconv.GEN_AI_OPERATION_NAME: semconv.OP_CHAT,
        semconv.GEN_AI_REQUEST_MODEL: model_of(kw),
        semconv.OPENAI_API_TYPE: semconv.OPENAI_API_CHAT_COMPLETIONS,
    }
    wire.put_chat_options(a, kw)
    tier = kw.get("service_tier")
    if isinstance(tier, str):
        a[semconv.OPENAI_REQUEST_SERVICE_TIER] = tier
    response_format = kw.get("response_format")
    otype = output_type(response_format) if response_format is not None else None
    if otype:
        a[semconv.GEN_AI_OUTPUT_TYPE] = otype
    return a


def responses_request_attributes(kw: Mapping[str, Any]) -> Attributes:
    """Request attributes of ``responses.create``."""
    a: Attributes = {
        semconv.GEN_AI_OPERATION_NAME: semconv.OP_CHAT,
        semconv.GEN_AI_REQUEST_MODEL: model_of(kw),
        semconv.OPENAI_API_TYPE: semconv.OPENAI_API_RESPONSES,
    }
    max_tokens = kw.get("max_output_tokens")
    if wire.num(max_tokens):
        a[semconv.GEN_AI_REQUEST_MAX_TOKENS] = int(max_tokens)
    _put_common(a, kw)
    text = kw.get("text")
    otype = output_type(text.get("format")) if isinstance(text, Mapping) else None
    if otype is None and isinstance(kw.get("text_format"), type):
        otype = semconv.OUTPUT_JSON
    if otype:
        a[semconv.GEN_AI_OUTPUT_TYPE] = otype
    return a


# --- responses -------------------------------------------------------------------------------
def _count(details: Any, field: str) -> int | None:
    """``details.field`` of a usage details object. An ``openai`` whose usage type predates the
    details (``completion_tokens_details`` came in 1.45.0, ``prompt_tokens_details`` in 1.51.0,
    ``input_tokens_details`` in 1.66.5) keeps them as the model's extra fields: plain dicts."""
    if isinstance(details, dict):
        return reported(details.get(field))
    return reported(getattr(details, field, None))


def _detail(obj: Any, name: str, field: str) -> int | None:
    details = getattr(obj, name, None)
    return _count(details, field) if details is not None else None


def usage_attributes(
    a: Attributes, input_tokens: Any, output_tokens: Any, cached: int | None, reasoning: int | None
) -> tuple[int | None, int | None]:
    """Put OpenAI usage on ``a``; returns (input, output) for the token metric."""
    i = reported(input_tokens)
    o = reported(output_tokens)
    if i is not None:
        a[semconv.GEN_AI_USAGE_INPUT_TOKENS] = i
    if o is not None:
        a[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] = o
    if cached is not None:
        a[semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = cached
    if reasoning is not None:
        a[semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] = reasoning
    return i, o


def chat_usage(a: Attributes, usage: Any) -> tuple[int | None, int | None]:
    if usage is None:
        return None, None
    # _detail inlined: every chat response and stream comes here.
    cached = getattr(usage, "prompt_tokens_details", None)
    reasoning = getattr(usage, "completion_tokens_details", None)
    return usage_attributes(
        a,
        getattr(usage, "prompt_tokens", None),
        getattr(usage, "completion_tokens", None),
        None if cached is None else _count(cached, "cached_tokens"),
        None if reasoning is None else _count(reasoning, "reasoning_tokens"),
    )


def _response_common(a: Attributes, response: Any) -> str | None:
    rid = getattr(response, "id", None)
    if isinstance(rid, str):
        a[semconv.GEN_AI_RESPONSE_ID] = rid
    tier = getattr(response, "service_tier", None)
    if isinstance(tier, str):
        a[semconv.OPENAI_RESPONSE_SERVICE_TIER] = tier
    model = getattr(response, "model", None)
    if isinstance(model, str):
        a[semconv.GEN_AI_RESPONSE_MODEL] = model
        return model
    return None


def chat_response_attributes(completion: Any) -> tuple[Attributes, int | None, int | None, str | None]:
    """Attributes, input tokens, output tokens and response model of a ChatCompletion."""
    a: Attributes = {}
    model = _response_common(a, completion)
    fingerprint = getattr(completion, "system_fingerprint", None)
    if isinstance(fingerprint, str):
        a[semconv.OPENAI_RESPONSE_SYSTEM_FINGERPRINT] = fingerprint
    wire.put_choices(a, getattr(completion, "choices", None))
    i, o = chat_usage(a, getattr(completion, "usage", None))
    return a, i, o, model


def responses_finish_reason(response: Any, called_tools: bool) -> str | None:
    """The finish reason of a Responses API ``Response``; None while it is unfinished."""
    status = getattr(response, "status", None)
    if status == "completed":
        return "tool_calls" if called_tools else "stop"
    if status == "incomplete":
        reason = getattr(getattr(response, "incomplete_details", None), "reason", None)
        return reason if isinstance(reason, str) else "incomplete"
    if status in ("failed", "cancelled"):
        return str(status)
    return None  # "queued" / "in_progress": a snapshot of an unfinished response


def responses_response_attributes(response: Any) -> tuple[Attributes, int | None, int | None, str | None]:
    """Attributes, tokens and model of a Responses API ``Response``."""
    a: Attributes = {}
    model = _response_common(a, response)
    names: list[str] = []
    ids: list[str] = []
    for item in getattr(response, "output", None) or ():
        if getattr(item, "type", None) == "function_call":
            names.append(str(getattr(item, "name", "")))
            ids.append(str(getattr(item, "call_id", "")))
    reason = responses_finish_reason(response, bool(names))
    if reason is not None:
        a[semconv.GEN_AI_RESPONSE_FINISH_REASONS] = [reason]
    put_tool_calls(a, names, ids)
    usage = getattr(response, "usage", None)
    i = o = None
    if usage is not None:
        i, o = usage_attributes(
            a,
            getattr(usage, "input_tokens", None),
            getattr(usage, "output_tokens", None),
            _detail(usage, "input_tokens_details", "cached_tokens"),
            _detail(usage, "output_tokens_details", "reasoning_tokens"),
        )
    return a, i, o, model


def embeddings_response_attributes(result: Any) -> tuple[Attributes, int | None, int | None, str | None]:
    """Attributes, input tokens and model of a CreateEmbeddingResponse (no output tokens)."""
    a: Attributes = {}
    model = getattr(result, "model", None)
    if isinstance(model, str):
        a[semconv.GEN_AI_RESPONSE_MODEL] = model
    else:
        model = None
    data = getattr(result, "data", None) or ()
    if data:
        vector = getattr(data[0], "embedding", None)
        if isinstance(vector, list):
            a[semconv.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = len(vector)
    usage = getattr(result, "usage", None)
    tokens = getattr(usage, "prompt_tokens", None)
    i = reported(tokens)
    if i is not None:
        a[semconv.GEN_AI_USAGE_INPUT_TOKENS] = i
    return a, i, None, model


def attribute_view(value: Any) -> Any:
    """A JSON value with its objects readable as attributes, as the extractors read them.

    An ``openai`` whose event types cannot parse a snapshot (an API field newer than the SDK's
    types, e.g. openai 1.66 without a tool's ``strict``) falls back to another member of the event
    union and leaves ``event.response`` a plain dict.
    """
    if isinstance(value, dict):
        return SimpleNamespace(**{str(k): attribute_view(v) for k, v in value.items()})
    if isinstance(value, list):
        return [attribute_view(v) for v in value]
    return value
