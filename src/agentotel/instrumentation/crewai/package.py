"""Supported versions of CrewAI (``crewai``)."""

_instruments = ("crewai >= 1.15.0, < 2",)
