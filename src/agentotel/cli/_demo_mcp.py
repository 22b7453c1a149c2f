"""The demo's MCP server, in memory: one ``venue_info`` tool, reached through the real ``mcp``
client (so the MCP instrumentor shows the call). Without ``mcp`` installed, there is no lookup."""

from __future__ import annotations

import importlib.util
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

Lookup = Callable[[str], Awaitable[str]]


@asynccontextmanager
async def venue_server() -> AsyncIterator[Lookup | None]:
    """A function that asks the ``venues`` MCP server about a venue (None without ``mcp``)."""
    if importlib.util.find_spec("mcp") is None:
        yield None
        return
    from mcp import Client
    from mcp.server.mcpserver import MCPServer

    server = MCPServer("venues", log_level="WARNING")  # its default configures root logging at INFO

    @server.tool()
    def venue_info(name: str) -> str:
        """Opening hours and capacity of a venue."""
        return f"{name}: open 12:00-14:30, seats 40"

    async with Client(server) as client:

        async def lookup(name: str) -> str:
            result = await client.call_tool("venue_info", {"name": name})
            return " ".join(getattr(block, "text", "") for block in result.content)

        yield lookup
