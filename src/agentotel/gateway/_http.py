"""The HTTP side of the gateway: ASGI types, the headers it does not forward, its own answers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from agentotel import semconv

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

# RFC 9110 7.6.1, plus what the HTTP client sets itself (Host, the body's length).
HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)
NOT_FORWARDED = HOP_BY_HOP | {b"host", b"content-length"}


def status_class(status: int | None) -> str:
    return f"{status // 100}xx" if status else semconv.GATEWAY_STATUS_NONE


def error_body(wire: str, status: int, message: str) -> bytes:
    """An error the gateway itself answers, in the route's provider's format."""
    if wire == "anthropic":
        kind = {413: "request_too_large", 404: "not_found_error", 504: "timeout_error"}.get(
            status, "api_error"
        )
        payload: dict[str, Any] = {"type": "error", "error": {"type": kind, "message": message}}
    elif wire == "gemini":
        reason = {413: "INVALID_ARGUMENT", 404: "NOT_FOUND", 504: "DEADLINE_EXCEEDED"}.get(
            status, "UNAVAILABLE"
        )
        payload = {"error": {"code": status, "message": message, "status": reason}}
    else:
        kind = {413: "invalid_request_error", 404: "invalid_request_error"}.get(status, "api_error")
        payload = {"error": {"message": message, "type": kind, "param": None, "code": None}}
    return json.dumps(payload).encode()


async def answer(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def read_body(receive: Receive, limit: int) -> tuple[bytes, bool]:
    """The request body, and whether it was over ``limit`` bytes (then the rest is drained and
    nothing kept); raises :class:`ClientLeft` if the client disconnects first."""
    parts: list[bytes] = []
    size = 0
    too_big = False
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientLeft
        chunk = message.get("body", b"")
        more = message.get("more_body", False)
        size += len(chunk)
        if size > limit:
            too_big = True
            parts = []
        elif not too_big:
            parts.append(chunk)
    return b"".join(parts), too_big


class Left:
    """Whether the client left while its answer was under way (set by :func:`watch_client`)."""

    __slots__ = ("now",)

    def __init__(self) -> None:
        self.now = False


async def watch_client(receive: Receive, task: asyncio.Task[Any], left: Left) -> None:
    """Cancel ``task`` when the client disconnects."""
    await disconnected(receive)
    left.now = True
    task.cancel()


class ClientLeft(Exception):
    """The client disconnected while sending its request."""


class CutOff(Exception):
    """The upstream's answer broke off after its head was sent on: the client connection is cut."""
