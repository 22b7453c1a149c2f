"""Pure functions: LiteLLM request kwargs / responses -> semconv messages, tool results.

LiteLLM takes and returns the OpenAI chat format for every provider: the readers of that format
are :mod:`agentotel.instrumentation._openai_wire`'s, shared with the OpenAI instrumentation.
Content is read only with content capture on; the engine encodes, redacts and cuts it. The tool
results a request sends back feed the inferred tool spans (whatever the capture setting).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agentotel.instrumentation import _openai_wire as wire

completion_output_messages = wire.chat_output_messages
embedding_request_content = wire.embeddings_request_content
no_output = wire.no_output
tool_results = wire.chat_tool_results


def completion_request_content(kw: Mapping[str, Any]) -> dict[str, Any]:
    """Input messages and tool definitions of a ``completion`` request."""
    messages = kw.get("messages")
    listed = messages if isinstance(messages, (list, tuple)) else ()
    return {"inputs": wire.chat_input_messages(listed), "tools": kw.get("tools")}
