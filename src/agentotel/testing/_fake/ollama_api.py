"""Ollama: ``POST /api/chat``, ``/api/generate`` (JSON, or NDJSON lines when the body says
``"stream": true``), ``/api/embed`` and the older ``/api/embeddings``, with Ollama's error format
(``{"error": "<message>"}`` and the HTTP status).

A streamed reply is one JSON object per line (``application/x-ndjson``): the text in pieces
(``message.content`` for chat, ``response`` for generate), tool calls whole in one line, and a last
line with ``"done": true``, ``done_reason``, the token counts (``prompt_eval_count``,
``eval_count``) and the server's durations in nanoseconds (``total_duration``, ``load_duration``,
``prompt_eval_duration``, ``eval_duration``), as a non-streamed reply has them. The durations are
made from the counts: 5 ms to load, 1 ms per prompt token, 10 ms per output token.

A model name containing :data:`NOT_FOUND` gets Ollama's 404 (``model "<name>" not found, try
pulling it first``); on a streamed route, a model name containing :data:`STREAM_ERROR` gets an
``{"error": ...}`` line after two lines, as Ollama reports an error met while generating.
The real server streams when ``stream`` is absent; the fake one (like every wire here) only when
the body says ``"stream": true``, which the ``ollama`` SDK always sends.
"""

from __future__ import annotations

import json

from ._core import (
    JSON,
    THINKING_TEXT,
    BadRequest,
    Ctx,
    ErrorFormat,
    Route,
    Wire,
    answer,
    first_tool,
    json_response,
    max_words,
    pieces,
)
from ._state import FakeResponse, count_tokens

__all__ = ["ERRORS", "NDJSON_CT", "NOT_FOUND", "STREAM_ERROR", "WIRE"]

NDJSON_CT = "application/x-ndjson"
NOT_FOUND = "not-found"
"""A model name containing this is not on the fake server: a 404 as Ollama sends it."""
STREAM_ERROR = "stream-error"
"""A model name containing this fails a stream with an ``{"error": ...}`` line after two lines."""
CREATED_AT = "2023-11-14T22:13:20Z"
_LOAD_NS = 5_000_000
_PROMPT_TOKEN_NS = 1_000_000
_OUTPUT_TOKEN_NS = 10_000_000


def _error_body(status: int, etype: str, message: str, code: str | None, request_id: str) -> FakeResponse:
    del etype, code, request_id  # Ollama's body is the message only
    return json_response(status, {"error": message})


ERRORS = ErrorFormat(
    body=_error_body,
    scenarios={
        "rate_limit": (429, "rate_limit", None, "too many requests (fake LLM server)"),
        "server_error": (500, "server_error", None, "llama runner process has terminated: exit status 2"),
        "overloaded": (
            503,
            "overloaded",
            None,
            "server busy, please try again.  maximum pending requests exceeded",
        ),
        "bad_request": (400, "bad_request", None, "invalid options: fake LLM server scenario"),
    },
    malformed_event=b'{"model":"broken","message":\n',
)


def _line(obj: JSON) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode() + b"\n"


def _model(req: JSON) -> str:
    model = req.get("model")
    if not isinstance(model, str) or not model:
        raise BadRequest("model is required")
    return model


def _not_found(model: str) -> FakeResponse:
    return json_response(404, {"error": f'model "{model}" not found, try pulling it first'})


def _limit(req: JSON) -> int | None:
    options = req.get("options")
    return max_words(options, "num_predict") if isinstance(options, dict) else None


def _done(input_tokens: int, output_tokens: int, reason: str) -> JSON:
    """The last line's (and a whole reply's) counts and durations."""
    prompt_ns = _PROMPT_TOKEN_NS * input_tokens
    eval_ns = _OUTPUT_TOKEN_NS * output_tokens
    return {
        "done": True,
        "done_reason": reason,
        "total_duration": _LOAD_NS + prompt_ns + eval_ns + 1_000_000,
        "load_duration": _LOAD_NS,
        "prompt_eval_count": input_tokens,
        "prompt_eval_duration": prompt_ns,
        "eval_count": output_tokens,
        "eval_duration": eval_ns,
    }


def _read_tool(tool: JSON) -> tuple[str, object] | None:
    fn = tool.get("function")
    if isinstance(fn, dict) and isinstance(fn.get("name"), str):
        return fn["name"], fn.get("parameters")
    return None


def _messages(req: JSON) -> list[JSON]:
    msgs = req.get("messages")
    if msgs is None:
        return []
    if not isinstance(msgs, list):
        raise BadRequest("json: cannot unmarshal messages")
    return [m for m in msgs if isinstance(m, dict)]


def _reply(
    ctx: Ctx, model: str, head_key: str, body: JSON, input_tokens: int, output_tokens: int, reason: str
) -> FakeResponse:
    """The whole reply, or its NDJSON lines: ``body`` holds the text (under ``head_key``'s path)."""
    head = {"model": model, "created_at": CREATED_AT}
    done = _done(input_tokens, output_tokens, reason)
    if not ctx.stream:
        return json_response(200, {**head, **body, **done})
    lines = [_line({**head, **part, "done": False}) for part in _pieces(head_key, body)]
    last = {"message": {"role": "assistant", "content": ""}} if head_key == "message" else {"response": ""}
    lines.append(_line({**head, **last, **done}))
    if STREAM_ERROR in model:
        lines = [*lines[:2], _line({"error": "an error was encountered while running the model"})]
    return FakeResponse(200, {"content-type": NDJSON_CT}, lines)


def _pieces(head_key: str, body: JSON) -> list[JSON]:
    """The streamed lines' bodies: thinking and text word by word, tool calls whole."""
    if head_key == "response":
        out: list[JSON] = [{"response": "", "thinking": p} for p in pieces(body.get("thinking", ""))]
        out.extend({"response": p} for p in pieces(body["response"]) or [""])
        return out
    message = body["message"]
    found: list[JSON] = [
        {"message": {"role": "assistant", "content": "", "thinking": p}}
        for p in pieces(message.get("thinking", ""))
    ]
    if message.get("tool_calls"):
        found.append({"message": {"role": "assistant", "content": "", "tool_calls": message["tool_calls"]}})
    else:
        found.extend(
            {"message": {"role": "assistant", "content": p}} for p in pieces(message["content"]) or [""]
        )
    return found


def _chat(ctx: Ctx) -> FakeResponse:
    req, sc = ctx.req, ctx.sc
    model = _model(req)
    if NOT_FOUND in model:
        return _not_found(model)
    msgs = _messages(req)
    prompt = [m["content"] for m in msgs if isinstance(m.get("content"), str)]
    last_is_tool = bool(msgs) and msgs[-1].get("role") == "tool"
    offered = None if last_is_tool else first_tool(req.get("tools"), _read_tool)
    reply = answer(ctx, prompt, offered, _limit(req))
    message: JSON = {"role": "assistant", "content": "" if reply.calls else reply.text}
    if sc.reasoning:
        message["thinking"] = THINKING_TEXT
    if reply.calls:
        message["tool_calls"] = [{"function": {"name": n, "arguments": args}} for n, args in reply.calls]
    input_tokens = sum(count_tokens(t) for t in prompt)
    output_tokens = reply.visible_tokens + sc.reasoning
    reason = reply.reason(calls="stop", truncated="length", done="stop")
    return _reply(ctx, model, "message", {"message": message}, input_tokens, output_tokens, reason)


def _generate(ctx: Ctx) -> FakeResponse:
    req, sc = ctx.req, ctx.sc
    model = _model(req)
    if NOT_FOUND in model:
        return _not_found(model)
    prompt = [t for t in (req.get("system"), req.get("prompt")) if isinstance(t, str)]
    reply = answer(ctx, prompt, None, _limit(req))
    body: JSON = {"response": reply.text}
    if sc.reasoning:
        body["thinking"] = THINKING_TEXT
    input_tokens = sum(count_tokens(t) for t in prompt)
    output_tokens = reply.visible_tokens + sc.reasoning
    reason = reply.reason(calls="stop", truncated="length", done="stop")
    if not ctx.stream:
        body["context"] = [1, 2, 3]
    return _reply(ctx, model, "response", body, input_tokens, output_tokens, reason)


def _vector(text: str, dims: int) -> list[float]:
    seed = count_tokens(text)
    return [round(((seed + i) % 7) / 7, 4) for i in range(dims)]


def _dims(req: JSON) -> int:
    value = req.get("dimensions")
    return value if isinstance(value, int) and 0 < value <= 4096 else 8


def _embed(ctx: Ctx) -> FakeResponse:
    req = ctx.req
    model = _model(req)
    if NOT_FOUND in model:
        return _not_found(model)
    given = req.get("input")
    inputs = [given] if isinstance(given, str) else given
    if not isinstance(inputs, list) or not all(isinstance(t, str) for t in inputs):
        raise BadRequest("invalid input type")
    tokens = sum(count_tokens(t) for t in inputs)
    return json_response(
        200,
        {
            "model": model,
            "embeddings": [_vector(t, _dims(req)) for t in inputs],
            "total_duration": _LOAD_NS + _PROMPT_TOKEN_NS * tokens + 1_000_000,
            "load_duration": _LOAD_NS,
            "prompt_eval_count": tokens,
        },
    )


def _embeddings(ctx: Ctx) -> FakeResponse:
    req = ctx.req
    model = _model(req)
    if NOT_FOUND in model:
        return _not_found(model)
    prompt = req.get("prompt")
    return json_response(200, {"embedding": _vector(prompt if isinstance(prompt, str) else "", 8)})


WIRE = Wire(
    routes={
        "/api/chat": Route(_chat),
        "/api/generate": Route(_generate),
        "/api/embed": Route(_embed, replies=False),
        "/api/embeddings": Route(_embeddings, replies=False),
    },
    errors=ERRORS,
)
