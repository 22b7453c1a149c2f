"""Supported versions of CrewAI (``crewai``)."""

_instruments = ("crewai >= 1.0.0, < 2",)
