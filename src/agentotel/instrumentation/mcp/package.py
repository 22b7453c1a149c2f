"""Supported versions of the ``mcp`` SDK."""

_instruments = ("mcp >= 2.3, < 3",)
