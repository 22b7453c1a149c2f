"""Supported versions of the ``google-genai`` SDK."""

_instruments = ("google-genai >= 1.10.0, < 4",)
