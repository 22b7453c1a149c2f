"""MCP instrumentor (entry point ``agentotel_mcp``), for the ``mcp`` SDK 2.3 and later 2.x.

Usage::

    from agentotel.instrumentation.mcp import MCPInstrumentor
    MCPInstrumentor().instrument(tracer_provider=tp, meter_provider=mp)

or zero-code with ``opentelemetry-instrument python app.py``. Instrument the client process and,
for the server side, the server process (the same call, or ``opentelemetry-instrument``).

Client: each ``ClientSession.call_tool`` request (also through ``mcp.Client.call_tool``, one span
per ``tools/call`` round) is an INTERNAL ``execute_tool {tool name}`` span with
``gen_ai.operation.name`` = ``execute_tool``, ``gen_ai.tool.name``, ``gen_ai.tool.type`` =
``extension`` and ``agentotel.mcp.server.name`` (the name the server gave at ``initialize`` /
``server/discover``), plus the ``agentotel.tool.duration`` histogram. The span's context is
injected into the request's ``_meta`` by the configured propagators (W3C ``traceparent`` by
default), merged into a copy of the caller's own ``meta``.

Server: the ``tools/call`` handler of a ``mcp.server.lowlevel.Server`` (and so of an
``MCPServer``) runs in an INTERNAL ``execute_tool {tool name}`` span with the same attributes
(the server name being the server's own). Its parent is the caller's span, taken from the
request's ``_meta``; when the SDK's own ``tools/call`` SERVER span is recording (a global SDK
tracer provider is set), the tool span nests under that one, which is itself the caller's child.
With a global SDK tracer provider the SDK also makes an ``MCP send`` CLIENT span under our client
span and propagates that one: the trace is the same, one level deeper.

A result with ``isError: true`` (a tool that failed, an unknown tool) marks the span ERROR with
``error.type`` = ``tool_error`` and is returned unchanged; an exception marks it ERROR with the
exception's class name and propagates unchanged. Arguments and result
(``gen_ai.tool.call.arguments`` / ``.result``) are recorded only with content capture on.

Environment: ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`` (NO_CONTENT by default),
``AGENTOTEL_CONTENT_MAX_LENGTH``, ``OTEL_PROPAGATORS``;
``OTEL_PYTHON_DISABLED_INSTRUMENTATIONS=agentotel_mcp`` disables it. An ``mcp`` version outside
the supported range is left alone, with one log message.
"""

from __future__ import annotations

import logging
from typing import Any

from agentotel.instrumentation._base import AgentotelInstrumentor, Patch
from agentotel.instrumentation.mcp.package import _instruments

_log = logging.getLogger("agentotel")

_CLIENT = "mcp.client.session"
_SERVER = "mcp.server.lowlevel.server"


class MCPInstrumentor(AgentotelInstrumentor):
    """``execute_tool`` spans for MCP tool calls, client and server (see the module docstring)."""

    component = "mcp"
    requirements = _instruments
    patches = (
        Patch(_CLIENT, "ClientSession.call_tool", lambda t, b: _patch().call_tool(t, b)),
        Patch(_SERVER, "Server.get_request_handler", lambda t, b: _patch().request_handler(t, b)),
    )


def _patch() -> Any:
    from agentotel.instrumentation.mcp import patch

    return patch


__all__ = ["MCPInstrumentor"]
