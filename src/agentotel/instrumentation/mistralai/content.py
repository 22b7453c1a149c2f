"""Pure functions: Mistral request kwargs / responses -> semconv messages, tool results.

Content is read only with content capture on; the engine encodes, redacts and cuts it. Messages
are dicts or the SDK's models (``UserMessage``, ``AssistantMessage``, ``ToolMessage``, ...), their
``content`` a string or a list of chunks (``{"type": "text", "text": ...}``, images, ...), or the
SDK's ``UNSET``; a tool call's ``arguments`` is a JSON string or a dict. The tool results a request
sends back (``role: tool`` messages with their ``tool_call_id``) are read as OpenAI's
(:func:`agentotel.instrumentation._openai_wire.chat_tool_results`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from agentotel._content import text_parts, tool_call_part, tool_response_part
from agentotel.instrumentation._openai_wire import chat_tool_results as tool_results
from agentotel.instrumentation._openai_wire import get
from agentotel.instrumentation._openai_wire import no_output as no_output

__all__ = [
    "chat_output_messages",
    "chat_request_content",
    "embeddings_request_content",
    "input_messages",
    "no_output",
    "parts_of",
    "tool_results",
]


def _content(value: Any) -> Any:
    """A message's content as :func:`text_parts` reads it: a string or a list, else nothing
    (``None``, the SDK's ``UNSET``, and the empty string Mistral sends beside tool calls)."""
    return value if isinstance(value, (str, list)) and value else None


def _calls(calls: Any) -> list[dict[str, Any]]:
    if not isinstance(calls, (list, tuple)):
        return []  # None / UNSET
    out = []
    for call in calls:
        fn = get(call, "function")
        out.append(tool_call_part(get(call, "id"), get(fn, "name"), get(fn, "arguments")))
    return out


def parts_of(content: Any, tool_calls: Any) -> list[dict[str, Any]]:
    """The semconv parts of an assistant message or a stream's accumulated output."""
    parts = text_parts(_content(content))
    parts.extend(_calls(tool_calls))
    return parts


def input_messages(messages: Iterable[Any]) -> list[dict[str, Any]]:
    """Chat ``messages`` in the GenAI semconv message shape."""
    out: list[dict[str, Any]] = []
    for msg in messages:
        role = get(msg, "role")
        if role == "tool":
            parts = [tool_response_part(get(msg, "tool_call_id"), _content(get(msg, "content")))]
        else:
            parts = parts_of(get(msg, "content"), get(msg, "tool_calls"))
        out.append({"role": role if isinstance(role, str) else "user", "parts": parts})
    return out


def chat_request_content(kw: Mapping[str, Any]) -> dict[str, Any]:
    """Input messages and tool definitions of a chat request."""
    messages = kw.get("messages")
    tools = kw.get("tools")
    return {
        "inputs": input_messages(messages if isinstance(messages, (list, tuple)) else ()),
        "tools": tools if isinstance(tools, (list, tuple)) else None,
    }


def chat_output_messages(response: Any) -> list[dict[str, Any]]:
    """The choices of a ``ChatCompletionResponse`` as semconv output messages."""
    out: list[dict[str, Any]] = []
    for choice in getattr(response, "choices", None) or ():
        message = getattr(choice, "message", None)
        parts = parts_of(getattr(message, "content", None), getattr(message, "tool_calls", None))
        reason = getattr(choice, "finish_reason", None)
        out.append({"role": "assistant", "parts": parts, "finish_reason": reason})
    return out


def embeddings_request_content(kw: Mapping[str, Any]) -> dict[str, Any]:
    """The ``inputs`` of an embeddings request, as one user message."""
    inputs = kw.get("inputs")
    return {"inputs": [{"role": "user", "parts": [{"type": "text", "content": inputs}]}]}
