"""``agentotel.context_assembly``: building an LLM context from fragments within a token budget."""

from __future__ import annotations

from agentotel import semconv
from agentotel._lifecycle import Attributes
from agentotel._telemetry import Telemetry
from agentotel.agent._span import SpanBlock


class ContextAssembly(SpanBlock):
    """One context assembly (see :func:`agentotel.context_assembly`)."""

    __slots__ = ("budget_tokens", "fragments", "used_tokens")
    operation = semconv.OP_ASSEMBLE_CONTEXT

    def __init__(self, budget_tokens: int, layer: Telemetry | None = None) -> None:
        super().__init__(layer)
        self.budget_tokens = budget_tokens
        self.fragments = 0
        self.used_tokens = 0

    def add_fragment(self, kind: str, tokens: int) -> None:
        """One fragment (``kind``: system, memory, retrieval, history, ...) of ``tokens`` tokens."""
        self.fragments += 1
        self.used_tokens += tokens

    def _fresh(self) -> ContextAssembly:
        return ContextAssembly(self.budget_tokens, self._layer)

    def _name(self) -> str:
        return self.operation

    def _attributes(self, layer: Telemetry) -> Attributes:
        return {
            semconv.GEN_AI_OPERATION_NAME: self.operation,
            semconv.AGENTOTEL_CONTEXT_BUDGET_TOKENS: self.budget_tokens,
        }

    def _end_attributes(self, layer: Telemetry, failed: bool) -> Attributes | None:
        return {
            semconv.AGENTOTEL_CONTEXT_FRAGMENT_COUNT: self.fragments,
            semconv.AGENTOTEL_CONTEXT_USED_TOKENS: self.used_tokens,
        }

    def _record(self, layer: Telemetry, seconds: float, etype: str | None) -> None:
        instruments = layer.agent_instruments
        attrs = {semconv.ERROR_TYPE: etype} if etype is not None else None
        instruments.context_fragments.record(self.fragments, attrs)
        if self.budget_tokens > 0:
            instruments.context_utilization.record(self.used_tokens / self.budget_tokens, attrs)
        instruments.context_duration.record(seconds, attrs)


def context_assembly(*, budget_tokens: int) -> ContextAssembly:
    """An ``assemble_context`` span: fragment count, budget and tokens used, plus the
    ``agentotel.context.*`` metrics (utilization = used / budget)::

        with agentotel.context_assembly(budget_tokens=8000) as c:
            c.add_fragment("system", 120)
            c.add_fragment("retrieval", 2400)
    """
    return ContextAssembly(budget_tokens)
