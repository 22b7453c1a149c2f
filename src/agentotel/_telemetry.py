"""The one telemetry holder: everything agentotel records through, for one set of providers.

A :class:`Telemetry` holds the tracer, the meter's instruments, the settings (read once, when it is
built) and the state that a call and its follow-ups share: the pending tool calls and the metric
cardinality guard. LLM instrumentors, framework instrumentors (MCP, LangChain) and the agent API
all get the same holder for the same providers from :func:`telemetry_for`, so a tool call an LLM
response asked for can be claimed by the agent layer's tool span, and one label budget covers every
metric. Building a holder changes nothing outside it.

The cache of holders refers to the providers weakly: a provider that the app drops is collected,
and its holder with it.
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Callable
from typing import Any

from opentelemetry import trace
from opentelemetry._logs import Logger, LoggerProvider, get_logger
from opentelemetry.metrics import MeterProvider, get_meter
from opentelemetry.trace import TracerProvider

from agentotel import semconv
from agentotel._safe import Boundary
from agentotel._toolcalls import PendingToolCalls
from agentotel._version import __version__
from agentotel.config import Settings
from agentotel.metrics import instruments
from agentotel.metrics._cardinality import CardinalityGuard
from agentotel.metrics.cost import Costing
from agentotel.metrics.inference import InferenceMetrics
from agentotel.metrics.instruments import AgentInstruments
from agentotel.pricing import table_for


def _weak(provider: Any) -> Callable[[], Any]:
    """A callable returning ``provider`` without keeping it alive (when it can be weakly referred to)."""
    if provider is None:
        return lambda: None
    try:
        return weakref.ref(provider)
    except TypeError:
        return lambda: provider


class Telemetry:
    """One set of providers' tracer, meter, instruments, settings, shared state and boundaries."""

    def __init__(
        self,
        settings: Settings,
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
        logger_provider: LoggerProvider | None = None,
    ) -> None:
        self.settings = settings
        self.conventions = semconv.conventions(settings.gen_ai_latest)
        """The convention names of this holder's mode, chosen once (never per call)."""
        self._providers = (_weak(tracer_provider), _weak(meter_provider), _weak(logger_provider))
        self.tracer = trace.get_tracer(semconv.SCOPE_NAME, __version__, tracer_provider)
        self.meter = get_meter(semconv.SCOPE_NAME, __version__, meter_provider)
        # v1.41.1 mode's LLM instruments (created in both modes: an instrument nothing records
        # into exports nothing); latest mode records ``inference`` instead.
        self.duration, self.tokens, self.time_to_first_chunk, self.time_per_output_chunk = (
            instruments.llm_histograms(self.meter)
        )
        self.inference: InferenceMetrics | None = (
            InferenceMetrics(self.meter) if self.conventions.latest else None
        )
        self.agent_instruments = AgentInstruments(self.meter, self.conventions)
        self.tool_duration = self.agent_instruments.tool_duration
        self.cardinality = CardinalityGuard(settings.cardinality_limit)
        self.tool_labels: dict[tuple[str | None, str, str | None], dict[str, Any]] = {}
        """A tool's metric labels by (tool name, type, agent name), made once through the guard
        (``agentotel.agent._tool``): handed to the SDK as they are, never changed."""
        self.pending = PendingToolCalls(settings.tool_pending_max, settings.tool_pending_ttl)
        self.costing = Costing(self.meter, table_for(settings.pricing_file), self.cardinality, meter_provider)
        self.logger: Logger = get_logger(semconv.SCOPE_NAME, __version__, logger_provider=logger_provider)
        """Where the conventions' events go (``gen_ai.client.operation.exception``,
        ``gen_ai.guardrail.result``)."""
        self.events: Logger | None = self.logger if settings.capture.on_event else None
        """The content-capture events' logger: None unless capture sends content to events."""
        self._boundaries: dict[str, Boundary] = {}
        self._lock = threading.Lock()

    @property
    def tracer_provider(self) -> TracerProvider | None:
        """The tracer provider this holder was built for (None: the global one)."""
        provider: TracerProvider | None = self._providers[0]()
        return provider

    @property
    def meter_provider(self) -> MeterProvider | None:
        """The meter provider this holder was built for (None: the global one)."""
        provider: MeterProvider | None = self._providers[1]()
        return provider

    @property
    def logger_provider(self) -> LoggerProvider | None:
        """The logger provider this holder was built for (None: the global one)."""
        provider: LoggerProvider | None = self._providers[2]()
        return provider

    def boundary(self, component: str) -> Boundary:
        """The safety boundary of ``component`` (one per component; its errors are counted under
        that name)."""
        found = self._boundaries.get(component)
        if found is None:
            with self._lock:
                found = self._boundaries.setdefault(component, Boundary(component, self.meter))
        return found


_Key = tuple[int, int, int]
_lock = threading.Lock()
_holders: dict[_Key, Telemetry] = {}


def _key(tracer_provider: Any, meter_provider: Any, logger_provider: Any) -> _Key:
    return (
        0 if tracer_provider is None else id(tracer_provider),
        0 if meter_provider is None else id(meter_provider),
        0 if logger_provider is None else id(logger_provider),
    )


def _drop(key: _Key, holder: Telemetry) -> None:
    """A provider of ``holder`` was collected: forget the holder.

    No lock: the garbage collector may run this inside :func:`telemetry_for`, on the thread that
    holds it. No newer holder can be under ``key`` yet (the collected provider's id is not reused
    before this runs), and a dict operation is atomic.
    """
    if _holders.get(key) is holder:
        _holders.pop(key, None)


def telemetry_for(
    tracer_provider: TracerProvider | None = None,
    meter_provider: MeterProvider | None = None,
    logger_provider: LoggerProvider | None = None,
) -> Telemetry:
    """The holder for this set of providers (None: the global one): built on first use, with the
    settings read from the environment then, and reused after.

    Raises :class:`agentotel.config.ConfigError` if a setting is malformed.
    """
    key = _key(tracer_provider, meter_provider, logger_provider)
    holder = _holders.get(key)
    if holder is not None:
        return holder
    with _lock:
        holder = _holders.get(key)
        if holder is not None:
            return holder
        holder = Telemetry(Settings.from_env(), tracer_provider, meter_provider, logger_provider)
        _holders[key] = holder
    for provider in (tracer_provider, meter_provider, logger_provider):
        if provider is not None:
            # One that cannot be weakly referred to keeps its holder for the process.
            with contextlib.suppress(TypeError):
                weakref.finalize(provider, _drop, key, holder)
    return holder


def _forget() -> None:
    """Forget every holder (tests: the next :func:`telemetry_for` reads the environment again)."""
    with _lock:
        _holders.clear()
