"""Zero-code: the real ``opentelemetry-instrument`` command on ``examples/agent.py``, exporting OTLP/HTTP.

The example runs offline (against the fake LLM server it starts in its own process); spans and
metrics travel as protobuf over real HTTP to the receiver in ``otlp_receiver.py``.

The example's sequence (``agentotel.cli._demo_agent``): OpenAI tool loop (2 chat calls, the tool run between
them inferred), one streamed chat (``[[words:20]]``), one chat answered 429 (handled), one embedding
of the streamed text, then a Claude tool loop (2 calls, an inferred tool run) and one Claude answer
through ``messages.stream()`` (``[[words:5]]``). Then (``agentotel.cli._demo_providers``) one call
through each other provider whose SDK is installed (all of them in .venv; none in the openai/anthropic
majors rows, where each is one "skipped" line): Gemini ``generate_content``, Bedrock ``converse``, LiteLLM
``completion`` on its ``openai/`` route, each "What is the weather in Paris?" (6 words) answered with the
6-word default reply.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers import DEMO_PROVIDERS, openai_rate_limit_text, priced
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status
from otlp_receiver import OTLPReceiver, attributes

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
OTEL_INSTRUMENT = BIN / "opentelemetry-instrument"
EXAMPLE = ROOT / "examples" / "agent.py"

GPT = "gpt-4o-mini"
GPT_RESPONSE_MODEL = "gpt-4o-mini-2024-08-06"
EMBEDDING_MODEL = "text-embedding-3-small"
CLAUDE = "claude-opus-5"
STREAMED_TEXT = " ".join(f"w{i}" for i in range(1, 21))
# The other providers: (printed name, extra, installed, span name, gen_ai.provider.name)
PROVIDERS = [(p.said, p.extra, p.installed, p.span, p.provider) for p in DEMO_PROVIDERS]
INSTALLED = [p for p in PROVIDERS if p[2]]

EXPECTED_STDOUT = [
    "agent: Hello from the fake LLM server.",
    f"agent (streamed): {STREAMED_TEXT}",
    "agent: rate limited (429), carrying on",
    "claude: Hello from the fake LLM server.",
    "claude: w1 w2 w3 w4 w5",
    *(
        f"{name}: Hello from the fake LLM server."
        if installed
        else f"{name}: skipped ({extra} is not installed: pip install 'agentotel[{extra}]')"
        for name, extra, installed, _, _ in PROVIDERS
    ),
]


def _env(receiver: OTLPReceiver, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("OTEL_")
        and k not in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_BASE_URL")
        and not k.startswith("AGENTOTEL_")
    }
    env.update(
        PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        AGENTOTEL_EXAMPLE_OFFLINE="1",
        OTEL_TRACES_EXPORTER="otlp",
        OTEL_METRICS_EXPORTER="otlp",
        OTEL_LOGS_EXPORTER="none",
        OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf",
        OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint,
        OTEL_METRIC_EXPORT_INTERVAL="200",
        OTEL_BSP_SCHEDULE_DELAY="100",
        OTEL_SERVICE_NAME="agentotel-example-test",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def _run(receiver: OTLPReceiver, **extra: str) -> subprocess.CompletedProcess[str]:
    assert OTEL_INSTRUMENT.exists(), OTEL_INSTRUMENT
    return subprocess.run(
        [str(OTEL_INSTRUMENT), "python", str(EXAMPLE)],
        cwd=ROOT,
        env=_env(receiver, **extra),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _by_name(spans: list[Any]) -> list[str]:
    return [s.name for s in spans]


def _token_points(receiver: OTLPReceiver) -> list[tuple[dict[str, Any], int, float]]:
    """(attributes, count, sum) of every gen_ai.client.token.usage point in the LAST export carrying it.

    Temporality is cumulative (the SDK default), so the last export holds the process's totals.
    """
    exports = [m for m in receiver.metrics() if m.name == "gen_ai.client.token.usage"]
    assert exports, f"no gen_ai.client.token.usage among {sorted(receiver.metric_names())}"
    last = exports[-1]
    assert last.WhichOneof("data") == "histogram"
    return [(attributes(p.attributes), p.count, p.sum) for p in last.histogram.data_points]


def test_opentelemetry_instrument_exports_the_agents_calls_over_otlp(receiver: OTLPReceiver) -> None:
    proc = _run(receiver)

    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == EXPECTED_STDOUT
    assert receiver.errors == []

    spans = receiver.spans()
    assert _by_name(spans) == [
        f"chat {GPT}",
        "execute_tool get_weather",
        f"chat {GPT}",
        f"chat {GPT}",
        f"chat {GPT}",
        f"embeddings {EMBEDDING_MODEL}",
        f"chat {CLAUDE}",
        "execute_tool get_weather",
        f"chat {CLAUDE}",
        f"chat {CLAUDE}",
        *(span_name for _, _, _, span_name, _ in INSTALLED),
    ]
    n = 10 + len(INSTALLED)
    assert receiver.span_scopes() == ["agentotel"] * n
    tool_runs = [spans.pop(7), spans.pop(1)][::-1]
    assert [s.kind for s in tool_runs] == [Span.SPAN_KIND_INTERNAL] * 2
    assert [attributes(s.attributes) for s in tool_runs] == [
        {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": "get_weather",
            "gen_ai.tool.call.id": call_id,
            "gen_ai.tool.type": "function",
            "agentotel.tool.inferred": True,
        }
        for call_id in ("call_1", "toolu_1")
    ]
    assert {s.kind for s in spans} == {Span.SPAN_KIND_CLIENT}
    # Separate top-level calls and tool runs: no parents, one trace each.
    assert [s.parent_span_id for s in spans + tool_runs] == [b""] * n
    assert len({s.trace_id for s in spans + tool_runs}) == n

    others = spans[8:]
    spans = spans[:8]
    tool_call, answer, streamed, limited, embedding, claude_tool, claude_answer, claude = spans
    a = [attributes(s.attributes) for s in spans]
    port = a[0]["server.port"]
    assert isinstance(port, int) and port > 0
    common_openai = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": GPT,
        "openai.api.type": "chat_completions",
        "server.address": "127.0.0.1",
        "server.port": port,
    }
    response_common = {
        "gen_ai.response.model": GPT_RESPONSE_MODEL,
        "openai.response.service_tier": "default",
        "openai.response.system_fingerprint": "fp_fake",
        "gen_ai.usage.cache_read.input_tokens": 0,
        "gen_ai.usage.reasoning.output_tokens": 0,
    }

    # 1. the model asks for the tool ("What is the weather in Paris?" = 6 tokens, '{"city": "Paris"}' = 2)
    assert a[0] == priced(
        {
            **common_openai,
            **response_common,
            "gen_ai.response.id": "chatcmpl-1",
            "gen_ai.response.finish_reasons": ("tool_calls",),
            "agentotel.response.tool_calls.names": ("get_weather",),
            "agentotel.response.tool_calls.ids": ("call_1",),
            "gen_ai.usage.input_tokens": 6,
            "gen_ai.usage.output_tokens": 2,
        }
    )
    # 2. the answer after the tool result (6 + 6 input tokens, the 6-word default reply)
    assert a[1] == priced(
        {
            **common_openai,
            **response_common,
            "gen_ai.response.id": "chatcmpl-2",
            "gen_ai.response.finish_reasons": ("stop",),
            "gen_ai.usage.input_tokens": 12,
            "gen_ai.usage.output_tokens": 6,
        }
    )
    # 3. the stream: 8 prompt words, 20 streamed words, usage from the include_usage chunk
    ttfc = a[2].pop("gen_ai.response.time_to_first_chunk")
    assert isinstance(ttfc, float) and 0 < ttfc < 60
    assert a[2] == priced(
        {
            **common_openai,
            **response_common,
            "gen_ai.request.stream": True,
            "gen_ai.response.id": "chatcmpl-3",
            "gen_ai.response.finish_reasons": ("stop",),
            "gen_ai.usage.input_tokens": 8,
            "gen_ai.usage.output_tokens": 20,
            "agentotel.stream.end": "exhausted",
        }
    )
    # 4. the handled 429
    assert a[3] == {**common_openai, "error.type": "openai.RateLimitError"}
    assert limited.status.code == Status.STATUS_CODE_ERROR
    assert limited.status.message == f"openai.RateLimitError: {openai_rate_limit_text()}"
    [exc_event] = limited.events
    assert exc_event.name == "exception"
    assert attributes(exc_event.attributes)["exception.type"] == "openai.RateLimitError"
    # 5. the embedding of the 20 streamed words
    assert a[4] == priced(
        {
            "gen_ai.operation.name": "embeddings",
            "gen_ai.provider.name": "openai",
            "gen_ai.request.model": EMBEDDING_MODEL,
            "server.address": "127.0.0.1",
            "server.port": port,
            "gen_ai.response.model": EMBEDDING_MODEL,
            "gen_ai.embeddings.dimension.count": 8,
            "gen_ai.usage.input_tokens": 20,
        }
    )
    # 6-7. the Claude tool loop ("What is the weather in Lyon?" = 6 tokens; then 6 + 6 with the result)
    claude_common = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "anthropic",
        "gen_ai.request.model": CLAUDE,
        "gen_ai.request.max_tokens": 256,
        "server.address": "127.0.0.1",
        "server.port": port,
        "gen_ai.response.model": CLAUDE,
        "gen_ai.usage.cache_read.input_tokens": 0,
        "gen_ai.usage.cache_creation.input_tokens": 0,
    }
    assert a[5] == priced(
        {
            **claude_common,
            "gen_ai.response.id": "msg_1",
            "gen_ai.response.finish_reasons": ("tool_use",),
            "agentotel.response.tool_calls.names": ("get_weather",),
            "agentotel.response.tool_calls.ids": ("toolu_1",),
            "gen_ai.usage.input_tokens": 6,
            "gen_ai.usage.output_tokens": 2,
        }
    )
    assert a[6] == priced(
        {
            **claude_common,
            "gen_ai.response.id": "msg_2",
            "gen_ai.response.finish_reasons": ("end_turn",),
            "gen_ai.usage.input_tokens": 12,
            "gen_ai.usage.output_tokens": 6,
        }
    )
    # 8. Claude through messages.stream(): ours is the only span (the SDK's own span is switched off)
    ttfc = a[7].pop("gen_ai.response.time_to_first_chunk")
    assert isinstance(ttfc, float) and 0 < ttfc < 60
    assert a[7] == priced(
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "anthropic",
            "gen_ai.request.model": CLAUDE,
            "gen_ai.request.max_tokens": 64,
            "gen_ai.request.stream": True,
            "server.address": "127.0.0.1",
            "server.port": port,
            "gen_ai.response.id": "msg_3",
            "gen_ai.response.model": CLAUDE,
            "gen_ai.response.finish_reasons": ("end_turn",),
            "gen_ai.usage.input_tokens": 6,
            "gen_ai.usage.cache_read.input_tokens": 0,
            "gen_ai.usage.cache_creation.input_tokens": 0,
            "gen_ai.usage.output_tokens": 5,
            "agentotel.stream.end": "exhausted",
        }
    )
    # then one call through each other provider: 6 words in, 6 out, one span each
    essentials = (
        "gen_ai.operation.name",
        "gen_ai.provider.name",
        "gen_ai.request.model",
        "server.address",
        "server.port",
        "gen_ai.response.finish_reasons",
        "gen_ai.usage.input_tokens",
        "gen_ai.usage.output_tokens",
    )
    found = [{k: v for k, v in attributes(s.attributes).items() if k in essentials} for s in others]
    finish = {
        "gcp.gemini": ("stop",),
        "aws.bedrock": ("end_turn",),
        "mistral_ai": ("stop",),
        "cohere": ("complete",),
        "ollama": ("stop",),
        "groq": ("stop",),
        "openai": ("stop",),
    }
    assert found == [
        {
            "gen_ai.operation.name": span_name.split()[0],
            "gen_ai.provider.name": provider,
            "gen_ai.request.model": span_name.split()[1],
            "server.address": "127.0.0.1",
            "server.port": port,
            "gen_ai.response.finish_reasons": finish[provider],
            "gen_ai.usage.input_tokens": 6,
            "gen_ai.usage.output_tokens": 6,
        }
        for _, _, _, span_name, provider in INSTALLED
    ]
    for span in (
        tool_call,
        answer,
        streamed,
        embedding,
        claude_tool,
        claude_answer,
        claude,
        *tool_runs,
        *others,
    ):
        assert span.status.code == Status.STATUS_CODE_UNSET
        assert list(span.events) == []

    # Metrics: the token histogram with exact per-series totals.
    metric_names = receiver.metric_names()
    assert {
        "gen_ai.client.token.usage",
        "gen_ai.client.operation.duration",
        "gen_ai.client.operation.time_to_first_chunk",
    } <= metric_names
    assert "agentotel.telemetry.errors" not in metric_names  # nothing of ours failed

    def series(provider: str, request_model: str, response_model: str, op: str, kind: str) -> dict[str, Any]:
        return {
            "gen_ai.operation.name": op,
            "gen_ai.provider.name": provider,
            "gen_ai.request.model": request_model,
            "gen_ai.response.model": response_model,
            "server.address": "127.0.0.1",
            "server.port": port,
            "gen_ai.token.type": kind,
        }

    points = _token_points(receiver)
    litellm = any(name == "litellm" for name, *_ in INSTALLED)  # a gpt-4o-mini chat of 6 + 6 tokens
    others_points = []
    for other in DEMO_PROVIDERS:
        if not other.installed or other.said == "litellm":  # LiteLLM's call is in the openai series
            continue
        point = series(other.provider, other.model, other.response_model or "", other.operation, "input")
        if other.response_model is None:  # Bedrock Converse and Cohere name no response model
            del point["gen_ai.response.model"]
        others_points += [(point, 1, 6), ({**point, "gen_ai.token.type": "output"}, 1, 6)]
    assert sorted(points, key=repr) == sorted(
        [
            (
                series("openai", GPT, GPT_RESPONSE_MODEL, "chat", "input"),
                3 + litellm,
                6 + 12 + 8 + 6 * litellm,
            ),
            (
                series("openai", GPT, GPT_RESPONSE_MODEL, "chat", "output"),
                3 + litellm,
                2 + 6 + 20 + 6 * litellm,
            ),
            (series("openai", EMBEDDING_MODEL, EMBEDDING_MODEL, "embeddings", "input"), 1, 20),
            (series("anthropic", CLAUDE, CLAUDE, "chat", "input"), 3, 6 + 12 + 6),
            (series("anthropic", CLAUDE, CLAUDE, "chat", "output"), 3, 2 + 6 + 5),
            *others_points,
        ],
        key=repr,
    )

    # The resource is the one opentelemetry-instrument configured from OTEL_SERVICE_NAME.
    [request, *_] = receiver.requests("traces")
    resource = attributes(request.resource_spans[0].resource.attributes)
    assert resource["service.name"] == "agentotel-example-test"


def test_disabled_instrumentation_exports_no_openai_spans(receiver: OTLPReceiver) -> None:
    proc = _run(receiver, OTEL_PYTHON_DISABLED_INSTRUMENTATIONS="agentotel_openai")

    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == EXPECTED_STDOUT  # the app itself is unchanged
    spans = receiver.spans()
    # Only the Anthropic calls and the other providers' remain; no span from the disabled OpenAI
    # instrumentor (LiteLLM's openai/ route is the LiteLLM instrumentor's span).
    assert _by_name(spans) == [
        f"chat {CLAUDE}",
        "execute_tool get_weather",
        f"chat {CLAUDE}",
        f"chat {CLAUDE}",
        *(span_name for _, _, _, span_name, _ in INSTALLED),
    ]
    assert [attributes(s.attributes).get("gen_ai.provider.name") for s in spans] == [
        "anthropic",
        None,
        "anthropic",
        "anthropic",
        *(provider for *_, provider in INSTALLED),
    ]
    providers = {
        attributes(p.attributes).get("gen_ai.provider.name")
        for m in receiver.metrics()
        if m.name.startswith("gen_ai.client.")
        for p in m.histogram.data_points
    }
    assert providers == {"anthropic", *(provider for *_, provider in INSTALLED)}


@pytest.mark.skipif(
    not hasattr(importlib.import_module("anthropic._base_client"), "start_api_call_span"),
    reason="the SDK's own tracing: anthropic>=1.14.0",
)
def test_disabling_both_gives_the_anthropic_sdk_its_own_span_back(receiver: OTLPReceiver) -> None:
    proc = _run(receiver, OTEL_PYTHON_DISABLED_INSTRUMENTATIONS="agentotel_openai,agentotel_anthropic")

    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == EXPECTED_STDOUT
    # None of ours but the other providers'; the anthropic SDK's built-in tracing is no longer switched off.
    spans = receiver.spans()
    ours = [s.name for s, scope in zip(spans, receiver.span_scopes(), strict=True) if scope == "agentotel"]
    assert ours == [span_name for _, _, _, span_name, _ in INSTALLED]
    assert [s.name for s in spans if s.name not in ours] == ["anthropic.messages.create"] * 3
