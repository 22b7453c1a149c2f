"""Pure functions: Mistral request kwargs / response objects -> span attributes and tokens.

Mistral's chat API speaks the OpenAI Chat Completions wire format (choices, tool calls with ids,
``finish_reason``, usage as ``prompt_tokens``/``completion_tokens``), so the choices are read with
:mod:`agentotel.instrumentation._openai_wire`; what is Mistral's own stays here: the request
options (``random_seed``, ``top_k``, a ``response_format`` model), the embeddings request
(``inputs``, ``output_dimension``, ``output_dtype``) and the server. The SDK's ``UNSET`` sentinel
fails every type check and is skipped. Nothing here touches OpenTelemetry.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from agentotel import semconv
from agentotel._lifecycle import Attributes
from agentotel._usage import NOT_A_COUNT, reported
from agentotel.instrumentation import _openai_wire as wire
from agentotel.instrumentation._openai_wire import model_of

# The SDK's named servers (``Mistral(server="eu")``); ``global`` when none is named.
SERVERS = {
    "global": "https://api.mistral.ai",
    "eu": "https://api.eu.mistral.ai",
    "us": "https://api.us.mistral.ai",
}
_DEFAULT_PORTS = {"https": 443, "http": 80}


class Client(NamedTuple):
    """What the engine reads of a resource's client: its credentials and its server."""

    api_key: str | None
    server: tuple[tuple[str, Any], ...]
    secrets: tuple[str, ...]
    """The credentials to redact (``api_key`` when there is one), made once per client."""


_CLIENTS: dict[int, tuple[Any, Any, Any, Any, Client]] = {}


def server_attributes(server_url: str) -> tuple[tuple[str, Any], ...]:
    """Provider, ``server.address`` (host only) and ``server.port`` of a base URL."""
    url = urlsplit(server_url)
    port = url.port if url.port is not None else _DEFAULT_PORTS.get(url.scheme, 443)
    return (
        (semconv.GEN_AI_PROVIDER_NAME, semconv.PROVIDER_MISTRAL),
        (semconv.SERVER_ADDRESS, url.hostname or ""),
        (semconv.SERVER_PORT, port),
    )


def client_of(resource: Any) -> Client:
    """The :class:`Client` of a resource (``Chat``, ``Embeddings``), from its ``sdk_configuration``:
    the base URL (``server_url``, else the named ``server``) and the API key when it is a string
    (a key given as a function is called by the SDK per request: not read here). Cached per
    configuration while its security and server are the same objects."""
    config = resource.sdk_configuration
    security = config.security
    server_url = config.server_url
    server = config.server
    entry = _CLIENTS.get(id(config))
    if (
        entry is not None
        and entry[0] is config
        and entry[1] is security
        and entry[2] is server_url
        and entry[3] is server
    ):
        return entry[4]
    key = getattr(security, "api_key", None) if not callable(security) else None
    base = server_url if isinstance(server_url, str) and server_url else SERVERS.get(server or "global", "")
    key = key if isinstance(key, str) and key else None
    client = Client(key, server_attributes(base), () if key is None else (key,))
    if len(_CLIENTS) >= 256:
        _CLIENTS.clear()
    _CLIENTS[id(config)] = (config, security, server_url, server, client)  # kept: the id stays unique
    return client


def server_of(client: Client) -> tuple[tuple[str, Any], ...]:
    """The server attributes of a :class:`Client`."""
    return client.server


def secrets_of(client: Client) -> tuple[str, ...]:
    """The credentials of a :class:`Client` (what ``_operation.client_secrets`` would read)."""
    return client.secrets


# --- requests --------------------------------------------------------------------------------
def _output_type(response_format: Any) -> str | None:
    kind = wire.get(response_format, "type")
    if kind in ("json_schema", "json_object"):
        return semconv.OUTPUT_JSON
    if kind == "text":
        return semconv.OUTPUT_TEXT
    return None


# The numeric options of a chat request: the attribute, and the type it is recorded as.
_NUMBERS: dict[str, tuple[str, type[int] | type[float]]] = {
    "max_tokens": (semconv.GEN_AI_REQUEST_MAX_TOKENS, int),
    "temperature": (semconv.GEN_AI_REQUEST_TEMPERATURE, float),
    "top_p": (semconv.GEN_AI_REQUEST_TOP_P, float),
    "frequency_penalty": (semconv.GEN_AI_REQUEST_FREQUENCY_PENALTY, float),
    "presence_penalty": (semconv.GEN_AI_REQUEST_PRESENCE_PENALTY, float),
    "random_seed": (semconv.GEN_AI_REQUEST_SEED, int),
    "top_k": (semconv.GEN_AI_REQUEST_TOP_K, float),
    "n": (semconv.GEN_AI_REQUEST_CHOICE_COUNT, int),
}


def chat_request_attributes(kw: Mapping[str, Any]) -> Attributes:
    """Request attributes of ``chat.complete``: the arguments given are looked at once each (the
    SDK's methods take keywords only, and refuse any other name before sending)."""
    model = kw.get("model")
    a: Attributes = {
        semconv.GEN_AI_OPERATION_NAME: semconv.OP_CHAT,
        semconv.GEN_AI_REQUEST_MODEL: model if isinstance(model, str) else "",
    }
    for key, value in kw.items():
        if key in _NUMBERS:
            # A number, not a bool (the SDK's UNSET and None are neither); ``n`` only when not 1.
            if isinstance(value, (int, float)) and value.__class__ is not bool and (key != "n" or value != 1):
                attr, kind = _NUMBERS[key]
                a[attr] = kind(value)
        elif key == "stop":
            wire.put_stop(a, value)
        elif key == "stream":
            if value is True:
                a[semconv.GEN_AI_REQUEST_STREAM] = True
        elif key == "response_format" and value is not None:
            otype = _output_type(value)
            if otype is not None:
                a[semconv.GEN_AI_OUTPUT_TYPE] = otype
    return a


def stream_request_attributes(kw: Mapping[str, Any]) -> Attributes:
    """Request attributes of ``chat.stream`` (it streams without a ``stream`` argument)."""
    a = chat_request_attributes(kw)
    a[semconv.GEN_AI_REQUEST_STREAM] = True
    return a


def one_plain_choice(kw: Mapping[str, Any]) -> bool:
    """True when a chat request can get neither a tool call nor more than one choice: no tools
    offered (``tools`` absent, None or an empty list) and ``n`` absent, None or 1. (Anything else,
    the SDK's ``UNSET`` given explicitly too, is False: its stream is read event by event.)"""
    return wire.one_plain_choice(kw)


def embeddings_request_attributes(kw: Mapping[str, Any]) -> Attributes:
    """Request attributes of ``embeddings.create``."""
    a: Attributes = {
        semconv.GEN_AI_OPERATION_NAME: semconv.OP_EMBEDDINGS,
        semconv.GEN_AI_REQUEST_MODEL: model_of(kw),
    }
    fmt = kw.get("encoding_format")
    if isinstance(fmt, str):
        a[semconv.GEN_AI_REQUEST_ENCODING_FORMATS] = [fmt]
    dims = kw.get("output_dimension")
    if dims is not None and wire.num(dims):
        a[semconv.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = int(dims)
    return a


# --- responses -------------------------------------------------------------------------------
def usage_tokens(a: Attributes, usage: Any) -> tuple[int | None, int | None]:
    """Put a ``UsageInfo``'s tokens on ``a``; returns (input, output) for the token metric."""
    if usage is None:
        return None, None
    # ``_usage.reported`` inline (two calls fewer on every call): None when absent, the number
    # when it is an ``int``, else NOT_A_COUNT (the span names it as invalid).
    i = getattr(usage, "prompt_tokens", None)
    o = getattr(usage, "completion_tokens", None)
    if i is not None:
        if i.__class__ is not int:
            i = NOT_A_COUNT
        a[semconv.GEN_AI_USAGE_INPUT_TOKENS] = i
    if o is not None:
        if o.__class__ is not int:
            o = NOT_A_COUNT
        a[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] = o
    return i, o


def chat_response_attributes(response: Any) -> tuple[Attributes, int | None, int | None, str | None]:
    """Attributes, input tokens, output tokens and response model of a ``ChatCompletionResponse``."""
    a: Attributes = {}
    rid = getattr(response, "id", None)
    if isinstance(rid, str) and rid:
        a[semconv.GEN_AI_RESPONSE_ID] = rid
    model = getattr(response, "model", None)
    model = model if isinstance(model, str) and model else None
    if model is not None:
        a[semconv.GEN_AI_RESPONSE_MODEL] = model
    wire.put_choices(a, getattr(response, "choices", None))
    i, o = usage_tokens(a, getattr(response, "usage", None))
    return a, i, o, model


def embeddings_response_attributes(result: Any) -> tuple[Attributes, int | None, int | None, str | None]:
    """Attributes, input tokens and model of an ``EmbeddingResponse`` (no output tokens)."""
    a: Attributes = {}
    model = getattr(result, "model", None)
    model = model if isinstance(model, str) and model else None
    if model is not None:
        a[semconv.GEN_AI_RESPONSE_MODEL] = model
    data = getattr(result, "data", None) or ()
    if data:
        vector = getattr(data[0], "embedding", None)
        if isinstance(vector, list):
            a[semconv.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = len(vector)
    i = reported(getattr(getattr(result, "usage", None), "prompt_tokens", None))
    if i is not None:
        a[semconv.GEN_AI_USAGE_INPUT_TOKENS] = i
    return a, i, None, model
