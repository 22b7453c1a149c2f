"""Deterministic fake OpenAI / Anthropic HTTP API logic (pure: no sockets, no sleeping).

:func:`handle_request` maps one HTTP request to a :class:`FakeResponse`. The only
mutable input is an optional :class:`FakeLLM` holding per-owner id counters, so the
same request sequence against a fresh state always yields byte-identical output.

Token counting is ``len(text.split())``. Markers placed anywhere in the request
steer the reply (see the package docstring of :mod:`agentotel.testing`).
"""

from __future__ import annotations

import base64
import json
import math
import re
import struct
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ._schema_args import arguments_for
from ._script import Reply, Script, scripted_calls

__all__ = [
    "CREATED",
    "DEFAULT_REPLY",
    "THINKING_TEXT",
    "FakeLLM",
    "FakeResponse",
    "count_tokens",
    "handle_request",
]

JSON = dict[str, Any]

DEFAULT_REPLY = "Hello from the fake LLM server."
THINKING_TEXT = "Let me think."
SIGNATURE = "fake-signature"
CREATED = 1700000000
FINGERPRINT = "fp_fake"
OPENAI_MODEL_DATE = "2024-08-06"
DEFAULT_EMBEDDING_DIMENSIONS = 8

_JSON_CT = "application/json"
_SSE_CT = "text/event-stream; charset=utf-8"
_SCENARIO_RE = re.compile(r"\[\[scenario:([A-Za-z_]+)(?::([^\]]*))?\]\]")
_WORDS_RE = re.compile(r"\[\[words:(\d+)\]\]")
_PIECE_RE = re.compile(r"\s*\S+\s*")
_DATED_MODEL_RE = re.compile(r"-(\d{4}-\d{2}-\d{2}|\d{8}|\d{4})$")
_ERROR_SCENARIOS = ("rate_limit", "server_error", "overloaded", "bad_request")
_FLAG_SCENARIOS = ("malformed", "disconnect")
_INT_SCENARIOS = ("cached", "cache_write", "reasoning")
_MALFORMED_BODY = b'{"id": "broken'


def count_tokens(text: str) -> int:
    """The fake tokenizer: whitespace-separated words."""
    return len(text.split())


@dataclass
class FakeResponse:
    """What to send back. ``chunks`` joined is the body; streams use one chunk per SSE event.

    ``delay_s``: sleep before sending anything. ``disconnect_after``: send that many
    chunks, then drop the connection without finishing the body; ``0`` means close
    the connection without sending any response at all (not even a status line).
    """

    status: int
    headers: dict[str, str]
    chunks: list[bytes]
    delay_s: float = 0.0
    disconnect_after: int | None = None

    @property
    def body(self) -> bytes:
        return b"".join(self.chunks)

    @property
    def is_stream(self) -> bool:
        return self.headers.get("content-type", "").startswith("text/event-stream")


class FakeLLM:
    """Per-server (or per-transport) state: thread-safe id counters starting at 1, and the
    script of replies (see :meth:`script`)."""

    def __init__(self, script: Iterable[Reply | str] | None = None) -> None:
        self._lock = threading.Lock()
        self._counters: dict[str, int] = {}
        self._script = Script()
        if script is not None:
            self._script.extend(script)

    def script(self, replies: Iterable[Reply | str]) -> None:
        """Queue replies: each chat completion, response or Anthropic message request takes the
        next one (a string is :meth:`Reply.text`); when none is left, the markers decide."""
        self._script.extend(replies)

    @property
    def pending_replies(self) -> int:
        """Scripted replies not consumed yet."""
        return len(self._script)

    def next_id(self, kind: str) -> int:
        with self._lock:
            value = self._counters.get(kind, 0) + 1
            self._counters[kind] = value
            return value

    def next_scripted(self) -> Reply | None:
        """Take the next scripted reply, if any."""
        return self._script.pop()

    def reset(self) -> None:
        """Ids start again at 1; the script is emptied."""
        with self._lock:
            self._counters.clear()
        self._script.clear()

    def handle(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> FakeResponse:
        return handle_request(method, path, headers, body, state=self)


@dataclass
class _Scenarios:
    error: str | None = None
    malformed: bool = False
    disconnect: bool = False
    slow_s: float = 0.0
    cached: int = 0
    cache_write: int = 0
    reasoning: int = 0


@dataclass
class _Ctx:
    provider: str  # "openai" | "anthropic"
    req: JSON
    sc: _Scenarios
    state: FakeLLM
    request_id: str
    stream: bool = field(default=False)
    scripted: Reply | None = None


class _BadRequest(Exception):
    pass


# --------------------------------------------------------------------------- helpers


def _dumps(obj: object) -> str:
    return json.dumps(obj, separators=(",", ":"))


def _json_response(status: int, obj: object, headers: dict[str, str] | None = None) -> FakeResponse:
    return FakeResponse(status, {"content-type": _JSON_CT, **(headers or {})}, [_dumps(obj).encode()])


def _sse(data: object, event: str | None = None) -> bytes:
    payload = data if isinstance(data, str) else _dumps(data)
    prefix = f"event: {event}\n" if event else ""
    return f"{prefix}data: {payload}\n\n".encode()


def _parse_scenarios(raw: str) -> _Scenarios:
    sc = _Scenarios()
    for match in _SCENARIO_RE.finditer(raw):
        name, arg = match.group(1), match.group(2)
        try:
            if name in _ERROR_SCENARIOS:
                sc.error = sc.error or name
            elif name in _FLAG_SCENARIOS:
                setattr(sc, name, True)
            elif name == "slow":
                sc.slow_s = float(arg or "")
                if not math.isfinite(sc.slow_s) or sc.slow_s < 0:
                    raise ValueError(arg)
            elif name in _INT_SCENARIOS:
                value = int(arg or "")
                if value < 0:
                    raise ValueError(arg)
                setattr(sc, name, value)
            else:
                raise _BadRequest(f"fake LLM server: unknown scenario marker {match.group(0)!r}")
        except ValueError:
            raise _BadRequest(f"fake LLM server: invalid scenario argument in {match.group(0)!r}") from None
    return sc


def _texts(content: object) -> list[str]:
    """Text pieces of a message ``content`` (string, block list, or Responses item list)."""
    if isinstance(content, str):
        return [content]
    out: list[str] = []
    if isinstance(content, list):
        for item in content:
            if not isinstance(item, dict):
                continue
            if isinstance(item.get("text"), str):
                out.append(item["text"])
            elif item.get("type") == "tool_result":
                out.extend(_texts(item.get("content")))
            elif item.get("type") == "function_call_output":
                out.extend(_texts(item.get("output")))
            elif "content" in item:
                out.extend(_texts(item["content"]))
    return out


def _messages(req: JSON) -> list[JSON]:
    msgs = req.get("messages")
    if not isinstance(msgs, list):
        raise _BadRequest("'messages' must be an array")
    return [m for m in msgs if isinstance(m, dict)]


def _reply_words(texts: list[str]) -> list[str]:
    matches = _WORDS_RE.findall("\n".join(texts))
    if matches:
        return [f"w{i}" for i in range(1, int(matches[-1]) + 1)]
    return DEFAULT_REPLY.split()


def _pieces(text: str) -> list[str]:
    """Stream deltas: each word with the whitespace after it (the first also with any before it)."""
    pieces = _PIECE_RE.findall(text)
    return pieces if pieces or not text else [text]


def _split_json(text: str) -> list[str]:
    """Split a JSON string into 2+ fragments, like streamed tool arguments."""
    size = max(1, math.ceil(len(text) / 3))
    return [text[i : i + size] for i in range(0, len(text), size)]


def _openai_model(model: object) -> str:
    name = model if isinstance(model, str) else "unknown"
    return name if _DATED_MODEL_RE.search(name) else f"{name}-{OPENAI_MODEL_DATE}"


def _max_words(req: JSON, *keys: str) -> int | None:
    for key in keys:
        value = req.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
    return None


# --------------------------------------------------------------------------- errors

_OPENAI_ERRORS: dict[str, tuple[int, str, str | None, str]] = {
    "rate_limit": (429, "requests", "rate_limit_exceeded", "Rate limit reached (fake LLM server)."),
    "server_error": (500, "server_error", None, "The server had an error while processing your request."),
    "overloaded": (503, "server_error", "overloaded", "The engine is currently overloaded."),
    "bad_request": (400, "invalid_request_error", None, "Invalid request (fake LLM server scenario)."),
}
_ANTHROPIC_ERRORS: dict[str, tuple[int, str, str]] = {
    "rate_limit": (429, "rate_limit_error", "Rate limit reached (fake LLM server)."),
    "server_error": (500, "api_error", "Internal server error."),
    "overloaded": (529, "overloaded_error", "Overloaded"),
    "bad_request": (400, "invalid_request_error", "Invalid request (fake LLM server scenario)."),
}


def _openai_error(status: int, etype: str, message: str, code: str | None, rid: str) -> FakeResponse:
    body = {"error": {"message": message, "type": etype, "param": None, "code": code}}
    return _json_response(status, body, {"x-request-id": rid})


def _anthropic_error(status: int, etype: str, message: str, rid: str) -> FakeResponse:
    body = {"type": "error", "error": {"type": etype, "message": message}, "request_id": rid}
    return _json_response(status, body, {"request-id": rid})


def _bad_request(provider: str, message: str, rid: str) -> FakeResponse:
    if provider == "anthropic":
        return _anthropic_error(400, "invalid_request_error", message, rid)
    return _openai_error(400, "invalid_request_error", message, None, rid)


def _scenario_error(provider: str, name: str, rid: str) -> FakeResponse:
    if provider == "anthropic":
        status, etype, message = _ANTHROPIC_ERRORS[name]
        resp = _anthropic_error(status, etype, message, rid)
    else:
        status, etype, code, message = _OPENAI_ERRORS[name]
        resp = _openai_error(status, etype, message, code, rid)
    if name == "rate_limit":
        resp.headers["retry-after"] = "0"
    return resp


# --------------------------------------------------------------------------- OpenAI chat


def _first_chat_tool(req: JSON) -> tuple[str, object] | None:
    tools = req.get("tools")
    if not isinstance(tools, list) or req.get("tool_choice") == "none":
        return None
    for tool in tools:
        fn = tool.get("function") if isinstance(tool, dict) else None
        if (
            isinstance(fn, dict)
            and isinstance(fn.get("name"), str)
            and tool.get("type", "function") == "function"
        ):
            return fn["name"], fn.get("parameters")
    return None


def _chat(ctx: _Ctx) -> FakeResponse:
    req, sc = ctx.req, ctx.sc
    msgs = _messages(req)
    texts = [t for m in msgs for t in _texts(m.get("content"))]
    prompt = sum(count_tokens(t) for t in texts)
    n: int = req["n"] if isinstance(req.get("n"), int) and req["n"] > 0 else 1
    if ctx.scripted is not None:
        specs = scripted_calls(ctx.scripted, req)
    else:
        tool = _first_chat_tool(req) if msgs and msgs[-1].get("role") == "user" else None
        specs = [(tool[0], arguments_for(tool[1]))] if tool is not None else []
    model = _openai_model(req.get("model"))
    tier = req.get("service_tier") if isinstance(req.get("service_tier"), str) else "default"
    cid = f"chatcmpl-{ctx.state.next_id('chatcmpl')}"

    text = ""
    calls: list[list[JSON]] = []  # per choice
    if specs:
        fns = [{"name": name, "arguments": json.dumps(a)} for name, a in specs]
        calls = [
            [{"id": f"call_{ctx.state.next_id('call')}", "type": "function", "function": fn} for fn in fns]
            for _ in range(n)
        ]
        visible, finish = sum(count_tokens(fn["arguments"]) for fn in fns), "tool_calls"
    elif ctx.scripted is not None:
        text, finish = ctx.scripted.content, "stop"
        visible = count_tokens(text)
    else:
        words = _reply_words(texts)
        limit = _max_words(req, "max_completion_tokens", "max_tokens")
        finish = "length" if limit is not None and len(words) > limit else "stop"
        words = words[:limit] if limit is not None else words
        text, visible = " ".join(words), len(words)
    completion = visible * n + sc.reasoning
    usage = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": sc.cached, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": sc.reasoning,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }
    base: JSON = {
        "id": cid,
        "object": "chat.completion",
        "created": CREATED,
        "model": model,
        "service_tier": tier,
        "system_fingerprint": FINGERPRINT,
    }
    headers = {"x-request-id": ctx.request_id}
    if not ctx.stream:
        choices = []
        for i in range(n):
            msg: JSON = {"role": "assistant", "content": text, "refusal": None, "annotations": []}
            if calls:
                msg.update(content=None, tool_calls=calls[i])
            choices.append({"index": i, "message": msg, "logprobs": None, "finish_reason": finish})
        return _json_response(200, {**base, "choices": choices, "usage": usage}, headers)

    include_usage = (
        isinstance(req.get("stream_options"), dict) and req["stream_options"].get("include_usage") is True
    )
    base["object"] = "chat.completion.chunk"
    if include_usage:
        base["usage"] = None

    def chunk(i: int, delta: JSON, finish_reason: str | None = None) -> bytes:
        choice = {"index": i, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        return _sse({**base, "choices": [choice]})

    events: list[bytes] = []
    opening: JSON = {"role": "assistant", "content": None, "refusal": None}
    for k in range(len(calls[0]) if calls else 0):
        for i in range(n):
            fn = {"name": calls[i][k]["function"]["name"], "arguments": ""}
            first = {"index": k, "id": calls[i][k]["id"], "type": "function", "function": fn}
            events.append(chunk(i, {**(opening if k == 0 else {}), "tool_calls": [first]}))
        for frag in _split_json(calls[0][k]["function"]["arguments"]):
            events += [
                chunk(i, {"tool_calls": [{"index": k, "function": {"arguments": frag}}]}) for i in range(n)
            ]
    if not calls:
        events += [chunk(i, {"role": "assistant", "content": "", "refusal": None}) for i in range(n)]
        for piece in _pieces(text):
            events += [chunk(i, {"content": piece}) for i in range(n)]
    events += [chunk(i, {}, finish) for i in range(n)]
    if include_usage:
        events.append(_sse({**base, "choices": [], "usage": usage}))
    events.append(_sse("[DONE]"))
    return FakeResponse(200, {"content-type": _SSE_CT, **headers}, events)


# --------------------------------------------------------------------------- OpenAI responses


def _first_response_tool(req: JSON) -> list[tuple[str, JSON]]:
    items, tools = req.get("input"), req.get("tools")
    has_output = isinstance(items, list) and any(
        isinstance(it, dict) and it.get("type") == "function_call_output" for it in items
    )
    if not isinstance(tools, list) or has_output or req.get("tool_choice") == "none":
        return []
    for tool in tools:
        if isinstance(tool, dict) and tool.get("type") == "function" and isinstance(tool.get("name"), str):
            return [(tool["name"], arguments_for(tool.get("parameters")))]
    return []


def _responses(ctx: _Ctx) -> FakeResponse:
    req, sc, state = ctx.req, ctx.sc, ctx.state
    items = req.get("input")
    texts = _texts(items)
    if isinstance(req.get("instructions"), str):
        texts.append(req["instructions"])
    prompt = sum(count_tokens(t) for t in texts)
    tools = req.get("tools")
    specs = scripted_calls(ctx.scripted, req) if ctx.scripted is not None else _first_response_tool(req)
    rn = state.next_id("resp")
    rid = f"resp_{rn}"

    output: list[JSON] = []
    for name, arguments in specs:
        cn = state.next_id("call")
        output.append(
            {
                "id": f"fc_{cn}",
                "type": "function_call",
                "status": "completed",
                "arguments": json.dumps(arguments),
                "call_id": f"call_{cn}",
                "name": name,
            }
        )
    visible = sum(count_tokens(item["arguments"]) for item in output)
    if not output:
        text = ctx.scripted.content if ctx.scripted is not None else " ".join(_reply_words(texts))
        part = {"type": "output_text", "annotations": [], "logprobs": [], "text": text}
        output.append(
            {
                "id": f"msg_{rn}",
                "type": "message",
                "status": "completed",
                "role": "assistant",
                "content": [part],
            }
        )
        visible = count_tokens(text)
    output_tokens = visible + sc.reasoning
    usage = {
        "input_tokens": prompt,
        "input_tokens_details": {"cached_tokens": sc.cached, "cache_write_tokens": 0},
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": sc.reasoning},
        "total_tokens": prompt + output_tokens,
    }
    resp: JSON = {
        "id": rid,
        "object": "response",
        "created_at": CREATED,
        "status": "completed",
        "background": False,
        "error": None,
        "incomplete_details": None,
        "instructions": req.get("instructions"),
        "max_output_tokens": req.get("max_output_tokens"),
        "metadata": req.get("metadata") or {},
        "model": _openai_model(req.get("model")),
        "output": output,
        "parallel_tool_calls": req.get("parallel_tool_calls", True),
        "previous_response_id": req.get("previous_response_id"),
        "reasoning": {"effort": None, "summary": None},
        "service_tier": req.get("service_tier") if isinstance(req.get("service_tier"), str) else "default",
        "store": req.get("store", True),
        "temperature": req.get("temperature", 1.0),
        "text": req.get("text") or {"format": {"type": "text"}},
        "tool_choice": req.get("tool_choice", "auto"),
        "tools": tools if isinstance(tools, list) else [],
        "top_p": req.get("top_p", 1.0),
        "truncation": req.get("truncation", "disabled"),
        "usage": usage,
        "user": None,
    }
    headers = {"x-request-id": ctx.request_id}
    if not ctx.stream:
        return _json_response(200, resp, headers)

    events: list[bytes] = []

    def emit(etype: str, **data: Any) -> None:
        events.append(_sse({"type": etype, "sequence_number": len(events), **data}, etype))

    pending = {**resp, "status": "in_progress", "output": [], "usage": None}
    emit("response.created", response=pending)
    emit("response.in_progress", response=pending)
    for index, item in enumerate(output):
        loc = {"item_id": item["id"], "output_index": index}
        if item["type"] == "function_call":
            added = {**item, "status": "in_progress", "arguments": ""}
            emit("response.output_item.added", output_index=index, item=added)
            for frag in _split_json(item["arguments"]):
                emit("response.function_call_arguments.delta", **loc, delta=frag)
            emit(
                "response.function_call_arguments.done", **loc, name=item["name"], arguments=item["arguments"]
            )
        else:
            added = {**item, "status": "in_progress", "content": []}
            emit("response.output_item.added", output_index=index, item=added)
            part = item["content"][0]
            emit("response.content_part.added", **loc, content_index=0, part={**part, "text": ""})
            for piece in _pieces(part["text"]):
                emit("response.output_text.delta", **loc, content_index=0, delta=piece, logprobs=[])
            emit("response.output_text.done", **loc, content_index=0, text=part["text"], logprobs=[])
            emit("response.content_part.done", **loc, content_index=0, part=part)
        emit("response.output_item.done", output_index=index, item=item)
    emit("response.completed", response=resp)
    return FakeResponse(200, {"content-type": _SSE_CT, **headers}, events)


# --------------------------------------------------------------------------- OpenAI embeddings


def _embeddings(ctx: _Ctx) -> FakeResponse:
    req = ctx.req
    raw = req.get("input")
    if isinstance(raw, str) or (isinstance(raw, list) and raw and all(isinstance(x, int) for x in raw)):
        inputs: list[object] = [raw]
    elif isinstance(raw, list) and raw and all(isinstance(x, (str, list)) for x in raw):
        inputs = list(raw)
    else:
        raise _BadRequest("'input' must be a non-empty string, array of strings, or array of token arrays")
    dims = req.get("dimensions")
    dims = (
        dims
        if isinstance(dims, int) and not isinstance(dims, bool) and dims > 0
        else DEFAULT_EMBEDDING_DIMENSIONS
    )
    b64 = req.get("encoding_format") == "base64"
    data = []
    for i in range(len(inputs)):
        vec = [round(0.001 * (i + 1) * (j + 1), 6) for j in range(dims)]
        emb: object = base64.b64encode(struct.pack(f"<{dims}f", *vec)).decode() if b64 else vec
        data.append({"object": "embedding", "index": i, "embedding": emb})
    prompt = sum(
        count_tokens(x) if isinstance(x, str) else len(x) for x in inputs if isinstance(x, (str, list))
    )
    model = req.get("model") if isinstance(req.get("model"), str) else "unknown"
    body = {
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": prompt, "total_tokens": prompt},
    }
    return _json_response(200, body, {"x-request-id": ctx.request_id})


# --------------------------------------------------------------------------- Anthropic


def _anthropic_texts(req: JSON) -> list[str]:
    return _texts(req.get("system")) + [t for m in _messages(req) for t in _texts(m.get("content"))]


def _anthropic_usage(input_total: int, sc: _Scenarios, output_tokens: int) -> JSON:
    return {
        "input_tokens": max(0, input_total - sc.cached - sc.cache_write),
        "cache_creation_input_tokens": sc.cache_write,
        "cache_read_input_tokens": sc.cached,
        "cache_creation": {"ephemeral_5m_input_tokens": sc.cache_write, "ephemeral_1h_input_tokens": 0},
        "output_tokens": output_tokens,
        "service_tier": "standard",
    }


def _first_anthropic_tool(req: JSON, msgs: list[JSON]) -> JSON | None:
    tools = req.get("tools")
    choice = req.get("tool_choice")
    if not isinstance(tools, list) or (isinstance(choice, dict) and choice.get("type") == "none"):
        return None
    last_user = next((m for m in reversed(msgs) if m.get("role") == "user"), None)
    content = last_user.get("content") if last_user else None
    if isinstance(content, list) and any(
        isinstance(b, dict) and b.get("type") == "tool_result" for b in content
    ):
        return None
    for tool in tools:
        if (
            isinstance(tool, dict)
            and isinstance(tool.get("name"), str)
            and tool.get("type", "custom") == "custom"
        ):
            return tool
    return None


def _count_tokens_endpoint(ctx: _Ctx) -> FakeResponse:
    total = sum(count_tokens(t) for t in _anthropic_texts(ctx.req))
    return _json_response(200, {"input_tokens": total}, {"request-id": ctx.request_id})


def _messages_endpoint(ctx: _Ctx) -> FakeResponse:
    req, sc, state = ctx.req, ctx.sc, ctx.state
    msgs = _messages(req)
    texts = _anthropic_texts(req)
    input_total = sum(count_tokens(t) for t in texts)
    if ctx.scripted is not None:
        specs = scripted_calls(ctx.scripted, req)
    else:
        tool = _first_anthropic_tool(req, msgs)
        specs = [(tool["name"], arguments_for(tool.get("input_schema")))] if tool is not None else []
    blocks: list[JSON] = []
    if sc.reasoning:
        blocks.append({"type": "thinking", "thinking": THINKING_TEXT, "signature": SIGNATURE})
    for name, args in specs:
        blocks.append(
            {"type": "tool_use", "id": f"toolu_{state.next_id('toolu')}", "name": name, "input": args}
        )
    if specs:
        visible, stop = sum(count_tokens(json.dumps(args)) for _, args in specs), "tool_use"
    elif ctx.scripted is not None:
        text, stop = ctx.scripted.content, "end_turn"
        blocks.append({"type": "text", "text": text})
        visible = count_tokens(text)
    else:
        words = _reply_words(texts)
        limit = _max_words(req, "max_tokens")
        stop = "max_tokens" if limit is not None and len(words) > limit else "end_turn"
        words = words[:limit] if limit is not None else words
        blocks.append({"type": "text", "text": " ".join(words)})
        visible = len(words)
    output_tokens = visible + sc.reasoning
    usage = _anthropic_usage(input_total, sc, output_tokens)
    message: JSON = {
        "id": f"msg_{state.next_id('msg')}",
        "type": "message",
        "role": "assistant",
        "model": req.get("model") if isinstance(req.get("model"), str) else "unknown",
        "content": blocks,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": usage,
    }
    headers = {"request-id": ctx.request_id}
    if not ctx.stream:
        return _json_response(200, message, headers)

    events: list[bytes] = []

    def emit(etype: str, **data: Any) -> None:
        events.append(_sse({"type": etype, **data}, etype))

    start_usage = {**usage, "output_tokens": 1}
    emit("message_start", message={**message, "content": [], "stop_reason": None, "usage": start_usage})
    for index, block in enumerate(blocks):
        if block["type"] == "thinking":
            emit(
                "content_block_start",
                index=index,
                content_block={"type": "thinking", "thinking": "", "signature": ""},
            )
            deltas = [{"type": "thinking_delta", "thinking": p} for p in _pieces(THINKING_TEXT)]
            deltas.append({"type": "signature_delta", "signature": SIGNATURE})
        elif block["type"] == "tool_use":
            emit("content_block_start", index=index, content_block={**block, "input": {}})
            deltas = [
                {"type": "input_json_delta", "partial_json": p}
                for p in _split_json(json.dumps(block["input"]))
            ]
        else:
            emit("content_block_start", index=index, content_block={"type": "text", "text": ""})
            deltas = [{"type": "text_delta", "text": p} for p in _pieces(block["text"])]
        if index == 0:
            emit("ping")
        for delta in deltas:
            emit("content_block_delta", index=index, delta=delta)
        emit("content_block_stop", index=index)
    final_usage = {
        k: usage[k] for k in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
    }
    stop_delta: JSON = {"stop_reason": stop, "stop_sequence": None}
    if output_tokens >= 4:  # cumulative counts: a consumer must not sum these
        emit("message_delta", delta=stop_delta, usage={**final_usage, "output_tokens": output_tokens // 2})
    emit("message_delta", delta=stop_delta, usage={**final_usage, "output_tokens": output_tokens})
    emit("message_stop")
    return FakeResponse(200, {"content-type": _SSE_CT, **headers}, events)


# --------------------------------------------------------------------------- dispatch

_ROUTES = {
    "/chat/completions": ("openai", _chat),
    "/responses": ("openai", _responses),
    "/embeddings": ("openai", _embeddings),
    "/messages": ("anthropic", _messages_endpoint),
    "/messages/count_tokens": ("anthropic", _count_tokens_endpoint),
}
# The requests that get a model reply: they may stream, and take the scripted replies.
_REPLIES = (_chat, _responses, _messages_endpoint)
_MALFORMED_EVENT = {
    "openai": b'data: {"id": "broken\n\n',
    "anthropic": b'event: content_block_start\ndata: {"type": "broken\n\n',
}


def _route(path: str) -> str:
    route = path.split("?", 1)[0].rstrip("/")
    return route[3:] if route.startswith("/v1/") else route


def handle_request(
    method: str,
    path: str,
    headers: Mapping[str, str],
    body: bytes,
    state: FakeLLM | None = None,
) -> FakeResponse:
    """Answer one fake API request. ``headers`` is accepted for signature parity and
    never echoed. Ids (``chatcmpl-N``, ``call_N``, ...) come from ``state``; without
    a state a fresh one is used, so every id is ``..._1``."""
    del headers  # credentials must never leak into responses
    state = state if state is not None else FakeLLM()
    request_id = f"req_{state.next_id('req')}"
    target = _route(path)
    if target not in _ROUTES:
        message = f"Unknown request URL: {method.upper()} {path.split('?', 1)[0]}."
        return _openai_error(404, "invalid_request_error", message, "unknown_url", request_id)
    provider, builder = _ROUTES[target]
    if method.upper() != "POST":
        if provider == "anthropic":
            return _anthropic_error(405, "invalid_request_error", f"Method {method} not allowed", request_id)
        return _openai_error(405, "invalid_request_error", f"Method {method} not allowed", None, request_id)
    try:
        req = json.loads(body)
    except ValueError:
        return _bad_request(provider, "We could not parse the JSON body of your request.", request_id)
    if not isinstance(req, dict):
        return _bad_request(provider, "The request body must be a JSON object.", request_id)
    try:
        sc = _parse_scenarios(body.decode("utf-8", errors="replace"))
        scripted = state.next_scripted() if builder in _REPLIES else None
        stream = req.get("stream") is True and builder in _REPLIES
        if scripted is not None and scripted.kind == "error":
            resp = _scenario_error(provider, scripted.content, request_id)
        elif sc.error is not None and scripted is None:
            resp = _scenario_error(provider, sc.error, request_id)
        elif sc.disconnect and not stream:
            resp = FakeResponse(200, {}, [], disconnect_after=0)
        else:
            resp = builder(_Ctx(provider, req, sc, state, request_id, stream, scripted))
    except _BadRequest as exc:
        return _bad_request(provider, str(exc), request_id)
    if sc.malformed and resp.status == 200:
        if resp.is_stream:
            resp.chunks = [resp.chunks[0], _MALFORMED_EVENT[provider]]
        else:
            resp.chunks = [_MALFORMED_BODY]
    if sc.disconnect and resp.is_stream:
        resp.disconnect_after = 2
    resp.delay_s = sc.slow_s
    return resp
