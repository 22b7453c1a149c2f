"""agentotel: OpenTelemetry instrumentation for LLM agents.

Zero-code: ``opentelemetry-instrument python agent.py``. In code::

    import agentotel
    agentotel.instrument()                       # every installed provider SDK
    agentotel.instrument(tracer_provider=tp, meter_provider=mp)
"""

from agentotel._registry import instrument, uninstrument
from agentotel._version import __version__
from agentotel.config import CaptureMode, ConfigError, Settings

__all__ = ["CaptureMode", "ConfigError", "Settings", "__version__", "instrument", "uninstrument"]
