"""Pure functions: Anthropic request kwargs / Message objects -> span attributes and tokens.

Message content and the tool results a request sends back are in :mod:`.content`.

Anthropic reports ``input_tokens`` without the cached part; the GenAI conventions want the total,
so ``gen_ai.usage.input_tokens = input_tokens + cache_read_input_tokens + cache_creation_input_tokens``
with the two cache attributes set beside it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeGuard

from agentotel import semconv
from agentotel._lifecycle import Attributes
from agentotel._usage import reported

_DEFAULT_PORTS = {"https": 443, "http": 80}


def server_attributes(scheme: str, host: str, port: int | None) -> tuple[tuple[str, Any], ...]:
    """Provider, ``server.address`` and ``server.port`` for the client's base URL."""
    return (
        (semconv.GEN_AI_PROVIDER_NAME, semconv.PROVIDER_ANTHROPIC),
        (semconv.SERVER_ADDRESS, host),
        (semconv.SERVER_PORT, port if port is not None else _DEFAULT_PORTS.get(scheme, 443)),
    )


def _num(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_SAMPLING = (
    ("temperature", semconv.GEN_AI_REQUEST_TEMPERATURE),
    ("top_p", semconv.GEN_AI_REQUEST_TOP_P),
)


def request_attributes(kw: Mapping[str, Any]) -> Attributes:
    """Request attributes of ``messages.create`` / ``stream`` / ``parse``."""
    model = kw.get("model")
    a: Attributes = {
        semconv.GEN_AI_OPERATION_NAME: semconv.OP_CHAT,
        semconv.GEN_AI_REQUEST_MODEL: model if isinstance(model, str) else "",
    }
    # ``x is not None and`` before each check: most options are absent, and the test is cheaper
    # than the call or the ABC check (every request comes here).
    max_tokens = kw.get("max_tokens")
    if max_tokens is not None and _num(max_tokens):
        a[semconv.GEN_AI_REQUEST_MAX_TOKENS] = int(max_tokens)
    for key, attr in _SAMPLING:
        value = kw.get(key)
        if value is not None and _num(value):
            a[attr] = float(value)
    top_k = kw.get("top_k")
    if top_k is not None and _num(top_k):
        a[semconv.GEN_AI_REQUEST_TOP_K] = float(top_k)
    stop = kw.get("stop_sequences")
    if isinstance(stop, (list, tuple)) and all(isinstance(s, str) for s in stop):
        a[semconv.GEN_AI_REQUEST_STOP_SEQUENCES] = list(stop)
    if kw.get("stream") is True:
        a[semconv.GEN_AI_REQUEST_STREAM] = True
    output_format = kw.get("output_format")
    if output_format is not None and isinstance(output_format, (Mapping, type)):
        a[semconv.GEN_AI_OUTPUT_TYPE] = semconv.OUTPUT_JSON
    return a


class Usage:
    """Anthropic usage numbers, merged from ``message_start`` and (cumulative) ``message_delta``."""

    __slots__ = ("cache_creation", "cache_read", "input", "output", "thinking")

    def __init__(self) -> None:
        self.input: int | None = None
        self.output: int | None = None
        self.cache_read: int | None = None
        self.cache_creation: int | None = None
        self.thinking: int | None = None

    def update(self, usage: Any) -> None:
        """Take every number ``usage`` reports; a later report replaces (never adds to) an earlier one."""
        if usage is None:
            return
        # One statement per field, not a loop with setattr: every response and stream comes here.
        value = reported(getattr(usage, "input_tokens", None))
        if value is not None:
            self.input = value
        value = reported(getattr(usage, "output_tokens", None))
        if value is not None:
            self.output = value
        value = reported(getattr(usage, "cache_read_input_tokens", None))
        if value is not None:
            self.cache_read = value
        value = reported(getattr(usage, "cache_creation_input_tokens", None))
        if value is not None:
            self.cache_creation = value
        details = getattr(usage, "output_tokens_details", None)
        thinking = reported(getattr(details, "thinking_tokens", None)) if details is not None else None
        if thinking is not None:
            self.thinking = thinking

    def put(self, a: Attributes) -> tuple[int | None, int | None]:
        """Set the usage attributes; returns (total input, output) for the token metric."""
        total_input: int | None = None
        if self.input is not None:
            parts = (self.input, self.cache_read or 0, self.cache_creation or 0)
            # A negative part would hide in the sum: report it instead, for the usage check to reject.
            total_input = sum(parts) if min(parts) >= 0 else min(parts)
            a[semconv.GEN_AI_USAGE_INPUT_TOKENS] = total_input
        if self.cache_read is not None:
            a[semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = self.cache_read
        if self.cache_creation is not None:
            a[semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] = self.cache_creation
        if self.output is not None:
            a[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] = self.output
        if self.thinking is not None:
            a[semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] = self.thinking
        return total_input, self.output


def put_message_head(a: Attributes, message: Any) -> str | None:
    """Response id and model; returns the model."""
    mid = getattr(message, "id", None)
    if isinstance(mid, str):
        a[semconv.GEN_AI_RESPONSE_ID] = mid
    model = getattr(message, "model", None)
    if isinstance(model, str):
        a[semconv.GEN_AI_RESPONSE_MODEL] = model
        return model
    return None


def put_tool_uses(a: Attributes, names: list[str], ids: list[str]) -> None:
    """Names and ids of the ``tool_use`` blocks the model returned (never their input)."""
    if names:
        a[semconv.AGENTOTEL_TOOL_CALL_NAMES] = names
        a[semconv.AGENTOTEL_TOOL_CALL_IDS] = ids


def response_attributes(message: Any) -> tuple[Attributes, int | None, int | None, str | None]:
    """Attributes, input tokens (with cache), output tokens and model of a ``Message``."""
    a: Attributes = {}
    model = put_message_head(a, message)
    reason = getattr(message, "stop_reason", None)
    if isinstance(reason, str):
        a[semconv.GEN_AI_RESPONSE_FINISH_REASONS] = [reason]
    names: list[str] = []
    ids: list[str] = []
    for block in getattr(message, "content", None) or ():
        if getattr(block, "type", None) == "tool_use":
            names.append(str(getattr(block, "name", "")))
            ids.append(str(getattr(block, "id", "")))
    put_tool_uses(a, names, ids)
    usage = Usage()
    usage.update(getattr(message, "usage", None))
    i, o = usage.put(a)
    return a, i, o, model
