"""Pure functions: LiteLLM request kwargs / responses -> semconv messages, tool results.

LiteLLM takes and returns the OpenAI chat format for every provider. Content is read only with
content capture on; the engine encodes, redacts and cuts it. The tool results a request sends
back feed the inferred tool spans (whatever the capture setting).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from agentotel._content import text_parts, tool_call_part, tool_response_part


def _get(obj: Any, key: str) -> Any:
    return obj.get(key) if isinstance(obj, Mapping) else getattr(obj, key, None)


def _tool_call_part(call: Any) -> dict[str, Any]:
    fn = _get(call, "function")
    return tool_call_part(_get(call, "id"), _get(fn, "name"), _get(fn, "arguments"))


def input_messages(messages: Iterable[Any]) -> list[dict[str, Any]]:
    """Chat ``messages`` in the GenAI semconv message shape."""
    out: list[dict[str, Any]] = []
    for msg in messages:
        role = _get(msg, "role")
        if role == "tool":
            parts = [tool_response_part(_get(msg, "tool_call_id"), _get(msg, "content"))]
        else:
            parts = text_parts(_get(msg, "content"))
            parts.extend(_tool_call_part(c) for c in _get(msg, "tool_calls") or ())
        out.append({"role": role, "parts": parts})
    return out


def completion_request_content(kw: Mapping[str, Any]) -> dict[str, Any]:
    """Input messages and tool definitions of a ``completion`` request."""
    messages = kw.get("messages")
    listed = messages if isinstance(messages, (list, tuple)) else ()
    return {"inputs": input_messages(listed), "tools": kw.get("tools")}


def completion_output_messages(response: Any) -> list[dict[str, Any]]:
    """The choices of a ``ModelResponse`` as semconv output messages."""
    out: list[dict[str, Any]] = []
    for choice in getattr(response, "choices", None) or ():
        message = getattr(choice, "message", None)
        parts = text_parts(getattr(message, "content", None))
        parts.extend(_tool_call_part(c) for c in getattr(message, "tool_calls", None) or ())
        out.append(
            {"role": "assistant", "parts": parts, "finish_reason": getattr(choice, "finish_reason", None)}
        )
    return out


def embedding_request_content(kw: Mapping[str, Any]) -> dict[str, Any]:
    """The input of an ``embedding`` request, as one user message."""
    return {"inputs": [{"role": "user", "parts": [{"type": "text", "content": kw.get("input")}]}]}


def no_output(_: Any) -> None:
    """Output messages of an operation that has none (embeddings)."""
    return None


def tool_results(kw: Mapping[str, Any]) -> list[tuple[str, bool]]:
    """``(tool_call_id, is_error)`` of the ``role: tool`` messages after the last assistant message.

    Only a list or tuple is read: any other iterable may be single-use, and is the app's.
    """
    messages = kw.get("messages")
    found: list[tuple[str, bool]] = []
    if isinstance(messages, (list, tuple)):
        for msg in reversed(messages):
            role = _get(msg, "role")
            if role == "assistant":
                break
            if role == "tool":
                call_id = _get(msg, "tool_call_id")
                if isinstance(call_id, str):
                    found.append((call_id, False))
    found.reverse()
    return found
