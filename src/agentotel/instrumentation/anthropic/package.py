"""Supported versions of the ``anthropic`` SDK."""

_instruments = ("anthropic >= 0.40, < 3",)
