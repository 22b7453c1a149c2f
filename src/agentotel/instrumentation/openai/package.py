"""Supported versions of the ``openai`` SDK."""

_instruments = ("openai >= 3.0, < 4",)
