"""Mistral AI: ``POST /v1/chat/completions`` (JSON, or SSE chunks ending with ``[DONE]``) and
``POST /v1/embeddings``, with Mistral's error format.

Served under ``/mistral`` (``server_url=f"{fake.base_url}/mistral"``): Mistral's paths are
OpenAI's, and the router tells wire formats apart by path only. What differs from OpenAI's:

* usage always comes on the last stream chunk (no ``stream_options``), next to the finish reason;
* a streamed tool call comes whole in one chunk (id, name and all its arguments);
* a reply echoes the requested model (no dated name), no ``system_fingerprint``/``service_tier``;
* embeddings take ``input`` (a string or a list of strings; the SDK's ``inputs``) and
  ``output_dimension``;
* errors are ``{"object": "error", "message", "type", "param", "code"}`` (a rate limit:
  ``"type": "rate_limited", "code": "1300"``), and a body that fails validation is a 422 whose
  ``message`` holds FastAPI's ``{"detail": [{"type", "loc", "msg", "input"}]}``.
"""

from __future__ import annotations

import json

from ._core import (
    CREATED,
    JSON,
    SSE_CT,
    Ctx,
    ErrorFormat,
    Route,
    Wire,
    answer,
    first_tool,
    json_response,
    max_words,
    pieces,
    sse,
    texts,
)
from ._state import FakeResponse, count_tokens

__all__ = ["ERRORS", "PREFIX", "WIRE"]

PREFIX = "/mistral/v1"
DEFAULT_DIMENSIONS = 8


def _headers(request_id: str) -> dict[str, str]:
    return {"x-kong-request-id": request_id}


def _error_body(status: int, etype: str, message: str, code: str | None, request_id: str) -> FakeResponse:
    body = {"object": "error", "message": message, "type": etype, "param": None, "code": code}
    return json_response(status, body, _headers(request_id))


ERRORS = ErrorFormat(
    body=_error_body,
    scenarios={
        "rate_limit": (429, "rate_limited", "1300", "Rate limit exceeded"),
        "server_error": (500, "internal_server_error", None, "Internal server error (fake LLM server)."),
        "overloaded": (503, "service_unavailable", None, "Service unavailable (fake LLM server)."),
        "bad_request": (400, "invalid_request_error", None, "Invalid request (fake LLM server scenario)."),
    },
    malformed_event=b'data: {"id": "broken\n\n',
)


def _invalid(request_id: str, loc: list[object], msg: str, kind: str, value: object) -> FakeResponse:
    """A 422: the body failed the API's validation (FastAPI's ``detail`` in Mistral's envelope)."""
    detail = {"detail": [{"type": kind, "loc": ["body", *loc], "msg": msg, "input": value}]}
    body = {
        "object": "error",
        "message": detail,
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }
    return json_response(422, body, _headers(request_id))


def _function(tool: JSON) -> tuple[str, object] | None:
    fn = tool.get("function")
    if (
        isinstance(fn, dict)
        and isinstance(fn.get("name"), str)
        and tool.get("type", "function") == "function"
    ):
        return fn["name"], fn.get("parameters")
    return None


def _offered_tool(req: JSON, msgs: list[JSON]) -> tuple[str, object] | None:
    """The first function tool, when the last message is the user's and tools are allowed."""
    if not (msgs and msgs[-1].get("role") == "user") or req.get("tool_choice") == "none":
        return None
    return first_tool(req.get("tools"), _function)


def _chat(ctx: Ctx) -> FakeResponse:
    req = ctx.req
    if not isinstance(req.get("model"), str):
        return _invalid(ctx.request_id, ["model"], "Field required", "missing", req)
    raw = req.get("messages")
    if not isinstance(raw, list) or not raw:
        return _invalid(ctx.request_id, ["messages"], "Field required", "missing", req)
    msgs = [m for m in raw if isinstance(m, dict)]
    prompt_texts = [t for m in msgs for t in texts(m.get("content"))]
    prompt = sum(count_tokens(t) for t in prompt_texts)
    n: int = req["n"] if isinstance(req.get("n"), int) and req["n"] > 0 else 1
    reply = answer(ctx, prompt_texts, _offered_tool(req, msgs), max_words(req, "max_tokens"))
    cid = f"cmpl-fake{ctx.state.next_id('cmpl')}"
    fns = [{"name": name, "arguments": json.dumps(args)} for name, args in reply.calls]
    calls: list[list[JSON]] = [  # per choice
        [
            {"id": f"fakecall{ctx.state.next_id('call')}", "type": "function", "function": fn, "index": k}
            for k, fn in enumerate(fns)
        ]
        for _ in range(n if fns else 0)
    ]
    finish = reply.reason(calls="tool_calls", truncated="length", done="stop")
    completion = reply.visible_tokens * n
    usage = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
    base: JSON = {"id": cid, "object": "chat.completion", "created": CREATED, "model": req["model"]}
    headers = _headers(ctx.request_id)
    if not ctx.stream:
        choices = []
        for i in range(n):
            msg: JSON = {"role": "assistant", "content": reply.text, "tool_calls": None, "prefix": False}
            if calls:
                msg.update(content="", tool_calls=calls[i])
            choices.append({"index": i, "message": msg, "finish_reason": finish})
        return json_response(200, {**base, "usage": usage, "choices": choices}, headers)
    return FakeResponse(
        200, {"content-type": SSE_CT, **headers}, _chunks(base, n, calls, reply.text, finish, usage)
    )


def _chunks(base: JSON, n: int, calls: list[list[JSON]], text: str, finish: str, usage: JSON) -> list[bytes]:
    """The ``chat.completion.chunk`` events of a streamed completion, usage on the last, ``[DONE]``."""
    base = {**base, "object": "chat.completion.chunk"}

    def chunk(i: int, delta: JSON, finish_reason: str | None = None, **extra: object) -> bytes:
        return sse(
            {**base, "choices": [{"index": i, "delta": delta, "finish_reason": finish_reason}], **extra}
        )

    events = [chunk(i, {"role": "assistant", "content": ""}) for i in range(n)]
    if calls:
        events += [chunk(i, {"tool_calls": calls[i]}) for i in range(n)]
    else:
        for piece in pieces(text):
            events += [chunk(i, {"content": piece}) for i in range(n)]
    events += [
        chunk(i, {"content": ""}, finish, **({"usage": usage} if i == n - 1 else {})) for i in range(n)
    ]
    events.append(sse("[DONE]"))
    return events


def _embeddings(ctx: Ctx) -> FakeResponse:
    req = ctx.req
    raw = req.get("input")
    if isinstance(raw, str):
        inputs = [raw]
    elif isinstance(raw, list) and raw and all(isinstance(x, str) for x in raw):
        inputs = list(raw)
    else:
        return _invalid(ctx.request_id, ["input"], "Input should be a valid string", "string_type", raw)
    if not isinstance(req.get("model"), str):
        return _invalid(ctx.request_id, ["model"], "Field required", "missing", req)
    dims = req.get("output_dimension")
    dims = dims if isinstance(dims, int) and not isinstance(dims, bool) and dims > 0 else DEFAULT_DIMENSIONS
    data = [
        {
            "object": "embedding",
            "embedding": [round(0.001 * (i + 1) * (j + 1), 6) for j in range(dims)],
            "index": i,
        }
        for i in range(len(inputs))
    ]
    prompt = sum(count_tokens(x) for x in inputs)
    body = {
        "id": f"embd-fake{ctx.state.next_id('embd')}",
        "object": "list",
        "data": data,
        "model": req["model"],
        "usage": {"prompt_tokens": prompt, "completion_tokens": 0, "total_tokens": prompt},
    }
    return json_response(200, body, _headers(ctx.request_id))


WIRE = Wire(
    routes={
        f"{PREFIX}/chat/completions": Route(_chat),
        f"{PREFIX}/embeddings": Route(_embeddings, replies=False),
    },
    errors=ERRORS,
)
