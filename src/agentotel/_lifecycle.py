"""What every agentotel span shares: one end, one way to fail, and token sums up the tree.

:class:`SpanLifecycle` is a span that ends exactly once, with the error handling every agentotel
span shares (agent-layer spans and LLM calls alike). :class:`UsageSink` sums the token usage of
the LLM calls below an agent-layer span. :data:`LLM_CALL_KEY` marks a context in which an
agentotel LLM span already covers the call.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode
from opentelemetry.util.types import AttributeValue

from agentotel import semconv
from agentotel._context import attach, detach
from agentotel._redact import exception_attributes
from agentotel._safe import error_type
from agentotel._usage import MAX_TOKENS

Attributes = dict[str, AttributeValue]

LLM_CALL_KEY = otel_context.create_key("agentotel-llm-call")


class AgentRound:
    """The nearest agent round (``invoke_agent``) of the calls below it: its name, and the LLM and
    tool calls it issued itself (those of a sub-agent count for the sub-agent's round)."""

    __slots__ = ("_lock", "inference_calls", "name", "tool_calls")

    def __init__(self, name: str | None) -> None:
        self.name = name
        self.inference_calls = 0
        self.tool_calls = 0
        self._lock = threading.Lock()

    def count_inference(self) -> None:
        with self._lock:
            self.inference_calls += 1

    def count_tool(self) -> None:
        with self._lock:
            self.tool_calls += 1


class UsageSink:
    """Token usage summed over the LLM calls below an agent-layer span (an agent round).

    Put in the context under :data:`USAGE_SINK_KEY`; every :class:`Invocation` started below adds
    its usage when it finishes, to this sink and to each enclosing one (``parent``). ``round`` is
    the nearest enclosing agent round (this sink's own for an agent round, else its parent's).
    """

    __slots__ = (
        "_lock",
        "cost_usd",
        "input_tokens",
        "output_tokens",
        "parent",
        "provider",
        "providers",
        "round",
    )

    def __init__(self, parent: UsageSink | None, agent: AgentRound | None = None) -> None:
        self.parent = parent
        self.round: AgentRound | None = agent if agent is not None or parent is None else parent.round
        self.input_tokens = 0
        self.output_tokens = 0
        self.cost_usd: float | None = None
        self.provider: str | None = None
        """The ``gen_ai.provider.name`` of the calls below, while they all had the same."""
        self.providers = 0
        """0: no call yet; 1: every call so far had ``provider``; 2: calls of several providers."""
        self._lock = threading.Lock()

    def add(
        self,
        input_tokens: int | None,
        output_tokens: int | None,
        cost_usd: float | None = None,
        provider: object = None,
    ) -> None:
        sink: UsageSink | None = self
        while sink is not None:
            with sink._lock:
                # Saturated at the largest OTLP integer (a larger sum would be dropped on export).
                sink.input_tokens = min(sink.input_tokens + (input_tokens or 0), MAX_TOKENS)
                sink.output_tokens = min(sink.output_tokens + (output_tokens or 0), MAX_TOKENS)
                if cost_usd is not None:
                    sink.cost_usd = (sink.cost_usd or 0.0) + cost_usd
                if isinstance(provider, str) and sink.providers < 2:
                    if sink.providers == 0:
                        sink.provider, sink.providers = provider, 1
                    elif provider != sink.provider:
                        sink.provider, sink.providers = None, 2
            sink = sink.parent


USAGE_SINK_KEY = otel_context.create_key("agentotel-usage-sink")


def agent_round(context: otel_context.Context | None = None) -> AgentRound | None:
    """The nearest agent round enclosing ``context`` (default: the current one), if any."""
    sink = otel_context.get_value(USAGE_SINK_KEY, context)
    return sink.round if isinstance(sink, UsageSink) else None


class SpanLifecycle:
    """A span that ends exactly once, with the error handling every agentotel span shares.

    :class:`Invocation` (LLM calls) and the agent-layer spans build on it: ``fail`` records
    ``error.type``, the ERROR status and the exception; ``close`` ends the span; both are no-ops
    once the span has ended.
    """

    __slots__ = ("_ended", "_start_ns", "_token", "recording", "span")

    def __init__(self, span: trace.Span) -> None:
        self.span = span
        self.recording = span.is_recording()
        self._start_ns = time.perf_counter_ns()
        self._ended = False
        self._token: object | None = None

    def attach(self, ctx: otel_context.Context) -> None:
        """Make ``ctx`` (which holds the span) current until :meth:`deactivate`."""
        self._token = attach(ctx)

    def deactivate(self) -> None:
        token, self._token = self._token, None
        if token is not None:
            detach(token)

    def elapsed(self) -> float:
        """Seconds since the span started."""
        return (time.perf_counter_ns() - self._start_ns) / 1e9

    def mark_failed(self, exc: BaseException, attributes: Mapping[str, AttributeValue] | None = None) -> str:
        """ERROR status, ``error.type`` and the recorded exception; returns the error type."""
        etype = error_type(exc)
        if self.recording:
            # The app keeps its exception as it is; what we record has no secret in it.
            span = self.span
            message, event = exception_attributes(exc)
            span.set_status(Status(StatusCode.ERROR, f"{etype}: {message}"[:512]))
            if attributes:
                span.set_attributes(attributes)
            span.set_attribute(semconv.ERROR_TYPE, etype)
            span.add_event(semconv.EVENT_EXCEPTION, event)
        return etype

    def close(self, attributes: Mapping[str, AttributeValue] | None = None) -> bool:
        """End the span (with ``attributes``); False if it had already ended."""
        if self._ended:
            return False
        self._ended = True
        if attributes and self.recording:
            self.span.set_attributes(attributes)
        self.span.end()
        return True
