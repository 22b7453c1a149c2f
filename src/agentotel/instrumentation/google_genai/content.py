"""Pure functions: Google GenAI ``contents`` / responses -> semconv messages, function responses.

Content is read only with content capture on; the engine encodes, redacts and cuts it. The
function responses a request sends back feed the inferred tool spans (whatever the capture
setting).

``contents`` is what the SDK accepts: a string, a ``Part``, a ``Content``, a dict of either
(snake_case or camelCase keys), or a list of these, where consecutive strings and parts make one
user turn (as the SDK groups them). Roles: ``user`` stays ``user``, ``model`` becomes
``assistant``, and a user turn that only answers function calls becomes ``tool``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agentotel._content import tool_call_part, tool_response_part
from agentotel.instrumentation.google_genai.extract import call_ids, finish_reason, function_calls, get


def _is_content(item: Any) -> bool:
    return get(item, "parts") is not None or get(item, "role") is not None


def turns(contents: Any) -> list[tuple[str, list[Any]]]:
    """``(role, parts)`` of each turn of ``contents`` (parts as given: strings, Parts, dicts)."""
    if contents is None:
        return []
    items = list(contents) if isinstance(contents, (list, tuple)) else [contents]
    found: list[tuple[str, list[Any]]] = []
    loose: list[Any] = []
    for item in items:
        if not isinstance(item, str) and _is_content(item):
            if loose:
                found.append(("user", loose))
                loose = []
            found.append((str(get(item, "role") or "user"), list(get(item, "parts") or ())))
        else:
            loose.append(item)
    if loose:
        found.append(("user", loose))
    return found


def _part(part: Any, ids: dict[int, str]) -> dict[str, Any]:
    if isinstance(part, str):
        return {"type": "text", "content": part}
    text = get(part, "text")
    if isinstance(text, str):
        return {"type": "reasoning" if get(part, "thought") is True else "text", "content": text}
    call = get(part, "function_call")
    if call is not None:
        return tool_call_part(ids.get(id(call)), get(call, "name"), get(call, "args"))
    response = get(part, "function_response")
    if response is not None:
        return tool_response_part(get(response, "id"), get(response, "response"))
    data = get(part, "inline_data")
    if data is not None:
        return {"type": "blob", "mime_type": get(data, "mime_type")}
    file = get(part, "file_data")
    if file is not None:
        return {"type": "uri", "mime_type": get(file, "mime_type"), "uri": get(file, "file_uri")}
    return {"type": type(part).__name__}


def parts(items: Any) -> list[dict[str, Any]]:
    """Semconv parts of one turn's parts (function calls with the ids of :func:`.extract.call_ids`)."""
    items = list(items or ())
    calls = [get(p, "function_call") for p in items if not isinstance(p, str)]
    calls = [c for c in calls if c is not None]
    ids = dict(
        zip(
            (id(c) for c in calls),
            call_ids((get(c, "id"), get(c, "name"), get(c, "args")) for c in calls),
            strict=True,
        )
    )
    return [_part(p, ids) for p in items]


def _role(role: str, items: list[Any]) -> str:
    if role == "model":
        return "assistant"
    if items and all(not isinstance(p, str) and get(p, "function_response") is not None for p in items):
        return "tool"
    return role


def input_messages(contents: Any) -> list[dict[str, Any]]:
    """``contents`` in the GenAI semconv message shape."""
    return [{"role": _role(role, items), "parts": parts(items)} for role, items in turns(contents)]


def system_instructions(system: Any) -> list[dict[str, Any]] | None:
    """``config.system_instruction`` (a string, Part, Content or list) as semconv parts."""
    if system is None:
        return None
    found: list[dict[str, Any]] = []
    for _, items in turns(system):
        found.extend(parts(items))
    return found or None


def tool_definitions(tools: Any) -> list[dict[str, Any]] | None:
    """``config.tools``: the function declarations (and Python functions given for automatic
    function calling) as ``{"type": "function", "name", "description"}``."""
    if not isinstance(tools, (list, tuple)):
        return None
    found: list[dict[str, Any]] = []
    for tool in tools:
        if callable(tool) and not isinstance(tool, Mapping):
            found.append(
                {"type": "function", "name": getattr(tool, "__name__", None), "description": tool.__doc__}
            )
            continue
        for decl in get(tool, "function_declarations") or ():
            found.append(
                {"type": "function", "name": get(decl, "name"), "description": get(decl, "description")}
            )
    return found or None


def output_messages(response: Any) -> list[dict[str, Any]]:
    """Each candidate of a ``GenerateContentResponse`` as one assistant message."""
    return [
        {
            "role": "assistant",
            "parts": parts(getattr(getattr(candidate, "content", None), "parts", None)),
            "finish_reason": finish_reason(candidate),
        }
        for candidate in getattr(response, "candidates", None) or ()
    ]


# --- function responses sent back (for inferred tool spans) ----------------------------------
def tool_results(kw: Mapping[str, Any]) -> list[tuple[str, bool]]:
    """``(call id, is error)`` of the ``function_response`` parts after the last model turn.

    Each is joined to a ``function_call`` of that model turn: by ``id`` when the response has one,
    else the n-th response of a name to the n-th call of that name; the call's id is then the one
    :func:`.extract.call_ids` gave it in the response. A response whose ``response`` has an
    ``error`` key (as the SDK's automatic function calling sends a raised exception) is an error.
    Only a list or tuple of contents is read: any other iterable may be single-use.
    """
    contents = kw.get("contents")
    if not isinstance(contents, (list, tuple)):
        return []
    history = turns(contents)
    last_model = next((i for i in range(len(history) - 1, -1, -1) if history[i][0] == "model"), None)
    if last_model is None:
        return []
    calls = function_calls(history[last_model][1])
    ids = call_ids(calls)
    by_name: dict[Any, list[str]] = {}
    for (_, name, _), call_id in zip(calls, ids, strict=True):
        by_name.setdefault(name, []).append(call_id)
    given = set(ids)
    found: list[tuple[str, bool]] = []
    for _, items in history[last_model + 1 :]:
        for part in items:
            response = None if isinstance(part, str) else get(part, "function_response")
            if response is None:
                continue
            rid = get(response, "id")
            name_ids = by_name.get(get(response, "name"))
            if isinstance(rid, str) and rid in given:
                call_id = rid
                if name_ids and rid in name_ids:
                    name_ids.remove(rid)
            elif name_ids:
                call_id = name_ids.pop(0)
            else:
                continue
            body = get(response, "response")
            found.append((call_id, isinstance(body, Mapping) and "error" in body))
    return found


# --- what the engine encodes at the start of a call ------------------------------------------
def request_content(kw: Mapping[str, Any]) -> dict[str, Any]:
    """System instruction, input messages and tool definitions of a ``generateContent`` request."""
    config = kw.get("config")
    return {
        "system": system_instructions(get(config, "system_instruction")) if config is not None else None,
        "inputs": input_messages(kw.get("contents")),
        "tools": tool_definitions(get(config, "tools")) if config is not None else None,
    }


def embed_request_content(kw: Mapping[str, Any]) -> dict[str, Any]:
    """The contents of an embeddings request, as input messages."""
    contents = kw.get("contents")
    if contents is None:
        contents = kw.get("content") or kw.get("batch_contents")
    return {"inputs": input_messages(contents)}


def no_output(_: Any) -> None:
    """Output messages of an operation that has none (embeddings)."""
    return None
