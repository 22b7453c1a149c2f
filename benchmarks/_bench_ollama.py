"""Ollama workloads of ``providers.py`` (see its ``PLUGIN_PROVIDERS``): ``chat`` and
``chat(stream=True)`` of the ``ollama`` SDK, whose ``Client`` makes its own ``httpx`` client (on
``fake_transport()`` here: the fake API's ``/api/chat``), a 20-word reply; the stream is 21 NDJSON
lines (20 words, then the ``done`` line with the counts and the server's timings)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from overhead import MAX_TOKENS, PROMPT, TEMPERATURE

MODEL = "llama3.2"
WORKLOADS = {
    "ollama_chat": ("ollama", False, "ollama"),
    "ollama_chat_stream": ("ollama", True, "ollama-stream"),
}
_MESSAGES = [{"role": "user", "content": PROMPT}]
_OPTIONS = {"num_predict": MAX_TOKENS, "temperature": TEMPERATURE}
_PORT = 80  # "http://fake": the SDK gives a URL with a scheme its default port
# The server's nanosecond timings and the attributes they become, in seconds.
_DURATIONS = (
    ("total_duration", "ollama.total_duration"),
    ("load_duration", "ollama.load_duration"),
    ("prompt_eval_duration", "ollama.prompt_eval_duration"),
    ("eval_duration", "ollama.eval_duration"),
)


def setup(http_client: Callable[[], Any]) -> tuple[Any, Any]:
    """The instrumentor and an ``ollama.Client`` on the in-process fake API (the SDK builds its
    own ``httpx`` client: ``http_client``, an ``httpx2`` one, is not used)."""
    del http_client
    from ollama import Client

    from agentotel.instrumentation.ollama import OllamaInstrumentor
    from agentotel.testing import fake_transport

    return OllamaInstrumentor(), Client(host="http://fake", transport=fake_transport())


def calls(stream: bool, client: Any) -> Callable[[], object]:
    """The application's call, the same in every mode (a stream is read to its end)."""
    chat = client.chat
    if stream:

        def ollama_stream() -> object:
            chunk = None
            for chunk in chat(model=MODEL, messages=_MESSAGES, options=_OPTIONS, stream=True):  # noqa: B007
                pass
            return chunk

        return ollama_stream
    return lambda: chat(model=MODEL, messages=_MESSAGES, options=_OPTIONS)


def floor(
    workload: str, stream: bool, client: Any, tracer_provider: Any, meter_provider: Any
) -> Callable[[], object]:
    """The semconv floor: the same call with the span and metric points agentotel emits for it
    (local models are unpriced: no cost), the ``ollama.*`` timings included, written inline; in a
    stream, per line only a count (the last line carries the finish reason, counts and timings)."""
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
        "gen_ai.provider.name": "ollama",
        "server.address": "fake",
        "server.port": _PORT,
    }
    if stream:
        request["gen_ai.request.stream"] = True

    def response_attributes(last: Any) -> dict[str, Any]:
        found = {
            "gen_ai.response.model": last.model,
            "gen_ai.response.finish_reasons": [last.done_reason],
            "gen_ai.usage.input_tokens": last.prompt_eval_count,
            "gen_ai.usage.output_tokens": last.eval_count,
        }
        for field, attribute in _DURATIONS:
            found[attribute] = getattr(last, field) / 1e9
        return found

    def record(start: float, last: Any, first_at: float = 0.0, last_at: float = 0.0, chunks: int = 0) -> None:
        attributes = {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "ollama",
            "gen_ai.request.model": MODEL,
            "server.address": "fake",
            "server.port": _PORT,
            "gen_ai.response.model": last.model,
        }
        op_duration.record(clock() - start, attributes)
        if chunks:
            first_chunk.record(first_at - start, attributes)
            per_chunk.record((last_at - first_at) / (chunks - 1), attributes)
        token_usage.record(last.prompt_eval_count, {**attributes, "gen_ai.token.type": "input"})
        token_usage.record(last.eval_count, {**attributes, "gen_ai.token.type": "output"})

    chat = client.chat

    def plain() -> object:
        start = clock()
        with tracer.start_as_current_span(span_name, kind=client_kind, attributes=request) as span:
            r = chat(model=MODEL, messages=_MESSAGES, options=_OPTIONS)
            span.set_attributes(response_attributes(r))
        record(start, r)
        return r

    def streamed() -> object:
        start = clock()
        with tracer.start_as_current_span(span_name, kind=client_kind, attributes=request) as span:
            lines = iter(chat(model=MODEL, messages=_MESSAGES, options=_OPTIONS, stream=True))
            line = next(lines)
            first_at = clock()
            count = 1
            for line in lines:  # noqa: B007 - per line: count it; the last has the end
                count += 1
            last_at = clock()
            span.set_attributes(
                {**response_attributes(line), "gen_ai.response.time_to_first_chunk": first_at - start}
            )
        record(start, line, first_at, last_at, count)
        return line

    return streamed if stream else plain
