"""OpenAI chat completions: ``POST /v1/chat/completions``, JSON or SSE chunks (``stream``)."""

from __future__ import annotations

import json

from . import _openai
from ._core import (
    CREATED,
    JSON,
    SSE_CT,
    Ctx,
    Route,
    Wire,
    answer,
    first_tool,
    json_response,
    max_words,
    messages,
    pieces,
    split_json,
    sse,
    texts,
)
from ._state import FakeResponse, count_tokens

__all__ = ["WIRE"]


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
    req, sc = ctx.req, ctx.sc
    msgs = messages(req)
    prompt_texts = [t for m in msgs for t in texts(m.get("content"))]
    prompt = sum(count_tokens(t) for t in prompt_texts)
    n: int = req["n"] if isinstance(req.get("n"), int) and req["n"] > 0 else 1
    limit = max_words(req, "max_completion_tokens", "max_tokens")
    reply = answer(ctx, prompt_texts, _offered_tool(req, msgs), limit)
    tier = req.get("service_tier") if isinstance(req.get("service_tier"), str) else "default"
    cid = f"chatcmpl-{ctx.state.next_id('chatcmpl')}"

    fns = [{"name": name, "arguments": json.dumps(args)} for name, args in reply.calls]
    calls: list[list[JSON]] = [  # per choice
        [{"id": f"call_{ctx.state.next_id('call')}", "type": "function", "function": fn} for fn in fns]
        for _ in range(n if fns else 0)
    ]
    finish = reply.reason(calls="tool_calls", truncated="length", done="stop")
    completion = reply.visible_tokens * n + sc.reasoning
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
        "model": _openai.model_name(req.get("model")),
        "service_tier": tier,
        "system_fingerprint": _openai.FINGERPRINT,
    }
    headers = _openai.headers(ctx.request_id)
    if not ctx.stream:
        choices = []
        for i in range(n):
            msg: JSON = {"role": "assistant", "content": reply.text, "refusal": None, "annotations": []}
            if calls:
                msg.update(content=None, tool_calls=calls[i])
            choices.append({"index": i, "message": msg, "logprobs": None, "finish_reason": finish})
        return json_response(200, {**base, "choices": choices, "usage": usage}, headers)
    events = _chunks(req, base, n, calls, reply.text, finish, usage)
    return FakeResponse(200, {"content-type": SSE_CT, **headers}, events)


def _chunks(
    req: JSON, base: JSON, n: int, calls: list[list[JSON]], text: str, finish: str, usage: JSON
) -> list[bytes]:
    """The ``chat.completion.chunk`` events of a streamed completion, ``[DONE]`` last."""
    include_usage = (
        isinstance(req.get("stream_options"), dict) and req["stream_options"].get("include_usage") is True
    )
    base = {**base, "object": "chat.completion.chunk"}
    if include_usage:
        base["usage"] = None

    def chunk(i: int, delta: JSON, finish_reason: str | None = None) -> bytes:
        choice = {"index": i, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        return sse({**base, "choices": [choice]})

    events: list[bytes] = []
    opening: JSON = {"role": "assistant", "content": None, "refusal": None}
    for k in range(len(calls[0]) if calls else 0):
        for i in range(n):
            fn = {"name": calls[i][k]["function"]["name"], "arguments": ""}
            first = {"index": k, "id": calls[i][k]["id"], "type": "function", "function": fn}
            events.append(chunk(i, {**(opening if k == 0 else {}), "tool_calls": [first]}))
        for frag in split_json(calls[0][k]["function"]["arguments"]):
            events += [
                chunk(i, {"tool_calls": [{"index": k, "function": {"arguments": frag}}]}) for i in range(n)
            ]
    if not calls:
        events += [chunk(i, {"role": "assistant", "content": "", "refusal": None}) for i in range(n)]
        for piece in pieces(text):
            events += [chunk(i, {"content": piece}) for i in range(n)]
    events += [chunk(i, {}, finish) for i in range(n)]
    if include_usage:
        events.append(sse({**base, "choices": [], "usage": usage}))
    events.append(sse("[DONE]"))
    return events


WIRE = Wire(routes={"/chat/completions": Route(_chat)}, errors=_openai.ERRORS)
