"""Pure functions: Bedrock Runtime request parameters / responses -> span attributes and tokens.

Converse (and ConverseStream) report ``usage.inputTokens`` without the cached part, as Anthropic
does; the GenAI conventions want the total, so ``gen_ai.usage.input_tokens = inputTokens +
cacheReadInputTokens + cacheWriteInputTokens`` with the two cache attributes beside it.
InvokeModel bodies are the model family's own JSON (:mod:`.invoke`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeGuard
from urllib.parse import urlsplit

from agentotel import semconv
from agentotel._lifecycle import Attributes
from agentotel._usage import NOT_A_COUNT

_DEFAULT_PORTS = {"https": 443, "http": 80}


def server_attributes(endpoint_url: str) -> tuple[tuple[str, Any], ...]:
    """Provider, ``server.address`` and ``server.port`` of the client's endpoint URL."""
    url = urlsplit(endpoint_url)
    port = url.port if url.port is not None else _DEFAULT_PORTS.get(url.scheme, 443)
    return (
        (semconv.GEN_AI_PROVIDER_NAME, semconv.PROVIDER_AWS_BEDROCK),
        (semconv.SERVER_ADDRESS, url.hostname or ""),
        (semconv.SERVER_PORT, port),
    )


def num(value: Any) -> TypeGuard[int | float]:
    """A number that is not a bool."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def base_attributes(kw: Mapping[str, Any]) -> Attributes:
    """Operation name and ``modelId`` (a model id, an inference profile or an ARN)."""
    model = kw.get("modelId")
    return {
        semconv.GEN_AI_OPERATION_NAME: semconv.OP_CHAT,
        semconv.GEN_AI_REQUEST_MODEL: model if isinstance(model, str) else "",
    }


_NUMBERS = (int, float)


def put_sampling(a: Attributes, config: Any, keys: tuple[str, str, str, str, str]) -> None:
    """Max tokens, temperature, top p, top k and stop sequences, read under ``keys`` (in that order)."""
    if type(config) is not dict and not isinstance(config, Mapping):
        return
    get = config.get
    max_tokens, temperature, top_p, top_k, stop = (
        get(keys[0]),
        get(keys[1]),
        get(keys[2]),
        get(keys[3]),
        get(keys[4]),
    )
    # Most settings are absent: ``is not None`` first saves the rest; a plain int or float is a
    # number without the call to ``num``.
    if max_tokens is not None and (type(max_tokens) in _NUMBERS or num(max_tokens)):
        a[semconv.GEN_AI_REQUEST_MAX_TOKENS] = int(max_tokens)
    if temperature is not None and (type(temperature) in _NUMBERS or num(temperature)):
        a[semconv.GEN_AI_REQUEST_TEMPERATURE] = float(temperature)
    if top_p is not None and (type(top_p) in _NUMBERS or num(top_p)):
        a[semconv.GEN_AI_REQUEST_TOP_P] = float(top_p)
    if top_k is not None and (type(top_k) in _NUMBERS or num(top_k)):
        a[semconv.GEN_AI_REQUEST_TOP_K] = float(top_k)
    if stop and isinstance(stop, (list, tuple)) and all(isinstance(s, str) for s in stop):
        a[semconv.GEN_AI_REQUEST_STOP_SEQUENCES] = list(stop)


_CONVERSE_KEYS = ("maxTokens", "temperature", "topP", "topK", "stopSequences")


def converse_request_attributes(kw: Mapping[str, Any]) -> Attributes:
    """Request attributes of ``converse``."""
    model = kw.get("modelId")
    # ``base_attributes`` inline: this runs on every call.
    a: Attributes = {
        semconv.GEN_AI_OPERATION_NAME: semconv.OP_CHAT,
        semconv.GEN_AI_REQUEST_MODEL: model if isinstance(model, str) else "",
    }
    config = kw.get("inferenceConfig")
    if config is not None:
        put_sampling(a, config, _CONVERSE_KEYS)
    return a


def converse_stream_request_attributes(kw: Mapping[str, Any]) -> Attributes:
    """Request attributes of ``converse_stream``."""
    a = converse_request_attributes(kw)
    a[semconv.GEN_AI_REQUEST_STREAM] = True
    return a


class Usage:
    """Token numbers: input (without cache), output, cache read, cache write."""

    __slots__ = ("cache_read", "cache_write", "input", "output")

    def __init__(self) -> None:
        self.input: int | None = None
        self.output: int | None = None
        self.cache_read: int | None = None
        self.cache_write: int | None = None

    def update(self, usage: Any, keys: tuple[str, str, str, str]) -> None:
        """Take the numbers ``usage`` reports under ``keys`` (input, output, cache read, cache
        write); a later report replaces an earlier one."""
        if type(usage) is not dict and not isinstance(usage, Mapping):
            return
        # ``reported`` inline: None when absent, the number when an int, else NOT_A_COUNT.
        get = usage.get
        value = get(keys[0])
        if value is not None:
            self.input = value if type(value) is int else NOT_A_COUNT
        value = get(keys[1])
        if value is not None:
            self.output = value if type(value) is int else NOT_A_COUNT
        value = get(keys[2])
        if value is not None:
            self.cache_read = value if type(value) is int else NOT_A_COUNT
        value = get(keys[3])
        if value is not None:
            self.cache_write = value if type(value) is int else NOT_A_COUNT

    def put(self, a: Attributes) -> tuple[int | None, int | None]:
        """Set the usage attributes; returns (total input, output) for the token metric."""
        total: int | None = None
        if self.input is not None:
            parts = (self.input, self.cache_read or 0, self.cache_write or 0)
            # A negative part would hide in the sum: report it instead, for the usage check to reject.
            total = sum(parts) if min(parts) >= 0 else min(parts)
            a[semconv.GEN_AI_USAGE_INPUT_TOKENS] = total
        if self.cache_read is not None:
            a[semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = self.cache_read
        if self.cache_write is not None:
            a[semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] = self.cache_write
        if self.output is not None:
            a[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] = self.output
        return total, self.output


CONVERSE_USAGE = ("inputTokens", "outputTokens", "cacheReadInputTokens", "cacheWriteInputTokens")


def put_reason(a: Attributes, reason: Any) -> None:
    """The stop reason as ``gen_ai.response.finish_reasons``."""
    if isinstance(reason, str):
        a[semconv.GEN_AI_RESPONSE_FINISH_REASONS] = [reason]


def put_tool_uses(a: Attributes, uses: list[tuple[str, str]]) -> None:
    """Names and ids of the tool uses the model asked for (never their input)."""
    if uses:
        a[semconv.AGENTOTEL_TOOL_CALL_NAMES] = [name for name, _ in uses]
        a[semconv.AGENTOTEL_TOOL_CALL_IDS] = [cid for _, cid in uses]


def converse_tool_uses(content: Any) -> list[tuple[str, str]]:
    """(name, toolUseId) of the ``toolUse`` blocks of a Converse message's content."""
    found: list[tuple[str, str]] = []
    if isinstance(content, list):
        for block in content:
            use = block.get("toolUse") if type(block) is dict or isinstance(block, Mapping) else None
            if isinstance(use, Mapping) and isinstance(use.get("toolUseId"), str):
                found.append((str(use.get("name")), use["toolUseId"]))
    return found


def converse_message(response: Mapping[str, Any]) -> Mapping[str, Any]:
    """The assistant message of a Converse response ({} if absent)."""
    output = response.get("output")
    message = output.get("message") if type(output) is dict or isinstance(output, Mapping) else None
    return message if type(message) is dict or isinstance(message, Mapping) else {}


def converse_response_attributes(response: Any) -> tuple[Attributes, int | None, int | None, str | None]:
    """Attributes, input tokens (with cache), output tokens and model (None: Converse names none)."""
    a: Attributes = {}
    if type(response) is not dict and not isinstance(response, Mapping):
        return a, None, None, None
    # ``put_reason`` and ``converse_message`` inline: this runs on every call.
    reason = response.get("stopReason")
    if isinstance(reason, str):
        a[semconv.GEN_AI_RESPONSE_FINISH_REASONS] = [reason]
    output = response.get("output")
    message = output.get("message") if type(output) is dict or isinstance(output, Mapping) else None
    content = message.get("content") if type(message) is dict or isinstance(message, Mapping) else None
    if isinstance(content, list):
        for block in content:
            if type(block) is not dict or "toolUse" in block:  # else a block without a tool use
                put_tool_uses(a, converse_tool_uses(content))
                break
    i, o = converse_usage(a, response.get("usage"))
    return a, i, o, None


def converse_usage(a: Attributes, usage: Any) -> tuple[int | None, int | None]:
    """:meth:`Usage.put` of Converse's ``usage`` (set on ``a``; returns total input, output).

    A dict of int counts, none negative, is read here at once (every usual response: the cache
    counts are 0, or absent before botocore 1.37.24); anything else goes through :class:`Usage`.
    """
    if type(usage) is dict:
        i, o = usage.get("inputTokens"), usage.get("outputTokens")
        if type(i) is int and type(o) is int and i >= 0:
            read, written = usage.get("cacheReadInputTokens"), usage.get("cacheWriteInputTokens")
            if read is None and written is None:
                a[semconv.GEN_AI_USAGE_INPUT_TOKENS] = i
                a[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] = o
                return i, o
            if type(read) is int and type(written) is int and read >= 0 and written >= 0:
                total = i + read + written
                a[semconv.GEN_AI_USAGE_INPUT_TOKENS] = total
                a[semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = read
                a[semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] = written
                a[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] = o
                return total, o
    found = Usage()
    found.update(usage, CONVERSE_USAGE)
    return found.put(a)
