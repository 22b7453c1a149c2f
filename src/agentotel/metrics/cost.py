"""The cost of LLM calls: ``agentotel.usage.cost_usd`` on the span, ``agentotel.llm.cost.usd``.

The counter is split by ``gen_ai.token.type``: ``input`` (uncached, cache-read and cache-write
tokens, each at its own price) and ``output``. A model without a price gets no cost: one warning
per model in the process, and the call is counted in ``agentotel.llm.cost.unpriced``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

from opentelemetry.metrics import Meter

from agentotel import semconv
from agentotel.metrics._cardinality import CardinalityGuard
from agentotel.pricing import PriceTable

_log = logging.getLogger("agentotel")
_warned: set[str] = set()
_warned_lock = threading.Lock()


class Costing:
    """Prices calls and records their cost, for one meter."""

    def __init__(self, meter: Meter, prices: PriceTable, cardinality: CardinalityGuard) -> None:
        self.prices = prices
        self._cardinality = cardinality
        self._cost = meter.create_counter(
            semconv.LLM_COST,
            unit="{USD}",
            description="Cost of LLM calls in US dollars, from the price table.",
        )
        self._unpriced = meter.create_counter(
            semconv.LLM_COST_UNPRICED, unit="{call}", description="LLM calls whose model has no known price."
        )

    def record(
        self,
        start_attributes: Mapping[str, Any],
        usage: Mapping[str, Any] | None,
        input_tokens: int | None,
        output_tokens: int | None,
        response_model: str | None,
    ) -> float | None:
        """Price one finished call (response model first, then request model); record the
        counters; return the cost in USD, or None without a price or usage."""
        if input_tokens is None and output_tokens is None:
            return None
        request_model = str(start_attributes.get(semconv.GEN_AI_REQUEST_MODEL) or "")
        price = self.prices.lookup(response_model) if response_model else None
        if price is None and request_model:
            price = self.prices.lookup(request_model)
        provider = start_attributes.get(semconv.GEN_AI_PROVIDER_NAME)
        model_label = self._cardinality(semconv.GEN_AI_REQUEST_MODEL, request_model)
        attrs = {semconv.GEN_AI_PROVIDER_NAME: provider, semconv.GEN_AI_REQUEST_MODEL: model_label}
        if price is None:
            self._unpriced.add(1, attrs)
            _warn_once(response_model or request_model)
            return None
        usage = usage or {}
        cache_read = _int(usage.get(semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS))
        cache_write = _int(usage.get(semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS))
        inputs = price.cost(input_tokens or 0, 0, cache_read, cache_write)
        outputs = price.cost(0, output_tokens or 0)
        if inputs:
            self._cost.add(inputs, {**attrs, semconv.GEN_AI_TOKEN_TYPE: semconv.TOKEN_INPUT})
        if outputs:
            self._cost.add(outputs, {**attrs, semconv.GEN_AI_TOKEN_TYPE: semconv.TOKEN_OUTPUT})
        return inputs + outputs


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _warn_once(model: str) -> None:
    with _warned_lock:
        if model in _warned:
            return
        _warned.add(model)
    _log.warning(
        "agentotel: no price for model %r: its calls get no cost (add it with AGENTOTEL_PRICING_FILE)", model
    )
