"""The router: request path → wire format → builder, with the markers and scripted errors that
apply to every wire format (:func:`handle_request`)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from urllib.parse import unquote

from . import (
    _openai,
    anthropic_messages,
    azure_openai_chat,
    bedrock_runtime,
    cohere_v2,
    google_genai_content,
    groq_chat,
    mistral_chat,
    ollama_api,
    openai_chat,
    openai_embeddings,
    openai_responses,
)
from ._core import BadRequest, Ctx, Route, Wire, parse_scenarios
from ._state import FakeLLM, FakeResponse

__all__ = ["handle_request"]

# Adding a wire format: one line here (see the recipe in the package docstring).
WIRES: tuple[Wire, ...] = (
    openai_chat.WIRE,
    openai_responses.WIRE,
    openai_embeddings.WIRE,
    anthropic_messages.WIRE,
    bedrock_runtime.WIRE,
    google_genai_content.WIRE,
    groq_chat.WIRE,
    azure_openai_chat.WIRE,
    mistral_chat.WIRE,
    ollama_api.WIRE,
    cohere_v2.WIRE,
)


def _table(wires: tuple[Wire, ...]) -> dict[str, tuple[Wire, Route]]:
    table: dict[str, tuple[Wire, Route]] = {}
    for wire in wires:
        for path, route in wire.routes.items():
            if path in table:
                raise ValueError(f"fake LLM server: two wire formats serve {path!r}")
            table[path] = (wire, route)
    return table


def _pattern(path: str) -> re.Pattern[str]:
    """``/models/{model}:generateContent`` -> a regex with a named group per placeholder."""
    parts = re.split(r"\{(\w+)\}", path)
    regex = "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>[^/:]+)" for i, part in enumerate(parts))
    return re.compile(regex)


_ROUTES = _table(WIRES)
_PATTERNS = [(_pattern(path), entry) for path, entry in _ROUTES.items() if "{" in path]
_MALFORMED_BODY = b'{"id": "broken'


def _route(path: str) -> str:
    route = path.split("?", 1)[0].rstrip("/")
    return route[3:] if route.startswith("/v1/") else route


def _find(target: str) -> tuple[Wire, Route, dict[str, str]] | None:
    """The wire and route serving ``target``, with the path's placeholder values."""
    if target in _ROUTES:
        wire, route = _ROUTES[target]
        return wire, route, {}
    for pattern, (wire, route) in _PATTERNS:
        found = pattern.fullmatch(target)
        if found is not None:
            return wire, route, {k: unquote(v) for k, v in found.groupdict().items()}
    return None


def handle_request(
    method: str,
    path: str,
    headers: Mapping[str, str],
    body: bytes,
    state: FakeLLM | None = None,
) -> FakeResponse:
    """Answer one fake API request. ``headers`` is accepted for signature parity and
    never echoed. Ids (``chatcmpl-N``, ``call_N``, ...) come from ``state``; without
    a state a fresh one is used, so every id is ``..._1``."""
    del headers  # credentials must never leak into responses
    state = state if state is not None else FakeLLM()
    request_id = f"req_{state.next_id('req')}"
    found = _find(_route(path))
    if found is None:
        message = f"Unknown request URL: {method.upper()} {path.split('?', 1)[0]}."
        return _openai.ERRORS.body(404, "invalid_request_error", message, "unknown_url", request_id)
    wire, route, params = found
    errors = wire.errors
    if method.upper() != "POST":
        return errors.error(405, "invalid_request_error", f"Method {method} not allowed", request_id)
    try:
        req = json.loads(body)
    except ValueError:
        return errors.error(
            400, "invalid_request_error", "We could not parse the JSON body of your request.", request_id
        )
    if not isinstance(req, dict):
        return errors.error(
            400, "invalid_request_error", "The request body must be a JSON object.", request_id
        )
    try:
        sc = parse_scenarios(body.decode("utf-8", errors="replace"))
        scripted = state.next_scripted() if route.replies else None
        asked = req.get("stream") is True if route.streams is None else route.streams
        stream = asked and route.replies
        if scripted is not None and scripted.kind == "error":
            resp = errors.scenario(scripted.content, request_id)
        elif sc.error is not None and scripted is None:
            resp = errors.scenario(sc.error, request_id)
        elif sc.disconnect and not stream:
            resp = FakeResponse(200, {}, [], disconnect_after=0)
        else:
            resp = route.build(Ctx(req, sc, state, request_id, stream, scripted, params))
    except BadRequest as exc:
        return errors.error(400, "invalid_request_error", str(exc), request_id)
    if sc.malformed and resp.status == 200:
        if resp.is_stream:
            resp.chunks = [resp.chunks[0], errors.malformed_event]
        else:
            resp.chunks = [_MALFORMED_BODY]
    if sc.disconnect and resp.is_stream:
        resp.disconnect_after = 2
    resp.delay_s = sc.slow_s
    return resp
