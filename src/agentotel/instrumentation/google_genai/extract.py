"""Pure functions: Google GenAI request kwargs / responses -> span attributes and tokens.

The wrapped methods are the SDK's one-request methods (``Models._generate_content``, ...), whose
kwargs are ``model``, ``contents`` and ``config`` (a ``GenerateContentConfig`` or a dict, snake_case
or camelCase keys). Message content and the function responses a request sends back are in
:mod:`.content`.

Usage (``usage_metadata``): ``gen_ai.usage.input_tokens`` = ``prompt_token_count`` (which includes
the cached part) + ``tool_use_prompt_token_count``; ``gen_ai.usage.output_tokens`` =
``candidates_token_count`` + ``thoughts_token_count`` (the thinking is billed as output, and the
conventions count reasoning within the output tokens), with
``gen_ai.usage.cache_read.input_tokens`` and ``gen_ai.usage.reasoning.output_tokens`` beside them.

Tool calls: the Gemini API gives a ``function_call`` an ``id`` only sometimes. The call id we record
is that ``id`` when there is one, else ``"<name>:<digest of the arguments>:<n>"`` (``n`` counts the
calls of the same name and arguments in one model turn). The same id is computed again from the
model turn the next request carries in its history, so the ``function_response`` parts after it
find their calls (see :func:`.content.tool_results`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from operator import attrgetter
from typing import Any, TypeGuard
from urllib.parse import urlsplit

from agentotel import semconv
from agentotel._lifecycle import Attributes
from agentotel._usage import NOT_A_COUNT, reported

_DEFAULT_PORTS = {"https": 443, "http": 80}
_SERVERS: dict[tuple[bool, str], tuple[tuple[str, Any], ...]] = {}


_MISSING = object()


def get(obj: Any, key: str) -> Any:
    """``obj.key``, or ``obj[key]`` (then the camelCase key) for a dict as the SDK accepts them."""
    if type(obj) is not dict:
        # The SDK's pydantic types first: one attribute read, no Mapping check (an ABC's).
        found = getattr(obj, key, _MISSING)
        if found is not _MISSING:
            return found
        if not isinstance(obj, Mapping):
            return None
    value = obj.get(key)
    if value is None and "_" in key:
        head, *rest = key.split("_")
        value = obj.get(head + "".join(w.title() for w in rest))
    return value


def server_attributes(api_client: Any) -> tuple[tuple[str, Any], ...]:
    """Provider (``gcp.vertex_ai`` for a ``vertexai=True`` client, else ``gcp.gemini``),
    ``server.address`` and ``server.port`` of the SDK's ``BaseApiClient``."""
    vertex = getattr(api_client, "vertexai", None) is True
    # ``HttpOptions`` (a dict in the oldest SDKs).
    options = getattr(api_client, "_http_options", None)
    base = getattr(options, "base_url", None) if type(options) is not dict else None
    base_url = str((base if base is not None else get(options, "base_url")) or "")
    key = (vertex, base_url)
    found = _SERVERS.get(key)
    if found is None:
        url = urlsplit(base_url)
        host = url.hostname or ""
        port = url.port if url.port is not None else _DEFAULT_PORTS.get(url.scheme, 443)
        provider = semconv.PROVIDER_VERTEX_AI if vertex else semconv.PROVIDER_GEMINI
        found = (
            (semconv.GEN_AI_PROVIDER_NAME, provider),
            (semconv.SERVER_ADDRESS, host),
            (semconv.SERVER_PORT, port),
        )
        if len(_SERVERS) >= 256:
            _SERVERS.clear()
        _SERVERS[key] = found
    return found


def _num(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_FLOATS = (
    ("temperature", semconv.GEN_AI_REQUEST_TEMPERATURE),
    ("top_p", semconv.GEN_AI_REQUEST_TOP_P),
    ("top_k", semconv.GEN_AI_REQUEST_TOP_K),
    ("frequency_penalty", semconv.GEN_AI_REQUEST_FREQUENCY_PENALTY),
    ("presence_penalty", semconv.GEN_AI_REQUEST_PRESENCE_PENALTY),
)
_INTS = (
    ("max_output_tokens", semconv.GEN_AI_REQUEST_MAX_TOKENS),
    ("seed", semconv.GEN_AI_REQUEST_SEED),
)
_CONFIG_NAMES = (
    *(name for name, _ in _FLOATS),
    *(name for name, _ in _INTS),
    "candidate_count",
    "stop_sequences",
    "response_mime_type",
)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(w.title() for w in rest)


# A config dict's key (snake_case or camelCase, as the SDK accepts both) -> the snake_case name.
_CONFIG_KEYS = {**{name: name for name in _CONFIG_NAMES}, **{_camel(name): name for name in _CONFIG_NAMES}}
_CONFIG_SET = frozenset(_CONFIG_NAMES)
# The numeric settings: snake_case name -> (attribute, float or int).
_NUMBERS: dict[str, tuple[str, type]] = {
    **{name: (attr, float) for name, attr in _FLOATS},
    **{name: (attr, int) for name, attr in _INTS},
}


def _config(config: Any) -> Mapping[str, Any]:
    """The request settings of ``config`` that are set (not None), by snake_case name: a dict's
    snake_case key first, else its camelCase key (as :func:`get`); an object's attributes."""
    if type(config) is dict or isinstance(config, Mapping):
        found: dict[str, Any] = {}
        names = _CONFIG_KEYS
        for key, value in config.items():  # only the keys the app set: most are absent
            name = names.get(key)
            if name is not None and value is not None and (name == key or found.get(name) is None):
                found[name] = value
        return found
    # A pydantic model (``GenerateContentConfig``, whose fields all default to None): only the
    # fields the app set, most being unset. Any other object: every name.
    given = getattr(config, "model_fields_set", None)
    wanted = _CONFIG_SET.intersection(given) if isinstance(given, (set, frozenset)) else _CONFIG_NAMES
    return {name: value for name in wanted if (value := getattr(config, name, None)) is not None}


def _model(kw: Mapping[str, Any]) -> str:
    model = kw.get("model")
    return model if isinstance(model, str) else ""


def request_attributes(kw: Mapping[str, Any]) -> Attributes:
    """Request attributes of ``generateContent`` (``models.generate_content``, chats)."""
    a: Attributes = {
        semconv.GEN_AI_OPERATION_NAME: semconv.OP_GENERATE_CONTENT,
        semconv.GEN_AI_REQUEST_MODEL: _model(kw),
    }
    config = kw.get("config")
    if config is None:
        return a
    for name, value in _config(config).items():  # only the settings given (none is None)
        number = _NUMBERS.get(name)
        if number is not None:
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                a[number[0]] = number[1](value)
        elif name == "candidate_count":
            if _num(value) and value != 1:
                a[semconv.GEN_AI_REQUEST_CHOICE_COUNT] = int(value)
        elif name == "stop_sequences":
            if isinstance(value, (list, tuple)) and all(isinstance(s, str) for s in value):
                a[semconv.GEN_AI_REQUEST_STOP_SEQUENCES] = list(value)
        elif value == "application/json":  # response_mime_type
            a[semconv.GEN_AI_OUTPUT_TYPE] = semconv.OUTPUT_JSON
        elif value == "text/plain":
            a[semconv.GEN_AI_OUTPUT_TYPE] = semconv.OUTPUT_TEXT
    return a


def stream_request_attributes(kw: Mapping[str, Any]) -> Attributes:
    """Request attributes of ``streamGenerateContent``."""
    a = request_attributes(kw)
    a[semconv.GEN_AI_REQUEST_STREAM] = True
    return a


def embed_request_attributes(kw: Mapping[str, Any]) -> Attributes:
    """Request attributes of ``embedContent`` / ``batchEmbedContents`` (``models.embed_content``)."""
    a: Attributes = {
        semconv.GEN_AI_OPERATION_NAME: semconv.OP_EMBEDDINGS,
        semconv.GEN_AI_REQUEST_MODEL: _model(kw),
    }
    dims = get(kw.get("config"), "output_dimensionality")
    if dims is not None and _num(dims):
        a[semconv.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = int(dims)
    return a


# --- tool calls ------------------------------------------------------------------------------
def call_ids(calls: Iterable[tuple[Any, Any, Any]]) -> list[str]:
    """The call id of each ``(id, name, args)`` function call of one model turn (module docstring)."""
    seen: dict[str, int] = {}
    found: list[str] = []
    for given, name, args in calls:
        if isinstance(given, str) and given:
            found.append(given)
            continue
        text = json.dumps(args, sort_keys=True, separators=(",", ":"), default=str)
        key = f"{name}:{hashlib.sha256(text.encode()).hexdigest()[:16]}"
        n = seen.get(key, 0)
        seen[key] = n + 1
        found.append(f"{key}:{n}")
    return found


def function_calls(parts: Any) -> list[tuple[Any, Any, Any]]:
    """``(id, name, args)`` of the ``function_call`` parts among ``parts``."""
    found: list[tuple[Any, Any, Any]] = []
    for part in parts or ():
        call = get(part, "function_call")
        if call is not None:
            found.append((get(call, "id"), get(call, "name"), get(call, "args")))
    return found


def put_tool_calls(a: Attributes, calls: list[tuple[Any, Any, Any]]) -> None:
    """Names and ids of the function calls the model returned (never their arguments)."""
    if calls:
        a[semconv.AGENTOTEL_TOOL_CALL_NAMES] = [str(name) for _, name, _ in calls]
        a[semconv.AGENTOTEL_TOOL_CALL_IDS] = call_ids(calls)


# --- responses -------------------------------------------------------------------------------
def finish_reason(candidate: Any) -> str | None:
    """A candidate's finish reason, lower-cased (``STOP`` -> ``stop``); None while unfinished."""
    reason = getattr(candidate, "finish_reason", None)
    if reason is None:
        return None
    value = getattr(reason, "value", reason)
    return str(value).lower() if value else None


_USAGE_FIELDS = (
    "prompt_token_count",
    "candidates_token_count",
    "cached_content_token_count",
    "thoughts_token_count",
    "tool_use_prompt_token_count",
)
usage_fields = attrgetter(*_USAGE_FIELDS)
"""The numbers of a ``usage_metadata`` as a tuple (a stream compares one chunk's with the last)."""


class Usage:
    """``usage_metadata`` numbers; a later report (the next stream chunk) replaces earlier ones."""

    __slots__ = ("_last", "cached", "candidates", "prompt", "thoughts", "tool_prompt")

    def __init__(self) -> None:
        self.prompt: int | None = None
        self.candidates: int | None = None
        self.cached: int | None = None
        self.thoughts: int | None = None
        self.tool_prompt: int | None = None
        self._last: tuple[Any, ...] | None = None

    def update(self, usage: Any) -> None:
        if usage is None:
            return
        # A stream repeats the same numbers on most chunks: the same report again changes nothing.
        try:
            fields = usage_fields(usage)
        except AttributeError:
            fields = None
        if fields is not None:
            if fields == self._last:
                return
            self._last = fields
            # ``reported`` inline: the number when an int, else NOT_A_COUNT.
            prompt, candidates, cached, thoughts, tool_prompt = fields
            if prompt is not None:
                self.prompt = prompt if type(prompt) is int else NOT_A_COUNT
            if candidates is not None:
                self.candidates = candidates if type(candidates) is int else NOT_A_COUNT
            if cached is not None:
                self.cached = cached if type(cached) is int else NOT_A_COUNT
            if thoughts is not None:
                self.thoughts = thoughts if type(thoughts) is int else NOT_A_COUNT
            if tool_prompt is not None:
                self.tool_prompt = tool_prompt if type(tool_prompt) is int else NOT_A_COUNT
            return
        value = reported(getattr(usage, "prompt_token_count", None))
        if value is not None:
            self.prompt = value
        value = reported(getattr(usage, "candidates_token_count", None))
        if value is not None:
            self.candidates = value
        value = reported(getattr(usage, "cached_content_token_count", None))
        if value is not None:
            self.cached = value
        value = reported(getattr(usage, "thoughts_token_count", None))
        if value is not None:
            self.thoughts = value
        value = reported(getattr(usage, "tool_use_prompt_token_count", None))
        if value is not None:
            self.tool_prompt = value

    @staticmethod
    def _sum(first: int | None, second: int | None) -> int | None:
        if first is None:
            return second
        if second is None:
            return first
        # A negative part would hide in the sum: report it instead, for the usage check to reject.
        return first + second if min(first, second) >= 0 else min(first, second)

    def put(self, a: Attributes) -> tuple[int | None, int | None]:
        """Set the usage attributes; returns (input, output) for the token metric."""
        total_input = self._sum(self.prompt, self.tool_prompt) if self.prompt is not None else None
        output = self._sum(self.candidates, self.thoughts)
        if total_input is not None:
            a[semconv.GEN_AI_USAGE_INPUT_TOKENS] = total_input
        if self.cached is not None:
            a[semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = self.cached
        if output is not None:
            a[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] = output
        if self.thoughts is not None:
            a[semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] = self.thoughts
        return total_input, output


def put_head(a: Attributes, response: Any) -> str | None:
    """Response id and model version; returns the model version."""
    rid = getattr(response, "response_id", None)
    if isinstance(rid, str) and rid:
        a[semconv.GEN_AI_RESPONSE_ID] = rid
    model = getattr(response, "model_version", None)
    if isinstance(model, str) and model:
        a[semconv.GEN_AI_RESPONSE_MODEL] = model
        return model
    return None


def response_attributes(response: Any) -> tuple[Attributes, int | None, int | None, str | None]:
    """Attributes, input tokens, output tokens and model version of a ``GenerateContentResponse``."""
    a: Attributes = {}
    model = put_head(a, response)
    reasons: list[str] = []
    calls: list[tuple[Any, Any, Any]] = []
    for index, candidate in enumerate(getattr(response, "candidates", None) or ()):
        reason = finish_reason(candidate)
        if reason is not None:
            reasons.append(reason)
        if index == 0:  # the calls an app (and the SDK's function calling) runs are the first candidate's
            calls = function_calls(getattr(getattr(candidate, "content", None), "parts", None))
    if reasons:
        a[semconv.GEN_AI_RESPONSE_FINISH_REASONS] = reasons
    put_tool_calls(a, calls)
    usage = Usage()
    usage.update(getattr(response, "usage_metadata", None))
    i, o = usage.put(a)
    return a, i, o, model


def embed_response_attributes(response: Any) -> tuple[Attributes, int | None, int | None, str | None]:
    """Attributes and input tokens of an ``EmbedContentResponse`` (Vertex AI reports tokens per
    embedding in ``statistics.token_count``; the Gemini API reports none)."""
    a: Attributes = {}
    embeddings = getattr(response, "embeddings", None) or ()
    tokens: int | None = None
    for embedding in embeddings:
        count = reported(getattr(getattr(embedding, "statistics", None), "token_count", None))
        if count is not None:
            tokens = count if tokens is None else tokens + count
    usage = getattr(response, "usage_metadata", None)
    if tokens is None and usage is not None:
        tokens = reported(getattr(usage, "prompt_token_count", None))
    if tokens is not None:
        a[semconv.GEN_AI_USAGE_INPUT_TOKENS] = tokens
    return a, tokens, None, None
