"""Pure functions: Ollama request bodies / responses -> span attributes and tokens.

The wrapped method is the SDK's one request method, ``Client._request(cls, method, path, json=,
stream=)``: its ``json`` keyword is the request body the SDK built and validated (a plain dict:
messages, tools and options already dumped, callables already turned into tool schemas), so every
function here reads that dict (``kw["json"]``), whatever the app passed to ``chat`` / ``generate``
/ ``embed``.

Operations: ``/api/chat`` is ``chat``, ``/api/generate`` is ``text_completion`` (the conventions'
value for a completion-style call: a prompt in, text out), ``/api/embed`` and ``/api/embeddings``
are ``embeddings``.

Usage: ``gen_ai.usage.input_tokens`` = ``prompt_eval_count``, ``gen_ai.usage.output_tokens`` =
``eval_count`` (the thinking included: Ollama counts every generated token there and reports no
split). Ollama leaves ``prompt_eval_count`` out when the whole prompt came from its cache: then
there is no input-token attribute (never a guessed 0).

The server's timings (nanoseconds on the wire) are recorded in seconds as ``ollama.*`` attributes
(:data:`DURATIONS`).

Tool calls: Ollama gives a tool call no id. The call id we record is ``"<name>:<digest of the
arguments>:<n>"`` (``n`` counts the calls of the same name and arguments in one model turn); the
same id is computed again from the assistant message the next request carries, so the ``tool``
messages after it find their calls (see :func:`.content.tool_results`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any, TypeGuard

from agentotel import semconv
from agentotel._lifecycle import Attributes
from agentotel._usage import reported

_DEFAULT_PORTS = {"https": 443, "http": 80}

DURATIONS = (
    ("total_duration", semconv.OLLAMA_TOTAL_DURATION),
    ("load_duration", semconv.OLLAMA_LOAD_DURATION),
    ("prompt_eval_duration", semconv.OLLAMA_PROMPT_EVAL_DURATION),
    ("eval_duration", semconv.OLLAMA_EVAL_DURATION),
)
"""The response's nanosecond fields and the attribute each becomes (in seconds)."""


def server_attributes(scheme: str, host: str, port: int | None) -> tuple[tuple[str, Any], ...]:
    """Provider, ``server.address`` and ``server.port`` of the client's host (``OLLAMA_HOST``,
    ``http://127.0.0.1:11434`` by default)."""
    return (
        (semconv.GEN_AI_PROVIDER_NAME, semconv.PROVIDER_OLLAMA),
        (semconv.SERVER_ADDRESS, host),
        (semconv.SERVER_PORT, port if port is not None else _DEFAULT_PORTS.get(scheme, 80)),
    )


def body(kw: Mapping[str, Any]) -> Mapping[str, Any]:
    """The request body the SDK sends (``{}`` if it is not a dict)."""
    found = kw.get("json")
    return found if isinstance(found, Mapping) else {}


def _num(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_FLOATS = (
    ("temperature", semconv.GEN_AI_REQUEST_TEMPERATURE),
    ("top_p", semconv.GEN_AI_REQUEST_TOP_P),
    ("top_k", semconv.GEN_AI_REQUEST_TOP_K),
    ("frequency_penalty", semconv.GEN_AI_REQUEST_FREQUENCY_PENALTY),
    ("presence_penalty", semconv.GEN_AI_REQUEST_PRESENCE_PENALTY),
)


def _put_options(a: Attributes, options: Any) -> None:
    """The model options the app set (``options=``: the SDK's ``Options`` or a dict)."""
    if not isinstance(options, Mapping) or not options:
        return
    for name, attr in _FLOATS:
        value = options.get(name)
        if _num(value):
            a[attr] = float(value)
    limit = options.get("num_predict")
    # -1 (no limit) and -2 (fill the context) are not token limits.
    if _num(limit) and limit >= 0:
        a[semconv.GEN_AI_REQUEST_MAX_TOKENS] = int(limit)
    seed = options.get("seed")
    if _num(seed):
        a[semconv.GEN_AI_REQUEST_SEED] = int(seed)
    stop = options.get("stop")
    if isinstance(stop, (list, tuple)) and stop and all(isinstance(s, str) for s in stop):
        a[semconv.GEN_AI_REQUEST_STOP_SEQUENCES] = list(stop)


def _head(operation: str, req: Mapping[str, Any]) -> Attributes:
    model = req.get("model")
    return {
        semconv.GEN_AI_OPERATION_NAME: operation,
        semconv.GEN_AI_REQUEST_MODEL: model if isinstance(model, str) else "",
    }


def _request_attributes(operation: str, kw: Mapping[str, Any]) -> Attributes:
    req = body(kw)
    a = _head(operation, req)
    _put_options(a, req.get("options"))
    fmt = req.get("format")
    if fmt == "json" or isinstance(fmt, Mapping):  # JSON mode, or a JSON schema
        a[semconv.GEN_AI_OUTPUT_TYPE] = semconv.OUTPUT_JSON
    if kw.get("stream") is True:
        a[semconv.GEN_AI_REQUEST_STREAM] = True
    return a


def chat_request_attributes(kw: Mapping[str, Any]) -> Attributes:
    """Request attributes of ``/api/chat``."""
    return _request_attributes(semconv.OP_CHAT, kw)


def generate_request_attributes(kw: Mapping[str, Any]) -> Attributes:
    """Request attributes of ``/api/generate``."""
    return _request_attributes(semconv.OP_TEXT_COMPLETION, kw)


def embed_request_attributes(kw: Mapping[str, Any]) -> Attributes:
    """Request attributes of ``/api/embed`` and ``/api/embeddings``."""
    req = body(kw)
    a = _head(semconv.OP_EMBEDDINGS, req)
    dims = req.get("dimensions")
    if _num(dims):
        a[semconv.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = int(dims)
    return a


# --- tool calls ------------------------------------------------------------------------------
def _get(obj: Any, key: str) -> Any:
    """``obj[key]`` of a dict (a request body), else ``obj.key`` (the SDK's response types)."""
    if isinstance(obj, Mapping):
        return obj.get(key)
    return getattr(obj, key, None)


def calls_of(tool_calls: Any) -> list[tuple[Any, Any]]:
    """``(name, arguments)`` of a message's ``tool_calls`` (dicts or the SDK's ``ToolCall``)."""
    found: list[tuple[Any, Any]] = []
    for call in tool_calls or ():
        fn = _get(call, "function")
        found.append((_get(fn, "name"), _get(fn, "arguments")))
    return found


def call_ids(calls: Iterable[tuple[Any, Any]]) -> list[str]:
    """The call id of each ``(name, arguments)`` call of one model turn (module docstring)."""
    seen: dict[str, int] = {}
    found: list[str] = []
    for name, args in calls:
        if isinstance(args, Mapping):
            args = dict(args)
        text = json.dumps(args, sort_keys=True, separators=(",", ":"), default=str)
        key = f"{name}:{hashlib.sha256(text.encode()).hexdigest()[:16]}"
        n = seen.get(key, 0)
        seen[key] = n + 1
        found.append(f"{key}:{n}")
    return found


def put_tool_calls(a: Attributes, calls: list[tuple[Any, Any]]) -> None:
    """Names and ids of the tool calls the model returned (never their arguments)."""
    if calls:
        a[semconv.AGENTOTEL_TOOL_CALL_NAMES] = [str(name) for name, _ in calls]
        a[semconv.AGENTOTEL_TOOL_CALL_IDS] = call_ids(calls)


# --- responses -------------------------------------------------------------------------------
def put_done(a: Attributes, last: Any) -> tuple[int | None, int | None]:
    """Finish reason, durations and usage of a whole response (or a stream's ``done`` line);
    returns (input, output) tokens."""
    reason = last.done_reason
    if isinstance(reason, str) and reason:
        a[semconv.GEN_AI_RESPONSE_FINISH_REASONS] = [reason]
    for field, attr in DURATIONS:
        value = getattr(last, field, None)
        if _num(value) and value >= 0:
            a[attr] = value / 1e9
    return usage(a, last)


def usage(a: Attributes, response: Any) -> tuple[int | None, int | None]:
    """Token attributes from ``prompt_eval_count`` / ``eval_count``; returns (input, output)."""
    found_in = reported(getattr(response, "prompt_eval_count", None))
    found_out = reported(getattr(response, "eval_count", None))
    if found_in is not None:
        a[semconv.GEN_AI_USAGE_INPUT_TOKENS] = found_in
    if found_out is not None:
        a[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] = found_out
    return found_in, found_out


def put_model(a: Attributes, response: Any) -> str | None:
    """The response's model; returns it."""
    model = response.model
    if isinstance(model, str) and model:
        a[semconv.GEN_AI_RESPONSE_MODEL] = model
        return model
    return None


def response_attributes(response: Any) -> tuple[Attributes, int | None, int | None, str | None]:
    """Attributes, input tokens, output tokens and model of a ``ChatResponse`` or ``GenerateResponse``."""
    a: Attributes = {}
    model = put_model(a, response)
    message = getattr(response, "message", None)
    if message is not None:
        put_tool_calls(a, calls_of(message.tool_calls))
    i, o = put_done(a, response)
    return a, i, o, model


def embed_response_attributes(response: Any) -> tuple[Attributes, int | None, int | None, str | None]:
    """Attributes and input tokens of an ``EmbedResponse`` (``/api/embeddings``' response has no
    count, model or timings)."""
    a: Attributes = {}
    model = put_model(a, response) if hasattr(response, "model") else None
    for field, attr in DURATIONS[:2]:
        value = getattr(response, field, None)
        if _num(value) and value >= 0:
            a[attr] = value / 1e9
    i, _ = usage(a, response)
    return a, i, None, model
