"""MCP sessions: their transport (``network.transport``) and their duration metrics.

* Transport: entering the SDK's ``stdio_client`` / ``stdio_server`` marks the task's context
  ``pipe``, ``streamable_http_client`` ``tcp`` (mcp.md, "Recording MCP transport"); a client
  session takes the mark when it is entered (with the Streamable HTTP transport object, which
  holds the session id), a server request reads it (or knows HTTP by its session id). An
  in-process server has no network transport: none.
* Sessions exist only in the protocol revisions with a handshake (``initialize``); the 2026-07-28
  revision (``server/discover``, a per-request envelope) has none, so no session metric. A client
  session lasts from entering ``ClientSession`` to leaving it (``mcp.client.session.duration``,
  with ``error.type`` when it is left by an exception); a server session from the SDK making its
  handshake-driven ``Connection`` (``Connection.for_loop``) to the SDK closing it
  (``mcp.server.session.duration``).

What is known of each client session is kept beside the SDK's object, in a weak map (the SDK's
object is not ours to add attributes to); nothing here holds telemetry.
"""

from __future__ import annotations

import contextlib
import time
import weakref
from collections.abc import Awaitable, Callable
from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import Any

import wrapt

from agentotel import semconv
from agentotel._safe import Boundary, error_type
from agentotel._telemetry import Telemetry
from agentotel.instrumentation.mcp.blocks import MCPInstruments, session_attributes

_STREAMABLE_HTTP = "streamable-http"
"""``TransportContext.kind`` of the SDK's Streamable HTTP server transport."""
_JSONRPC = "jsonrpc"
"""``TransportContext.kind`` of a plain stream pair (stdio, or memory streams in process)."""


@dataclass
class _Mark:
    """The transport a context is in: its network transport, and the SDK's Streamable HTTP
    transport object (which learns the session id from the server's response) if it is one."""

    transport: str
    http: Any = None


_TRANSPORT: ContextVar[_Mark | None] = ContextVar("agentotel_mcp_transport", default=None)


@dataclass
class _Session:
    mark: _Mark | None
    started: float


_CLIENT_SESSIONS: weakref.WeakKeyDictionary[Any, _Session] = weakref.WeakKeyDictionary()


def client_transport(session: Any) -> str | None:
    """The network transport of a client session (None: in process, or not known)."""
    found = _CLIENT_SESSIONS.get(session)
    return found.mark.transport if found is not None and found.mark is not None else None


def client_session_id(session: Any) -> str | None:
    """The MCP session id a client session's Streamable HTTP transport holds (None: no session)."""
    found = _CLIENT_SESSIONS.get(session)
    http = found.mark.http if found is not None and found.mark is not None else None
    session_id = getattr(http, "session_id", None)
    return session_id if isinstance(session_id, str) else None


def server_transport(kind: Any, session_id: str | None) -> str | None:
    """The network transport of a request the server received over a transport of ``kind``, in a
    session ``session_id`` (only Streamable HTTP has session ids)."""
    if kind == _STREAMABLE_HTTP or session_id is not None:
        return semconv.TRANSPORT_TCP
    mark = _TRANSPORT.get()
    return mark.transport if kind == _JSONRPC and mark is not None else None


def connection_transport(session_id: str | None) -> str | None:
    """The network transport of a server connection over a stream pair, in session ``session_id``."""
    return server_transport(_JSONRPC, session_id)


# --- transports ----------------------------------------------------------------------------------
class _MarkedTransport(wrapt.ObjectProxy):  # type: ignore[type-arg]
    """A transport's context manager that marks the context with its network transport while open."""

    def __init__(self, manager: Any, transport: str, boundary: Boundary) -> None:
        super().__init__(manager)
        self._self_transport = transport
        self._self_boundary = boundary
        self._self_token: Token[_Mark | None] | None = None

    async def __aenter__(self) -> Any:
        # Marked before entering: the tasks the transport starts (which may run the handlers, in
        # the context of the task that read the message) copy the context as it is then.
        self._self_token = self._self_boundary.call(None, _TRANSPORT.set, _Mark(self._self_transport))
        try:
            return await self.__wrapped__.__aenter__()
        except BaseException:
            token, self._self_token = self._self_token, None
            if token is not None:
                self._self_boundary.call(None, _reset, token)
            raise

    async def __aexit__(self, *exc_info: Any) -> Any:
        token, self._self_token = self._self_token, None
        if token is not None:
            self._self_boundary.call(None, _reset, token)
        return await self.__wrapped__.__aexit__(*exc_info)


def _reset(token: Token[_Mark | None]) -> None:
    # Left in another context than entered (ValueError): that context keeps its own mark.
    with contextlib.suppress(ValueError):
        _TRANSPORT.reset(token)


def marked(transport: str) -> Callable[[Telemetry, Boundary], Callable[..., Any]]:
    """Wrapper factory for a transport function (``stdio_client(...)``) returning its manager."""

    def factory(layer: Telemetry, boundary: Boundary) -> Callable[..., Any]:
        def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
            manager = wrapped(*args, **kwargs)
            proxy: Any = boundary.call(manager, _MarkedTransport, manager, transport, boundary)
            return proxy

        return wrapper

    return factory


def _note_http(transport: Any) -> None:
    mark = _TRANSPORT.get()
    if mark is not None:
        mark.http = transport


def http_transport(layer: Telemetry, boundary: Boundary) -> Callable[..., Any]:
    """Wrapper of ``StreamableHTTPTransport.__init__``: the marked context keeps the transport
    object, where the client's session id appears once the server has sent it."""

    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        wrapped(*args, **kwargs)
        boundary.call(None, _note_http, instance)

    return wrapper


# --- client sessions -----------------------------------------------------------------------------
def _opened(session: Any) -> None:
    _CLIENT_SESSIONS[session] = _Session(_TRANSPORT.get(), time.perf_counter())


def session_enter(layer: Telemetry, boundary: Boundary) -> Callable[..., Awaitable[Any]]:
    """Wrapper of ``ClientSession.__aenter__``: the session's start and transport."""

    async def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        boundary.call(None, _opened, instance)
        return await wrapped(*args, **kwargs)

    return wrapper


def _closed(instruments: MCPInstruments, session: Any, exc: Any) -> None:
    found = _CLIENT_SESSIONS.pop(session, None)
    if found is None or getattr(session, "initialize_result", None) is None:
        return  # never entered while we watched, or a revision without sessions
    version = getattr(session, "protocol_version", None)
    transport = found.mark.transport if found.mark is not None else None
    attrs: dict[str, str] = session_attributes(version if isinstance(version, str) else None, transport)
    if isinstance(exc, Exception):
        attrs[semconv.ERROR_TYPE] = error_type(exc)
    instruments.client_session.record(time.perf_counter() - found.started, attrs)


def session_exit(layer: Telemetry, boundary: Boundary) -> Callable[..., Awaitable[Any]]:
    """Wrapper of ``ClientSession.__aexit__``: records ``mcp.client.session.duration``."""
    instruments = MCPInstruments(layer.meter)

    async def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        try:
            return await wrapped(*args, **kwargs)
        finally:
            exc = args[1] if len(args) > 1 else kwargs.get("exc_val")
            boundary.call(None, _closed, instruments, instance, exc)

    return wrapper


# --- server sessions -----------------------------------------------------------------------------
def _watch(instruments: MCPInstruments, boundary: Boundary, connection: Any) -> None:
    started = time.perf_counter()
    transport = connection_transport(connection.session_id)

    def record() -> None:
        version = connection.protocol_version
        attrs = session_attributes(version if isinstance(version, str) else None, transport)
        instruments.server_session.record(time.perf_counter() - started, attrs)

    # The SDK unwinds the connection's exit stack when the connection ends (its own callbacks
    # first: ours was pushed before any of them).
    connection.exit_stack.callback(boundary.call, None, record)


def server_session(layer: Telemetry, boundary: Boundary) -> Callable[..., Any]:
    """Wrapper of ``Connection.for_loop``: a handshake-driven connection's duration, recorded as
    ``mcp.server.session.duration`` when the SDK closes it."""
    instruments = MCPInstruments(layer.meter)

    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        connection = wrapped(*args, **kwargs)
        boundary.call(None, _watch, instruments, boundary, connection)
        return connection

    return wrapper
