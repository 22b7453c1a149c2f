"""The OpenAI wire format (Chat Completions, Embeddings), for every provider whose API speaks it.

The ``openai`` SDK and LiteLLM (which answers every provider in this format) send and receive
requests, responses and stream chunks of the same shape: the pure readers of that shape live here
once. What differs between them (a response's head, usage, the provider, the options only one of
them records) stays in their packages. Nothing here touches OpenTelemetry or the engine.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeGuard

from agentotel import semconv
from agentotel._content import text_parts, tool_call_part, tool_response_part
from agentotel._lifecycle import Attributes
from agentotel.instrumentation._accumulator import StreamAccumulator


def get(obj: Any, key: str) -> Any:
    """``obj[key]`` of a mapping (a message the app built), else the attribute (an SDK object)."""
    return obj.get(key) if isinstance(obj, Mapping) else getattr(obj, key, None)


def num(value: Any) -> TypeGuard[int | float]:
    """A number, not a bool."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def model_of(kw: Mapping[str, Any]) -> str:
    """The request's ``model``; empty when it is not a string."""
    model = kw.get("model")
    return model if isinstance(model, str) else ""


SAMPLING = (
    ("temperature", semconv.GEN_AI_REQUEST_TEMPERATURE),
    ("top_p", semconv.GEN_AI_REQUEST_TOP_P),
    ("frequency_penalty", semconv.GEN_AI_REQUEST_FREQUENCY_PENALTY),
    ("presence_penalty", semconv.GEN_AI_REQUEST_PRESENCE_PENALTY),
)


# --- request attributes ----------------------------------------------------------------------
def put_chat_options(a: Attributes, kw: Mapping[str, Any]) -> None:
    """Max tokens, sampling, stream, seed, choice count and stop sequences of a chat request."""
    # ``value is not None and`` before each ``num``: most options are absent, and the test is
    # cheaper than the call (every request comes here).
    max_tokens = kw.get("max_completion_tokens")
    if max_tokens is None or not num(max_tokens):
        max_tokens = kw.get("max_tokens")
    if max_tokens is not None and num(max_tokens):
        a[semconv.GEN_AI_REQUEST_MAX_TOKENS] = int(max_tokens)
    for key, attr in SAMPLING:
        value = kw.get(key)
        if value is not None and num(value):
            a[attr] = float(value)
    if kw.get("stream") is True:
        a[semconv.GEN_AI_REQUEST_STREAM] = True
    seed = kw.get("seed")
    if seed is not None and num(seed):
        a[semconv.GEN_AI_REQUEST_SEED] = int(seed)
    n = kw.get("n")
    if n is not None and num(n) and n != 1:
        a[semconv.GEN_AI_REQUEST_CHOICE_COUNT] = int(n)
    stop = kw.get("stop")
    if stop is not None:
        put_stop(a, stop)


def put_stop(a: Attributes, stop: Any) -> None:
    """``stop`` (one string or a list of them, as the OpenAI wire takes it) as the stop sequences."""
    if isinstance(stop, str):
        a[semconv.GEN_AI_REQUEST_STOP_SEQUENCES] = [stop]
    elif isinstance(stop, (list, tuple)) and all(isinstance(s, str) for s in stop):
        a[semconv.GEN_AI_REQUEST_STOP_SEQUENCES] = list(stop)


def one_plain_choice(kw: Mapping[str, Any], offers: tuple[str, ...] = ("tools",)) -> bool:
    """True when a chat request can get neither a tool call nor more than one choice: nothing
    offered under the names ``offers`` (each absent, None or an empty list) and ``n`` absent, None
    or 1. Anything else (an SDK's "not given" sentinel given explicitly too) is False: its stream is
    read chunk by chunk (:class:`~agentotel.instrumentation._operation.PlainStreams`)."""
    for name in offers:
        offered = kw.get(name)
        if offered is not None and not (offered.__class__ in (list, tuple) and not offered):
            return False
    n = kw.get("n")
    return n is None or (n.__class__ is int and n == 1)


def embeddings_request_attributes(kw: Mapping[str, Any]) -> Attributes:
    """Request attributes of an embeddings request."""
    a: Attributes = {
        semconv.GEN_AI_OPERATION_NAME: semconv.OP_EMBEDDINGS,
        semconv.GEN_AI_REQUEST_MODEL: model_of(kw),
    }
    fmt = kw.get("encoding_format")
    if isinstance(fmt, str):
        a[semconv.GEN_AI_REQUEST_ENCODING_FORMATS] = [fmt]
    dims = kw.get("dimensions")
    if num(dims):
        a[semconv.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = int(dims)
    return a


# --- response attributes ---------------------------------------------------------------------
def put_tool_calls(a: Attributes, names: list[str], ids: list[str]) -> None:
    """Names and ids of the tool calls the model asked for (no arguments: those are content)."""
    if names:
        a[semconv.AGENTOTEL_TOOL_CALL_NAMES] = names
    if ids:
        a[semconv.AGENTOTEL_TOOL_CALL_IDS] = ids


def put_choices(a: Attributes, choices: Any) -> None:
    """The finish reasons of a chat completion's ``choices`` and the tool calls they ask for."""
    reasons: list[str] = []
    names: list[str] = []
    ids: list[str] = []
    for choice in choices or ():
        reason = getattr(choice, "finish_reason", None)
        reasons.append(reason if isinstance(reason, str) else "")
        message = getattr(choice, "message", None)
        for call in getattr(message, "tool_calls", None) or ():
            fn = getattr(call, "function", None)
            names.append(str(getattr(fn, "name", None) or ""))
            ids.append(str(getattr(call, "id", None) or ""))
    if reasons:
        a[semconv.GEN_AI_RESPONSE_FINISH_REASONS] = reasons
    put_tool_calls(a, names, ids)


# --- content (capture on only) ---------------------------------------------------------------
def _tool_call_part(call: Any) -> dict[str, Any]:
    fn = get(call, "function")
    return tool_call_part(get(call, "id"), get(fn, "name"), get(fn, "arguments"))


def chat_input_messages(messages: Iterable[Any]) -> list[dict[str, Any]]:
    """Chat ``messages`` in the GenAI semconv message shape."""
    out: list[dict[str, Any]] = []
    for msg in messages:
        role = get(msg, "role")
        if role == "tool":
            parts = [tool_response_part(get(msg, "tool_call_id"), get(msg, "content"))]
        else:
            parts = text_parts(get(msg, "content"))
            parts.extend(_tool_call_part(c) for c in get(msg, "tool_calls") or ())
        out.append({"role": role, "parts": parts})
    return out


def chat_output_messages(completion: Any) -> list[dict[str, Any]]:
    """The choices of a chat completion as semconv output messages."""
    out: list[dict[str, Any]] = []
    for choice in getattr(completion, "choices", None) or ():
        message = getattr(choice, "message", None)
        parts = text_parts(getattr(message, "content", None))
        parts.extend(_tool_call_part(c) for c in getattr(message, "tool_calls", None) or ())
        reason = getattr(choice, "finish_reason", None)
        out.append({"role": "assistant", "parts": parts, "finish_reason": reason})
    return out


def embeddings_request_content(kw: Mapping[str, Any]) -> dict[str, Any]:
    """The input of an embeddings request, as one user message."""
    return {"inputs": [{"role": "user", "parts": [{"type": "text", "content": kw.get("input")}]}]}


def no_output(_: Any) -> None:
    """Output messages of an operation that has none (embeddings)."""
    return None


# --- tool results sent back (for inferred tool spans) ----------------------------------------
def chat_tool_results(kw: Mapping[str, Any]) -> list[tuple[str, bool]]:
    """``(tool_call_id, is_error)`` of the ``role: tool`` messages after the last assistant message.

    Only a list or tuple is read: any other iterable may be single-use, and is the app's.
    """
    messages = kw.get("messages")
    found: list[tuple[str, bool]] = []
    if isinstance(messages, (list, tuple)):
        for msg in reversed(messages):
            role = get(msg, "role")
            if role == "assistant":
                break
            if role == "tool":
                call_id = get(msg, "tool_call_id")
                if isinstance(call_id, str):
                    found.append((call_id, False))
    found.reverse()
    return found


# --- streams ---------------------------------------------------------------------------------
class ChatChunkAccumulator(StreamAccumulator):
    """Finish reasons, tool calls, usage and (with capture on) text of ``chat.completion.chunk``s.

    A provider's subclass writes ``outcome()``: the response head from ``_first``/``_last``, then
    :meth:`_put_choices`, then its usage from ``_usage``. Per chunk it only looks at what can
    change (choices, usage).
    """

    __slots__ = ("_calls", "_first", "_last", "_reasons", "_texts", "_usage")

    def __init__(self, capture: bool) -> None:
        self._first: Any = None
        self._last: Any = None
        self._reasons: dict[int, str] = {}
        self._usage: Any = None
        self._calls: dict[tuple[int, int], list[str]] = {}
        # Text per choice, kept only when content capture is on.
        self._texts: dict[int, list[str]] | None = {} if capture else None

    def process(self, chunk: Any) -> None:
        if self._first is None:
            self._first = chunk
        self._last = chunk
        try:
            usage = chunk.usage
        except AttributeError:  # a LiteLLM chunk has the field only when the provider sent usage
            usage = None
        if usage is not None:
            self._usage = usage
        for choice in chunk.choices:
            delta = choice.delta
            if (
                choice.finish_reason is None
                and self._texts is None
                and (delta is None or not delta.tool_calls)
            ):
                continue  # the common chunk: one more piece of text, nothing to keep
            self._choice(choice, delta)

    def _choice(self, choice: Any, delta: Any) -> None:
        if delta is None:
            self._take(choice.index, choice.finish_reason, None, None)
        else:
            self._take(choice.index, choice.finish_reason, delta.content, delta.tool_calls)

    def _take(self, index: Any, finish_reason: Any, content: Any, tool_calls: Any) -> None:
        """What one choice of a chunk adds: its finish reason, its text (with capture on) and its
        tool call pieces (name and id; the arguments with capture on)."""
        if not isinstance(index, int):
            index = 0
        if finish_reason is not None:
            self._reasons[index] = finish_reason
        if self._texts is not None and content:
            self._texts.setdefault(index, []).append(content)
        for call in tool_calls or ():
            call_index = call.index if isinstance(call.index, int) else 0
            entry = self._calls.setdefault((index, call_index), ["", "", ""])
            if call.id:
                entry[0] = call.id
            fn = call.function
            if fn is not None:
                if fn.name:
                    entry[1] = fn.name
                if fn.arguments and self._texts is not None:
                    entry[2] += fn.arguments

    def _put_choices(self, a: Attributes) -> None:
        """The finish reasons (by choice index) and the tool calls seen, on ``a``."""
        reasons = self._reasons
        if len(reasons) == 1:
            a[semconv.GEN_AI_RESPONSE_FINISH_REASONS] = [str(reason) for reason in reasons.values()]
        elif reasons:
            a[semconv.GEN_AI_RESPONSE_FINISH_REASONS] = [str(reasons[i]) for i in sorted(reasons)]
        if self._calls:
            calls = [self._calls[k] for k in sorted(self._calls)]
            put_tool_calls(a, [str(c[1]) for c in calls], [str(c[0]) for c in calls])

    def output_messages(self) -> list[dict[str, Any]]:
        if self._texts is None:
            return []
        indexes = sorted(set(self._texts) | set(self._reasons) | {k[0] for k in self._calls})
        out: list[dict[str, Any]] = []
        for index in indexes:
            parts: list[dict[str, Any]] = []
            if index in self._texts:
                parts.append({"type": "text", "content": "".join(self._texts[index])})
            for (ci, _), (cid, name, args) in sorted(self._calls.items()):
                if ci == index:
                    parts.append(tool_call_part(cid, name, args))
            out.append({"role": "assistant", "parts": parts, "finish_reason": self._reasons.get(index)})
        return out
