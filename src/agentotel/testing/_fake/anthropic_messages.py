"""Anthropic messages: ``POST /v1/messages`` (JSON or named SSE events with ``stream``) and
``POST /v1/messages/count_tokens``, with Anthropic's error format."""

from __future__ import annotations

import json
from typing import Any

from ._core import (
    JSON,
    SSE_CT,
    THINKING_TEXT,
    Ctx,
    ErrorFormat,
    Route,
    Scenarios,
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

__all__ = ["ERRORS", "SIGNATURE", "WIRE"]

SIGNATURE = "fake-signature"


def _headers(request_id: str) -> dict[str, str]:
    return {"request-id": request_id}


def _error_body(status: int, etype: str, message: str, code: str | None, request_id: str) -> FakeResponse:
    del code  # Anthropic errors carry no code
    body = {"type": "error", "error": {"type": etype, "message": message}, "request_id": request_id}
    return json_response(status, body, _headers(request_id))


ERRORS = ErrorFormat(
    body=_error_body,
    scenarios={
        "rate_limit": (429, "rate_limit_error", None, "Rate limit reached (fake LLM server)."),
        "server_error": (500, "api_error", None, "Internal server error."),
        "overloaded": (529, "overloaded_error", None, "Overloaded"),
        "bad_request": (400, "invalid_request_error", None, "Invalid request (fake LLM server scenario)."),
    },
    malformed_event=b'event: content_block_start\ndata: {"type": "broken\n\n',
)


def _prompt(req: JSON) -> list[str]:
    return texts(req.get("system")) + [t for m in messages(req) for t in texts(m.get("content"))]


def _usage(input_total: int, sc: Scenarios, output_tokens: int) -> JSON:
    return {
        "input_tokens": max(0, input_total - sc.cached - sc.cache_write),
        "cache_creation_input_tokens": sc.cache_write,
        "cache_read_input_tokens": sc.cached,
        "cache_creation": {"ephemeral_5m_input_tokens": sc.cache_write, "ephemeral_1h_input_tokens": 0},
        "output_tokens": output_tokens,
        "service_tier": "standard",
    }


def _custom(tool: JSON) -> tuple[str, object] | None:
    if isinstance(tool.get("name"), str) and tool.get("type", "custom") == "custom":
        return tool["name"], tool.get("input_schema")
    return None


def _offered_tool(req: JSON, msgs: list[JSON]) -> tuple[str, object] | None:
    """The first custom tool, unless the last user turn returns a tool result or tools are off."""
    choice = req.get("tool_choice")
    if isinstance(choice, dict) and choice.get("type") == "none":
        return None
    last_user = next((m for m in reversed(msgs) if m.get("role") == "user"), None)
    content = last_user.get("content") if last_user else None
    if isinstance(content, list) and any(
        isinstance(b, dict) and b.get("type") == "tool_result" for b in content
    ):
        return None
    return first_tool(req.get("tools"), _custom)


def _count_tokens(ctx: Ctx) -> FakeResponse:
    total = sum(count_tokens(t) for t in _prompt(ctx.req))
    return json_response(200, {"input_tokens": total}, _headers(ctx.request_id))


def _messages(ctx: Ctx) -> FakeResponse:
    req, sc, state = ctx.req, ctx.sc, ctx.state
    msgs = messages(req)
    prompt = _prompt(req)
    input_total = sum(count_tokens(t) for t in prompt)
    reply = answer(ctx, prompt, _offered_tool(req, msgs), max_words(req, "max_tokens"))
    blocks: list[JSON] = []
    if sc.reasoning:
        blocks.append({"type": "thinking", "thinking": THINKING_TEXT, "signature": SIGNATURE})
    for name, args in reply.calls:
        blocks.append(
            {"type": "tool_use", "id": f"toolu_{state.next_id('toolu')}", "name": name, "input": args}
        )
    if not reply.calls:
        blocks.append({"type": "text", "text": reply.text})
    output_tokens = reply.visible_tokens + sc.reasoning
    usage = _usage(input_total, sc, output_tokens)
    message: JSON = {
        "id": f"msg_{state.next_id('msg')}",
        "type": "message",
        "role": "assistant",
        "model": req.get("model") if isinstance(req.get("model"), str) else "unknown",
        "content": blocks,
        "stop_reason": reply.reason(calls="tool_use", truncated="max_tokens", done="end_turn"),
        "stop_sequence": None,
        "usage": usage,
    }
    headers = _headers(ctx.request_id)
    if not ctx.stream:
        return json_response(200, message, headers)
    return FakeResponse(200, {"content-type": SSE_CT, **headers}, _events(message))


def _events(message: JSON) -> list[bytes]:
    """The named events of a streamed message: start, each block's start/deltas/stop, the
    cumulative ``message_delta`` usage (twice when there are 4+ output tokens), stop."""
    events: list[bytes] = []

    def emit(etype: str, **data: Any) -> None:
        events.append(sse({"type": etype, **data}, etype))

    usage, blocks = message["usage"], message["content"]
    start_usage = {**usage, "output_tokens": 1}
    emit("message_start", message={**message, "content": [], "stop_reason": None, "usage": start_usage})
    for index, block in enumerate(blocks):
        if block["type"] == "thinking":
            emit(
                "content_block_start",
                index=index,
                content_block={"type": "thinking", "thinking": "", "signature": ""},
            )
            deltas = [{"type": "thinking_delta", "thinking": p} for p in pieces(THINKING_TEXT)]
            deltas.append({"type": "signature_delta", "signature": SIGNATURE})
        elif block["type"] == "tool_use":
            emit("content_block_start", index=index, content_block={**block, "input": {}})
            deltas = [
                {"type": "input_json_delta", "partial_json": p}
                for p in split_json(json.dumps(block["input"]))
            ]
        else:
            emit("content_block_start", index=index, content_block={"type": "text", "text": ""})
            deltas = [{"type": "text_delta", "text": p} for p in pieces(block["text"])]
        if index == 0:
            emit("ping")
        for delta in deltas:
            emit("content_block_delta", index=index, delta=delta)
        emit("content_block_stop", index=index)
    output_tokens = usage["output_tokens"]
    final_usage = {
        k: usage[k] for k in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
    }
    stop_delta: JSON = {"stop_reason": message["stop_reason"], "stop_sequence": None}
    if output_tokens >= 4:  # cumulative counts: a consumer must not sum these
        emit("message_delta", delta=stop_delta, usage={**final_usage, "output_tokens": output_tokens // 2})
    emit("message_delta", delta=stop_delta, usage={**final_usage, "output_tokens": output_tokens})
    emit("message_stop")
    return events


WIRE = Wire(
    routes={"/messages": Route(_messages), "/messages/count_tokens": Route(_count_tokens, replies=False)},
    errors=ERRORS,
)
