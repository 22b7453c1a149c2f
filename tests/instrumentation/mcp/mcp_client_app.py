"""An MCP client process, instrumented with agentotel, calling ``mcp_server_app.py`` over stdio.

Run as ``python mcp_client_app.py``. The client's spans go as JSON lines to the file named by
``MCP_TEST_SPANS_FILE``, the server's to ``MCP_TEST_SERVER_SPANS_FILE``. ``MCP_TEST_SDK_SPANS``
is given to both processes: ``recording`` makes each process's tracer provider the global one, so
the SDK's own spans (``MCP send ...`` on the client, its middleware's SERVER span) would be
recorded beside ours; ``no-op`` leaves the global provider unset.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import anyio
from mcp_server_app import SDK_SPANS_ENV, SPANS_FILE_ENV, JsonLinesExporter
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from agentotel.instrumentation.mcp import MCPInstrumentor

SERVER_SPANS_FILE_ENV = "MCP_TEST_SERVER_SPANS_FILE"
SERVER_APP = Path(__file__).with_name("mcp_server_app.py")


async def call(sdk_spans: str) -> None:
    from mcp import Client, StdioServerParameters

    env = {SPANS_FILE_ENV: os.environ[SERVER_SPANS_FILE_ENV], SDK_SPANS_ENV: sdk_spans}
    params = StdioServerParameters(command=sys.executable, args=[str(SERVER_APP)], env=env)
    async with Client(params, mode="legacy") as client:
        await client.call_tool("get_weather", {"city": "Paris"})


def main() -> None:
    sdk_spans = os.environ.get(SDK_SPANS_ENV, "no-op")
    out = open(os.environ[SPANS_FILE_ENV], "a", encoding="utf-8")  # noqa: SIM115 - open while the process lives
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(JsonLinesExporter(out)))
    if sdk_spans == "recording":
        trace.set_tracer_provider(provider)
    MCPInstrumentor().instrument(tracer_provider=provider)
    anyio.run(call, sdk_spans)


if __name__ == "__main__":
    main()
