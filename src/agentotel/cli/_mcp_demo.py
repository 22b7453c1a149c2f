"""The demo's MCP server (in memory): one ``venue_info`` tool. Without ``mcp``, no lookup."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager


@asynccontextmanager
async def venue_server() -> AsyncIterator[Callable[[str], Awaitable[str]] | None]:
    """A lookup function calling the MCP tool over the SDK's in-memory transport (None for now)."""
    yield None
