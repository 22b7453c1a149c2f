"""MCP instrumentor (entry point ``agentotel_mcp``), for the ``mcp`` SDK 2.3 and later 2.x.

Usage::

    from agentotel.instrumentation.mcp import MCPInstrumentor
    MCPInstrumentor().instrument(tracer_provider=tp, meter_provider=mp)

or zero-code with ``opentelemetry-instrument python app.py``. Instrument the client process and,
for the server side, the server process (the same call, or ``opentelemetry-instrument``).

It follows the MCP semantic conventions (semantic-conventions-genai ``docs/gen-ai/mcp.md``):

* Client: every request a ``ClientSession`` sends (``initialize``, ``server/discover``,
  ``tools/call``, ``tools/list``, ``resources/read``, ``prompts/get``, ``ping``, ...; also through
  ``mcp.Client``) is a CLIENT span ``{mcp.method.name} {target}`` (``tools/call get_weather``,
  ``prompts/get review``, ``tools/list``) with ``mcp.method.name``, ``gen_ai.tool.name`` /
  ``gen_ai.prompt.name`` / ``mcp.resource.uri``, ``jsonrpc.request.id`` (JSON-RPC transports),
  ``mcp.protocol.version``, ``mcp.session.id`` (Streamable HTTP sessions), ``network.transport``
  (``pipe`` for stdio, ``tcp`` for Streamable HTTP) and ``agentotel.mcp.server.name``. Its context
  goes out in the request's ``params._meta`` (``traceparent``, ``tracestate``, ``baggage``: the
  configured propagators), merged into a copy of the caller's own ``meta``. Notifications get no
  span.
* A ``tools/call`` span is also the ``execute_tool`` operation (``gen_ai.operation.name``,
  ``gen_ai.tool.type`` = ``extension``, the LLM's tool-call id, ``agentotel.tool.duration``, an
  audit record) unless the app already has an ``execute_tool`` span for the call (the agent
  layer's ``agentotel.tool``, a framework bridge's tool span): the MCP span is then its child with
  the MCP attributes and no ``gen_ai.operation.name``, so one call is one ``execute_tool``.
* Server: every request a ``Server`` (and so an ``MCPServer``) handles is a SERVER span with the
  same name and attributes, child of the caller's span taken from ``params._meta``, linked to the
  ambient span (an HTTP server span) when there is one.
* Requests the server sends (``sampling/createMessage``, ``elicitation/create``, ``roots/list``,
  ``ping``): a CLIENT span on the server (``ServerSession.send_request``) and a SERVER span on the
  client (``ClientSession._on_request``).
* The SDK's own spans (``MCP send ...`` and its middleware's SERVER span, made when a global SDK
  tracer provider is set) are switched off for every request we cover: one span per request per
  side, with or without a global provider.
* Errors: a JSON-RPC error response sets ``rpc.response.status_code`` to its code (``-32601``);
  it is an error (``error.type`` the code, the status description its message) on the client, and
  on the server unless the code says the caller sent a request it could not serve; a
  ``tools/call`` result with ``isError: true`` gives ``error.type`` = ``tool_error`` and is
  returned unchanged; another exception gives its class name and propagates unchanged.
* Metrics: ``mcp.client.operation.duration``, ``mcp.server.operation.duration``,
  ``mcp.client.session.duration``, ``mcp.server.session.duration`` (seconds, the conventions'
  buckets; sessions only in protocol revisions that have them).

Tool arguments and results (``gen_ai.tool.call.arguments`` / ``.result``) are recorded only with
content capture on.

Environment: ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`` (NO_CONTENT by default),
``AGENTOTEL_CONTENT_MAX_LENGTH``, ``OTEL_PROPAGATORS``;
``OTEL_PYTHON_DISABLED_INSTRUMENTATIONS=agentotel_mcp`` disables it. An ``mcp`` version outside
the supported range is left alone, with one log message.
"""

from __future__ import annotations

from typing import Any

from agentotel import semconv
from agentotel.instrumentation._base import AgentotelInstrumentor, Patch
from agentotel.instrumentation.mcp.package import _instruments

_SESSION = "mcp.client.session"
_RUNNER = "mcp.server.runner"


def _patch() -> Any:
    from agentotel.instrumentation.mcp import patch

    return patch


def _reverse() -> Any:
    from agentotel.instrumentation.mcp import reverse

    return reverse


def _sessions() -> Any:
    from agentotel.instrumentation.mcp import sessions

    return sessions


def _marked(transport: str) -> Any:
    return lambda t, b: _sessions().marked(transport)(t, b)


class MCPInstrumentor(AgentotelInstrumentor):
    """MCP client and server spans and metrics per the MCP conventions (see the module docstring)."""

    component = "mcp"
    requirements = _instruments
    patches = (
        Patch(_SESSION, "ClientSession.send_request", lambda t, b: _patch().send_request(t, b)),
        Patch(_SESSION, "ClientSession.send_discover", lambda t, b: _patch().send_discover(t, b)),
        Patch(_RUNNER, "ServerRunner._on_request", lambda t, b: _patch().on_request(t, b)),
        Patch(
            "mcp.server.session",
            "ServerSession.send_request",
            lambda t, b: _reverse().server_send_request(t, b),
        ),
        Patch(_SESSION, "ClientSession._on_request", lambda t, b: _reverse().client_on_request(t, b)),
        Patch("mcp.shared.jsonrpc_dispatcher", "otel_span", lambda t, b: _patch().sdk_span_switch(t, b)),
        Patch("mcp.server._otel", "otel_span", lambda t, b: _patch().sdk_span_switch(t, b)),
        Patch(_SESSION, "ClientSession.__aenter__", lambda t, b: _sessions().session_enter(t, b)),
        Patch(_SESSION, "ClientSession.__aexit__", lambda t, b: _sessions().session_exit(t, b)),
        Patch("mcp.server.connection", "Connection.for_loop", lambda t, b: _sessions().server_session(t, b)),
        Patch(
            "mcp.client.streamable_http",
            "StreamableHTTPTransport.__init__",
            lambda t, b: _sessions().http_transport(t, b),
        ),
        Patch("mcp.client.stdio", "stdio_client", _marked(semconv.TRANSPORT_PIPE)),
        Patch("mcp.client.streamable_http", "streamable_http_client", _marked(semconv.TRANSPORT_TCP)),
        Patch("mcp.server.stdio", "stdio_server", _marked(semconv.TRANSPORT_PIPE)),
        # The names other modules bound at import (``mcp.Client`` looks them up when it connects).
        Patch("mcp.client.client", "stdio_client", _marked(semconv.TRANSPORT_PIPE)),
        Patch("mcp.client.client", "streamable_http_client", _marked(semconv.TRANSPORT_TCP)),
        Patch("mcp", "stdio_client", _marked(semconv.TRANSPORT_PIPE)),
        Patch("mcp", "stdio_server", _marked(semconv.TRANSPORT_PIPE)),
    )


__all__ = ["MCPInstrumentor"]
