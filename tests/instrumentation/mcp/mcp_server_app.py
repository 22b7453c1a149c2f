"""A tiny MCP server over stdio, instrumented with agentotel, for ``test_mcp.py``.

Run as ``python mcp_server_app.py``. Every span it ends is appended as one JSON line to the file
named by ``MCP_TEST_SPANS_FILE`` (stdout is the MCP channel: nothing else may go there).
``MCP_TEST_SDK_SPANS`` says what the SDK's own OpenTelemetry middleware does:

* ``no-op`` (default): it runs with no global tracer provider, as in most servers;
* ``recording``: our tracer provider is also the global one, so the SDK would record its own
  SERVER span per request (the instrumentor switches it off);
* ``off``: it is removed from ``Server.middleware``.

``stdio_server`` is imported after instrumenting, as ``opentelemetry-instrument`` would have it:
entering it marks the requests' transport (``network.transport`` = ``pipe``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import IO, Any

import anyio
import mcp_types as types
from mcp.server.lowlevel.server import Server
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

from agentotel.instrumentation.mcp import MCPInstrumentor

SPANS_FILE_ENV = "MCP_TEST_SPANS_FILE"
SDK_SPANS_ENV = "MCP_TEST_SDK_SPANS"
SERVER_NAME = "stdio-weather"


class JsonLinesExporter(SpanExporter):
    """Each span as one JSON line: name, ids (hex), kind, status and attributes."""

    def __init__(self, out: IO[str]) -> None:
        self._out = out

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        for span in spans:
            context, parent = span.get_span_context(), span.parent
            record = {
                "name": span.name,
                "trace_id": f"{context.trace_id:032x}",
                "span_id": f"{context.span_id:016x}",
                "parent_span_id": f"{parent.span_id:016x}" if parent is not None else None,
                "kind": span.kind.name,
                "status": span.status.status_code.name,
                "attributes": dict(span.attributes or {}),
            }
            self._out.write(json.dumps(record) + "\n")
        self._out.flush()
        return SpanExportResult.SUCCESS


async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
    schema = {"type": "object", "properties": {"city": {"type": "string"}}}
    return types.ListToolsResult(tools=[types.Tool(name="get_weather", input_schema=schema)])


async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
    city = (params.arguments or {}).get("city")
    return types.CallToolResult(content=[types.TextContent(type="text", text=f"Sunny in {city}")])


async def serve(server: Server[Any]) -> None:
    from mcp.server.stdio import stdio_server

    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())


def main() -> None:
    sdk_spans = os.environ.get(SDK_SPANS_ENV, "no-op")
    out = open(os.environ[SPANS_FILE_ENV], "a", encoding="utf-8")  # noqa: SIM115 - open while the process lives
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(JsonLinesExporter(out)))
    if sdk_spans == "recording":
        trace.set_tracer_provider(provider)
    MCPInstrumentor().instrument(tracer_provider=provider)

    server: Server[Any] = Server(SERVER_NAME, on_list_tools=list_tools, on_call_tool=call_tool)
    if sdk_spans == "off":
        server.middleware = []
    anyio.run(serve, server)


if __name__ == "__main__":
    main()
