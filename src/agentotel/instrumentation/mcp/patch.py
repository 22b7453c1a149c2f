"""The wrappers: ``ClientSession.call_tool`` (client) and the ``tools/call`` handler (server).

Both run the call inside an :class:`MCPTool` block, the agent layer's ``Tool`` (same span,
metric, content capture and error handling as ``agentotel.tool``). The SDK's call runs exactly
once, outside our boundary; its result or exception reaches the caller unchanged.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate

from agentotel import semconv
from agentotel._lifecycle import Attributes
from agentotel._safe import Boundary
from agentotel._telemetry import Telemetry
from agentotel.agent._tool import Tool
from agentotel.instrumentation.mcp import extract

_RESULT_ERROR_STATUS = "the tool result is marked isError"


class MCPTool(Tool):
    """An MCP tool call: an ``extension`` tool with its server's name, failed when the result
    says ``isError`` (the result is still returned, not raised)."""

    __slots__ = ("server_name",)
    component = "mcp"

    def __init__(
        self, name: str, server_name: str | None, arguments: Any, layer: Telemetry, *, claim: bool
    ) -> None:
        super().__init__(name, semconv.TOOL_TYPE_EXTENSION, arguments=arguments, layer=layer, claim=claim)
        self.server_name = server_name

    def returned(self, result: Any) -> None:
        """Read the call's result: its ``isError`` flag, and its content when capture is on."""
        if extract.is_error_result(result):
            self.mark_error_result(semconv.TOOL_RESULT_ERROR, _RESULT_ERROR_STATUS)
        if self.layer.settings.capture.on_span:
            self.set_result(extract.result_content(result))

    def _attributes(self, layer: Telemetry) -> Attributes:
        attrs = super()._attributes(layer)
        if self.server_name is not None:
            attrs[semconv.AGENTOTEL_MCP_SERVER_NAME] = self.server_name
        return attrs


# --- client ------------------------------------------------------------------------------------
def _with_trace_context(tool: MCPTool, kwargs: dict[str, Any]) -> dict[str, Any]:
    """``kwargs`` whose ``meta`` (a copy of the caller's, if any) also carries the tool span's
    context, as the configured propagators write it (W3C ``traceparent`` by default)."""
    if not tool.span.get_span_context().is_valid:  # suppressed: the request goes out as given
        return kwargs
    meta = dict(kwargs.get("meta") or {})
    propagate.inject(meta)  # the current context: the block made the tool span current
    return {**kwargs, "meta": meta}


def call_tool(layer: Telemetry, boundary: Boundary) -> Callable[..., Awaitable[Any]]:
    """Wrapper of ``ClientSession.call_tool``: one ``execute_tool {name}`` span per request."""

    async def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        call = boundary.call(None, extract.client_call, args, kwargs)
        if call is None:
            return await wrapped(*args, **kwargs)
        name, arguments = call
        server = boundary.call(None, extract.session_server_name, instance)
        # The client span may answer an LLM's tool call: it takes its id like agentotel.tool.
        async with MCPTool(name, server, arguments, layer, claim=True) as tool:
            sent = boundary.call(kwargs, _with_trace_context, tool, kwargs)
            result = await wrapped(*args, **sent)
            boundary.call(None, tool.returned, result)
        return result

    return wrapper


# --- server ------------------------------------------------------------------------------------
def _enter_remote_parent(ctx: Any) -> object | None:
    parent = extract.remote_parent(getattr(ctx, "meta", None), otel_context.get_current())
    return otel_context.attach(parent) if parent is not None else None


def _traced_handler(
    layer: Telemetry, boundary: Boundary, server: str | None, handler: Callable[..., Awaitable[Any]]
) -> Callable[..., Awaitable[Any]]:

    async def traced(ctx: Any, params: Any) -> Any:
        call = boundary.call(None, extract.server_call, params)
        if call is None:
            return await handler(ctx, params)
        name, arguments = call
        token = boundary.call(None, _enter_remote_parent, ctx)
        try:
            # The server side never takes an LLM tool call's id: its client span did.
            async with MCPTool(name, server, arguments, layer, claim=False) as tool:
                result = await handler(ctx, params)
                boundary.call(None, tool.returned, result)
        finally:
            if token is not None:
                boundary.call(None, otel_context.detach, token)
        return result

    return traced


def _traced_entry(layer: Telemetry, boundary: Boundary, server: Any, method: Any, entry: Any) -> Any:
    if method != extract.TOOLS_CALL:
        return entry
    name = getattr(server, "name", None)
    handler = _traced_handler(layer, boundary, name if isinstance(name, str) else None, entry.handler)
    return dataclasses.replace(entry, handler=handler)


def request_handler(layer: Telemetry, boundary: Boundary) -> Callable[..., Any]:
    """Wrapper of ``Server.get_request_handler``: the ``tools/call`` entry it returns runs its
    handler in an ``execute_tool {name}`` span that continues the caller's trace."""

    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        entry = wrapped(*args, **kwargs)
        if entry is None:
            return None
        method = args[0] if args else kwargs.get("method")
        return boundary.call(entry, _traced_entry, layer, boundary, instance, method, entry)

    return wrapper
