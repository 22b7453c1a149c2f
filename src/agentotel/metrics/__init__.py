"""Metric instruments shared by the instrumentors and the agent layer, and the cardinality guard."""

from agentotel.metrics._cardinality import CardinalityGuard
from agentotel.metrics.instruments import AgentInstruments

__all__ = ["AgentInstruments", "CardinalityGuard"]
