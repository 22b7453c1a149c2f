"""Pure functions: Groq chat request kwargs / responses -> semconv messages, tool results.

Groq's messages are OpenAI Chat Completions messages: the readers are
:mod:`agentotel.instrumentation._openai_wire`'s. Content is read only with content capture on;
the engine encodes, redacts and cuts it. What is Groq's: a reasoning model's ``reasoning`` (with
``reasoning_format="parsed"``) becomes a ``reasoning`` part ahead of the text. The tool results a
request sends back feed the inferred tool spans (whatever the capture setting).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agentotel.instrumentation._openai_wire import chat_input_messages, chat_output_messages
from agentotel.instrumentation._openai_wire import chat_tool_results as tool_results

__all__ = ["output_messages", "reasoning_part", "request_content", "tool_results"]


def request_content(kw: Mapping[str, Any]) -> dict[str, Any]:
    """Input messages (the system message among them, as the app sent it) and tool definitions."""
    return {"inputs": chat_input_messages(kw.get("messages") or ()), "tools": kw.get("tools")}


def reasoning_part(text: Any) -> dict[str, Any] | None:
    """A ``reasoning`` part of Groq's ``reasoning`` text; None when there is none."""
    return {"type": "reasoning", "content": text} if isinstance(text, str) and text else None


def output_messages(completion: Any) -> list[dict[str, Any]]:
    """The choices of a ``ChatCompletion`` as semconv output messages, reasoning first."""
    out = chat_output_messages(completion)
    for message, choice in zip(out, getattr(completion, "choices", None) or (), strict=False):
        part = reasoning_part(getattr(getattr(choice, "message", None), "reasoning", None))
        if part is not None:
            message["parts"].insert(0, part)
    return out
