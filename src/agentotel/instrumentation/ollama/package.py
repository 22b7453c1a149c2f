"""Supported versions of the ``ollama`` SDK."""

_instruments = ("ollama >= 0.4.0, < 1",)
