"""The hot-path instruments: metric names, units and buckets in one place, cost, and the
cardinality guard, shared by the instrumentors and the agent layer.

What shows the metrics outside (``/metrics``, ``/readyz``, the textfile) is
:mod:`agentotel.endpoints`; what reads them back for ``agentotel top`` is private to the CLI.
"""

from agentotel.metrics._cardinality import CardinalityGuard
from agentotel.metrics.instruments import AgentInstruments

__all__ = ["AgentInstruments", "CardinalityGuard"]
