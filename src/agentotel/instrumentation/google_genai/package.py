"""Supported versions of the ``google-genai`` SDK."""

_instruments = ("google-genai >= 1.0.0, < 4",)
