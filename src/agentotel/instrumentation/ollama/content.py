"""Pure functions: Ollama request bodies / responses -> semconv messages, tool results sent back.

Content is read only with content capture on; the engine encodes, redacts and cuts it. The tool
results a request sends back feed the inferred tool spans (whatever the capture setting).

The request is the body the SDK sends (:func:`.extract.body`): ``messages`` as dicts with
``role``, ``content``, ``thinking``, ``images`` (base64 strings), ``tool_calls``
(``{"function": {"name", "arguments"}}``) and, on a ``tool`` message, ``tool_name``. Roles stay as
Ollama names them (``system``, ``user``, ``assistant``, ``tool``); thinking becomes a
``reasoning`` part, an image a ``blob`` part without its data, a tool call a ``tool_call`` part and
a tool message a ``tool_call_response`` part, both with the call ids of :func:`.extract.call_ids`.
``/api/generate``'s ``system`` is the system instruction and its ``prompt`` (with its images) one
user message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agentotel._content import tool_call_part, tool_response_part
from agentotel.instrumentation.ollama.extract import body, call_ids, calls_of


def _blobs(images: Any) -> list[dict[str, Any]]:
    return [{"type": "blob", "modality": "image"} for _ in images or ()]


def _text(kind: str, text: Any) -> list[dict[str, Any]]:
    return [{"type": kind, "content": text}] if isinstance(text, str) and text else []


def _calls(tool_calls: Any) -> list[dict[str, Any]]:
    calls = calls_of(tool_calls)
    return [
        tool_call_part(call_id, name, args)
        for (name, args), call_id in zip(calls, call_ids(calls), strict=True)
    ]


def _results(msgs: list[Any]) -> dict[int, str]:
    """The call id each ``tool`` message answers, by its index in ``msgs`` (see :func:`_join`)."""
    found: dict[int, str] = {}
    for start, msg in enumerate(msgs):
        if msg.get("role") == "assistant" and msg.get("tool_calls"):
            end = start + 1
            while end < len(msgs) and msgs[end].get("role") == "tool":
                end += 1
            found.update(_join(msg, msgs, start + 1, end))
    return found


def _join(assistant: Mapping[str, Any], msgs: list[Any], start: int, end: int) -> dict[int, str]:
    """The ``tool`` messages ``msgs[start:end]`` joined to the assistant message's calls: the n-th
    message of a ``tool_name`` to the n-th call of that name; a message without a known name to
    the next call not answered yet, in order."""
    calls = calls_of(assistant.get("tool_calls"))
    ids = call_ids(calls)
    by_name: dict[Any, list[str]] = {}
    for (name, _), call_id in zip(calls, ids, strict=True):
        by_name.setdefault(name, []).append(call_id)
    free = list(ids)
    found: dict[int, str] = {}
    for index in range(start, end):
        named = by_name.get(msgs[index].get("tool_name"))
        by_order = not named
        found_id = named.pop(0) if named else (free[0] if free else None)
        if found_id is None:
            continue
        free.remove(found_id)
        if by_order:
            for same in by_name.values():
                if found_id in same:
                    same.remove(found_id)
        found[index] = found_id
    return found


def _messages(req: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    msgs = req.get("messages")
    return [m for m in msgs if isinstance(m, Mapping)] if isinstance(msgs, list) else []


def input_messages(req: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A chat body's ``messages`` in the GenAI semconv message shape."""
    msgs = _messages(req)
    answered = _results(msgs)
    out: list[dict[str, Any]] = []
    for index, msg in enumerate(msgs):
        role = msg.get("role")
        if role == "tool":
            parts = [tool_response_part(answered.get(index), msg.get("content"))]
        else:
            parts = [
                *_text("reasoning", msg.get("thinking")),
                *_text("text", msg.get("content")),
                *_blobs(msg.get("images")),
                *_calls(msg.get("tool_calls")),
            ]
        out.append({"role": role, "parts": parts})
    return out


def chat_request_content(kw: Mapping[str, Any]) -> dict[str, Any]:
    """Input messages and tool definitions (as sent) of a ``/api/chat`` request."""
    req = body(kw)
    tools = req.get("tools")
    return {"inputs": input_messages(req), "tools": tools if isinstance(tools, list) and tools else None}


def generate_request_content(kw: Mapping[str, Any]) -> dict[str, Any]:
    """System instruction and the prompt (one user message) of a ``/api/generate`` request."""
    req = body(kw)
    parts = [*_text("text", req.get("prompt")), *_blobs(req.get("images"))]
    return {
        "system": _text("text", req.get("system")) or None,
        "inputs": [{"role": "user", "parts": parts}] if parts else None,
    }


def embed_request_content(kw: Mapping[str, Any]) -> dict[str, Any]:
    """The texts of an embeddings request (``input``, or ``prompt`` on ``/api/embeddings``), one
    user message each."""
    req = body(kw)
    given = req.get("input", req.get("prompt"))
    texts = [given] if isinstance(given, str) else given if isinstance(given, list) else []
    return {"inputs": [{"role": "user", "parts": _text("text", t)} for t in texts]}


def chat_output_messages(response: Any) -> list[dict[str, Any]]:
    """A ``ChatResponse``'s message as one assistant message."""
    message = response.message
    parts = [
        *_text("reasoning", getattr(message, "thinking", None)),  # ollama>=0.5.0
        *_text("text", message.content),
        *_calls(message.tool_calls),
    ]
    return [{"role": "assistant", "parts": parts, "finish_reason": response.done_reason}]


def generate_output_messages(response: Any) -> list[dict[str, Any]]:
    """A ``GenerateResponse``'s text as one assistant message."""
    parts = [*_text("reasoning", getattr(response, "thinking", None)), *_text("text", response.response)]
    return [{"role": "assistant", "parts": parts, "finish_reason": response.done_reason}]


def no_output(_: Any) -> None:
    """Output messages of an operation that has none (embeddings)."""
    return None


# --- tool results sent back (for inferred tool spans) ----------------------------------------
def tool_results(kw: Mapping[str, Any]) -> list[tuple[str, bool]]:
    """``(call id, is error)`` of the ``tool`` messages after the last assistant message with tool
    calls, joined to its calls (:func:`_join`). Ollama has no error flag: never an error."""
    msgs = _messages(body(kw))
    last = next((i for i in range(len(msgs) - 1, -1, -1) if msgs[i].get("role") == "assistant"), None)
    if last is None or not msgs[last].get("tool_calls"):
        return []
    end = last + 1
    while end < len(msgs) and msgs[end].get("role") == "tool":
        end += 1
    return [(call_id, False) for _, call_id in sorted(_join(msgs[last], msgs, last + 1, end).items())]
