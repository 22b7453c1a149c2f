"""Pure functions: Cohere v2 messages / responses -> semconv messages, tool results sent back.

Content is read only with content capture on; the engine encodes, redacts and cuts it. The tool
results a request sends back feed the inferred tool spans (whatever the capture setting).

Messages are the SDK's models (``UserChatMessageV2``, ...) or dicts of the same shape. Roles stay
as Cohere names them (``system``, ``user``, ``assistant``, ``tool``: the conventions' own, and a
system message stays among the input messages, as OpenAI's do). Parts: a text item or string is
``text``; an assistant's ``tool_plan`` (the plan the model writes before its tool calls) and a
``thinking`` item are ``reasoning``; an ``image_url`` item is a ``uri`` part; a tool call is
``tool_call`` (its ``arguments`` parsed from their JSON string when they parse); a ``tool``
message is one ``tool_call_response`` part with its ``content``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from agentotel._content import tool_call_part, tool_response_part
from agentotel.instrumentation.cohere.extract import body, finish_reason, get, given


def arguments(text: Any) -> Any:
    """A tool call's ``arguments``: the JSON object its string holds, else the string as it is."""
    if isinstance(text, str):
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def call_part(call: Any) -> dict[str, Any]:
    """A ``ToolCallV2`` (or its dict) as a semconv ``tool_call`` part."""
    fn = get(call, "function")
    return tool_call_part(get(call, "id"), get(fn, "name"), arguments(get(fn, "arguments")))


def _item(item: Any) -> dict[str, Any]:
    if isinstance(item, str):
        return {"type": "text", "content": item}
    kind = get(item, "type")
    if kind == "thinking":
        return {"type": "reasoning", "content": get(item, "thinking")}
    if kind == "image_url":
        return {"type": "uri", "modality": "image", "uri": get(get(item, "image_url"), "url")}
    if kind == "document":
        return {"type": "text", "content": get(get(item, "document"), "data")}
    return {"type": "text", "content": get(item, "text")}


def content_parts(content: Any) -> list[dict[str, Any]]:
    """A message ``content`` (a string or a list of items) as semconv parts."""
    if not given(content):
        return []
    if isinstance(content, str):
        return [{"type": "text", "content": content}]
    return [_item(item) for item in content]


def assistant_parts(message: Any) -> list[dict[str, Any]]:
    """An assistant message's tool plan, content and tool calls as semconv parts."""
    found: list[dict[str, Any]] = []
    plan = get(message, "tool_plan")
    if isinstance(plan, str) and plan:
        found.append({"type": "reasoning", "content": plan})
    found.extend(content_parts(get(message, "content")))
    found.extend(call_part(call) for call in get(message, "tool_calls") or ())
    return found


def input_messages(messages: Any) -> list[dict[str, Any]]:
    """Chat ``messages`` in the GenAI semconv message shape."""
    found: list[dict[str, Any]] = []
    for message in messages if isinstance(messages, (list, tuple)) else ():
        role = get(message, "role")
        if role == "tool":
            parts = [tool_response_part(get(message, "tool_call_id"), get(message, "content"))]
        elif role == "assistant":
            parts = assistant_parts(message)
        else:
            parts = content_parts(get(message, "content"))
        found.append({"role": role, "parts": parts})
    return found


def tool_definitions(tools: Any) -> list[dict[str, Any]] | None:
    """The request's ``tools`` as ``{"type": "function", "name", "description"}``."""
    if not isinstance(tools, (list, tuple)):
        return None
    found = []
    for tool in tools:
        fn = get(tool, "function")
        found.append({"type": "function", "name": get(fn, "name"), "description": get(fn, "description")})
    return found or None


def chat_request_content(kw: Mapping[str, Any]) -> dict[str, Any]:
    """Input messages and tool definitions of a ``/v2/chat`` request."""
    return {"inputs": input_messages(kw.get("messages")), "tools": tool_definitions(kw.get("tools"))}


def chat_output_messages(response: Any) -> list[dict[str, Any]]:
    """The reply of a ``/v2/chat`` response as one assistant message."""
    data = body(response)
    return [
        {
            "role": "assistant",
            "parts": assistant_parts(data.message),
            "finish_reason": finish_reason(data.finish_reason),
        }
    ]


def embed_request_content(kw: Mapping[str, Any]) -> dict[str, Any]:
    """The texts (or inputs' text items) of a ``/v2/embed`` request, as one user message."""
    texts = kw.get("texts")
    parts = [{"type": "text", "content": t} for t in texts] if isinstance(texts, (list, tuple)) else []
    inputs = kw.get("inputs")
    for entry in inputs if isinstance(inputs, (list, tuple)) else ():
        parts.extend(content_parts(get(entry, "content")))
    return {"inputs": [{"role": "user", "parts": parts}]}


def rerank_request_content(kw: Mapping[str, Any]) -> dict[str, Any]:
    """A ``/v2/rerank`` request's query and documents, as one user message: the query's text
    part, then one text part per document."""
    parts = [{"type": "text", "content": kw.get("query")}]
    documents = kw.get("documents")
    if isinstance(documents, (list, tuple)):
        parts.extend({"type": "text", "content": d} for d in documents)
    return {"inputs": [{"role": "user", "parts": parts}]}


def no_output(_: Any) -> None:
    """Output messages of an operation that has none (embed; rerank returns scores, not content)."""
    return None


# --- tool results sent back (for inferred tool spans) ----------------------------------------
def tool_results(kw: Mapping[str, Any]) -> list[tuple[str, bool]]:
    """``(tool_call_id, is error)`` of the ``tool`` messages after the last assistant message.

    Cohere has no error flag on a tool result: none is an error. Only a list or tuple of messages is
    read (any other iterable may be single-use).
    """
    messages = kw.get("messages")
    if not isinstance(messages, (list, tuple)):
        return []
    found: list[tuple[str, bool]] = []
    for message in reversed(messages):
        role = get(message, "role")
        if role == "assistant":
            break
        if role == "tool":
            call_id = get(message, "tool_call_id")
            if isinstance(call_id, str) and call_id:
                found.append((call_id, False))
    found.reverse()
    return found
