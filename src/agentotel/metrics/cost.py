"""The cost of LLM calls: ``agentotel.usage.cost_usd`` on the span, ``agentotel.llm.cost.usd``.

The counter is split by ``gen_ai.token.type``: ``input`` (uncached, cache-read and cache-write
tokens, each at its own price) and ``output``. A model without a price gets no cost: one warning
per model in the process, and the call is counted in ``agentotel.llm.cost.unpriced``.

The cost counter and the unpriced-call counter are *asynchronous* counters over running totals
kept here: adding to a dict entry costs a small fraction of a synchronous ``Counter.add`` (the SDK
cleans, copies and hashes the attributes of every measurement: about 66,000 instructions for two
attributes), and the exported series are the same monotonic sums. The totals belong to the meter
provider, so every instrumentor (and every re-instrumentation) on one provider adds to one set of
series, registered once. What a model costs, or that it has no price, is looked up once per
(response model, request model, provider) and kept.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Iterable, Mapping
from typing import Any

from opentelemetry.metrics import CallbackOptions, Meter, MeterProvider, Observation, get_meter_provider

from agentotel import semconv
from agentotel.metrics._cardinality import CardinalityGuard
from agentotel.pricing import Price, PriceTable

_log = logging.getLogger("agentotel")
_warned: set[str] = set()
_warned_lock = threading.Lock()


# The input and the output series of one (provider, request model): the counter's keys.
_Keys = tuple[tuple[Any, str, str], tuple[Any, str, str]]
# The unpriced-call series of one (provider, request model).
_UnpricedKey = tuple[Any, str]


class CostTotals:
    """Running cost per (provider, request model, token type): the asynchronous counter's values."""

    __slots__ = ("__weakref__", "_lock", "_totals", "_unpriced")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._totals: dict[tuple[Any, str, str], float] = {}
        self._unpriced: dict[_UnpricedKey, int] = {}

    def add(self, provider: Any, model: str, inputs: float, outputs: float) -> None:
        """Add one call's input and output cost. A zero amount adds no series; a negative or NaN
        one is never added (the counter is monotonic: usage is checked before it is priced)."""
        self.add_to(self.keys(provider, model), inputs, outputs)

    @staticmethod
    def keys(provider: Any, model: str) -> _Keys:
        """The input and output series of ``provider`` and ``model`` (for :meth:`add_to`)."""
        return (provider, model, semconv.TOKEN_INPUT), (provider, model, semconv.TOKEN_OUTPUT)

    def add_to(self, keys: _Keys, inputs: float, outputs: float) -> None:
        """:meth:`add` with the series already made by :meth:`keys`."""
        totals = self._totals
        with self._lock:
            if inputs > 0:
                totals[keys[0]] = totals.get(keys[0], 0.0) + inputs
            if outputs > 0:
                totals[keys[1]] = totals.get(keys[1], 0.0) + outputs

    def count_unpriced(self, key: _UnpricedKey) -> None:
        """Count one call of a model without a price."""
        unpriced = self._unpriced
        with self._lock:
            unpriced[key] = unpriced.get(key, 0) + 1

    def observe_unpriced(self, _options: CallbackOptions) -> Iterable[Observation]:
        with self._lock:
            counts = list(self._unpriced.items())
        return [
            Observation(calls, {semconv.GEN_AI_PROVIDER_NAME: provider, semconv.GEN_AI_REQUEST_MODEL: model})
            for (provider, model), calls in counts
        ]

    def observe(self, _options: CallbackOptions) -> Iterable[Observation]:
        with self._lock:
            totals = list(self._totals.items())
        return [
            Observation(
                usd,
                {
                    semconv.GEN_AI_PROVIDER_NAME: provider,
                    semconv.GEN_AI_REQUEST_MODEL: model,
                    semconv.GEN_AI_TOKEN_TYPE: token_type,
                },
            )
            for (provider, model, token_type), usd in totals
        ]


_registry_lock = threading.Lock()
_totals_by_provider: weakref.WeakKeyDictionary[MeterProvider, CostTotals] = weakref.WeakKeyDictionary()
# The provider the first global-provider user saw: until one is set, that is the API's proxy,
# whose instruments are later re-created on the real provider (with their callbacks).
_first_global: list[MeterProvider] = []


def _totals_for(meter: Meter, meter_provider: MeterProvider | None) -> CostTotals:
    """The totals of ``meter_provider`` (the global one when None), registering the asynchronous
    counters on ``meter`` the first time a provider is seen."""
    provider = meter_provider if meter_provider is not None else get_meter_provider()
    with _registry_lock:
        totals = _totals_by_provider.get(provider)
        if totals is not None:
            return totals
        if meter_provider is None and not _first_global:
            _first_global.append(provider)
        elif _first_global and _first_global[0] is not provider and get_meter_provider() is provider:
            # The global provider was set after the proxy's counter was made: that counter now
            # lives on this provider, so its totals are this provider's.
            proxy_totals = _totals_by_provider.get(_first_global[0])
            if proxy_totals is not None:
                _totals_by_provider[provider] = proxy_totals
                return proxy_totals
        totals = _totals_by_provider[provider] = CostTotals()
    meter.create_observable_counter(
        semconv.LLM_COST,
        callbacks=[totals.observe],
        unit="{USD}",
        description="Cost of LLM calls in US dollars, from the price table.",
    )
    meter.create_observable_counter(
        semconv.LLM_COST_UNPRICED,
        callbacks=[totals.observe_unpriced],
        unit="{call}",
        description="LLM calls whose model has no known price.",
    )
    return totals


# What :meth:`Costing.record` keeps per (response model, request model, provider): the price and
# the input and output series, or (no price) the unpriced-call series. Only models the cardinality
# guard let through are kept (a value it once admitted it always admits), at most this many.
_PRICED_MAX = 1024
_Priced = tuple[Price, _Keys]


class Costing:
    """Prices calls and records their cost, for one meter."""

    def __init__(
        self,
        meter: Meter,
        prices: PriceTable,
        cardinality: CardinalityGuard,
        meter_provider: MeterProvider | None = None,
    ) -> None:
        self.prices = prices
        self._cardinality = cardinality
        self._priced: dict[tuple[Any, Any, Any], _Priced] = {}
        self._unpriced: dict[tuple[Any, Any, Any], _UnpricedKey] = {}
        self._totals = _totals_for(meter, meter_provider)

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
        request_model = start_attributes.get(semconv.GEN_AI_REQUEST_MODEL)
        provider = start_attributes.get(semconv.GEN_AI_PROVIDER_NAME)
        # Every call of a model prices it the same way: looked up once, kept (see _PRICED_MAX).
        call = (response_model, request_model, provider)
        priced = self._priced.get(call)
        if priced is None:
            unpriced = self._unpriced.get(call)
            if unpriced is None:
                found = self._price(*call)
                if found is None:
                    return None
                priced = found
            else:
                self._totals.count_unpriced(unpriced)
                return None
        price, keys = priced
        cache_read = cache_write = 0
        if usage:
            # Checked usage (agentotel._usage.checked): each value is an int, or absent.
            read = usage.get(semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS)
            written = usage.get(semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS)
            cache_read = read if type(read) is int else 0
            cache_write = written if type(written) is int else 0
        inputs, outputs = price.split(input_tokens or 0, output_tokens or 0, cache_read, cache_write)
        self._totals.add_to(keys, inputs, outputs)
        return inputs + outputs

    def _price(self, response_model: str | None, request_model: Any, provider: Any) -> _Priced | None:
        """The price and cost series of a call (response model first, then request model); None
        without a price (the call is counted unpriced, a warning once per model)."""
        model = str(request_model or "")
        price = self.prices.lookup(response_model, provider) if response_model else None
        if price is None and model:
            price = self.prices.lookup(model, provider)
        model_label = self._cardinality(semconv.GEN_AI_REQUEST_MODEL, model)
        keep = model_label == model and len(self._priced) + len(self._unpriced) < _PRICED_MAX
        call = (response_model, request_model, provider)
        if price is None:
            unpriced = (provider, model_label)
            self._totals.count_unpriced(unpriced)
            _warn_once(response_model or model)
            if keep:
                self._unpriced[call] = unpriced
            return None
        priced = (price, CostTotals.keys(provider, model_label))
        if keep:
            self._priced[call] = priced
        return priced


def _warn_once(model: str) -> None:
    with _warned_lock:
        if model in _warned:
            return
        _warned.add(model)
    _log.warning(
        "agentotel: no price for model %r: its calls get no cost (add it with AGENTOTEL_PRICING_FILE)", model
    )
