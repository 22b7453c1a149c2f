"""Pure functions for ``invoke_model`` / ``invoke_model_with_response_stream``: the request body
and the response body are the model family's own JSON.

Families read: Anthropic Messages (``anthropic.*``), Amazon Nova (``amazon.nova*``, ``messages-v1``)
and Meta Llama (``meta.llama*``). Any other model still gets its span with the operation, the model
and the server; its token counts come from the ``X-Amzn-Bedrock-Input/Output-Token-Count``
response headers (streams: the last chunk's ``amazon-bedrock-invocationMetrics``), which Bedrock
sends for every model. A body that is a file object is never read (it could be read only once).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from agentotel import semconv
from agentotel._lifecycle import Attributes
from agentotel._usage import reported
from agentotel.instrumentation.bedrock.extract import (
    CONVERSE_USAGE,
    Usage,
    base_attributes,
    converse_message,
    converse_tool_uses,
    put_reason,
    put_sampling,
    put_tool_uses,
)

ANTHROPIC = "anthropic"
NOVA = "nova"
LLAMA = "llama"
ANTHROPIC_USAGE = (
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
)
NOVA_USAGE = ("inputTokens", "outputTokens", "cacheReadInputTokenCount", "cacheWriteInputTokenCount")
METRICS_USAGE = ("inputTokenCount", "outputTokenCount", "", "")
_HEADERS = ("x-amzn-bedrock-input-token-count", "x-amzn-bedrock-output-token-count")
_SAMPLING = {
    ANTHROPIC: ("max_tokens", "temperature", "top_p", "top_k", "stop_sequences"),
    NOVA: ("max_new_tokens", "temperature", "topP", "topK", "stopSequences"),
    LLAMA: ("max_gen_len", "temperature", "top_p", "", ""),
}


def family(model: Any) -> str | None:
    """The body format of a model id (also with a cross-region prefix such as ``us.``), or None."""
    if not isinstance(model, str):
        return None
    if "anthropic." in model:
        return ANTHROPIC
    if "amazon.nova" in model:
        return NOVA
    if "meta.llama" in model:
        return LLAMA
    return None


def body_json(body: Any) -> Any:
    """The request body as JSON (bytes or str only; None otherwise or if it is not JSON)."""
    if isinstance(body, (bytes, bytearray, str)):
        try:
            return json.loads(body)
        except ValueError:
            return None
    return None


def invoke_request_attributes(kw: Mapping[str, Any]) -> Attributes:
    """Request attributes of ``invoke_model``."""
    a = base_attributes(kw)
    kind = family(kw.get("modelId"))
    if kind is not None:
        body = body_json(kw.get("body"))
        if isinstance(body, Mapping):
            put_sampling(a, body.get("inferenceConfig") if kind == NOVA else body, _SAMPLING[kind])
    return a


def invoke_stream_request_attributes(kw: Mapping[str, Any]) -> Attributes:
    """Request attributes of ``invoke_model_with_response_stream``."""
    a = invoke_request_attributes(kw)
    a[semconv.GEN_AI_REQUEST_STREAM] = True
    return a


def anthropic_tool_uses(content: Any) -> list[tuple[str, str]]:
    """(name, id) of the ``tool_use`` blocks of an Anthropic message's content."""
    found: list[tuple[str, str]] = []
    if isinstance(content, list):
        for block in content:
            if (
                isinstance(block, Mapping)
                and block.get("type") == "tool_use"
                and isinstance(block.get("id"), str)
            ):
                found.append((str(block.get("name")), block["id"]))
    return found


def put_head(a: Attributes, message: Mapping[str, Any]) -> str | None:
    """An Anthropic message's id and model; returns the model."""
    mid = message.get("id")
    if isinstance(mid, str):
        a[semconv.GEN_AI_RESPONSE_ID] = mid
    model = message.get("model")
    if isinstance(model, str):
        a[semconv.GEN_AI_RESPONSE_MODEL] = model
        return model
    return None


def _headers(response: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = response.get("ResponseMetadata")
    headers = meta.get("HTTPHeaders") if isinstance(meta, Mapping) else None
    return headers if isinstance(headers, Mapping) else {}


def invoke_response_attributes(response: Any) -> tuple[Attributes, int | None, int | None, str | None]:
    """Attributes, tokens and model of an ``invoke_model`` response whose ``body`` is the bytes read."""
    a: Attributes = {}
    if not isinstance(response, Mapping):
        return a, None, None, None
    usage = Usage()
    headers = _headers(response)
    usage.input = reported(_int(headers.get(_HEADERS[0])))
    usage.output = reported(_int(headers.get(_HEADERS[1])))
    model = None
    body = body_json(response.get("body"))
    if isinstance(body, Mapping):
        if body.get("type") == "message":  # Anthropic Messages
            model = put_head(a, body)
            put_reason(a, body.get("stop_reason"))
            put_tool_uses(a, anthropic_tool_uses(body.get("content")))
            usage.update(body.get("usage"), ANTHROPIC_USAGE)
        elif isinstance(body.get("output"), Mapping):  # Nova (Converse-like)
            put_reason(a, body.get("stopReason"))
            put_tool_uses(a, converse_tool_uses(converse_message(body).get("content")))
            usage.update(body.get("usage"), NOVA_USAGE)
            usage.update(body.get("usage"), CONVERSE_USAGE)
        elif "generation" in body:  # Llama
            put_reason(a, body.get("stop_reason"))
            usage.update(body, ("prompt_token_count", "generation_token_count", "", ""))
    i, o = usage.put(a)
    return a, i, o, model


def _int(value: Any) -> int | None:
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None
