"""Supported versions of the ``cohere`` SDK (the raw v2 client, ``cohere.v2.raw_client``: 5.16.0)."""

_instruments = ("cohere >= 5.16.0, < 8",)
