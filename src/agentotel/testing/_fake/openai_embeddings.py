"""OpenAI embeddings: ``POST /v1/embeddings`` (never streams, never takes a scripted reply)."""

from __future__ import annotations

import base64
import struct

from . import _openai
from ._core import BadRequest, Ctx, Route, Wire, json_response
from ._state import FakeResponse, count_tokens

__all__ = ["DEFAULT_DIMENSIONS", "WIRE"]

DEFAULT_DIMENSIONS = 8


def _embeddings(ctx: Ctx) -> FakeResponse:
    req = ctx.req
    raw = req.get("input")
    if isinstance(raw, str) or (isinstance(raw, list) and raw and all(isinstance(x, int) for x in raw)):
        inputs: list[object] = [raw]
    elif isinstance(raw, list) and raw and all(isinstance(x, (str, list)) for x in raw):
        inputs = list(raw)
    else:
        raise BadRequest("'input' must be a non-empty string, array of strings, or array of token arrays")
    dims = req.get("dimensions")
    dims = dims if isinstance(dims, int) and not isinstance(dims, bool) and dims > 0 else DEFAULT_DIMENSIONS
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
    return json_response(200, body, _openai.headers(ctx.request_id))


WIRE = Wire(routes={"/embeddings": Route(_embeddings, replies=False)}, errors=_openai.ERRORS)
