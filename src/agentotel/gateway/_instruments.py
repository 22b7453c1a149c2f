"""The gateway's own metrics: what it forwarded, how long the upstreams took, what is in flight.

The counts (requests, in flight, bytes) are running totals the gateway keeps per attribute set
(:class:`Tally`: one addition per request, no SDK call) and the SDK reads when it collects, through
observable instruments: the same sums a synchronous counter reports, without a measurement through
the SDK per count. The two durations are histograms, recorded per request.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from opentelemetry.metrics import CallbackOptions, Histogram, Meter, Observation

from agentotel import semconv


class Tally:
    """Running totals per attribute set; ``attributes`` must be an object kept for reuse (the
    gateway's per-route and per-status-class dicts): the totals are keyed by its identity."""

    __slots__ = ("_totals",)

    def __init__(self) -> None:
        self._totals: dict[int, list[Any]] = {}

    def add(self, amount: int, attributes: Mapping[str, Any]) -> None:
        entry = self._totals.get(id(attributes))
        if entry is None:
            self._totals[id(attributes)] = [attributes, amount]
        else:
            entry[1] += amount

    def observe(self, _options: CallbackOptions) -> Iterable[Observation]:
        # list() copies in one step: the metric reader's thread may call this while the event loop adds.
        return [Observation(total, attributes) for attributes, total in list(self._totals.values())]


@dataclass(frozen=True)
class GatewayInstruments:
    requests: Tally
    upstream_duration: Histogram
    time_to_first_byte: Histogram
    active: Tally
    request_bytes: Tally
    response_bytes: Tally


def gateway_instruments(meter: Meter) -> GatewayInstruments:
    """The six instruments on ``meter`` (durations with the GenAI duration buckets)."""
    buckets = list(semconv.DURATION_BUCKETS)
    requests, active, request_bytes, response_bytes = Tally(), Tally(), Tally(), Tally()
    meter.create_observable_counter(
        semconv.GATEWAY_REQUESTS,
        [requests.observe],
        unit="{request}",
        description="Requests the gateway answered",
    )
    meter.create_observable_up_down_counter(
        semconv.GATEWAY_ACTIVE_REQUESTS,
        [active.observe],
        unit="{request}",
        description="Requests being forwarded",
    )
    meter.create_observable_counter(
        semconv.GATEWAY_REQUEST_BYTES,
        [request_bytes.observe],
        unit="By",
        description="Request body bytes received from clients",
    )
    meter.create_observable_counter(
        semconv.GATEWAY_RESPONSE_BYTES,
        [response_bytes.observe],
        unit="By",
        description="Response body bytes sent to clients",
    )
    return GatewayInstruments(
        requests=requests,
        upstream_duration=meter.create_histogram(
            semconv.GATEWAY_UPSTREAM_DURATION,
            unit="s",
            description="From sending a request upstream to the last byte of its answer",
            explicit_bucket_boundaries_advisory=buckets,
        ),
        time_to_first_byte=meter.create_histogram(
            semconv.GATEWAY_TIME_TO_FIRST_BYTE,
            unit="s",
            description="From sending a request upstream to its status and headers",
            explicit_bucket_boundaries_advisory=buckets,
        ),
        active=active,
        request_bytes=request_bytes,
        response_bytes=response_bytes,
    )
