"""Message content for capture: JSON encoding, secret redaction and truncation.

Only called when content capture is on (``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT``).
Secrets are removed before anything is recorded, by the one redaction function of
:mod:`agentotel._redact`: the client's own API key wherever it appears, and anything shaped like a
credential (OpenAI/Anthropic and AWS keys, bearer tokens, ``key=``/``token=`` parameters).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from agentotel import semconv
from agentotel._lifecycle import Attributes
from agentotel._redact import REDACTED, redact

__all__ = ["REDACTED", "TRUNCATED", "content_attributes", "dumps", "redact"]

TRUNCATED = "...[truncated]"


def _plain(value: Any, secrets: tuple[str, ...], depth: int = 0) -> Any:
    """``value`` as JSON-ready data with every string redacted (before encoding, so escapes
    such as ``\\t`` cannot hide a secret from the patterns)."""
    if isinstance(value, str):
        return redact(value, secrets)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if depth > 32:
        return "[too deep]"
    if isinstance(value, dict):
        return {redact(str(k), secrets): _plain(v, secrets, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v, secrets, depth + 1) for v in value]
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return _plain(dump(mode="json", exclude_none=True), secrets, depth + 1)
    return redact(str(value), secrets)


def dumps(value: Any, limit: int, secrets: Iterable[str] = ()) -> str:
    """Compact JSON of ``value``, redacted, cut to ``limit`` characters."""
    known = tuple(secrets)
    text = json.dumps(_plain(value, known), ensure_ascii=False, separators=(",", ":"))
    text = redact(text, known)  # backstop over the encoded text
    if len(text) > limit:
        return text[: max(0, limit - len(TRUNCATED))] + TRUNCATED
    return text


def tool_call_part(call_id: Any, name: Any, arguments: Any) -> dict[str, Any]:
    """A semconv ``tool_call`` message part."""
    return {"type": "tool_call", "id": call_id, "name": name, "arguments": arguments}


def tool_response_part(call_id: Any, response: Any) -> dict[str, Any]:
    """A semconv ``tool_call_response`` message part."""
    return {"type": "tool_call_response", "id": call_id, "response": response}


def text_parts(content: Any) -> list[dict[str, Any]]:
    """Semconv message parts from a provider's message content (a string or a list of blocks)."""
    if content is None:
        return []
    if isinstance(content, str):
        return [{"type": "text", "content": content}]
    parts: list[dict[str, Any]] = []
    for block in content if isinstance(content, list) else [content]:
        if not isinstance(block, (dict, str)) and callable(getattr(block, "model_dump", None)):
            block = block.model_dump(mode="json", exclude_none=True)
        if isinstance(block, str):
            parts.append({"type": "text", "content": block})
        elif isinstance(block, dict):
            kind = block.get("type")
            if kind in ("text", "input_text", "output_text"):
                parts.append({"type": "text", "content": block.get("text", "")})
            else:
                parts.append({"type": str(kind), "content": block})
    return parts


def content_attributes(
    limit: int,
    secrets: tuple[str, ...],
    *,
    system: Any = None,
    inputs: Any = None,
    outputs: Any = None,
    tools: Any = None,
) -> Attributes:
    """Captured-content attributes as JSON strings (redacted, truncated)."""
    a: Attributes = {}
    for attr, value in (
        (semconv.GEN_AI_SYSTEM_INSTRUCTIONS, system),
        (semconv.GEN_AI_INPUT_MESSAGES, inputs),
        (semconv.GEN_AI_OUTPUT_MESSAGES, outputs),
        (semconv.GEN_AI_TOOL_DEFINITIONS, tools),
    ):
        if value:
            a[attr] = dumps(value, limit, secrets)
    return a
