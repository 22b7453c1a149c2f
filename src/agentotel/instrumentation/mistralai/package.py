"""Supported versions of the ``mistralai`` SDK."""

_instruments = ("mistralai >= 2.9.2, < 4",)
