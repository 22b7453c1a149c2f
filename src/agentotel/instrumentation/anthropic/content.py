"""Pure functions: Anthropic request kwargs / Message objects -> semconv messages, tool results.

Content is read only with content capture on; the engine encodes, redacts and cuts it. The tool
results a request sends back feed the inferred tool spans (whatever the capture setting).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from agentotel._content import text_parts, tool_call_part, tool_response_part


# --- content (capture on only) ---------------------------------------------------------------
def _get(obj: Any, key: str) -> Any:
    return obj.get(key) if isinstance(obj, Mapping) else getattr(obj, key, None)


def block_parts(content: Any) -> list[dict[str, Any]]:
    """Semconv parts from Anthropic content (string or blocks)."""
    if content is None or isinstance(content, str):
        return text_parts(content)
    parts: list[dict[str, Any]] = []
    for block in content:
        kind = _get(block, "type")
        if kind == "tool_use":
            parts.append(tool_call_part(_get(block, "id"), _get(block, "name"), _get(block, "input")))
        elif kind == "tool_result":
            parts.append(tool_response_part(_get(block, "tool_use_id"), _get(block, "content")))
        elif kind == "thinking":
            parts.append({"type": "reasoning", "content": _get(block, "thinking")})
        else:
            parts.extend(text_parts([block]))
    return parts


def input_messages(messages: Iterable[Any]) -> list[dict[str, Any]]:
    """Anthropic ``messages`` in the GenAI semconv message shape."""
    return [{"role": _get(m, "role"), "parts": block_parts(_get(m, "content"))} for m in messages]


def system_instructions(system: Any) -> list[dict[str, Any]] | None:
    """The ``system`` prompt (a string or text blocks) as semconv parts; None if absent."""
    if not isinstance(system, (str, list)):
        return None
    return block_parts(system)


def output_messages(message: Any) -> list[dict[str, Any]]:
    """A ``Message`` as one semconv assistant message."""
    return [
        {
            "role": "assistant",
            "parts": block_parts(getattr(message, "content", None)),
            "finish_reason": getattr(message, "stop_reason", None),
        }
    ]


# --- tool results sent back (for inferred tool spans) ----------------------------------------
def tool_results(kw: Mapping[str, Any]) -> list[tuple[str, bool]]:
    """``(tool_use_id, is_error)`` of the ``tool_result`` blocks after the last assistant message.

    Only a list or tuple of messages is read: any other iterable may be single-use.
    """
    messages = kw.get("messages")
    found: list[tuple[str, bool]] = []
    if isinstance(messages, (list, tuple)):
        for msg in reversed(messages):
            if _get(msg, "role") == "assistant":
                break
            content = _get(msg, "content")
            if not isinstance(content, (list, tuple)):
                continue
            for block in reversed(content):
                if _get(block, "type") == "tool_result":
                    call_id = _get(block, "tool_use_id")
                    if isinstance(call_id, str):
                        found.append((call_id, _get(block, "is_error") is True))
    found.reverse()
    return found


# --- what the engine encodes at the start of a call ------------------------------------------
def request_content(kw: Mapping[str, Any]) -> dict[str, Any]:
    """System prompt, input messages and tool definitions of a ``messages`` request."""
    return {
        "system": system_instructions(kw.get("system")),
        "inputs": input_messages(kw.get("messages") or ()),
        "tools": kw.get("tools") if isinstance(kw.get("tools"), list) else None,
    }
