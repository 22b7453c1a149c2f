"""Per-call overhead of agentotel's instrumentation, against no instrumentation and two hand-written floors.

Four workloads drive the real ``openai`` / ``anthropic`` SDK clients against the in-process fake API
(``agentotel.testing.fake_transport()``, no sockets) through a client of the HTTP library the
installed SDK major is built on (``httpx2`` or ``httpx``), so it runs under any supported major:
``benchmarks/majors.py`` runs the OpenAI workloads under one venv per ``openai`` major.

* ``openai_chat``               ``chat.completions.create``, non-stream
* ``openai_chat_stream``        the same with ``stream=True`` + ``include_usage``: 20 content chunks
* ``anthropic_messages``        ``messages.create``, non-stream
* ``anthropic_messages_stream`` the same with ``stream=True``: 20 ``text_delta`` events

Each is run in four modes, each in a fresh subprocess so that patching cannot leak between modes:

* ``none``      the SDK call alone (the OTel SDK providers exist, nothing uses them);
* ``bare``      the floor: one hand-written CLIENT span around the call, 8 request attributes, 4
                response attributes and two histogram records;
* ``semconv``   the semconv floor: hand-written code that emits exactly the GenAI-semconv telemetry
                agentotel emits for the call (the same span name, kind, attribute keys and values;
                the same histograms with the same points), minus agentotel's own extras
                (``agentotel.*`` span attributes, the ``agentotel.llm.cost.usd`` counter);
* ``agentotel`` ``OpenAIInstrumentor`` / ``AnthropicInstrumentor`` on, plain SDK calls.

The targets are for ``(agentotel - none) / (bare - none)``. Since the OTel SDK alone spends about
100k instructions per histogram record and thousands per span attribute, ``semconv - none`` is the
least any instrumentation emitting the same telemetry through the OTel Python SDK can cost, and
``(agentotel - none) / (semconv - none)`` ("vs semconv") isolates the cost of agentotel's own code.

Primary figure: instructions per call from callgrind. Every (workload, mode) runs twice under
``valgrind --tool=callgrind`` with N1 and N2 timed calls after the same warm-up;
``(Ir(N2) - Ir(N1)) / (N2 - N1)`` cancels start-up, imports and warm-up exactly. Secondary figure:
CPU time per call (``time.process_time``) outside valgrind, median of several repeats. Last, a memory
check: RSS after 2,000 and after 20,000 mixed OpenAI calls with agentotel on.

Run ``python benchmarks/overhead.py --help``; see ``benchmarks/README.md`` for how to read the output.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import json
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, NamedTuple


class Workload(NamedTuple):
    provider: str  # "openai" or "anthropic"
    stream: bool  # a stream of WORDS chunks, read to its end
    tool: bool  # the request offers a tool, and the response is a call of it
    short: str  # the name --only also accepts


WORKLOADS: dict[str, Workload] = {
    "openai_chat": Workload("openai", False, False, "openai"),
    "openai_chat_stream": Workload("openai", True, False, "openai-stream"),
    "openai_chat_tool": Workload("openai", False, True, "openai-tool"),
    "anthropic_messages": Workload("anthropic", False, False, "anthropic"),
    "anthropic_messages_stream": Workload("anthropic", True, False, "anthropic-stream"),
    "anthropic_messages_tool": Workload("anthropic", False, True, "anthropic-tool"),
}
MODES = ("none", "bare", "semconv", "agentotel")
# What --only measures: the uninstrumented call, the semconv floor the targets are set against, ours.
ONLY_MODES = ("none", "semconv", "agentotel")
# Spans each mode exports per call.
SPANS_PER_CALL = {"none": 0.0, "bare": 1.0, "semconv": 1.0, "agentotel": 1.0}
# Targets for agentotel overhead / semconv-floor overhead (issue 12): plain calls, responses that
# are a tool call, 20-chunk streams.
TARGET_PLAIN = 1.10
TARGET_TOOL = 1.15
TARGET_STREAM = 1.20

WORDS = 20  # reply length: 20 words = 20 content chunks / text deltas in a stream
PROMPT = f"Write a short reply. [[words:{WORDS}]]"
OPENAI_MODEL = "gpt-4o"
ANTHROPIC_MODEL = "claude-sonnet-4-6"
MAX_TOKENS = 256
TEMPERATURE = 0.2
STOP_SEQUENCES = ["\n\nEND"]
# The tool offered by the *_tool workloads: the fake API answers with one call of it.
TOOL = {"name": "get_weather", "description": "The current weather in a city."}
TOOL_SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}

_CHILD_FLAG = "--child"
_RESULT_PREFIX = "OVERHEAD-RESULT "
# A toggled callgrind child prints this once set up and warmed up, then waits for a line on stdin.
_READY = "OVERHEAD-READY"
_SELF = Path(__file__).resolve()
_TOTALS_RE = re.compile(r"^(?:summary|totals):\s+(\d+)", re.MULTILINE)


@dataclass(frozen=True)
class Plan:
    """Iteration counts of one run of the benchmark."""

    cg_warmup: int  # calls before the callgrind-measured window (in both runs)
    cg_n1: int
    cg_n2: int
    cpu_warmup: int
    cpu_calls: int  # calls per CPU repeat
    cpu_repeats: int
    mem_first: int  # RSS sampled after this many calls ...
    mem_total: int  # ... and after this many


FULL = Plan(
    cg_warmup=20, cg_n1=10, cg_n2=60, cpu_warmup=200, cpu_calls=1000, cpu_repeats=5, mem_first=2000,
    mem_total=20000,
)  # fmt: skip
QUICK = Plan(
    cg_warmup=20, cg_n1=3, cg_n2=13, cpu_warmup=30, cpu_calls=200, cpu_repeats=3, mem_first=200,
    mem_total=2000,
)  # fmt: skip
# --only: instructions only, to check an optimisation in a few minutes (noise: see the README).
ONLY = Plan(
    cg_warmup=20, cg_n1=5, cg_n2=25, cpu_warmup=0, cpu_calls=0, cpu_repeats=0, mem_first=0, mem_total=0,
)  # fmt: skip
# Does every mode of every workload still run and emit what it should? (The smoke tests.)
SMOKE = Plan(
    cg_warmup=2, cg_n1=1, cg_n2=3, cpu_warmup=2, cpu_calls=20, cpu_repeats=1, mem_first=10, mem_total=20,
)  # fmt: skip


# ============================================================================================
# Child side: one workload in one mode, in its own process.
# ============================================================================================
def _child_env(seed: int = 0) -> dict[str, str]:
    """The environment of every child: no stray OTel / SDK settings, identical in every mode.

    ``ANTHROPIC_OPEN_TELEMETRY=false`` turns the anthropic SDK's own tracing off in every mode.
    Otherwise the SDK would make its own span in ``none`` and ``bare`` (so they would not be the
    uninstrumented call and the floor), while agentotel suppresses that span for the calls it
    instruments: ``agentotel`` would be credited with removing the SDK's span, not charged for its own.
    """
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OTEL_", "AGENTOTEL_", "ANTHROPIC_", "OPENAI_"))
    }
    env["ANTHROPIC_OPEN_TELEMETRY"] = "false"
    # Never write bytecode: a module without a .pyc is then compiled in every run alike. Were it
    # written, two concurrent callgrind runs of a pair could differ by one compilation.
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    # Deterministic dict/set layouts: repeatable instruction counts. ``seed`` picks another layout
    # (providers.py measures under several and takes the median).
    env["PYTHONHASHSEED"] = str(seed)
    return env


class _DropExporter:
    """A span exporter that counts the spans and keeps only the last: the export cost is a small
    constant, the same in every mode (``last`` is read by the ``describe`` child measure)."""

    def __init__(self) -> None:
        from opentelemetry.sdk.trace.export import SpanExportResult

        self.spans = 0
        self.last: Any = None
        self._success = SpanExportResult.SUCCESS

    def export(self, spans: Sequence[Any]) -> Any:
        self.spans += len(spans)
        self.last = spans[-1]
        return self._success

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def http_library(sdk: Any) -> Any:
    """``httpx2`` or ``httpx``: the HTTP library the installed major of ``sdk`` (the ``openai`` or
    ``anthropic`` module) is built on (openai 3.x and anthropic 1.x/2.x: httpx2; openai 1.x/2.x and
    anthropic 0.x: httpx). The client is built on it, so every major runs its own transport stack."""
    base = importlib.import_module(f"{sdk.__name__}._base_client")
    return getattr(base, "httpx2", None) or base.httpx


@dataclass
class _Setup:
    call: Callable[[], object]  # one complete LLM call (a stream is read to its end)
    exporter: _DropExporter
    reader: Any  # InMemoryMetricReader
    instrumentor: Any  # the instrumentor in mode "agentotel", else None


def _build_call(workload: str, mode: str) -> _Setup:
    """Set up providers, client and (per mode) instrumentation; return the per-call function."""
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.trace import SpanKind

    from agentotel import semconv
    from agentotel.testing import fake_transport

    provider, stream, tool, _ = WORKLOADS[workload]
    exporter = _DropExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))  # type: ignore[arg-type]
    reader = InMemoryMetricReader()  # never collected while measuring
    meter_provider = MeterProvider(metric_readers=[reader])
    messages = [{"role": "user", "content": PROMPT}]

    instrumentor: Any = None
    client: Any
    create: Callable[..., Any]
    kwargs: dict[str, Any]
    option: tuple[str, Any]  # the 7th request attribute of the bare span
    if provider == "openai":
        import openai

        from agentotel.instrumentation.openai import OpenAIInstrumentor

        if mode == "agentotel":
            instrumentor = OpenAIInstrumentor()
        http_client = http_library(openai).Client(transport=fake_transport())
        client = openai.OpenAI(
            base_url="http://fake/v1", api_key="sk-bench", max_retries=0, http_client=http_client
        )
        kwargs = {
            "model": OPENAI_MODEL,
            "messages": messages,
            "max_tokens": MAX_TOKENS,
            "temperature": TEMPERATURE,
        }
        option = ("gen_ai.request.temperature", TEMPERATURE)
        if stream:
            kwargs.update(stream=True, stream_options={"include_usage": True})
        if tool:
            kwargs["tools"] = [{"type": "function", "function": {**TOOL, "parameters": TOOL_SCHEMA}}]
        model = OPENAI_MODEL
    else:
        import anthropic

        from agentotel.instrumentation.anthropic import AnthropicInstrumentor

        if mode == "agentotel":
            instrumentor = AnthropicInstrumentor()
        http_client = http_library(anthropic).Client(transport=fake_transport())
        client = anthropic.Anthropic(
            base_url="http://fake", api_key="sk-bench", max_retries=0, http_client=http_client
        )
        # The anthropic 2.x SDK has no sampling parameters; stop sequences stand in for them.
        kwargs = {
            "model": ANTHROPIC_MODEL,
            "messages": messages,
            "max_tokens": MAX_TOKENS,
            "stop_sequences": STOP_SEQUENCES,
        }
        option = ("gen_ai.request.stop_sequences", STOP_SEQUENCES)
        if stream:
            kwargs["stream"] = True
        if tool:
            kwargs["tools"] = [{**TOOL, "input_schema": TOOL_SCHEMA}]
        model = ANTHROPIC_MODEL

    if instrumentor is not None:
        instrumentor.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
    # Resolve the bound method after instrument(): wrapt patches the class attribute.
    create = client.chat.completions.create if provider == "openai" else client.messages.create

    # --- none / agentotel: the application's code, identical in both modes -------------------
    def plain() -> object:
        return create(**kwargs)

    def plain_stream() -> object:
        chunk = None
        for chunk in create(**kwargs):  # noqa: B007 - only iterating, like an app that discards chunks
            pass
        return chunk

    if mode in ("none", "agentotel"):
        return _Setup(plain_stream if stream else plain, exporter, reader, instrumentor)

    if mode == "semconv":
        # --- semconv: the semconv floor, agentotel's GenAI-semconv telemetry written by hand ----
        # Exactly the span and metric points agentotel emits for these calls (the `describe` child
        # measure shows both; tests/integration/test_benchmark_smoke.py checks that they are equal), minus
        # agentotel's own extras: the agentotel.* span attributes and the agentotel.llm.cost.usd
        # counter. Plain field reads, no helpers, no error handling beyond start_as_current_span's.
        tracer = tracer_provider.get_tracer("agentotel-benchmark-semconv")
        meter = meter_provider.get_meter("agentotel-benchmark-semconv")
        # The instruments agentotel creates (names, units, descriptions, bucket advisories):
        # creating them is a one-off, outside the measured calls.
        from agentotel.metrics.instruments import llm_histograms

        op_duration, token_usage, first_chunk, per_chunk = llm_histograms(meter)
        sc_span_name = f"chat {model}"
        sc_perf_counter = time.perf_counter
        # agentotel sets openai.api.type on OpenAI calls, and gen_ai.request.stream only on streams.
        request_extra: dict[str, Any] = {}
        if provider == "openai":
            request_extra["openai.api.type"] = "chat_completions"
        if stream:
            request_extra["gen_ai.request.stream"] = True

        def semconv_request_attributes() -> dict[str, Any]:
            return {
                "gen_ai.operation.name": "chat",
                "gen_ai.request.model": model,
                "gen_ai.request.max_tokens": MAX_TOKENS,
                option[0]: option[1],
                "gen_ai.provider.name": provider,
                "server.address": "fake",
                "server.port": 80,
                **request_extra,
            }

        def semconv_record(
            start: float,
            response_model: str,
            input_tokens: int,
            output_tokens: int,
            first_at: float = 0.0,
            last_at: float = 0.0,
            chunks: int = 0,
        ) -> None:
            metric_attributes: dict[str, Any] = {
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": provider,
                "gen_ai.request.model": model,
                "server.address": "fake",
                "server.port": 80,
                "gen_ai.response.model": response_model,
            }
            op_duration.record(sc_perf_counter() - start, metric_attributes)
            if chunks:  # a stream: time to the first chunk, mean time between the later ones
                first_chunk.record(first_at - start, metric_attributes)
                per_chunk.record((last_at - first_at) / (chunks - 1), metric_attributes)
            token_usage.record(input_tokens, {**metric_attributes, "gen_ai.token.type": "input"})
            token_usage.record(output_tokens, {**metric_attributes, "gen_ai.token.type": "output"})

        def semconv_openai() -> object:
            start = sc_perf_counter()
            with tracer.start_as_current_span(
                sc_span_name, kind=SpanKind.CLIENT, attributes=semconv_request_attributes()
            ) as span:
                r = create(**kwargs)
                u = r.usage
                span.set_attributes(
                    {
                        "gen_ai.response.id": r.id,
                        "openai.response.service_tier": r.service_tier,
                        "gen_ai.response.model": r.model,
                        "openai.response.system_fingerprint": r.system_fingerprint,
                        "gen_ai.response.finish_reasons": [r.choices[0].finish_reason],
                        "gen_ai.usage.input_tokens": u.prompt_tokens,
                        "gen_ai.usage.output_tokens": u.completion_tokens,
                        "gen_ai.usage.cache_read.input_tokens": u.prompt_tokens_details.cached_tokens,
                        "gen_ai.usage.reasoning.output_tokens": u.completion_tokens_details.reasoning_tokens,
                    }
                )
            semconv_record(start, r.model, u.prompt_tokens, u.completion_tokens)
            return r

        def semconv_openai_stream() -> object:
            start = sc_perf_counter()
            with tracer.start_as_current_span(
                sc_span_name, kind=SpanKind.CLIENT, attributes=semconv_request_attributes()
            ) as span:
                chunks = create(**kwargs)
                chunk: Any = next(chunks)
                first_at = sc_perf_counter()
                count = 1
                finish = chunk
                # Per chunk: count it and keep the one before. With include_usage the last chunk
                # has usage and no choices; the one before it, the last with a choice, has the
                # finish reason (one choice, n=1).
                for c in chunks:
                    count += 1
                    finish, chunk = chunk, c
                # The last chunk's arrival, give or take the stream's end (the least per-chunk work).
                last_at = sc_perf_counter()
                u = chunk.usage
                span.set_attributes(
                    {
                        "gen_ai.response.id": chunk.id,
                        "gen_ai.response.model": chunk.model,
                        "openai.response.service_tier": chunk.service_tier,
                        "openai.response.system_fingerprint": chunk.system_fingerprint,
                        "gen_ai.response.finish_reasons": [finish.choices[0].finish_reason],
                        "gen_ai.usage.input_tokens": u.prompt_tokens,
                        "gen_ai.usage.output_tokens": u.completion_tokens,
                        "gen_ai.usage.cache_read.input_tokens": u.prompt_tokens_details.cached_tokens,
                        "gen_ai.usage.reasoning.output_tokens": u.completion_tokens_details.reasoning_tokens,
                        "gen_ai.response.time_to_first_chunk": first_at - start,
                    }
                )
            semconv_record(start, chunk.model, u.prompt_tokens, u.completion_tokens, first_at, last_at, count)
            return chunk

        def semconv_anthropic() -> object:
            start = sc_perf_counter()
            with tracer.start_as_current_span(
                sc_span_name, kind=SpanKind.CLIENT, attributes=semconv_request_attributes()
            ) as span:
                r = create(**kwargs)
                u = r.usage
                # gen_ai.usage.input_tokens is the total: Anthropic reports the cached parts apart.
                input_tokens = u.input_tokens + u.cache_read_input_tokens + u.cache_creation_input_tokens
                span.set_attributes(
                    {
                        "gen_ai.response.id": r.id,
                        "gen_ai.response.model": r.model,
                        "gen_ai.response.finish_reasons": [r.stop_reason],
                        "gen_ai.usage.input_tokens": input_tokens,
                        "gen_ai.usage.cache_read.input_tokens": u.cache_read_input_tokens,
                        "gen_ai.usage.cache_creation.input_tokens": u.cache_creation_input_tokens,
                        "gen_ai.usage.output_tokens": u.output_tokens,
                    }
                )
            semconv_record(start, r.model, input_tokens, u.output_tokens)
            return r

        def semconv_anthropic_stream() -> object:
            start = sc_perf_counter()
            with tracer.start_as_current_span(
                sc_span_name, kind=SpanKind.CLIENT, attributes=semconv_request_attributes()
            ) as span:
                events = create(**kwargs)
                event: Any = next(events)
                first_at = sc_perf_counter()
                message = event.message  # message_start: id, model, input usage (with the cache)
                count = 1
                last_delta: Any = None
                # Per event: count it and, as in bare, one `type` comparison: the (last)
                # message_delta carries the stop reason and the cumulative output tokens.
                for event in events:
                    count += 1
                    if event.type == "message_delta":
                        last_delta = event
                last_at = sc_perf_counter()  # as for OpenAI: the last event, give or take
                u = message.usage
                input_tokens = u.input_tokens + u.cache_read_input_tokens + u.cache_creation_input_tokens
                output_tokens = last_delta.usage.output_tokens
                span.set_attributes(
                    {
                        "gen_ai.response.id": message.id,
                        "gen_ai.response.model": message.model,
                        "gen_ai.response.finish_reasons": [last_delta.delta.stop_reason],
                        "gen_ai.usage.input_tokens": input_tokens,
                        "gen_ai.usage.cache_read.input_tokens": u.cache_read_input_tokens,
                        "gen_ai.usage.cache_creation.input_tokens": u.cache_creation_input_tokens,
                        "gen_ai.usage.output_tokens": output_tokens,
                        "gen_ai.response.time_to_first_chunk": first_at - start,
                    }
                )
            semconv_record(start, message.model, input_tokens, output_tokens, first_at, last_at, count)
            return message

        if provider == "openai":
            call = semconv_openai_stream if stream else semconv_openai
        else:
            call = semconv_anthropic_stream if stream else semconv_anthropic
        return _Setup(call, exporter, reader, None)

    # --- bare: the floor, a minimal hand-written span + two histogram records ---------------
    tracer = tracer_provider.get_tracer("agentotel-benchmark-bare")
    meter = meter_provider.get_meter("agentotel-benchmark-bare")
    duration = meter.create_histogram(
        "gen_ai.client.operation.duration",
        unit="s",
        explicit_bucket_boundaries_advisory=semconv.DURATION_BUCKETS,
    )
    tokens = meter.create_histogram(
        "gen_ai.client.token.usage",
        unit="{token}",
        explicit_bucket_boundaries_advisory=semconv.TOKEN_USAGE_BUCKETS,
    )
    span_name = f"chat {model}"
    perf_counter = time.perf_counter

    def request_attributes() -> dict[str, Any]:
        return {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": provider,
            "gen_ai.request.model": model,
            "server.address": "fake",
            "server.port": 80,
            "gen_ai.request.max_tokens": MAX_TOKENS,
            option[0]: option[1],
            "gen_ai.request.stream": stream,
        }

    def record(start: float, response_model: str, output_tokens: int) -> None:
        metric_attributes = {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": provider,
            "gen_ai.request.model": model,
            "server.address": "fake",
            "server.port": 80,
            "gen_ai.response.model": response_model,
        }
        duration.record(perf_counter() - start, metric_attributes)
        tokens.record(output_tokens, {**metric_attributes, "gen_ai.token.type": "output"})

    def response_attributes(rid: str, rmodel: str, input_tokens: int, output_tokens: int) -> dict[str, Any]:
        return {
            "gen_ai.response.id": rid,
            "gen_ai.response.model": rmodel,
            "gen_ai.usage.input_tokens": input_tokens,
            "gen_ai.usage.output_tokens": output_tokens,
        }

    def bare_openai() -> object:
        start = perf_counter()
        with tracer.start_as_current_span(
            span_name, kind=SpanKind.CLIENT, attributes=request_attributes()
        ) as span:
            r = create(**kwargs)
            u = r.usage
            span.set_attributes(response_attributes(r.id, r.model, u.prompt_tokens, u.completion_tokens))
        record(start, r.model, u.completion_tokens)
        return r

    def bare_openai_stream() -> object:
        start = perf_counter()
        with tracer.start_as_current_span(
            span_name, kind=SpanKind.CLIENT, attributes=request_attributes()
        ) as span:
            chunk: Any = None
            for chunk in create(**kwargs):  # noqa: B007 - same loop as the app; no per-chunk work
                pass
            # With include_usage the last chunk carries id, model and usage.
            u = chunk.usage
            span.set_attributes(
                response_attributes(chunk.id, chunk.model, u.prompt_tokens, u.completion_tokens)
            )
        record(start, chunk.model, u.completion_tokens)
        return chunk

    def bare_anthropic() -> object:
        start = perf_counter()
        with tracer.start_as_current_span(
            span_name, kind=SpanKind.CLIENT, attributes=request_attributes()
        ) as span:
            r = create(**kwargs)
            u = r.usage
            span.set_attributes(response_attributes(r.id, r.model, u.input_tokens, u.output_tokens))
        record(start, r.model, u.output_tokens)
        return r

    def bare_anthropic_stream() -> object:
        start = perf_counter()
        with tracer.start_as_current_span(
            span_name, kind=SpanKind.CLIENT, attributes=request_attributes()
        ) as span:
            events = create(**kwargs)
            message = next(events).message  # message_start: id, model, input tokens
            # Output tokens only arrive in message_delta: one `type` comparison per event is the
            # least any instrumentation can do (there is no final chunk carrying everything).
            last_delta: Any = None
            for event in events:
                if event.type == "message_delta":
                    last_delta = event
            output_tokens = last_delta.usage.output_tokens
            span.set_attributes(
                response_attributes(message.id, message.model, message.usage.input_tokens, output_tokens)
            )
        record(start, message.model, output_tokens)
        return message

    if provider == "openai":
        return _Setup(bare_openai_stream if stream else bare_openai, exporter, reader, None)
    return _Setup(bare_anthropic_stream if stream else bare_anthropic, exporter, reader, None)


def sdk_versions() -> dict[str, dict[str, str]]:
    """The installed ``openai`` and ``anthropic`` versions, each with the HTTP library it is built on."""
    versions: dict[str, dict[str, str]] = {}
    for name in ("openai", "anthropic"):
        try:
            sdk = importlib.import_module(name)
        except ImportError:
            continue
        http = http_library(sdk)
        versions[name] = {"version": sdk.__version__, "http": f"{http.__name__} {http.__version__}"}
    return versions


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        resident_pages = int(f.read().split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE")


def _metric_names(reader: Any) -> list[str]:
    data = reader.get_metrics_data()
    names: set[str] = set()
    for rm in data.resource_metrics if data else ():
        for sm in rm.scope_metrics:
            names.update(m.name for m in sm.metrics)
    return sorted(names)


def _settle() -> None:
    """Collect, then freeze the survivors: later full collections do not rescan imports and warm-up."""
    gc.collect()
    gc.freeze()


def _jsonable(attributes: Any) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in attributes.items()}


def _child_describe(spec: dict[str, Any]) -> dict[str, Any]:
    """Two calls, then what the mode emitted: the last exported span and every metric point."""
    setup = _build_call(spec["workload"], spec["mode"])
    for _ in range(2):
        setup.call()
    span = setup.exporter.last
    described_span = (
        None
        if span is None
        else {"name": span.name, "kind": span.kind.name, "attributes": _jsonable(span.attributes)}
    )
    metrics: dict[str, dict[str, Any]] = {}
    data = setup.reader.get_metrics_data()
    for rm in data.resource_metrics if data else ():
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                entry = metrics.setdefault(metric.name, {"unit": metric.unit, "points": []})
                for point in metric.data.data_points:
                    described: dict[str, Any] = {"attributes": _jsonable(point.attributes)}
                    if hasattr(point, "count"):  # a histogram point
                        described.update(count=point.count, sum=point.sum)
                    else:  # a sum (counter) or gauge point
                        described["value"] = point.value
                    entry["points"].append(described)
    return {"workload": spec["workload"], "mode": spec["mode"], "span": described_span, "metrics": metrics}


def child_main(spec: dict[str, Any]) -> dict[str, Any]:
    measure = spec["measure"]
    if measure == "memory":
        return _child_memory(spec)
    if measure == "alloc":
        return _child_alloc(spec)
    if measure == "describe":
        return _child_describe(spec)
    setup = _build_call(spec["workload"], spec["mode"])
    call, exporter, reader = setup.call, setup.exporter, setup.reader
    for _ in range(spec["warmup"]):
        call()
    _settle()
    result: dict[str, Any] = {"workload": spec["workload"], "mode": spec["mode"]}
    calls = 0
    if measure == "callgrind":
        if spec.get("toggle"):
            # Started with --instr-atstart=no: the parent switches instrumentation on now.
            print(_READY, flush=True)
            sys.stdin.readline()
        # Only the number of calls differs between the two runs of a pair; nothing else here.
        modules = set(sys.modules)
        for _ in range(spec["calls"]):
            call()
        # A module imported inside the measured loop is a one-off cost that the subtraction misses.
        result["late_imports"] = sorted(set(sys.modules) - modules)
        return result
    per_call_us: list[float] = []
    clock = time.process_time
    n = spec["calls"]
    for _ in range(spec["repeats"]):
        t0 = clock()
        for _ in range(n):
            call()
        per_call_us.append((clock() - t0) / n * 1e6)
        calls += n
    result["cpu_us"] = per_call_us
    result["spans_per_call"] = exporter.spans / (calls + spec["warmup"])
    result["metrics"] = _metric_names(reader)
    return result


def _child_memory(spec: dict[str, Any]) -> dict[str, Any]:
    """Mixed OpenAI calls (non-stream, stream, alternating) with agentotel on; RSS at two points."""
    setup = _build_call("openai_chat", "agentotel")
    plain, exporter = setup.call, setup.exporter
    # The SDK class is patched already (by the instrumentor above, with the providers above);
    # this only builds the streaming call on a second client.
    streamed = _build_call("openai_chat_stream", "none").call
    first, total = spec["first"], spec["total"]

    def sample() -> tuple[int, int]:
        gc.collect()
        return _rss_bytes(), len(gc.get_objects())

    samples: dict[int, tuple[int, int]] = {}
    t0 = time.perf_counter()
    for i in range(1, total + 1):
        (streamed if i % 2 else plain)()
        if i in (first, total):
            samples[i] = sample()
    return {
        "calls": total,
        "rss_mib": {str(k): v[0] / 2**20 for k, v in samples.items()},
        "gc_objects": {str(k): v[1] for k, v in samples.items()},
        "spans": exporter.spans,
        "seconds": time.perf_counter() - t0,
    }


def _child_alloc(spec: dict[str, Any]) -> dict[str, Any]:
    """Mixed OpenAI calls (non-stream, stream, alternating) in one mode under ``tracemalloc``: the
    peak allocated during each call above what was allocated when it started, and what stays
    allocated after all of them."""
    import tracemalloc

    mode = spec["mode"]
    plain = _build_call("openai_chat", mode).call
    # In mode agentotel the SDK class is patched already; the second client only builds the stream.
    streamed = _build_call("openai_chat_stream", "none" if mode == "agentotel" else mode).call
    for i in range(spec["warmup"]):
        (streamed if i % 2 else plain)()
    gc.collect()
    tracemalloc.start()
    start = tracemalloc.get_traced_memory()[0]
    peaks: list[int] = []
    for i in range(spec["calls"]):
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        (streamed if i % 2 else plain)()
        peaks.append(tracemalloc.get_traced_memory()[1] - before)
    gc.collect()
    retained = tracemalloc.get_traced_memory()[0] - start
    tracemalloc.stop()
    return {
        "mode": mode,
        "calls": spec["calls"],
        "peak_bytes_mean": statistics.fmean(peaks),
        "peak_bytes_max": max(peaks),
        "retained_bytes": retained,
    }


# ============================================================================================
# Parent side: run the children, collect, print.
# ============================================================================================
def _run_child(spec: dict[str, Any], prefix: Sequence[str] = (), script: Path = _SELF) -> dict[str, Any]:
    """Run ``script --child spec`` (under ``prefix``, e.g. valgrind) and return its result line."""
    cmd = [*prefix, sys.executable, str(script), _CHILD_FLAG, json.dumps(spec)]
    proc = subprocess.run(cmd, env=_child_env(), capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"child failed ({proc.returncode}): {shlex.join(cmd)}\n{proc.stderr[-4000:]}")
    for line in proc.stdout.splitlines():
        if line.startswith(_RESULT_PREFIX):
            return json.loads(line[len(_RESULT_PREFIX) :])  # type: ignore[no-any-return]
    raise RuntimeError(
        f"child printed no result: {shlex.join(cmd)}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    )


def _callgrind_total(path: Path) -> int:
    match = _TOTALS_RE.search(path.read_text(errors="replace"))
    if match is None:
        raise RuntimeError(f"no summary/totals line in {path}")
    return int(match.group(1))


def _run_toggled(spec: dict[str, Any], prefix: Sequence[str], script: Path, seed: int = 0) -> dict[str, Any]:
    """Run ``script --child spec`` under callgrind started with ``--instr-atstart=no``; once the
    child is set up and warmed up (it prints ``_READY``), switch instrumentation on with
    ``callgrind_control`` and let it run its measured calls. Start-up, imports and warm-up then run
    uninstrumented (several times faster) and are absent from the output file."""
    cmd = [*prefix, "--instr-atstart=no", sys.executable, str(script), _CHILD_FLAG, json.dumps(spec)]
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(
            cmd, env=_child_env(seed), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, text=True
        )
        assert proc.stdin is not None and proc.stdout is not None
        lines: list[str] = []
        for line in proc.stdout:
            if line.startswith(_READY):
                control = subprocess.run(
                    ["callgrind_control", "--instr=on", str(proc.pid)], capture_output=True, text=True
                )
                if control.returncode != 0:
                    proc.kill()
                    raise RuntimeError(f"callgrind_control failed: {control.stdout}{control.stderr}")
                proc.stdin.write("go\n")
                proc.stdin.flush()
                break
            lines.append(line)
        out, _ = proc.communicate()
        err.seek(0)
        stderr = err.read()
    lines.extend(out.splitlines())
    if proc.returncode != 0:
        raise RuntimeError(f"child failed ({proc.returncode}): {shlex.join(cmd)}\n{stderr[-4000:]}")
    for line in lines:
        if line.startswith(_RESULT_PREFIX):
            return json.loads(line[len(_RESULT_PREFIX) :])  # type: ignore[no-any-return]
    raise RuntimeError(f"child printed no result: {shlex.join(cmd)}\n{stderr[-2000:]}")


def _callgrind_run(
    workload: str,
    mode: str,
    warmup: int,
    calls: int,
    out_dir: Path,
    script: Path = _SELF,
    toggle: bool = False,
    seed: int = 0,
) -> int:
    """Total instructions of one child run of ``script`` under callgrind (with ``toggle``, of its
    measured calls only: see :func:`_run_toggled`)."""
    tag = f".seed{seed}" if seed else ""
    out = out_dir / f"callgrind.{script.stem}.{workload}.{mode}{tag}.{calls}.out"
    prefix = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"]
    spec = {"measure": "callgrind", "workload": workload, "mode": mode, "warmup": warmup, "calls": calls}
    if toggle:
        result = _run_toggled({**spec, "toggle": True}, prefix, script, seed)
    else:
        result = _run_child(spec, prefix, script)
    if result["late_imports"]:
        print(
            f"warning: {workload}/{mode} N={calls} imported modules inside the measured loop "
            f"(a one-off cost in the result): {', '.join(result['late_imports'])}",
            file=sys.stderr,
        )
    return _callgrind_total(out)


def measure_instructions(
    workloads: Sequence[str],
    modes: Sequence[str],
    plan: Plan,
    out_dir: Path,
    jobs: int,
    log: Callable[[str], None],
) -> dict[str, dict[str, float]]:
    """Instructions per call: ``(Ir(N2) - Ir(N1)) / (N2 - N1)`` per workload and mode."""
    tasks = [(w, m, n) for w in workloads for m in modes for n in (plan.cg_n2, plan.cg_n1)]
    totals: dict[tuple[str, str, int], int] = {}
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {
            t: pool.submit(_callgrind_run, t[0], t[1], plan.cg_warmup, t[2], out_dir, toggle=True)
            for t in tasks
        }
        for task, future in futures.items():
            totals[task] = future.result()
            log(f"  callgrind {task[0]:<26} {task[1]:<9} N={task[2]:<4} Ir={totals[task]:,}")
    span = plan.cg_n2 - plan.cg_n1
    return {
        w: {m: (totals[(w, m, plan.cg_n2)] - totals[(w, m, plan.cg_n1)]) / span for m in modes}
        for w in workloads
    }


def measure_cpu(
    workloads: Sequence[str], modes: Sequence[str], plan: Plan, log: Callable[[str], None]
) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, Any]]]:
    """CPU µs per call (median of repeats), one child at a time so that children do not compete."""
    medians: dict[str, dict[str, float]] = {}
    details: dict[str, dict[str, Any]] = {}
    for w in workloads:
        medians[w], details[w] = {}, {}
        for m in modes:
            spec = {
                "measure": "cpu", "workload": w, "mode": m, "warmup": plan.cpu_warmup,
                "calls": plan.cpu_calls, "repeats": plan.cpu_repeats,
            }  # fmt: skip
            result = _run_child(spec)
            medians[w][m] = statistics.median(result["cpu_us"])
            details[w][m] = {k: result[k] for k in ("cpu_us", "spans_per_call", "metrics")}
            repeats = ", ".join(f"{x:.1f}" for x in result["cpu_us"])
            log(
                f"  cpu {w:<26} {m:<9} median {medians[w][m]:8.1f} µs  repeats {repeats}  "
                f"spans/call {result['spans_per_call']:.2f}"
            )
            expected = SPANS_PER_CALL[m]
            if abs(result["spans_per_call"] - expected) > 1e-9:
                raise RuntimeError(f"{w}/{m}: {result['spans_per_call']} spans per call, expected {expected}")
    return medians, details


def measure_memory(plan: Plan) -> dict[str, Any]:
    result = _run_child({"measure": "memory", "first": plan.mem_first, "total": plan.mem_total})
    if result["spans"] != plan.mem_total:
        raise RuntimeError(f"memory check: {result['spans']} spans for {plan.mem_total} calls")
    first, total = str(plan.mem_first), str(plan.mem_total)
    result["rss_delta_mib"] = result["rss_mib"][total] - result["rss_mib"][first]
    result["gc_objects_delta"] = result["gc_objects"][total] - result["gc_objects"][first]
    calls = max(2, plan.mem_total // 20)
    result["alloc"] = {
        mode: _run_child({"measure": "alloc", "mode": mode, "warmup": plan.cpu_warmup, "calls": calls})
        for mode in ("none", "semconv", "agentotel")
    }
    return result


# --- report ----------------------------------------------------------------------------------
def _target(workload: str) -> float:
    w = WORKLOADS[workload]
    return TARGET_STREAM if w.stream else TARGET_TOOL if w.tool else TARGET_PLAIN


def _over(v: dict[str, float], mode: str) -> float | None:
    return v[mode] - v["none"] if mode in v else None


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    # Without a positive floor (CPU noise can do that) the ratio means nothing.
    if numerator is None or denominator is None or denominator <= 0:
        return None
    return numerator / denominator


def summarise(per_call: dict[str, dict[str, float]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for w, v in per_call.items():
        bare, semconv, agent = _over(v, "bare"), _over(v, "semconv"), _over(v, "agentotel")
        vs_semconv = _ratio(agent, semconv)
        out[w] = {
            **v,
            "bare_overhead": bare,
            "semconv_overhead": semconv,
            "agentotel_overhead": agent,
            # The targeted ratio: agentotel's overhead over the semconv floor's.
            "vs_semconv": vs_semconv,
            "target": _target(w),
            "meets_target": None if vs_semconv is None else vs_semconv <= _target(w),
            # No targets for these: agentotel and the semconv telemetry over the minimal span.
            "vs_bare": _ratio(agent, bare),
            "semconv_vs_bare": _ratio(semconv, bare),
        }
    return out


def _table(title: str, rows: dict[str, dict[str, Any]], spec: str, unit: str) -> str:
    """One table; ``spec`` formats the values (``,.0f``), overheads get an explicit sign; a mode
    that was not measured shows as ``-``."""
    header = (
        f"{'workload':<25} {'none':>10} {'bare':>10} {'semconv':>10} {'agentotel':>10} "
        f"{'bare-none':>10} {'semconv-none':>12} {'agentotel-none':>14} {'vs bare':>7} "
        f"{'vs semconv':>10} {'target':>6}  result"
    )

    def value(x: float | None, width: int, signed: bool = False) -> str:
        return f"{'-':>{width}}" if x is None else f"{x:>{'+' if signed else ''}{width}{spec}}"

    def ratio(x: float | None, width: int) -> str:
        return f"{'n/a' if x is None else f'{x:.2f}':>{width}}"

    lines = [title, header, "-" * len(header)]
    for w, r in rows.items():
        verdict = {True: "ok", False: "MISSED", None: "n/a (floor <= 0: noise)"}[r["meets_target"]]
        lines.append(
            f"{w:<25} {value(r['none'], 10)} {value(r.get('bare'), 10)} {value(r.get('semconv'), 10)} "
            f"{value(r.get('agentotel'), 10)} {value(r['bare_overhead'], 10, True)} "
            f"{value(r['semconv_overhead'], 12, True)} {value(r['agentotel_overhead'], 14, True)} "
            f"{ratio(r['vs_bare'], 7)} {ratio(r['vs_semconv'], 10)} {'<=' + str(r['target']):>6}  {verdict}"
        )
    lines.append(
        f"(values in {unit} per call; vs semconv = (agentotel - none) / (semconv - none): the targeted"
    )
    lines.append(" ratio, agentotel against the semconv floor; vs bare = (agentotel - none) / (bare - none))")
    return "\n".join(lines)


def _common_arguments(parser: argparse.ArgumentParser, workloads: Sequence[str], no_callgrind: str) -> None:
    """The options both overhead benchmarks take."""
    plan = parser.add_mutually_exclusive_group()
    plan.add_argument("--quick", action="store_true", help="few iterations: a rough look, not a measurement")
    plan.add_argument(
        "--smoke", action="store_true", help="one repeat of ~20 calls per mode: does it run, measures nothing"
    )
    parser.add_argument(
        "--workload", action="append", choices=workloads, help="run only this workload (repeatable)"
    )
    parser.add_argument("--no-callgrind", action="store_true", help=no_callgrind)
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results as JSON to PATH")
    parser.add_argument(
        "--callgrind-dir",
        type=Path,
        metavar="DIR",
        help="keep the callgrind.out files in DIR (for callgrind_annotate)",
    )
    parser.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, help="parallel callgrind runs (default: CPUs)"
    )


def _parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Per-call overhead of agentotel vs. no instrumentation and two hand-written floors.",
    )
    _common_arguments(parser, sorted(WORKLOADS), "skip callgrind: CPU time (and memory) only")
    parser.add_argument("--no-memory", action="store_true", help="skip the 20,000-call memory check")
    parser.add_argument(
        "--only",
        type=_only,
        metavar="LIST",
        help="quick check of an optimisation: instructions only (no CPU time, no memory), modes "
        f"{', '.join(ONLY_MODES)}, for the comma-separated workloads in LIST (full names, or "
        f"{', '.join(w.short for w in WORKLOADS.values())})",
    )
    parser.add_argument(
        "--modes",
        type=_modes,
        metavar="LIST",
        help=f"measure only these comma-separated modes (default: {', '.join(MODES)}; with --only: "
        f"{', '.join(ONLY_MODES)}); 'none' is always one of them",
    )
    args = parser.parse_args(argv)
    if args.only and (args.workload or args.no_callgrind or args.quick or args.smoke):
        parser.error("--only takes no --workload, --no-callgrind, --quick or --smoke")
    return args


def _modes(value: str) -> list[str]:
    """The modes named in ``value`` (comma-separated), in MODES order; ``none`` is added: every
    overhead is measured from it."""
    asked = [part.strip() for part in value.split(",") if part.strip()]
    unknown = [part for part in asked if part not in MODES]
    if unknown or not asked:
        raise argparse.ArgumentTypeError(
            f"unknown mode {', '.join(map(repr, unknown)) or repr(value)}; accepted: {', '.join(MODES)}"
        )
    return [mode for mode in MODES if mode in asked or mode == "none"]


def _only(value: str) -> list[str]:
    """The workloads named in ``value`` (comma-separated full or short names), in WORKLOADS order."""
    names = {w.short: name for name, w in WORKLOADS.items()} | {name: name for name in WORKLOADS}
    asked = [part.strip() for part in value.split(",") if part.strip()]
    unknown = [part for part in asked if part not in names]
    if unknown or not asked:
        raise argparse.ArgumentTypeError(
            f"unknown workload {', '.join(map(repr, unknown)) or repr(value)}; "
            f"accepted: {', '.join(sorted(names))}"
        )
    chosen = {names[part] for part in asked}
    return [name for name in WORKLOADS if name in chosen]


def main(argv: Sequence[str]) -> int:
    args = _parse_args(argv)
    if not args.no_callgrind and shutil.which("valgrind") is None:
        print("valgrind not found: apt-get install -y valgrind, or pass --no-callgrind", file=sys.stderr)
        return 2
    return _benchmark(args)


def _benchmark(args: argparse.Namespace) -> int:
    plan = ONLY if args.only else SMOKE if args.smoke else QUICK if args.quick else FULL
    workloads = args.only or args.workload or list(WORKLOADS)
    modes = args.modes or (ONLY_MODES if args.only else MODES)
    started = time.perf_counter()

    def log(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f}s] {message}", file=sys.stderr, flush=True)

    results: dict[str, Any] = {
        "plan": asdict(plan),
        "workloads": workloads,
        "modes": list(modes),
        "python": sys.version.split()[0],
        "sdks": sdk_versions(),
    }
    report: list[str] = []
    if not args.no_callgrind:
        log(
            f"callgrind: warm-up {plan.cg_warmup}, N1={plan.cg_n1}, N2={plan.cg_n2}, "
            f"{args.jobs} parallel runs"
        )
        with _out_dir(args.callgrind_dir) as out_dir:
            ir = summarise(measure_instructions(workloads, modes, plan, out_dir, max(1, args.jobs), log))
        results["instructions_per_call"] = ir
        report.append(
            _table(
                f"Instructions per call (callgrind Ir, (Ir(N2) - Ir(N1)) / (N2 - N1), N1={plan.cg_n1}, "
                f"N2={plan.cg_n2}, after {plan.cg_warmup} warm-up calls)",
                ir,
                ",.0f",
                "instructions",
            )
        )

    if not args.only:
        log(f"cpu: warm-up {plan.cpu_warmup}, {plan.cpu_repeats} x {plan.cpu_calls} calls per mode")
        cpu_medians, cpu_details = measure_cpu(workloads, modes, plan, log)
        cpu = summarise(cpu_medians)
        for w in workloads:
            cpu[w]["modes"] = cpu_details[w]
        results["cpu_us_per_call"] = cpu
        report.append(
            _table(
                f"CPU time per call (time.process_time, median of {plan.cpu_repeats} x "
                f"{plan.cpu_calls} calls)",
                cpu,
                ",.1f",
                "µs",
            )
        )

    if not (args.no_memory or args.only):
        log(f"memory: {plan.mem_total} mixed OpenAI calls with agentotel")
        mem = measure_memory(plan)
        results["memory"] = mem
        first, total = str(plan.mem_first), str(plan.mem_total)
        report.append(
            "\n".join(
                [
                    f"Memory, agentotel, {plan.mem_total:,} OpenAI calls alternating non-stream / stream "
                    f"({mem['spans']:,} spans, {mem['seconds']:.0f} s)",
                    f"  RSS after {plan.mem_first:,} calls: {mem['rss_mib'][first]:.2f} MiB;"
                    f" after {plan.mem_total:,}: {mem['rss_mib'][total]:.2f} MiB;"
                    f" delta {mem['rss_delta_mib']:+.2f} MiB",
                    f"  gc-tracked objects after {plan.mem_first:,}: {mem['gc_objects'][first]:,};"
                    f" after {plan.mem_total:,}: {mem['gc_objects'][total]:,};"
                    f" delta {mem['gc_objects_delta']:+,}",
                    f"Allocation (tracemalloc), {mem['alloc']['none']['calls']:,} of the same calls per mode:"
                    " peak during a call above its start (mean, max); retained after all of them",
                    *(
                        f"  {mode:<9} {a['peak_bytes_mean']:>10,.0f} B {a['peak_bytes_max']:>10,} B"
                        f"   retained {a['retained_bytes']:+,} B"
                        for mode, a in mem["alloc"].items()
                    ),
                ]
            )
        )

    command = shlex.join([sys.executable, *sys.argv])
    results["command"] = command
    results["seconds"] = time.perf_counter() - started
    print("\n\n".join(report))
    misses = [
        f"{kind}:{w}"
        for kind in ("instructions_per_call", "cpu_us_per_call")
        for w, r in results.get(kind, {}).items()
        if r["meets_target"] is False
    ]
    print(
        f"\nTargets (vs semconv): <= {TARGET_PLAIN} plain calls, <= {TARGET_TOOL} tool-call responses, "
        f"<= {TARGET_STREAM} streams ({WORDS} chunks).",
        end=" ",
    )
    print("All met." if not misses else f"Missed: {', '.join(misses)}.")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str) + "\n")
        print(f"JSON results: {args.json}")
    print(f"Finished in {results['seconds']:.0f} s. Command: {command}")
    return 0


@contextlib.contextmanager
def _out_dir(keep: Path | None) -> Iterator[Path]:
    """``keep`` if given (the files stay), else a temporary directory (removed afterwards)."""
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        yield keep.resolve()
        return
    with tempfile.TemporaryDirectory(prefix="agentotel-callgrind-") as tmp:
        yield Path(tmp)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == _CHILD_FLAG:
        print(_RESULT_PREFIX + json.dumps(child_main(json.loads(sys.argv[2]))), flush=True)
        sys.exit(0)
    sys.exit(main(sys.argv[1:]))
