"""Google Gemini: ``:generateContent`` (JSON), ``:streamGenerateContent?alt=sse`` (SSE, every event
a whole ``GenerateContentResponse``), ``:embedContent`` and ``:batchEmbedContents``, with Google's
error format (``{"error": {"code", "message", "status"}}``).

Served on the Gemini API's paths (``/v1/models/...``, ``/v1beta/models/...``) and on Vertex AI's
(``/v1beta1/publishers/google/models/...`` and ``/v1beta1/projects/{project}/locations/{location}/
publishers/google/models/...``). The request is read the way the ``google-genai`` SDK writes it
(camelCase: ``systemInstruction``, ``generationConfig.maxOutputTokens``, ``toolConfig``, ...).
"""

from __future__ import annotations

import json

from ._core import (
    JSON,
    SSE_CT,
    THINKING_TEXT,
    BadRequest,
    Ctx,
    ErrorFormat,
    Route,
    Scenarios,
    Wire,
    answer,
    first_tool,
    json_response,
    max_words,
    pieces,
    sse,
)
from ._state import FakeResponse, count_tokens

__all__ = ["ERRORS", "WIRE"]

# Google's canonical status for each HTTP status the fake server sends.
_STATUS = {
    400: "INVALID_ARGUMENT",
    404: "NOT_FOUND",
    405: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


def _error_body(status: int, etype: str, message: str, code: str | None, request_id: str) -> FakeResponse:
    del etype, code  # Google's body carries the HTTP code and its canonical status only
    body = {"error": {"code": status, "message": message, "status": _STATUS.get(status, "UNKNOWN")}}
    return json_response(status, body, {"x-request-id": request_id})


ERRORS = ErrorFormat(
    body=_error_body,
    scenarios={
        "rate_limit": (
            429,
            "RESOURCE_EXHAUSTED",
            None,
            "Resource has been exhausted (e.g. check quota). (fake LLM server)",
        ),
        "server_error": (500, "INTERNAL", None, "An internal error has occurred."),
        "overloaded": (503, "UNAVAILABLE", None, "The model is overloaded. Please try again later."),
        "bad_request": (400, "INVALID_ARGUMENT", None, "Invalid request (fake LLM server scenario)."),
    },
    malformed_event=b'data: {"candidates": [{"content": \r\n\r\n',
)


def _parts_texts(content: object) -> list[str]:
    out: list[str] = []
    if isinstance(content, dict):
        for part in content.get("parts") or ():
            if not isinstance(part, dict):
                continue
            if isinstance(part.get("text"), str):
                out.append(part["text"])
            response = part.get("functionResponse")
            if isinstance(response, dict):
                out.append(json.dumps(response.get("response")))
    return out


def _contents(req: JSON) -> list[JSON]:
    contents = req.get("contents")
    if not isinstance(contents, list):
        raise BadRequest("* GenerateContentRequest.contents: contents is not specified")
    return [c for c in contents if isinstance(c, dict)]


def _prompt(req: JSON) -> list[str]:
    return _parts_texts(req.get("systemInstruction")) + [t for c in _contents(req) for t in _parts_texts(c)]


def _json_schema(schema: object) -> object:
    """A Gemini ``Schema`` (``"type": "OBJECT"``, as older SDKs send ``parameters``) as JSON Schema."""
    if isinstance(schema, list):
        return [_json_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    return {
        k: v.lower() if k == "type" and isinstance(v, str) else _json_schema(v) for k, v in schema.items()
    }


def _declaration(tool: JSON) -> tuple[str, object] | None:
    for decl in tool.get("functionDeclarations") or ():
        if isinstance(decl, dict) and isinstance(decl.get("name"), str):
            schema = (
                decl.get("parametersJsonSchema")
                or decl.get("parameters_json_schema")
                or decl.get("parameters")
            )
            return decl["name"], _json_schema(schema)
    return None


def _offered_tool(req: JSON, contents: list[JSON]) -> tuple[str, object] | None:
    """The first function declared, unless the last turn answers a call or calling is off."""
    mode = ((req.get("toolConfig") or {}).get("functionCallingConfig") or {}).get("mode")
    if mode == "NONE":
        return None
    last = contents[-1] if contents else {}
    if any(isinstance(p, dict) and "functionResponse" in p for p in last.get("parts") or ()):
        return None
    return first_tool(req.get("tools"), _declaration)


def _usage(input_total: int, sc: Scenarios, output_tokens: int) -> JSON:
    usage: JSON = {
        "promptTokenCount": input_total,
        "candidatesTokenCount": output_tokens,
        "totalTokenCount": input_total + output_tokens + sc.reasoning,
    }
    if sc.cached:
        usage["cachedContentTokenCount"] = min(sc.cached, input_total)
    if sc.reasoning:
        usage["thoughtsTokenCount"] = sc.reasoning
    return usage


def _generate(ctx: Ctx) -> FakeResponse:
    req, sc, state = ctx.req, ctx.sc, ctx.state
    contents = _contents(req)
    prompt = _prompt(req)
    input_total = sum(count_tokens(t) for t in prompt)
    found = req.get("generationConfig")
    config: JSON = found if isinstance(found, dict) else {}
    reply = answer(ctx, prompt, _offered_tool(req, contents), max_words(config, "maxOutputTokens"))
    parts: list[JSON] = []
    if sc.reasoning:
        parts.append({"text": THINKING_TEXT, "thought": True})
    for name, args in reply.calls:
        parts.append({"functionCall": {"name": name, "args": args}})
    if not reply.calls:
        parts.append({"text": reply.text})
    model = ctx.params.get("model", "unknown")
    response: JSON = {
        "candidates": [
            {
                "content": {"role": "model", "parts": parts},
                "finishReason": reply.reason(calls="STOP", truncated="MAX_TOKENS", done="STOP"),
                "index": 0,
            }
        ],
        "usageMetadata": _usage(input_total, sc, reply.visible_tokens),
        "modelVersion": f"{model}-001",
        "responseId": f"resp_{state.next_id('resp')}",
    }
    if not ctx.stream:
        return json_response(200, response)
    return FakeResponse(200, {"content-type": SSE_CT}, _events(response))


def _events(response: JSON) -> list[bytes]:
    """Each text part cut into word pieces, one event each (function calls whole, as Gemini sends
    them); every event repeats the id and model; the usage so far on each, the finish reason on
    the last. Events end in CRLF pairs, as Google's do."""
    candidate = response["candidates"][0]
    head = {"modelVersion": response["modelVersion"], "responseId": response["responseId"]}
    usage = response["usageMetadata"]
    chunks: list[JSON] = []
    for part in candidate["content"]["parts"]:
        if "text" in part:
            chunks.extend({**part, "text": piece} for piece in pieces(part["text"]) or [""])
        else:
            chunks.append(part)
    events: list[bytes] = []
    for i, part in enumerate(chunks):
        last = i == len(chunks) - 1
        body: JSON = {"candidates": [{"content": {"role": "model", "parts": [part]}, "index": 0}]}
        if last:
            body["candidates"][0]["finishReason"] = candidate["finishReason"]
            body["usageMetadata"] = usage
        else:
            body["usageMetadata"] = {"promptTokenCount": usage["promptTokenCount"]}
        events.append(sse({**body, **head}).replace(b"\n\n", b"\r\n\r\n"))
    return events


def _embedding(text: str, dims: int) -> JSON:
    seed = count_tokens(text)
    return {"values": [round(((seed + i) % 7) / 7, 4) for i in range(dims)]}


def _dims(config: object) -> int:
    value = config.get("outputDimensionality") if isinstance(config, dict) else None
    return value if isinstance(value, int) and 0 < value <= 3072 else 8


def _embed(ctx: Ctx) -> FakeResponse:
    req = ctx.req
    content = req.get("content")
    if not isinstance(content, dict):
        raise BadRequest("* EmbedContentRequest.content: content is not specified")
    text = " ".join(_parts_texts(content))
    return json_response(200, {"embedding": _embedding(text, _dims(req))})


def _batch_embed(ctx: Ctx) -> FakeResponse:
    requests = ctx.req.get("requests")
    if not isinstance(requests, list) or not requests:
        raise BadRequest("* BatchEmbedContentsRequest.requests: requests is not specified")
    found = [
        _embedding(" ".join(_parts_texts(r.get("content"))), _dims(r))
        for r in requests
        if isinstance(r, dict)
    ]
    return json_response(200, {"embeddings": found})


def _routes(prefix: str) -> dict[str, Route]:
    return {
        f"{prefix}/models/{{model}}:generateContent": Route(_generate, streams=False),
        f"{prefix}/models/{{model}}:streamGenerateContent": Route(_generate, streams=True),
        f"{prefix}/models/{{model}}:embedContent": Route(_embed, replies=False),
        f"{prefix}/models/{{model}}:batchEmbedContents": Route(_batch_embed, replies=False),
    }


_VERTEX = "/v1beta1/projects/{project}/locations/{location}/publishers/google"

WIRE = Wire(
    routes={
        **_routes(""),  # /v1 (the SDK's default), the router drops the prefix
        **_routes("/v1beta"),
        **_routes("/v1beta1/publishers/google"),  # Vertex AI express mode (API key)
        **_routes(_VERTEX),
    },
    errors=ERRORS,
)
