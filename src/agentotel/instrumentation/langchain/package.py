"""Supported versions of ``langchain-core`` (required) and ``langgraph`` (optional)."""

_instruments = ("langchain-core >= 1.7, < 2",)
_instruments_optional = ("langgraph >= 1.2, < 2",)
