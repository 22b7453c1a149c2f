"""Pure functions: Cohere v2 request kwargs / responses -> span attributes and tokens.

The wrapped methods are the SDK's raw v2 client's (``RawV2Client.chat``, ...): their kwargs are
the request's fields, an unset one being the SDK's ``OMIT`` (``...``), and they return an
``HttpResponse`` whose ``data`` is the parsed body (:func:`body`). Message content and the tool
results a request sends back are in :mod:`.content`.

Usage: Cohere reports two counts, ``usage.billed_units`` (the tokens billed) and ``usage.tokens``
(the tokens the model read and wrote, which adds the tokens of Cohere's own prompt template to the
input). ``gen_ai.usage.input_tokens`` / ``output_tokens`` are the billed ones: they are what the
prices apply to, so the cost is the bill, and what an app reconciles against its invoice. Where a
response has no ``billed_units`` count, the ``tokens`` count stands in for it.
``usage.cached_tokens`` is ``gen_ai.usage.cache_read.input_tokens``; a rerank's billed search units
are ``cohere.usage.search_units``. The counts come as JSON numbers the SDK reads as floats: a
whole number is the count, anything else is an invalid count (``agentotel.usage.invalid``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeGuard
from urllib.parse import urlsplit

from agentotel import semconv
from agentotel._lifecycle import Attributes
from agentotel._usage import NOT_A_COUNT

_DEFAULT_PORTS = {"https": 443, "http": 80}


def get(obj: Any, key: str) -> Any:
    """``obj.key``, or ``obj[key]`` for a dict (the SDK takes messages as models or dicts)."""
    if isinstance(obj, Mapping):
        return obj.get(key)
    return getattr(obj, key, None)


def field(obj: Any, key: str) -> Any:
    """``obj.key`` (None when the SDK's model has no such field), or ``obj[key]`` for a dict."""
    return obj.get(key) if type(obj) is dict else getattr(obj, key, None)


def given(value: Any) -> bool:
    """Whether a request field was set (not None, not the SDK's ``OMIT``)."""
    return value is not None and value is not Ellipsis


# --- the client -------------------------------------------------------------------------------
class ClientView:
    """What a call reads of the SDK client: its API key (to redact) and its server attributes."""

    __slots__ = ("api_key", "server", "wrapper")

    def __init__(self, wrapper: Any) -> None:
        self.wrapper = wrapper  # kept, so the id of a cached view's wrapper cannot be reused
        token = getattr(wrapper, "_token", None)
        # A callable token is not called (it may fetch a fresh key): it cannot be redacted.
        self.api_key = token if isinstance(token, str) else None
        self.server = server_attributes(str(getattr(wrapper, "_base_url", "") or ""))


_VIEWS: dict[int, ClientView] = {}


def client_of(raw_client: Any) -> ClientView:
    """The raw v2 client's ``_client_wrapper`` as a :class:`ClientView`, cached per wrapper."""
    wrapper = raw_client._client_wrapper
    view = _VIEWS.get(id(wrapper))
    if view is None or view.wrapper is not wrapper:
        if len(_VIEWS) >= 256:
            _VIEWS.clear()
        view = _VIEWS[id(wrapper)] = ClientView(wrapper)
    return view


def server_attributes(base_url: str) -> tuple[tuple[str, Any], ...]:
    """Provider ``cohere``, ``server.address`` and ``server.port`` of the client's base URL."""
    url = urlsplit(base_url)
    port = url.port if url.port is not None else _DEFAULT_PORTS.get(url.scheme, 443)
    return (
        (semconv.GEN_AI_PROVIDER_NAME, semconv.PROVIDER_COHERE),
        (semconv.SERVER_ADDRESS, url.hostname or ""),
        (semconv.SERVER_PORT, port),
    )


# --- requests ---------------------------------------------------------------------------------
def _model(kw: Mapping[str, Any]) -> str:
    model = kw.get("model")
    return model if isinstance(model, str) else ""


def _number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_FLOATS = (
    ("temperature", semconv.GEN_AI_REQUEST_TEMPERATURE),
    ("p", semconv.GEN_AI_REQUEST_TOP_P),
    ("k", semconv.GEN_AI_REQUEST_TOP_K),
    ("frequency_penalty", semconv.GEN_AI_REQUEST_FREQUENCY_PENALTY),
    ("presence_penalty", semconv.GEN_AI_REQUEST_PRESENCE_PENALTY),
)
_INTS = (("max_tokens", semconv.GEN_AI_REQUEST_MAX_TOKENS), ("seed", semconv.GEN_AI_REQUEST_SEED))
_OUTPUT_TYPES = {"json_object": semconv.OUTPUT_JSON, "text": semconv.OUTPUT_TEXT}


_NUMBERS = (int, float)  # by exact class: a bool is not a setting's number


def chat_request_attributes(kw: Mapping[str, Any]) -> Attributes:
    """Request attributes of ``/v2/chat``. The SDK passes every field (``OMIT`` for those not
    given): per call one look-up each, the class compared, no function call."""
    model = kw.get("model")
    a: Attributes = {
        semconv.GEN_AI_OPERATION_NAME: semconv.OP_CHAT,
        semconv.GEN_AI_REQUEST_MODEL: model if model.__class__ is str else "",
    }
    numbers = _NUMBERS
    for name, attr in _FLOATS:
        value = kw.get(name)
        if value.__class__ in numbers:
            a[attr] = float(value)
    for name, attr in _INTS:
        value = kw.get(name)
        if value.__class__ in numbers:
            a[attr] = int(value)
    stop = kw.get("stop_sequences")
    if stop.__class__ in (list, tuple) and all(isinstance(s, str) for s in stop):
        a[semconv.GEN_AI_REQUEST_STOP_SEQUENCES] = list(stop)
    fmt = kw.get("response_format")
    if fmt is not None and fmt is not Ellipsis:
        output = _OUTPUT_TYPES.get(str(get(fmt, "type")))
        if output is not None:
            a[semconv.GEN_AI_OUTPUT_TYPE] = output
    return a


def chat_stream_request_attributes(kw: Mapping[str, Any]) -> Attributes:
    """Request attributes of a streamed ``/v2/chat``."""
    a = chat_request_attributes(kw)
    a[semconv.GEN_AI_REQUEST_STREAM] = True
    return a


def embed_request_attributes(kw: Mapping[str, Any]) -> Attributes:
    """Request attributes of ``/v2/embed``."""
    a: Attributes = {
        semconv.GEN_AI_OPERATION_NAME: semconv.OP_EMBEDDINGS,
        semconv.GEN_AI_REQUEST_MODEL: _model(kw),
    }
    dims = kw.get("output_dimension")
    if _number(dims):
        a[semconv.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = int(dims)
    types = kw.get("embedding_types")
    if isinstance(types, (list, tuple)) and types and all(isinstance(t, str) for t in types):
        a[semconv.GEN_AI_REQUEST_ENCODING_FORMATS] = list(types)
    return a


def rerank_request_attributes(kw: Mapping[str, Any]) -> Attributes:
    """Request attributes of ``/v2/rerank`` (operation ``rerank``: see :data:`semconv.OP_RERANK`)."""
    return {
        semconv.GEN_AI_OPERATION_NAME: semconv.OP_RERANK,
        semconv.GEN_AI_REQUEST_MODEL: _model(kw),
    }


# --- responses --------------------------------------------------------------------------------
def body(response: Any) -> Any:
    """The parsed body of the raw client's ``HttpResponse`` (``data``)."""
    return response.data


def count(value: Any) -> int | None:
    """A usage count as the SDK reads it (a float): None when absent, the whole number, else
    :data:`NOT_A_COUNT` (a fraction, a negative number, not a number)."""
    if value is None:
        return None
    if type(value) is float and value.is_integer() and value >= 0:
        return int(value)
    if type(value) is int and value >= 0:
        return value
    return NOT_A_COUNT


def finish_reason(reason: Any) -> str | None:
    """Cohere's finish reason lower-cased (``COMPLETE`` -> ``complete``, ``TOOL_CALL`` -> ``tool_call``)."""
    return reason.lower() if isinstance(reason, str) and reason else None


def put_usage(a: Attributes, usage: Any) -> tuple[int | None, int | None]:
    """Tokens of a chat ``usage`` or an embed / rerank ``meta`` (module docstring); returns
    (input, output). Fields old SDKs' models lack (``cached_tokens`` before 5.19) are read with a
    default; before 5.17 a stream's ``message-end`` keeps its usage as the JSON object it came as
    (a dict), read through :func:`field`."""
    if usage is None:
        return None, None
    if type(usage) is dict:
        return _put_usage(a, usage, field)
    # The SDK's models: plain attribute reads (this runs on every call).
    billed = getattr(usage, "billed_units", None)
    i = o = None
    if billed is not None:
        i = count(getattr(billed, "input_tokens", None))
        o = count(getattr(billed, "output_tokens", None))
    if i is None or o is None:
        tokens = getattr(usage, "tokens", None)
        if tokens is not None:
            if i is None:
                i = count(getattr(tokens, "input_tokens", None))
            if o is None:
                o = count(getattr(tokens, "output_tokens", None))
    if i is not None:
        a[semconv.GEN_AI_USAGE_INPUT_TOKENS] = i
    if o is not None:
        a[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] = o
    cached = getattr(usage, "cached_tokens", None)
    if cached is not None:
        a[semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = count(cached)
    if billed is not None:
        units = getattr(billed, "search_units", None)
        if units is not None:
            a[semconv.COHERE_USAGE_SEARCH_UNITS] = count(units)
    return i, o


def _put_usage(a: Attributes, usage: Any, read: Any) -> tuple[int | None, int | None]:
    """:func:`put_usage` of a usage given as a dict."""
    billed = read(usage, "billed_units")
    tokens = read(usage, "tokens")
    i = count(read(billed, "input_tokens")) if billed is not None else None
    o = count(read(billed, "output_tokens")) if billed is not None else None
    if i is None and tokens is not None:
        i = count(read(tokens, "input_tokens"))
    if o is None and tokens is not None:
        o = count(read(tokens, "output_tokens"))
    if i is not None:
        a[semconv.GEN_AI_USAGE_INPUT_TOKENS] = i
    if o is not None:
        a[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] = o
    cached = count(read(usage, "cached_tokens"))
    if cached is not None:
        a[semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = cached
    if billed is not None:
        units = count(read(billed, "search_units"))
        if units is not None:
            a[semconv.COHERE_USAGE_SEARCH_UNITS] = units
    return i, o


def put_tool_calls(a: Attributes, names: list[str], ids: list[str]) -> None:
    """Names and ids of the tool calls the model asked for (never their arguments)."""
    if ids:
        a[semconv.AGENTOTEL_TOOL_CALL_NAMES] = names
        a[semconv.AGENTOTEL_TOOL_CALL_IDS] = ids


def _id(a: Attributes, data: Any) -> None:
    rid = getattr(data, "id", None)
    if isinstance(rid, str) and rid:
        a[semconv.GEN_AI_RESPONSE_ID] = rid


def chat_response_attributes(response: Any) -> tuple[Attributes, int | None, int | None, str | None]:
    """Attributes and tokens of a ``/v2/chat`` response (Cohere names no response model)."""
    data = response.data  # the raw client's HttpResponse
    a: Attributes = {}
    rid = data.id
    if rid.__class__ is str and rid:
        a[semconv.GEN_AI_RESPONSE_ID] = rid
    reason = data.finish_reason
    if reason.__class__ is str and reason:
        a[semconv.GEN_AI_RESPONSE_FINISH_REASONS] = [reason.lower()]
    message = data.message
    calls = message.tool_calls if message is not None else None
    if calls:
        a[semconv.AGENTOTEL_TOOL_CALL_NAMES] = [str(getattr(c.function, "name", None)) for c in calls]
        a[semconv.AGENTOTEL_TOOL_CALL_IDS] = [str(c.id) for c in calls]
    i, o = put_usage(a, data.usage)
    return a, i, o, None


def meta_response_attributes(response: Any) -> tuple[Attributes, int | None, int | None, str | None]:
    """Attributes and tokens of an embed or rerank response (usage in ``meta``)."""
    data = body(response)
    a: Attributes = {}
    _id(a, data)
    i, o = put_usage(a, data.meta)
    return a, i, o, None
