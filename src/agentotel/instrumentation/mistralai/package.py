"""Supported versions of the ``mistralai`` SDK."""

_instruments = ("mistralai >= 2.0, < 4",)
