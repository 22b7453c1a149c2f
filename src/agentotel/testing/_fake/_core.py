"""What every wire format shares: the markers, the reply model, the helpers that write bodies
and SSE events, and the interface a wire module fills in (:class:`Wire`)."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .._schema_args import arguments_for
from .._script import Reply, scripted_calls
from ._state import FakeLLM, FakeResponse, count_tokens

__all__ = [
    "CREATED",
    "DEFAULT_REPLY",
    "JSON",
    "SSE_CT",
    "THINKING_TEXT",
    "Answer",
    "BadRequest",
    "Ctx",
    "ErrorFormat",
    "Route",
    "Scenarios",
    "Wire",
    "answer",
    "first_tool",
    "json_response",
    "max_words",
    "messages",
    "parse_scenarios",
    "pieces",
    "split_json",
    "sse",
    "texts",
]

JSON = dict[str, Any]

DEFAULT_REPLY = "Hello from the fake LLM server."
THINKING_TEXT = "Let me think."
CREATED = 1700000000

JSON_CT = "application/json"
SSE_CT = "text/event-stream; charset=utf-8"
_SCENARIO_RE = re.compile(r"\[\[scenario:([A-Za-z_]+)(?::([^\]]*))?\]\]")
_WORDS_RE = re.compile(r"\[\[words:(\d+)\]\]")
_PIECE_RE = re.compile(r"\s*\S+\s*")
_ERROR_SCENARIOS = ("rate_limit", "server_error", "overloaded", "bad_request")
_FLAG_SCENARIOS = ("malformed", "disconnect")
_INT_SCENARIOS = ("cached", "cache_write", "reasoning")


class BadRequest(Exception):
    """The request is invalid: answered with a 400 in the wire's error format."""


# --------------------------------------------------------------------------- markers


@dataclass
class Scenarios:
    """The ``[[scenario:...]]`` markers of one request."""

    error: str | None = None
    malformed: bool = False
    disconnect: bool = False
    slow_s: float = 0.0
    cached: int = 0
    cache_write: int = 0
    reasoning: int = 0


def parse_scenarios(raw: str) -> Scenarios:
    sc = Scenarios()
    for match in _SCENARIO_RE.finditer(raw):
        name, arg = match.group(1), match.group(2)
        try:
            if name in _ERROR_SCENARIOS:
                sc.error = sc.error or name
            elif name in _FLAG_SCENARIOS:
                setattr(sc, name, True)
            elif name == "slow":
                sc.slow_s = float(arg or "")
                if not math.isfinite(sc.slow_s) or sc.slow_s < 0:
                    raise ValueError(arg)
            elif name in _INT_SCENARIOS:
                value = int(arg or "")
                if value < 0:
                    raise ValueError(arg)
                setattr(sc, name, value)
            else:
                raise BadRequest(f"fake LLM server: unknown scenario marker {match.group(0)!r}")
        except ValueError:
            raise BadRequest(f"fake LLM server: invalid scenario argument in {match.group(0)!r}") from None
    return sc


# --------------------------------------------------------------------------- the reply model


@dataclass
class Ctx:
    """One request, as a wire's builder sees it."""

    req: JSON
    sc: Scenarios
    state: FakeLLM
    request_id: str
    stream: bool = False
    scripted: Reply | None = None
    params: Mapping[str, str] = field(default_factory=dict)
    """The path's ``{name}`` segments (``{"model": "gemini-2.5-flash"}``), URL-decoded."""


@dataclass(frozen=True)
class Answer:
    """What the model says, before any wire format: tool calls, or else text."""

    calls: list[tuple[str, dict[str, Any]]]
    text: str = ""
    truncated: bool = False  # the text was cut at the request's output limit

    @property
    def visible_tokens(self) -> int:
        """Output tokens of the calls' JSON arguments, or of the text (reasoning excluded)."""
        if self.calls:
            return sum(count_tokens(json.dumps(args)) for _, args in self.calls)
        return count_tokens(self.text)

    def reason(self, *, calls: str, truncated: str, done: str) -> str:
        """The wire's finish / stop reason, given its words for each way a reply ends."""
        if self.calls:
            return calls
        return truncated if self.truncated else done


def answer(ctx: Ctx, prompt: list[str], offered: tuple[str, object] | None, limit: int | None) -> Answer:
    """The reply to a request: the scripted one if any; else a call of the tool the wire found
    ``offered`` (name, JSON schema), arguments from its schema; else the words of ``prompt``'s
    ``[[words:N]]`` marker (or :data:`DEFAULT_REPLY`), cut at ``limit`` words."""
    if ctx.scripted is not None:
        calls = scripted_calls(ctx.scripted, ctx.req)
        return Answer(calls, "" if calls else ctx.scripted.content)
    if offered is not None:
        return Answer([(offered[0], arguments_for(offered[1]))])
    matches = _WORDS_RE.findall("\n".join(prompt))
    words = [f"w{i}" for i in range(1, int(matches[-1]) + 1)] if matches else DEFAULT_REPLY.split()
    truncated = limit is not None and len(words) > limit
    return Answer([], " ".join(words[:limit] if limit is not None else words), truncated)


def first_tool(tools: object, read: Callable[[JSON], tuple[str, object] | None]) -> tuple[str, object] | None:
    """The first of a request's ``tools`` that ``read`` recognizes, as (name, JSON schema)."""
    if not isinstance(tools, list):
        return None
    found = (read(tool) for tool in tools if isinstance(tool, dict))
    return next((spec for spec in found if spec is not None), None)


def texts(content: object) -> list[str]:
    """Text pieces of a message ``content`` (string, block list, or Responses item list)."""
    if isinstance(content, str):
        return [content]
    out: list[str] = []
    if isinstance(content, list):
        for item in content:
            if not isinstance(item, dict):
                continue
            if isinstance(item.get("text"), str):
                out.append(item["text"])
            elif item.get("type") == "tool_result":
                out.extend(texts(item.get("content")))
            elif item.get("type") == "function_call_output":
                out.extend(texts(item.get("output")))
            elif "content" in item:
                out.extend(texts(item["content"]))
    return out


def messages(req: JSON) -> list[JSON]:
    msgs = req.get("messages")
    if not isinstance(msgs, list):
        raise BadRequest("'messages' must be an array")
    return [m for m in msgs if isinstance(m, dict)]


def max_words(req: JSON, *keys: str) -> int | None:
    """The first of ``keys`` holding a non-negative integer (an output token limit)."""
    for key in keys:
        value = req.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
    return None


# --------------------------------------------------------------------------- bodies and events


def _dumps(obj: object) -> str:
    return json.dumps(obj, separators=(",", ":"))


def json_response(status: int, obj: object, headers: dict[str, str] | None = None) -> FakeResponse:
    return FakeResponse(status, {"content-type": JSON_CT, **(headers or {})}, [_dumps(obj).encode()])


def sse(data: object, event: str | None = None) -> bytes:
    """One SSE event (``data`` a string is sent as is, else as compact JSON)."""
    payload = data if isinstance(data, str) else _dumps(data)
    prefix = f"event: {event}\n" if event else ""
    return f"{prefix}data: {payload}\n\n".encode()


def pieces(text: str) -> list[str]:
    """Stream deltas: each word with the whitespace after it (the first also with any before it)."""
    found = _PIECE_RE.findall(text)
    return found if found or not text else [text]


def split_json(text: str) -> list[str]:
    """Split a JSON string into 2+ fragments, like streamed tool arguments."""
    size = max(1, math.ceil(len(text) / 3))
    return [text[i : i + size] for i in range(0, len(text), size)]


# --------------------------------------------------------------------------- the wire interface

ErrorBody = Callable[[int, str, str, str | None, str], FakeResponse]


@dataclass(frozen=True)
class ErrorFormat:
    """How one provider's API says no.

    ``body(status, type, message, code, request_id)`` builds the error response;
    ``scenarios`` maps each error marker / :meth:`Reply.error` kind to
    ``(status, type, code, message)``; ``malformed_event`` is the torn SSE event a
    ``[[scenario:malformed]]`` stream sends after its first event.
    """

    body: ErrorBody
    scenarios: Mapping[str, tuple[int, str, str | None, str]]
    malformed_event: bytes

    def error(self, status: int, etype: str, message: str, request_id: str) -> FakeResponse:
        return self.body(status, etype, message, None, request_id)

    def scenario(self, name: str, request_id: str) -> FakeResponse:
        status, etype, code, message = self.scenarios[name]
        resp = self.body(status, etype, message, code, request_id)
        if name == "rate_limit":
            resp.headers["retry-after"] = "0"
        return resp


@dataclass(frozen=True)
class Route:
    """One endpoint: ``build`` answers it; ``replies``: it is a model reply, so it may stream
    and takes the next scripted reply (embeddings and token counts do neither)."""

    build: Callable[[Ctx], FakeResponse]
    replies: bool = True
    streams: bool | None = None
    """``None``: the request body's ``"stream": true`` asks for a stream (OpenAI, Anthropic);
    ``True``/``False``: this endpoint always / never streams (Gemini's ``:streamGenerateContent``,
    Bedrock's ``converse-stream``)."""


@dataclass(frozen=True)
class Wire:
    """One wire format: its endpoints (path without the ``/v1`` prefix; a segment may hold
    ``{name}`` placeholders, e.g. ``/v1beta/models/{model}:generateContent``, matched up to the
    next ``/`` or ``:``, given to the builder as ``Ctx.params``) and its error format."""

    routes: Mapping[str, Route]
    errors: ErrorFormat
