"""Supported versions of the ``groq`` SDK."""

_instruments = ("groq >= 0.9, < 2",)
