"""Pure functions: Groq chat request kwargs / responses -> semconv messages, tool results.

Groq's messages are OpenAI Chat Completions messages: the readers are
:mod:`agentotel.instrumentation._openai_wire`'s. Content is read only with content capture on;
the engine encodes, redacts and cuts it. The tool results a request sends back feed the inferred
tool spans (whatever the capture setting).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agentotel.instrumentation._openai_wire import chat_input_messages
from agentotel.instrumentation._openai_wire import chat_output_messages as output_messages
from agentotel.instrumentation._openai_wire import chat_tool_results as tool_results

__all__ = ["output_messages", "request_content", "tool_results"]


def request_content(kw: Mapping[str, Any]) -> dict[str, Any]:
    """Input messages (the system message among them, as the app sent it) and tool definitions."""
    return {"inputs": chat_input_messages(kw.get("messages") or ()), "tools": kw.get("tools")}
