"""Pure functions: Bedrock request parameters / responses -> semconv messages, tool results.

Content is read only with content capture on; the engine encodes, redacts and cuts it. The tool
results a request sends back feed the inferred tool spans (whatever the capture setting).
Converse blocks are ``{"text"}``, ``{"toolUse": {toolUseId, name, input}}``,
``{"toolResult": {toolUseId, content, status}}``, ``{"reasoningContent"}``; InvokeModel bodies of
the Anthropic family use Anthropic's blocks, Nova's Converse's, Llama's a ``prompt`` string.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agentotel._content import text_parts, tool_call_part, tool_response_part
from agentotel.instrumentation.bedrock.extract import converse_message
from agentotel.instrumentation.bedrock.invoke import ANTHROPIC, LLAMA, NOVA, body_json, family


def converse_parts(content: Any) -> list[dict[str, Any]]:
    """Semconv parts from Converse content blocks."""
    parts: list[dict[str, Any]] = []
    if not isinstance(content, list):
        return parts
    for block in content:
        if not isinstance(block, Mapping):
            continue
        if "text" in block:
            parts.append({"type": "text", "content": block["text"]})
        elif isinstance(block.get("toolUse"), Mapping):
            use = block["toolUse"]
            parts.append(tool_call_part(use.get("toolUseId"), use.get("name"), use.get("input")))
        elif isinstance(block.get("toolResult"), Mapping):
            result = block["toolResult"]
            parts.append(tool_response_part(result.get("toolUseId"), result.get("content")))
        elif isinstance(block.get("reasoningContent"), Mapping):
            text = block["reasoningContent"].get("reasoningText")
            parts.append(
                {"type": "reasoning", "content": text.get("text") if isinstance(text, Mapping) else None}
            )
    return parts


def anthropic_parts(content: Any) -> list[dict[str, Any]]:
    """Semconv parts from Anthropic content (string or blocks), as an InvokeModel body has them."""
    if not isinstance(content, list):
        return text_parts(content if isinstance(content, str) else None)
    parts: list[dict[str, Any]] = []
    for block in content:
        if not isinstance(block, Mapping):
            continue
        kind = block.get("type")
        if kind == "tool_use":
            parts.append(tool_call_part(block.get("id"), block.get("name"), block.get("input")))
        elif kind == "tool_result":
            parts.append(tool_response_part(block.get("tool_use_id"), block.get("content")))
        elif kind == "thinking":
            parts.append({"type": "reasoning", "content": block.get("thinking")})
        else:
            parts.extend(text_parts([block]))
    return parts


def _messages(messages: Any, parts: Any) -> list[dict[str, Any]]:
    if not isinstance(messages, (list, tuple)):
        return []
    return [
        {"role": m.get("role"), "parts": parts(m.get("content"))} for m in messages if isinstance(m, Mapping)
    ]


# --- what the engine encodes at the start of a call ------------------------------------------
def converse_request_content(kw: Mapping[str, Any]) -> dict[str, Any]:
    """System prompt, input messages and tool definitions of a Converse request."""
    config = kw.get("toolConfig")
    tools = config.get("tools") if isinstance(config, Mapping) else None
    system = kw.get("system")
    return {
        "system": converse_parts(system) if isinstance(system, list) else None,
        "inputs": _messages(kw.get("messages"), converse_parts),
        "tools": tools if isinstance(tools, list) else None,
    }


def invoke_request_content(kw: Mapping[str, Any]) -> dict[str, Any]:
    """The same for an InvokeModel body of a known family (nothing for the others)."""
    kind = family(kw.get("modelId"))
    body = body_json(kw.get("body")) if kind is not None else None
    if not isinstance(body, Mapping):
        return {"system": None, "inputs": [], "tools": None}
    if kind == LLAMA:
        return {
            "system": None,
            "inputs": [{"role": "user", "parts": text_parts(body.get("prompt"))}],
            "tools": None,
        }
    system = body.get("system")
    if kind == ANTHROPIC:
        tools = body.get("tools")
        return {
            "system": anthropic_parts(system) if isinstance(system, (str, list)) else None,
            "inputs": _messages(body.get("messages"), anthropic_parts),
            "tools": tools if isinstance(tools, list) else None,
        }
    assert kind == NOVA
    return converse_request_content(body)


# --- the response ----------------------------------------------------------------------------
def converse_output_messages(response: Any) -> list[dict[str, Any]]:
    """A Converse response as one semconv assistant message."""
    if not isinstance(response, Mapping):
        return []
    message = converse_message(response)
    return [
        {
            "role": "assistant",
            "parts": converse_parts(message.get("content")),
            "finish_reason": response.get("stopReason"),
        }
    ]


def invoke_output_messages(response: Any) -> list[dict[str, Any]]:
    """An InvokeModel response (``body`` the bytes read) of a known family as one semconv message."""
    body = body_json(response.get("body")) if isinstance(response, Mapping) else None
    if not isinstance(body, Mapping):
        return []
    if body.get("type") == "message":
        parts, reason = anthropic_parts(body.get("content")), body.get("stop_reason")
    elif isinstance(body.get("output"), Mapping):
        return converse_output_messages(body)
    elif "generation" in body:
        parts, reason = text_parts(body.get("generation")), body.get("stop_reason")
    else:
        return []
    return [{"role": "assistant", "parts": parts, "finish_reason": reason}]


# --- tool results sent back (for inferred tool spans) ----------------------------------------
def _results(messages: Any, read: Any) -> list[tuple[str, bool]]:
    """``(call id, is error)`` of the tool results after the last assistant message (lists only:
    any other iterable may be single-use)."""
    found: list[tuple[str, bool]] = []
    if not isinstance(messages, (list, tuple)):
        return found
    for msg in reversed(messages):
        if not isinstance(msg, Mapping):
            continue
        if msg.get("role") == "assistant":
            break
        content = msg.get("content")
        if isinstance(content, (list, tuple)):
            found.extend(reversed([r for r in map(read, content) if r is not None]))
    found.reverse()
    return found


def _converse_result(block: Any) -> tuple[str, bool] | None:
    result = block.get("toolResult") if isinstance(block, Mapping) else None
    if isinstance(result, Mapping) and isinstance(result.get("toolUseId"), str):
        return result["toolUseId"], result.get("status") == "error"
    return None


def _anthropic_result(block: Any) -> tuple[str, bool] | None:
    if (
        isinstance(block, Mapping)
        and block.get("type") == "tool_result"
        and isinstance(block.get("tool_use_id"), str)
    ):
        return block["tool_use_id"], block.get("is_error") is True
    return None


def converse_tool_results(kw: Mapping[str, Any]) -> list[tuple[str, bool]]:
    """The ``toolResult`` blocks a Converse request sends back."""
    return _results(kw.get("messages"), _converse_result)


def invoke_tool_results(kw: Mapping[str, Any]) -> list[tuple[str, bool]]:
    """The tool results an InvokeModel body (Anthropic or Nova family) sends back."""
    kind = family(kw.get("modelId"))
    if kind not in (ANTHROPIC, NOVA):
        return []
    body = body_json(kw.get("body"))
    if not isinstance(body, Mapping):
        return []
    return _results(body.get("messages"), _anthropic_result if kind == ANTHROPIC else _converse_result)
