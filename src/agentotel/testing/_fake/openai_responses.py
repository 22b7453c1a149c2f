"""OpenAI responses: ``POST /v1/responses``, JSON or typed SSE events (``stream``)."""

from __future__ import annotations

import json
from typing import Any

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
    pieces,
    split_json,
    sse,
    texts,
)
from ._state import FakeResponse, count_tokens

__all__ = ["WIRE"]


def _function(tool: JSON) -> tuple[str, object] | None:
    if tool.get("type") == "function" and isinstance(tool.get("name"), str):
        return tool["name"], tool.get("parameters")
    return None


def _offered_tool(req: JSON) -> tuple[str, object] | None:
    """The first function tool, unless the input already holds a tool's output or tools are off."""
    items = req.get("input")
    has_output = isinstance(items, list) and any(
        isinstance(it, dict) and it.get("type") == "function_call_output" for it in items
    )
    if has_output or req.get("tool_choice") == "none":
        return None
    return first_tool(req.get("tools"), _function)


def _responses(ctx: Ctx) -> FakeResponse:
    req, sc, state = ctx.req, ctx.sc, ctx.state
    prompt_texts = texts(req.get("input"))
    if isinstance(req.get("instructions"), str):
        prompt_texts.append(req["instructions"])
    prompt = sum(count_tokens(t) for t in prompt_texts)
    tools = req.get("tools")
    reply = answer(ctx, prompt_texts, _offered_tool(req), None)
    rn = state.next_id("resp")

    output: list[JSON] = []
    for name, arguments in reply.calls:
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
    if not output:
        part = {"type": "output_text", "annotations": [], "logprobs": [], "text": reply.text}
        output.append(
            {
                "id": f"msg_{rn}",
                "type": "message",
                "status": "completed",
                "role": "assistant",
                "content": [part],
            }
        )
    output_tokens = reply.visible_tokens + sc.reasoning
    usage = {
        "input_tokens": prompt,
        "input_tokens_details": {"cached_tokens": sc.cached, "cache_write_tokens": 0},
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": sc.reasoning},
        "total_tokens": prompt + output_tokens,
    }
    resp: JSON = {
        "id": f"resp_{rn}",
        "object": "response",
        "created_at": CREATED,
        "status": "completed",
        "background": False,
        "error": None,
        "incomplete_details": None,
        "instructions": req.get("instructions"),
        "max_output_tokens": req.get("max_output_tokens"),
        "metadata": req.get("metadata") or {},
        "model": _openai.model_name(req.get("model")),
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
    headers = _openai.headers(ctx.request_id)
    if not ctx.stream:
        return json_response(200, resp, headers)
    return FakeResponse(200, {"content-type": SSE_CT, **headers}, _events(resp, output))


def _events(resp: JSON, output: list[JSON]) -> list[bytes]:
    """The typed events of a streamed response, numbered by ``sequence_number``."""
    events: list[bytes] = []

    def emit(etype: str, **data: Any) -> None:
        events.append(sse({"type": etype, "sequence_number": len(events), **data}, etype))

    pending = {**resp, "status": "in_progress", "output": [], "usage": None}
    emit("response.created", response=pending)
    emit("response.in_progress", response=pending)
    for index, item in enumerate(output):
        loc = {"item_id": item["id"], "output_index": index}
        if item["type"] == "function_call":
            added = {**item, "status": "in_progress", "arguments": ""}
            emit("response.output_item.added", output_index=index, item=added)
            for frag in split_json(item["arguments"]):
                emit("response.function_call_arguments.delta", **loc, delta=frag)
            emit(
                "response.function_call_arguments.done", **loc, name=item["name"], arguments=item["arguments"]
            )
        else:
            added = {**item, "status": "in_progress", "content": []}
            emit("response.output_item.added", output_index=index, item=added)
            part = item["content"][0]
            emit("response.content_part.added", **loc, content_index=0, part={**part, "text": ""})
            for piece in pieces(part["text"]):
                emit("response.output_text.delta", **loc, content_index=0, delta=piece, logprobs=[])
            emit("response.output_text.done", **loc, content_index=0, text=part["text"], logprobs=[])
            emit("response.content_part.done", **loc, content_index=0, part=part)
        emit("response.output_item.done", output_index=index, item=item)
    emit("response.completed", response=resp)
    return events


WIRE = Wire(routes={"/responses": Route(_responses)}, errors=_openai.ERRORS)
