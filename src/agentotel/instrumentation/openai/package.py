"""Supported versions of the ``openai`` SDK."""

_instruments = ("openai >= 1.40, < 4",)
