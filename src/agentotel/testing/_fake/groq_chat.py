"""Groq chat completions: ``POST /openai/v1/chat/completions``, JSON or SSE chunks (``stream``).

OpenAI's Chat Completions format (the reply, the choices, the tool calls and the chunks are
:mod:`.openai_chat`'s), with what Groq sends differently:

* the model as requested (no dated name), ``service_tier`` ``on_demand``, no ``refusal`` or
  ``annotations`` in a message;
* ``usage`` with Groq's timings in seconds: ``queue_time`` (:data:`QUEUE_TIME`), ``prompt_time``,
  ``completion_time``, ``total_time``; ``prompt_tokens_details`` / ``completion_tokens_details``
  only for cached / reasoning tokens;
* ``x_groq.id``, Groq's request id (the ``x-request-id`` header's value): on a completion, and on
  a stream's first and last chunk; a stream's usage is in its last chunk's ``x_groq.usage``
  (and in that chunk's ``usage`` too when the request set ``stream_options.include_usage``; no
  separate usage chunk);
* a reasoning model's reasoning (``[[scenario:reasoning:N]]``) as text when the request asks for
  ``reasoning_format: "parsed"``: ``message.reasoning`` (:data:`THINKING_TEXT`), or in a stream
  ``delta.reasoning`` pieces before the text;
* its error format: ``{"error": {"message", "type", "code"}}``, a rate limit's type is the limit
  hit (``tokens``) and its code ``rate_limit_exceeded``.
"""

from __future__ import annotations

import json
from dataclasses import replace

from . import openai_chat
from ._core import JSON, SSE_CT, THINKING_TEXT, Ctx, ErrorFormat, Route, Wire, json_response, pieces, sse
from ._state import FakeResponse

__all__ = ["ERRORS", "QUEUE_TIME", "WIRE"]

QUEUE_TIME = 0.0125
"""``usage.queue_time`` of every reply, in seconds."""
_OPENAI_CHAT = openai_chat.WIRE.routes["/chat/completions"]


def _headers(request_id: str) -> dict[str, str]:
    return {"x-request-id": request_id}


def _usage(openai_usage: JSON) -> JSON:
    prompt, completion = openai_usage["prompt_tokens"], openai_usage["completion_tokens"]
    prompt_time, completion_time = prompt / 10_000, completion / 1_000
    usage: JSON = {
        "queue_time": QUEUE_TIME,
        "prompt_tokens": prompt,
        "prompt_time": prompt_time,
        "completion_tokens": completion,
        "completion_time": completion_time,
        "total_tokens": prompt + completion,
        "total_time": prompt_time + completion_time,
    }
    cached = openai_usage["prompt_tokens_details"]["cached_tokens"]
    if cached:
        usage["prompt_tokens_details"] = {"cached_tokens": cached}
    reasoning = openai_usage["completion_tokens_details"]["reasoning_tokens"]
    if reasoning:
        usage["completion_tokens_details"] = {"reasoning_tokens": reasoning}
    return usage


def _model(ctx: Ctx) -> str:
    model = ctx.req.get("model")
    return model if isinstance(model, str) else "unknown"


def _asks_usage(req: JSON) -> bool:
    options = req.get("stream_options")
    return isinstance(options, dict) and options.get("include_usage") is True


def _reasons(ctx: Ctx) -> bool:
    """The reasoning is sent as text: the request asks for it parsed, and the model reasons."""
    return ctx.sc.reasoning > 0 and ctx.req.get("reasoning_format") == "parsed"


def _chat(ctx: Ctx) -> FakeResponse:
    headers = _headers(ctx.request_id)
    if not ctx.stream:
        body = json.loads(b"".join(_OPENAI_CHAT.build(ctx).chunks))
        for choice in body["choices"]:
            choice["message"].pop("refusal", None)
            choice["message"].pop("annotations", None)
            if _reasons(ctx):
                choice["message"]["reasoning"] = THINKING_TEXT
        x_groq = {"id": ctx.request_id}
        body.update(model=_model(ctx), service_tier="on_demand", usage=_usage(body["usage"]), x_groq=x_groq)
        return json_response(200, body, headers)
    # OpenAI's builder asked for its usage chunk, which becomes the last chunk's ``x_groq.usage``.
    asked = _asks_usage(ctx.req)
    built = _OPENAI_CHAT.build(replace(ctx, req={**ctx.req, "stream_options": {"include_usage": True}}))
    return FakeResponse(200, {"content-type": SSE_CT, **headers}, _chunks(ctx, built.chunks, asked))


def _chunks(ctx: Ctx, openai_events: list[bytes], asked_usage: bool) -> list[bytes]:
    """OpenAI's chunks made Groq's: ``x_groq`` on the first and the last, usage in the last."""
    chunks: list[JSON] = []
    usage: JSON = {}
    for event in openai_events:
        data = event.decode().removeprefix("data: ").strip()
        if data == "[DONE]":
            continue
        chunk = json.loads(data)
        if not chunk["choices"]:  # OpenAI's usage chunk
            usage = _usage(chunk["usage"])
            continue
        for key in ("service_tier", "usage"):
            chunk.pop(key, None)
        for choice in chunk["choices"]:
            choice["delta"].pop("refusal", None)
        chunk["model"] = _model(ctx)
        chunks.append(chunk)
    if _reasons(ctx):  # after each choice's opening chunk, before its text or tool calls
        opening = sum(1 for c in chunks if "role" in c["choices"][0]["delta"])
        chunks[opening:opening] = [
            {**chunks[0], "choices": [{"index": i, "delta": {"reasoning": piece}, "finish_reason": None}]}
            for piece in pieces(THINKING_TEXT)
            for i in range(opening)
        ]
    chunks[0]["x_groq"] = {"id": ctx.request_id}
    chunks[-1]["x_groq"] = {"id": ctx.request_id, "usage": usage}
    if asked_usage:
        chunks[-1]["usage"] = usage
    return [sse(chunk) for chunk in chunks] + [sse("[DONE]")]


def _error_body(status: int, etype: str, message: str, code: str | None, request_id: str) -> FakeResponse:
    return json_response(
        status, {"error": {"message": message, "type": etype, "code": code}}, _headers(request_id)
    )


ERRORS = ErrorFormat(
    body=_error_body,
    scenarios={
        "rate_limit": (
            429,
            "tokens",
            "rate_limit_exceeded",
            "Rate limit reached on tokens per minute (TPM) (fake LLM server). Please try again in 0s.",
        ),
        "server_error": (500, "internal_server_error", None, "Internal Server Error"),
        "overloaded": (503, "internal_server_error", "service_unavailable", "Service Unavailable"),
        "bad_request": (400, "invalid_request_error", None, "Invalid request (fake LLM server scenario)."),
    },
    malformed_event=b'data: {"id": "broken\n\n',
)

WIRE = Wire(routes={"/openai/v1/chat/completions": Route(_chat)}, errors=ERRORS)
