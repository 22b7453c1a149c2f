"""Supported versions of the ``anthropic`` SDK."""

_instruments = ("anthropic >= 2.0, < 3",)
