"""Groq workloads of ``providers.py`` (see its ``PLUGIN_PROVIDERS``): ``chat.completions.create``
of the ``groq`` SDK, plain and ``stream=True``, over an ``httpx`` client (the one the SDK is built
on) on ``fake_transport()`` (the fake API's Groq route, ``/openai/v1/chat/completions``), a 20-word
reply; the stream is 22 chunks (an opening one, 20 words, the last with the finish reason and
``x_groq.usage``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from overhead import MAX_TOKENS, PROMPT, TEMPERATURE

MODEL = "llama-3.3-70b-versatile"
WORKLOADS = {
    "groq_chat": ("groq", False, "groq"),
    "groq_chat_stream": ("groq", True, "groq-stream"),
}
_MESSAGES = [{"role": "user", "content": PROMPT}]


def setup(http_client: Callable[[], Any]) -> tuple[Any, Any]:
    """The instrumentor and a ``Groq`` client on the in-process fake API (``groq`` takes an
    ``httpx`` client only, whatever ``http_client`` would build)."""
    del http_client
    import httpx
    from groq import Groq

    from agentotel.instrumentation.groq import GroqInstrumentor
    from agentotel.testing import fake_transport

    client = Groq(
        api_key="groq-bench", base_url="http://fake", http_client=httpx.Client(transport=fake_transport())
    )
    return GroqInstrumentor(), client


def calls(stream: bool, client: Any) -> Callable[[], object]:
    """The application's call, the same in every mode (a stream is read to its end)."""
    create = client.chat.completions.create
    if stream:

        def groq_stream() -> object:
            chunk = None
            chunks = create(
                model=MODEL, messages=_MESSAGES, max_tokens=MAX_TOKENS, temperature=TEMPERATURE, stream=True
            )
            for chunk in chunks:  # noqa: B007
                pass
            return chunk

        return groq_stream
    return lambda: create(model=MODEL, messages=_MESSAGES, max_tokens=MAX_TOKENS, temperature=TEMPERATURE)


def floor(
    workload: str, stream: bool, client: Any, tracer_provider: Any, meter_provider: Any
) -> Callable[[], object]:
    """The semconv floor: the same call with the span and metric points agentotel emits for it
    (no cost: that is one of agentotel's own extras; Groq's queue time and request id included), written
    inline; in a stream, per chunk only a count (the first chunk has the head, the last the finish
    reason and ``x_groq`` with the usage)."""
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
        "gen_ai.provider.name": "groq",
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
            "gen_ai.provider.name": "groq",
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

    create = client.chat.completions.create

    def chat() -> object:
        start = clock()
        with tracer.start_as_current_span(span_name, kind=client_kind, attributes=request) as span:
            r = create(model=MODEL, messages=_MESSAGES, max_tokens=MAX_TOKENS, temperature=TEMPERATURE)
            u = r.usage
            span.set_attributes(
                {
                    "gen_ai.response.id": r.id,
                    "gen_ai.response.model": r.model,
                    "gen_ai.response.finish_reasons": [r.choices[0].finish_reason],
                    "groq.request.id": r.x_groq.id,
                    "gen_ai.usage.input_tokens": u.prompt_tokens,
                    "gen_ai.usage.output_tokens": u.completion_tokens,
                    "groq.usage.queue_time": u.queue_time,
                }
            )
        record(start, r.model, u)
        return r

    def chat_stream() -> object:
        start = clock()
        with tracer.start_as_current_span(span_name, kind=client_kind, attributes=request) as span:
            chunks = iter(
                create(
                    model=MODEL,
                    messages=_MESSAGES,
                    max_tokens=MAX_TOKENS,
                    temperature=TEMPERATURE,
                    stream=True,
                )
            )
            first = chunk = next(chunks)
            first_at = clock()
            count = 1
            for chunk in chunks:  # noqa: B007 - per chunk: count it; the last has the end
                count += 1
            last_at = clock()
            x_groq = chunk.x_groq
            u = x_groq.usage
            span.set_attributes(
                {
                    "gen_ai.response.id": first.id,
                    "gen_ai.response.model": first.model,
                    "gen_ai.response.finish_reasons": [chunk.choices[0].finish_reason],
                    "gen_ai.response.time_to_first_chunk": first_at - start,
                    "groq.request.id": x_groq.id,
                    "gen_ai.usage.input_tokens": u.prompt_tokens,
                    "gen_ai.usage.output_tokens": u.completion_tokens,
                    "groq.usage.queue_time": u.queue_time,
                }
            )
        record(start, first.model, u, first_at, last_at, count)
        return chunk

    return chat_stream if stream else chat
