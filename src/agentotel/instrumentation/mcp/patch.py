"""The wrappers: one MCP span per request on each side, and the SDK's own spans switched off.

* client: ``ClientSession.send_request`` (every typed request: ``initialize``, ``tools/call``,
  ``tools/list``, ``resources/read``, ``prompts/get``, ``ping``, ...) and
  ``ClientSession.send_discover`` (``server/discover``): a CLIENT span each, whose context goes
  out in the request's ``params._meta``;
* server: ``ServerRunner._on_request`` (every inbound request, before the SDK's middleware,
  lookup, validation and handler): a SERVER span each, child of the caller's span from
  ``params._meta``;
* the SDK's own span-starting calls (``otel_span`` in the JSON-RPC dispatcher and in its server
  middleware): inside one of our spans for the same request they start nothing, so each request
  has one span per side whether or not a global SDK tracer provider is set.

The SDK's call runs exactly once, outside our boundary; its result or exception reaches the caller
unchanged.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Mapping
from functools import partial
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.trace import Link, SpanKind

from agentotel import semconv
from agentotel._safe import Boundary
from agentotel._telemetry import Telemetry
from agentotel.instrumentation.mcp import extract
from agentotel.instrumentation.mcp.blocks import (
    MCP_CALL_KEY,
    MCPCall,
    MCPInstruments,
    MCPRequest,
    MCPToolCall,
    Peer,
)
from agentotel.instrumentation.mcp.sessions import client_session_id, client_transport, server_transport


def _in_outer_tool() -> bool:
    """Whether the current span is an ``execute_tool`` span of the app's (the agent layer, a
    framework bridge, another instrumentation), not one of our MCP spans."""
    span = trace.get_current_span()
    if not span.is_recording():
        return False
    block = otel_context.get_value(MCP_CALL_KEY)
    if isinstance(block, MCPCall) and block.span is span:
        return False
    attrs = getattr(span, "attributes", None)
    return isinstance(attrs, Mapping) and attrs.get(semconv.GEN_AI_OPERATION_NAME) == semconv.OP_EXECUTE_TOOL


def _block(
    request: extract.Request,
    side: SpanKind,
    peer: Peer,
    instruments: MCPInstruments,
    layer: Telemetry,
    parent: otel_context.Context | None = None,
    links: tuple[Link, ...] = (),
    request_id: str | None = None,
) -> MCPCall:
    """The tool-call span for a ``tools/call`` that no ``execute_tool`` span of the app's covers;
    a plain MCP span otherwise (it then carries the MCP attributes under the app's tool span)."""
    if request.tool is not None and not (side is SpanKind.CLIENT and _in_outer_tool()):
        return MCPToolCall(request, side, peer, instruments, layer, parent, links, request_id)
    return MCPRequest(request, side, peer, instruments, layer, parent, links, request_id)


# --- client ------------------------------------------------------------------------------------
def _bind_request(request: Any, *_: Any, **__: Any) -> Any:
    return request


def _client_block(
    layer: Telemetry, instruments: MCPInstruments, session: Any, args: Any, kwargs: Any
) -> MCPCall:
    request = extract.client_request(_bind_request(*args, **kwargs))
    version = getattr(session, "protocol_version", None)
    peer = Peer(
        server_name=extract.session_server_name(session),
        protocol_version=version if isinstance(version, str) else None,
        session_id=client_session_id(session),
        transport=client_transport(session),
    )
    return _block(request, SpanKind.CLIENT, peer, instruments, layer)


def _with_trace_context(block: MCPCall, args: Any, kwargs: Any) -> tuple[Any, Any]:
    """``args``/``kwargs`` whose request's ``params._meta`` (a copy of the caller's, if any) also
    carries the span's context, as the configured propagators write it (W3C ``traceparent`` by
    default). The JSON-RPC dispatcher would inject it too; the in-process one does not."""
    if not block.span.get_span_context().is_valid:  # suppressed: the request goes out as given
        return args, kwargs
    typed = _bind_request(*args, **kwargs)
    params = getattr(typed, "params", None)
    if params is None:
        return args, kwargs
    meta = dict(getattr(params, "meta", None) or {})
    propagate.inject(meta)  # the current context: the block made its span current
    typed = typed.model_copy(update={"params": params.model_copy(update={"meta": meta})})
    if args:
        return (typed, *args[1:]), kwargs
    return args, {**kwargs, "request": typed}


def _client_returned(block: MCPCall, session: Any, result: Any) -> None:
    block.returned(result)
    if block.request.method == semconv.MCP_INITIALIZE:
        # Both come with the initialize response.
        block.learn_protocol_version(extract.negotiated_version(result))
        block.learn_session_id(client_session_id(session))


def spanned(
    boundary: Boundary,
    make_block: Callable[[Any, Any, Any], MCPCall],
    returned: Callable[[MCPCall, Any, Any], None] | None = None,
    inject: bool = False,
) -> Callable[..., Awaitable[Any]]:
    """The one wrapper of every request method: the SDK's call inside the block ``make_block``
    (``(instance, args, kwargs)``) opens, ``returned(block, instance, result)`` read after it;
    ``inject`` puts the block's context into the request's ``params._meta``. With no block (a bug
    of ours, suppressed instrumentation), the call goes as it came."""

    async def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        block = boundary.call(None, make_block, instance, args, kwargs)
        if block is None:
            return await wrapped(*args, **kwargs)
        async with block:
            if inject:
                args, kwargs = boundary.call((args, kwargs), _with_trace_context, block, args, kwargs)
            result = await wrapped(*args, **kwargs)
            if returned is not None:
                boundary.call(None, returned, block, instance, result)
        return result

    return wrapper


def send_request(layer: Telemetry, boundary: Boundary) -> Callable[..., Awaitable[Any]]:
    """Wrapper of ``ClientSession.send_request``: one CLIENT span per request."""
    make = partial(_client_block, layer, MCPInstruments(layer.meter))
    return spanned(boundary, make, _client_returned, inject=True)


def _discover_block(
    layer: Telemetry, instruments: MCPInstruments, session: Any, args: Any, kwargs: Any
) -> MCPCall:
    def _bind(version: Any, *_: Any, **__: Any) -> Any:
        return version

    version = _bind(*args, **kwargs)
    peer = Peer(
        server_name=extract.session_server_name(session),
        protocol_version=version if isinstance(version, str) else None,
        transport=client_transport(session),
    )
    return _block(extract.request(semconv.MCP_DISCOVER, None), SpanKind.CLIENT, peer, instruments, layer)


def send_discover(layer: Telemetry, boundary: Boundary) -> Callable[..., Awaitable[Any]]:
    """Wrapper of ``ClientSession.send_discover``: the ``server/discover`` request's CLIENT span."""
    return spanned(boundary, partial(_discover_block, layer, MCPInstruments(layer.meter)))


# --- server ------------------------------------------------------------------------------------
def bind_inbound(dctx: Any, method: Any, params: Any = None, *_: Any, **__: Any) -> tuple[Any, Any, Any]:
    return dctx, method, params


def inbound_block(
    layer: Telemetry,
    instruments: MCPInstruments,
    dctx: Any,
    method: Any,
    params: Any,
    peer: Peer,
) -> MCPCall:
    """The SERVER span of a request received (on the server, or from the server on the client)."""
    request = extract.request(method, params)
    request_id = getattr(dctx, "request_id", None)
    # mcp.md "Context propagation": the caller's context from params._meta is the parent; the
    # ambient one (a transport's span), when there is another, a link.
    current = otel_context.get_current()
    meta = params.get("_meta") if isinstance(params, Mapping) else None
    parent = extract.remote_parent(meta if isinstance(meta, Mapping) else None, current)
    links: tuple[Link, ...] = ()
    ambient = trace.get_current_span(current).get_span_context()
    if parent is not None and ambient.is_valid:
        remote = trace.get_current_span(parent).get_span_context()
        if ambient.span_id != remote.span_id:
            links = (Link(ambient),)
    return _block(
        request,
        SpanKind.SERVER,
        peer,
        instruments,
        layer,
        parent,
        links,
        str(request_id) if request_id is not None else None,
    )


def _server_block(
    layer: Telemetry, instruments: MCPInstruments, runner: Any, args: Any, kwargs: Any
) -> MCPCall:
    dctx, method, params = bind_inbound(*args, **kwargs)
    connection = runner.connection
    name = getattr(runner.server, "name", None)
    kind = getattr(getattr(dctx, "transport", None), "kind", None)
    version = None if method == semconv.MCP_INITIALIZE else connection.protocol_version
    session_id = connection.session_id if isinstance(connection.session_id, str) else None
    peer = Peer(
        server_name=name if isinstance(name, str) else None,
        protocol_version=version if isinstance(version, str) else None,
        session_id=session_id,
        transport=server_transport(kind, session_id),
    )
    return inbound_block(layer, instruments, dctx, method, params, peer)


def _server_returned(block: MCPCall, runner: Any, result: Any) -> None:
    block.returned(result)
    if block.request.method == semconv.MCP_INITIALIZE:
        block.learn_protocol_version(runner.connection.protocol_version)


def on_request(layer: Telemetry, boundary: Boundary) -> Callable[..., Awaitable[Any]]:
    """Wrapper of ``ServerRunner._on_request``: one SERVER span per inbound request."""
    return spanned(boundary, partial(_server_block, layer, MCPInstruments(layer.meter)), _server_returned)


# --- the SDK's own spans -------------------------------------------------------------------------
def sdk_span_switch(layer: Telemetry, boundary: Boundary) -> Callable[..., Any]:
    """Wrapper of the SDK's ``otel_span(name, *, kind, attributes, ...)``: inside our span for the
    same request, a non-recording span with our span's context (the SDK still injects it into
    ``_meta``); any other span of the SDK's (a request we do not cover) is left as it is."""

    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        block = otel_context.get_value(MCP_CALL_KEY)
        if isinstance(block, MCPCall) and boundary.call(
            False, block.covers, kwargs.get("kind"), kwargs.get("attributes")
        ):
            return contextlib.nullcontext(trace.NonRecordingSpan(trace.get_current_span().get_span_context()))
        return wrapped(*args, **kwargs)

    return wrapper
