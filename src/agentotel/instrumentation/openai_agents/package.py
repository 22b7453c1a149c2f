"""Supported versions of the OpenAI Agents SDK (``openai-agents``, imported as ``agents``)."""

_instruments = ("openai-agents >= 0.2.8, < 1",)
