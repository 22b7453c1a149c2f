"""Mistral workloads of ``providers.py`` (see its ``PLUGIN_PROVIDERS``): ``chat.complete`` and
``chat.stream`` of the ``mistralai`` SDK over an ``httpx2`` client on ``fake_transport()`` (the fake
API's Mistral routes, ``/mistral/v1/chat/completions``), a 20-word reply; the stream is 22 events
(an opening one, 20 words, the last with the finish reason and the usage)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from overhead import MAX_TOKENS, PROMPT, TEMPERATURE

MODEL = "mistral-small-latest"
WORKLOADS = {
    "mistral_chat": ("mistral", False, "mistral"),
    "mistral_chat_stream": ("mistral", True, "mistral-stream"),
}
_MESSAGES = [{"role": "user", "content": PROMPT}]


def setup(http_client: Callable[[], Any]) -> tuple[Any, Any]:
    """The instrumentor and a ``Mistral`` client on the in-process fake API."""
    from mistralai.client import Mistral

    from agentotel.instrumentation.mistralai import MistralInstrumentor

    return MistralInstrumentor(), Mistral(
        api_key="mistral-bench", server_url="http://fake/mistral", client=http_client()
    )


def calls(stream: bool, client: Any) -> Callable[[], object]:
    """The application's call, the same in every mode (a stream is read to its end)."""
    chat = client.chat
    if stream:
        open_stream = chat.stream

        def mistral_stream() -> object:
            event = None
            events = open_stream(
                model=MODEL, messages=_MESSAGES, max_tokens=MAX_TOKENS, temperature=TEMPERATURE
            )
            for event in events:  # noqa: B007
                pass
            return event

        return mistral_stream
    complete = chat.complete
    return lambda: complete(model=MODEL, messages=_MESSAGES, max_tokens=MAX_TOKENS, temperature=TEMPERATURE)


def floor(
    workload: str, stream: bool, client: Any, tracer_provider: Any, meter_provider: Any
) -> Callable[[], object]:
    """The semconv floor: the same call with the span and metric points agentotel emits for it,
    written inline, without agentotel's own extras (``agentotel.usage.cost_usd`` and the cost
    counter: ``mistral-small-latest`` is priced); in a stream, per event only a count (the last
    event carries the finish reason and the usage)."""
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
        "gen_ai.provider.name": "mistral_ai",
        "server.address": "fake",
        "server.port": 80,
    }
    if stream:
        request["gen_ai.request.stream"] = True

    def record(
        start: float,
        response_model: str,
        usage: Any,
        first_at: float = 0.0,
        last_at: float = 0.0,
        chunks: int = 0,
    ) -> None:
        attributes = {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "mistral_ai",
            "gen_ai.request.model": MODEL,
            "server.address": "fake",
            "server.port": 80,
            "gen_ai.response.model": response_model,
        }
        op_duration.record(clock() - start, attributes)
        if chunks:
            first_chunk.record(first_at - start, attributes)
            per_chunk.record((last_at - first_at) / (chunks - 1), attributes)
        token_usage.record(usage.prompt_tokens, {**attributes, "gen_ai.token.type": "input"})
        token_usage.record(usage.completion_tokens, {**attributes, "gen_ai.token.type": "output"})

    complete, open_stream = client.chat.complete, client.chat.stream

    def chat() -> object:
        start = clock()
        with tracer.start_as_current_span(span_name, kind=client_kind, attributes=request) as span:
            r = complete(model=MODEL, messages=_MESSAGES, max_tokens=MAX_TOKENS, temperature=TEMPERATURE)
            u = r.usage
            span.set_attributes(
                {
                    "gen_ai.response.id": r.id,
                    "gen_ai.response.model": r.model,
                    "gen_ai.response.finish_reasons": [r.choices[0].finish_reason],
                    "gen_ai.usage.input_tokens": u.prompt_tokens,
                    "gen_ai.usage.output_tokens": u.completion_tokens,
                }
            )
        record(start, r.model, u)
        return r

    def chat_stream() -> object:
        start = clock()
        with tracer.start_as_current_span(span_name, kind=client_kind, attributes=request) as span:
            events = iter(
                open_stream(model=MODEL, messages=_MESSAGES, max_tokens=MAX_TOKENS, temperature=TEMPERATURE)
            )
            event = next(events)
            first_at = clock()
            count = 1
            for event in events:  # noqa: B007 - per event: count it; the last has the end
                count += 1
            last_at = clock()
            first, last = event.data, event.data
            u = last.usage
            span.set_attributes(
                {
                    "gen_ai.response.id": first.id,
                    "gen_ai.response.model": first.model,
                    "gen_ai.response.finish_reasons": [last.choices[0].finish_reason],
                    "gen_ai.response.time_to_first_chunk": first_at - start,
                    "gen_ai.usage.input_tokens": u.prompt_tokens,
                    "gen_ai.usage.output_tokens": u.completion_tokens,
                }
            )
        record(start, first.model, u, first_at, last_at, count)
        return event

    return chat_stream if stream else chat
