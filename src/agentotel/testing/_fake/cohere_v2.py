"""Cohere v2: ``POST /v2/chat`` (JSON, or SSE events with ``"stream": true``), ``POST /v2/embed``
and ``POST /v2/rerank``, with Cohere's error format (``{"id", "message"}``).

Usage as Cohere reports it: ``billed_units`` (the prompt's and reply's tokens) and ``tokens``
(the same plus :data:`TEMPLATE_TOKENS` of Cohere's prompt template on the input side); a
``[[scenario:cached:N]]`` marker reports ``cached_tokens``. A tool call comes with a
``tool_plan``; a stream sends ``message-start``, the plan's ``tool-plan-delta`` events, each
call's ``tool-call-start`` / ``-delta`` / ``-end`` (or the text's ``content-start`` / ``-delta`` /
``-end``) and ``message-end`` with the finish reason and the usage.
"""

from __future__ import annotations

import json
import math

from ._core import (
    JSON,
    SSE_CT,
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
    messages,
    pieces,
    split_json,
    sse,
    texts,
)
from ._state import FakeResponse, count_tokens

__all__ = ["DEFAULT_DIMENSIONS", "ERRORS", "TEMPLATE_TOKENS", "TOOL_PLAN", "WIRE"]

TEMPLATE_TOKENS = 7
"""Tokens the fake "prompt template" adds to ``usage.tokens.input_tokens`` (never billed)."""
TOOL_PLAN = "I will call the tool."
DEFAULT_DIMENSIONS = 8


def _error_body(status: int, etype: str, message: str, code: str | None, request_id: str) -> FakeResponse:
    del etype, code  # Cohere errors carry a message and the request's id only
    return json_response(status, {"id": request_id, "message": message}, {"x-request-id": request_id})


ERRORS = ErrorFormat(
    body=_error_body,
    scenarios={
        "rate_limit": (429, "", None, "You are being rate limited (fake LLM server)."),
        "server_error": (500, "", None, "internal server error, this has been reported to our developers"),
        "overloaded": (503, "", None, "service unavailable (fake LLM server)"),
        "bad_request": (400, "", None, "invalid request: fake LLM server scenario"),
    },
    malformed_event=b'event: content-delta\ndata: {"type": "broken\n\n',
)


def _function(tool: JSON) -> tuple[str, object] | None:
    fn = tool.get("function")
    if (
        tool.get("type", "function") == "function"
        and isinstance(fn, dict)
        and isinstance(fn.get("name"), str)
    ):
        return fn["name"], fn.get("parameters")
    return None


def _offered_tool(req: JSON, msgs: list[JSON]) -> tuple[str, object] | None:
    """The first function tool, unless the last message is a tool result or tools are off."""
    if req.get("tool_choice") == "NONE" or (msgs and msgs[-1].get("role") == "tool"):
        return None
    return first_tool(req.get("tools"), _function)


def _usage(billed_in: int, billed_out: int, cached: int) -> JSON:
    usage: JSON = {
        "billed_units": {"input_tokens": billed_in, "output_tokens": billed_out},
        "tokens": {"input_tokens": billed_in + TEMPLATE_TOKENS, "output_tokens": billed_out},
    }
    if cached:
        usage["cached_tokens"] = cached
    return usage


def _chat(ctx: Ctx) -> FakeResponse:
    req, sc, state = ctx.req, ctx.sc, ctx.state
    if not isinstance(req.get("model"), str):
        raise BadRequest("invalid request: model must be a string")
    msgs = messages(req)
    prompt = [t for m in msgs for t in texts(m.get("content"))]
    reply = answer(ctx, prompt, _offered_tool(req, msgs), max_words(req, "max_tokens"))
    message: JSON = {"role": "assistant"}
    if reply.calls:
        message["tool_plan"] = TOOL_PLAN
        message["tool_calls"] = [
            {
                "id": f"{name}_{state.next_id('call')}",
                "type": "function",
                "function": {"name": name, "arguments": json.dumps(args)},
            }
            for name, args in reply.calls
        ]
    else:
        content: list[JSON] = []
        if sc.reasoning:
            content.append({"type": "thinking", "thinking": THINKING_TEXT})
        content.append({"type": "text", "text": reply.text})
        message["content"] = content
    output = reply.visible_tokens + sc.reasoning + (count_tokens(TOOL_PLAN) if reply.calls else 0)
    body: JSON = {
        "id": f"chat_{state.next_id('chat')}",
        "finish_reason": reply.reason(calls="TOOL_CALL", truncated="MAX_TOKENS", done="COMPLETE"),
        "message": message,
        "usage": _usage(sum(count_tokens(t) for t in prompt), output, sc.cached),
    }
    headers = {"x-request-id": ctx.request_id}
    if not ctx.stream:
        return json_response(200, body, headers)
    return FakeResponse(200, {"content-type": SSE_CT, **headers}, _events(body))


def _events(body: JSON) -> list[bytes]:
    """The SSE events of a streamed chat reply (the event name repeats the data's ``type``)."""
    events: list[bytes] = []

    def emit(etype: str, **data: object) -> None:
        events.append(sse({"type": etype, **data}, etype))

    message = body["message"]
    start = {"role": "assistant", "content": [], "tool_plan": "", "tool_calls": [], "citations": []}
    emit("message-start", id=body["id"], delta={"message": start})
    if "tool_plan" in message:
        for piece in pieces(message["tool_plan"]):
            emit("tool-plan-delta", delta={"message": {"tool_plan": piece}})
    for index, call in enumerate(message.get("tool_calls", ())):
        head = {**call, "function": {"name": call["function"]["name"], "arguments": ""}}
        emit("tool-call-start", index=index, delta={"message": {"tool_calls": head}})
        for piece in split_json(call["function"]["arguments"]):
            emit(
                "tool-call-delta",
                index=index,
                delta={"message": {"tool_calls": {"function": {"arguments": piece}}}},
            )
        emit("tool-call-end", index=index)
    for index, item in enumerate(message.get("content", ())):
        kind = item["type"]
        emit("content-start", index=index, delta={"message": {"content": {"type": kind, kind: ""}}})
        for piece in pieces(item[kind]):
            emit("content-delta", index=index, delta={"message": {"content": {kind: piece}}})
        emit("content-end", index=index)
    emit("message-end", delta={"finish_reason": body["finish_reason"], "usage": body["usage"]})
    return events


def _meta(billed: JSON) -> JSON:
    return {"api_version": {"version": "2"}, "billed_units": billed}


def _embed(ctx: Ctx) -> FakeResponse:
    req = ctx.req
    raw = req.get("texts")
    if not (isinstance(raw, list) and raw and all(isinstance(t, str) for t in raw)):
        raise BadRequest("invalid request: texts must be a non-empty array of strings")
    dims = req.get("output_dimension")
    dims = dims if isinstance(dims, int) and not isinstance(dims, bool) and dims > 0 else DEFAULT_DIMENSIONS
    kinds = req.get("embedding_types") or ["float"]
    vectors = [[round(0.001 * (i + 1) * (j + 1), 6) for j in range(dims)] for i in range(len(raw))]
    embeddings = {
        kind: vectors if kind == "float" else [[int(v * 1000) for v in vec] for vec in vectors]
        for kind in kinds
    }
    body = {
        "id": f"embed_{ctx.state.next_id('embed')}",
        "embeddings": embeddings,
        "texts": raw,
        "meta": _meta({"input_tokens": sum(count_tokens(t) for t in raw)}),
        "response_type": "embeddings_by_type",
    }
    return json_response(200, body, {"x-request-id": ctx.request_id})


def _rerank(ctx: Ctx) -> FakeResponse:
    req = ctx.req
    query, documents = req.get("query"), req.get("documents")
    if not isinstance(query, str) or not isinstance(documents, list) or not documents:
        raise BadRequest("invalid request: query and a non-empty list of documents are required")
    words = set(query.lower().split())
    scores = [round(len(words & set(str(doc).lower().split())) / (len(words) or 1), 6) for doc in documents]
    order = sorted(range(len(documents)), key=lambda i: (-scores[i], i))
    top_n = req.get("top_n")
    if isinstance(top_n, int) and not isinstance(top_n, bool) and top_n > 0:
        order = order[:top_n]
    body = {
        "id": f"rerank_{ctx.state.next_id('rerank')}",
        "results": [{"index": i, "relevance_score": scores[i]} for i in order],
        "meta": _meta({"search_units": math.ceil(len(documents) / 100)}),
    }
    return json_response(200, body, {"x-request-id": ctx.request_id})


WIRE = Wire(
    routes={
        "/v2/chat": Route(_chat),
        "/v2/embed": Route(_embed, replies=False),
        "/v2/rerank": Route(_rerank, replies=False),
    },
    errors=ERRORS,
)
