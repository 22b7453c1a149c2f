"""Requests the server sends to the client (``sampling/createMessage``, ``elicitation/create``,
``roots/list``, ``ping``): the conventions' client span "reported ... by the MCP server when
server initiates the operation" and server span "by the MCP client when server initiates the
operation" (mcp.md, "Client" / "Server").

* ``ServerSession.send_request``: a CLIENT span on the server side (inside the server span of the
  request being handled, when there is one), whose context the JSON-RPC dispatcher sends in
  ``params._meta``;
* ``ClientSession._on_request``: a SERVER span on the client side, child of that span.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from opentelemetry.trace import SpanKind

from agentotel._safe import Boundary
from agentotel._telemetry import Telemetry
from agentotel.instrumentation.mcp import extract
from agentotel.instrumentation.mcp.blocks import MCPCall, MCPInstruments, MCPRequest, Peer
from agentotel.instrumentation.mcp.patch import bind_inbound, inbound_block, spanned
from agentotel.instrumentation.mcp.sessions import client_session_id, client_transport, connection_transport


def _server_peer(session: Any) -> Peer:
    connection = getattr(session, "_connection", None)  # the SDK exposes no public accessor
    session_id = getattr(connection, "session_id", None)
    session_id = session_id if isinstance(session_id, str) else None
    version = getattr(session, "protocol_version", None)
    return Peer(
        protocol_version=version if isinstance(version, str) else None,
        session_id=session_id,
        transport=connection_transport(session_id),
    )


def _outbound_block(
    layer: Telemetry, instruments: MCPInstruments, session: Any, args: Any, kwargs: Any
) -> MCPCall:
    def _bind(request: Any, *_: Any, **__: Any) -> Any:
        return request

    request = extract.client_request(_bind(*args, **kwargs))
    return MCPRequest(request, SpanKind.CLIENT, _server_peer(session), instruments, layer)


def server_send_request(layer: Telemetry, boundary: Boundary) -> Callable[..., Awaitable[Any]]:
    """Wrapper of ``ServerSession.send_request``: one CLIENT span per server-to-client request."""
    return spanned(boundary, partial(_outbound_block, layer, MCPInstruments(layer.meter)))


def _inbound_block(
    layer: Telemetry, instruments: MCPInstruments, session: Any, args: Any, kwargs: Any
) -> MCPCall:
    dctx, method, params = bind_inbound(*args, **kwargs)
    version = getattr(session, "protocol_version", None)
    peer = Peer(
        server_name=extract.session_server_name(session),
        protocol_version=version if isinstance(version, str) else None,
        session_id=client_session_id(session),
        transport=client_transport(session),
    )
    return inbound_block(layer, instruments, dctx, method, params, peer)


def client_on_request(layer: Telemetry, boundary: Boundary) -> Callable[..., Awaitable[Any]]:
    """Wrapper of ``ClientSession._on_request``: one SERVER span per request from the server."""
    return spanned(boundary, partial(_inbound_block, layer, MCPInstruments(layer.meter)))
