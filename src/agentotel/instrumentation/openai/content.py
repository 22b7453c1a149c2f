"""Pure functions: OpenAI request kwargs / response objects -> semconv messages, tool results.

Content is read only with content capture on; the engine encodes, redacts and cuts it. The tool
results a request sends back feed the inferred tool spans (whatever the capture setting). The
Chat Completions and Embeddings readers are :mod:`agentotel.instrumentation._openai_wire`'s,
shared with LiteLLM (which speaks the same format); the Responses API ones are here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agentotel._content import text_parts, tool_call_part, tool_response_part
from agentotel.instrumentation._openai_wire import chat_input_messages as chat_input_messages
from agentotel.instrumentation._openai_wire import chat_output_messages as chat_output_messages
from agentotel.instrumentation._openai_wire import chat_tool_results as chat_tool_results
from agentotel.instrumentation._openai_wire import embeddings_request_content as embeddings_request_content
from agentotel.instrumentation._openai_wire import get as _get
from agentotel.instrumentation._openai_wire import no_output as no_output
from agentotel.instrumentation.openai.extract import responses_finish_reason


# --- content (capture on only) ---------------------------------------------------------------
def _function_call_part(item: Any) -> dict[str, Any]:
    return tool_call_part(_get(item, "call_id"), _get(item, "name"), _get(item, "arguments"))


def responses_input_messages(value: Any) -> list[dict[str, Any]]:
    """Responses API ``input`` (a string or a list of items) as semconv input messages."""
    if isinstance(value, str):
        return [{"role": "user", "parts": text_parts(value)}]
    out: list[dict[str, Any]] = []
    for item in value or ():
        kind = _get(item, "type")
        if kind == "function_call_output":
            parts = [tool_response_part(_get(item, "call_id"), _get(item, "output"))]
            out.append({"role": "tool", "parts": parts})
        elif kind == "function_call":
            out.append({"role": "assistant", "parts": [_function_call_part(item)]})
        else:
            out.append({"role": _get(item, "role") or "user", "parts": text_parts(_get(item, "content"))})
    return out


def responses_output_messages(response: Any) -> list[dict[str, Any]]:
    """The output items of a ``Response`` as one semconv assistant message."""
    parts: list[dict[str, Any]] = []
    called = False
    for item in getattr(response, "output", None) or ():
        kind = getattr(item, "type", None)
        if kind == "message":
            parts.extend(text_parts(getattr(item, "content", None)))
        elif kind == "function_call":
            called = True
            parts.append(_function_call_part(item))
    reason = responses_finish_reason(response, called)
    return [{"role": "assistant", "parts": parts, "finish_reason": reason}]


# --- tool results sent back (for inferred tool spans) ----------------------------------------
def responses_tool_results(kw: Mapping[str, Any]) -> list[tuple[str, bool]]:
    """``(call_id, is_error)`` of the ``function_call_output`` items of a Responses ``input``."""
    items = kw.get("input")
    found: list[tuple[str, bool]] = []
    if isinstance(items, (list, tuple)):
        for item in reversed(items):
            if _get(item, "role") == "assistant":
                break
            if _get(item, "type") == "function_call_output":
                call_id = _get(item, "call_id")
                if isinstance(call_id, str):
                    found.append((call_id, False))
    found.reverse()
    return found


# --- what the engine encodes at the start of a call ------------------------------------------
def chat_request_content(kw: Mapping[str, Any]) -> dict[str, Any]:
    """Input messages and tool definitions of a chat request."""
    return {"inputs": chat_input_messages(kw.get("messages") or ()), "tools": kw.get("tools")}


def responses_request_content(kw: Mapping[str, Any]) -> dict[str, Any]:
    """Instructions, input messages and tool definitions of a Responses request."""
    instructions = kw.get("instructions")
    system = [{"type": "text", "content": instructions}] if isinstance(instructions, str) else None
    return {"system": system, "inputs": responses_input_messages(kw.get("input")), "tools": kw.get("tools")}
