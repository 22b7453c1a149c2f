"""The gateway's own metrics: what it forwarded, how long the upstreams took, what is in flight."""

from __future__ import annotations

from dataclasses import dataclass

from opentelemetry.metrics import Counter, Histogram, Meter, UpDownCounter

from agentotel import semconv


@dataclass(frozen=True)
class GatewayInstruments:
    requests: Counter
    upstream_duration: Histogram
    time_to_first_byte: Histogram
    active: UpDownCounter
    request_bytes: Counter
    response_bytes: Counter


def gateway_instruments(meter: Meter) -> GatewayInstruments:
    """The six instruments on ``meter`` (durations with the GenAI duration buckets)."""
    buckets = list(semconv.DURATION_BUCKETS)
    return GatewayInstruments(
        requests=meter.create_counter(
            semconv.GATEWAY_REQUESTS, unit="{request}", description="Requests the gateway answered"
        ),
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
        active=meter.create_up_down_counter(
            semconv.GATEWAY_ACTIVE_REQUESTS, unit="{request}", description="Requests being forwarded"
        ),
        request_bytes=meter.create_counter(
            semconv.GATEWAY_REQUEST_BYTES, unit="By", description="Request body bytes received from clients"
        ),
        response_bytes=meter.create_counter(
            semconv.GATEWAY_RESPONSE_BYTES, unit="By", description="Response body bytes sent to clients"
        ),
    )
