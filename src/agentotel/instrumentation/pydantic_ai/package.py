"""Supported versions of ``pydantic-ai-slim`` (what ``pydantic-ai`` installs too)."""

_instruments = ("pydantic-ai-slim >= 2.68, < 3",)
