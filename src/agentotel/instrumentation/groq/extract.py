"""Pure functions: Groq chat request kwargs / responses -> span attributes and tokens.

Groq's chat API speaks OpenAI's Chat Completions format (the options, the choices, the tool
calls are read by :mod:`agentotel.instrumentation._openai_wire`); what is Groq's own is read
here: the usage block, which also says how long the request waited in Groq's queue
(``usage.queue_time``, seconds: ``groq.usage.queue_time``), and ``x_groq.id``, Groq's id of the
request (``groq.request.id``). A stream carries its usage in the last chunk's ``x_groq.usage``
(see :mod:`.stream`). Nothing here touches OpenTelemetry; SDK sentinels fail the type checks.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

from agentotel import semconv
from agentotel._lifecycle import Attributes
from agentotel._usage import reported
from agentotel.instrumentation import _openai_wire as wire

_DEFAULT_PORTS = {"https": 443, "http": 80}


def server_attributes(scheme: str, host: str, port: int | None) -> tuple[tuple[str, Any], ...]:
    """Provider (always ``groq``: the SDK speaks only to Groq's API), ``server.address``, ``server.port``."""
    return (
        (semconv.GEN_AI_PROVIDER_NAME, semconv.PROVIDER_GROQ),
        (semconv.SERVER_ADDRESS, host),
        (semconv.SERVER_PORT, port if port is not None else _DEFAULT_PORTS.get(scheme, 443)),
    )


def output_type(response_format: Any) -> str | None:
    """``gen_ai.output.type`` of a ``response_format`` (``json_object`` / ``json_schema`` / ``text``)."""
    if isinstance(response_format, Mapping):
        kind = response_format.get("type")
        if kind in ("json_schema", "json_object"):
            return semconv.OUTPUT_JSON
        if kind == "text":
            return semconv.OUTPUT_TEXT
    return None


def request_attributes(kw: Mapping[str, Any]) -> Attributes:
    """Request attributes of ``chat.completions.create``."""
    a: Attributes = {
        semconv.GEN_AI_OPERATION_NAME: semconv.OP_CHAT,
        semconv.GEN_AI_REQUEST_MODEL: wire.model_of(kw),
    }
    wire.put_chat_options(a, kw)
    response_format = kw.get("response_format")
    otype = output_type(response_format) if response_format is not None else None
    if otype:
        a[semconv.GEN_AI_OUTPUT_TYPE] = otype
    return a


def _count(details: Any, field: str) -> int | None:
    """``details.field`` (a model, or a plain dict where the SDK's type lacks the field)."""
    if details is None:
        return None
    if isinstance(details, dict):
        return reported(details.get(field))
    return reported(getattr(details, field, None))


def view(value: Any) -> Any:
    """``value`` readable by attribute: a field the installed SDK's type lacks is kept as a plain
    dict (``groq`` 0.9 has no ``ChatCompletion.x_groq``: there it is a dict)."""
    return SimpleNamespace(**value) if isinstance(value, dict) else value


def usage(a: Attributes, block: Any) -> tuple[int | None, int | None]:
    """Tokens, cached and reasoning tokens and queue time of a Groq usage block, on ``a``;
    returns (input, output) for the token metric."""
    if block is None:
        return None, None
    block = view(block)
    i = reported(getattr(block, "prompt_tokens", None))
    o = reported(getattr(block, "completion_tokens", None))
    if i is not None:
        a[semconv.GEN_AI_USAGE_INPUT_TOKENS] = i
    if o is not None:
        a[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] = o
    cached = _count(getattr(block, "prompt_tokens_details", None), "cached_tokens")
    if cached is not None:
        a[semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = cached
    reasoning = _count(getattr(block, "completion_tokens_details", None), "reasoning_tokens")
    if reasoning is not None:
        a[semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] = reasoning
    queue = getattr(block, "queue_time", None)
    if wire.num(queue) and queue >= 0:
        a[semconv.GROQ_USAGE_QUEUE_TIME] = float(queue)
    return i, o


def one_plain_choice(kw: Mapping[str, Any]) -> bool:
    """True for a streamed request (``stream=True``) that can get neither a tool call nor more than
    one choice: no ``tools`` and no (deprecated) ``functions`` offered, ``n`` absent, None or 1
    (:func:`~agentotel.instrumentation._openai_wire.one_plain_choice`). Its stream, with content
    capture off, is read from its first and last two chunks (:mod:`.stream`)."""
    return kw.get("stream") is True and wire.one_plain_choice(kw, _OFFERS)


_OFFERS = ("tools", "functions")


def put_request_id(a: Attributes, x_groq: Any) -> None:
    """``groq.request.id`` from an ``x_groq`` block."""
    rid = getattr(view(x_groq), "id", None)
    if isinstance(rid, str) and rid:
        a[semconv.GROQ_REQUEST_ID] = rid


def response_attributes(completion: Any) -> tuple[Attributes, int | None, int | None, str | None]:
    """Attributes, input tokens, output tokens and response model of a ``ChatCompletion``."""
    a: Attributes = {}
    rid = getattr(completion, "id", None)
    if isinstance(rid, str) and rid:
        a[semconv.GEN_AI_RESPONSE_ID] = rid
    model = getattr(completion, "model", None)
    model = model if isinstance(model, str) and model else None
    if model is not None:
        a[semconv.GEN_AI_RESPONSE_MODEL] = model
    wire.put_choices(a, getattr(completion, "choices", None))
    x_groq = getattr(completion, "x_groq", None)
    if x_groq is not None:
        put_request_id(a, x_groq)
    i, o = usage(a, getattr(completion, "usage", None))
    return a, i, o, model
