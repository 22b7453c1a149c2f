"""Cohere workloads of ``providers.py`` (see its ``PLUGIN_PROVIDERS``): ``chat`` and ``chat_stream``
of the ``cohere`` SDK's ``ClientV2`` over an ``httpx`` client (the one the SDK is built on) on
``fake_transport()`` (the fake API's ``/v2/chat``), a 20-word reply; the stream is 24 events
(``message-start``, ``content-start``, 20 ``content-delta``, ``content-end``, ``message-end`` with
the finish reason and the usage). The model is Command A, which ships unpriced (as the Groq and
Mistral workloads' models): no cost on either side."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from overhead import MAX_TOKENS, PROMPT, TEMPERATURE

MODEL = "command-a-03-2025"
WORKLOADS = {
    "cohere_chat": ("cohere", False, "cohere"),
    "cohere_chat_stream": ("cohere", True, "cohere-stream"),
}
_MESSAGES = [{"role": "user", "content": PROMPT}]


def setup(http_client: Callable[[], Any]) -> tuple[Any, Any]:
    """The instrumentor and a ``ClientV2`` on the in-process fake API (``cohere`` takes an ``httpx``
    client only, whatever ``http_client`` would build)."""
    del http_client
    import cohere
    import httpx

    from agentotel.instrumentation.cohere import CohereInstrumentor
    from agentotel.testing import fake_transport

    client = cohere.ClientV2(
        api_key="cohere-bench", base_url="http://fake", httpx_client=httpx.Client(transport=fake_transport())
    )
    return CohereInstrumentor(), client


def calls(stream: bool, client: Any) -> Callable[[], object]:
    """The application's call, the same in every mode (a stream is read to its end)."""
    if stream:
        chat_stream = client.chat_stream

        def cohere_stream() -> object:
            event = None
            for event in chat_stream(  # noqa: B007
                model=MODEL, messages=_MESSAGES, max_tokens=MAX_TOKENS, temperature=TEMPERATURE
            ):
                pass
            return event

        return cohere_stream
    chat = client.chat
    return lambda: chat(model=MODEL, messages=_MESSAGES, max_tokens=MAX_TOKENS, temperature=TEMPERATURE)


def floor(
    workload: str, stream: bool, client: Any, tracer_provider: Any, meter_provider: Any
) -> Callable[[], object]:
    """The semconv floor: the same call with the span and metric points agentotel emits for it
    (unpriced: no cost; Cohere names no response model), written inline; in a stream, per event only
    a count (the first event has the id, the last the finish reason and the billed usage)."""
    from opentelemetry.trace import SpanKind

    from agentotel.metrics.instruments import llm_histograms

    tracer = tracer_provider.get_tracer("agentotel-benchmark-semconv")
    op_duration, token_usage, first_chunk, per_chunk = llm_histograms(
        meter_provider.get_meter("agentotel-benchmark-semconv")
    )
    clock = time.perf_counter
    client_kind = SpanKind.CLIENT
    span_name = f"chat {MODEL}"
    request: dict[str, Any] = {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": MODEL,
        "gen_ai.request.max_tokens": MAX_TOKENS,
        "gen_ai.request.temperature": TEMPERATURE,
        "gen_ai.provider.name": "cohere",
        "server.address": "fake",
        "server.port": 80,
    }
    if stream:
        request["gen_ai.request.stream"] = True
    attributes = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "cohere",
        "gen_ai.request.model": MODEL,
        "server.address": "fake",
        "server.port": 80,
    }
    input_attributes = {**attributes, "gen_ai.token.type": "input"}
    output_attributes = {**attributes, "gen_ai.token.type": "output"}

    def record(
        start: float, billed: Any, first_at: float = 0.0, last_at: float = 0.0, chunks: int = 0
    ) -> None:
        op_duration.record(clock() - start, attributes)
        if chunks:
            first_chunk.record(first_at - start, attributes)
            per_chunk.record((last_at - first_at) / (chunks - 1), attributes)
        token_usage.record(int(billed.input_tokens), input_attributes)
        token_usage.record(int(billed.output_tokens), output_attributes)

    if stream:
        chat_stream = client.chat_stream

        def cohere_stream() -> object:
            start = clock()
            with tracer.start_as_current_span(span_name, kind=client_kind, attributes=request) as span:
                events = iter(
                    chat_stream(
                        model=MODEL, messages=_MESSAGES, max_tokens=MAX_TOKENS, temperature=TEMPERATURE
                    )
                )
                first = event = next(events)
                first_at = clock()
                count = 1
                for event in events:  # noqa: B007 - per event: count it; the last has the end
                    count += 1
                last_at = clock()
                end = event.delta
                billed = end.usage.billed_units
                span.set_attributes(
                    {
                        "gen_ai.response.id": first.id,
                        "gen_ai.response.finish_reasons": [end.finish_reason.lower()],
                        "gen_ai.response.time_to_first_chunk": first_at - start,
                        "gen_ai.usage.input_tokens": int(billed.input_tokens),
                        "gen_ai.usage.output_tokens": int(billed.output_tokens),
                    }
                )
            record(start, billed, first_at, last_at, count)
            return event

        return cohere_stream

    chat = client.chat

    def cohere_chat() -> object:
        start = clock()
        with tracer.start_as_current_span(span_name, kind=client_kind, attributes=request) as span:
            r = chat(model=MODEL, messages=_MESSAGES, max_tokens=MAX_TOKENS, temperature=TEMPERATURE)
            billed = r.usage.billed_units
            span.set_attributes(
                {
                    "gen_ai.response.id": r.id,
                    "gen_ai.response.finish_reasons": [r.finish_reason.lower()],
                    "gen_ai.usage.input_tokens": int(billed.input_tokens),
                    "gen_ai.usage.output_tokens": int(billed.output_tokens),
                }
            )
        record(start, billed)
        return r

    return cohere_chat
