"""A call through ``agentotel gateway`` is recorded exactly as the same call through the SDK
instrumentor: the same span name, kind and attributes, the same metric points.

Each workload runs twice against the fake server, whose ids restart for each run: once with the
SDK instrumentor on (the SDK calls the fake server directly), once uninstrumented through the
gateway (the SDK calls the gateway, which forwards to the fake server). The gateway's upstream is
the fake server itself, so even ``server.address`` / ``server.port`` agree. What only the gateway
adds (``agentotel.gateway.*``) and what is a timing (time to first chunk) is left out of the
comparison; the gateway adds nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from helpers import CLAUDE, GEMINI_INSTALLED, GPT, instrumented

from agentotel import semconv
from agentotel.instrumentation.anthropic import AnthropicInstrumentor
from agentotel.instrumentation.openai import OpenAIInstrumentor
from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture

TIMINGS = {semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK}
GATEWAY_ONLY = {semconv.AGENTOTEL_GATEWAY_ROUTE}
METRICS = (
    semconv.GEN_AI_CLIENT_TOKEN_USAGE,
    semconv.GEN_AI_CLIENT_OPERATION_DURATION,
    semconv.GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK,
    semconv.GEN_AI_CLIENT_OPERATION_TIME_PER_OUTPUT_CHUNK,
    semconv.LLM_COST,
)
SAY = [{"role": "user", "content": "Say hello [[words:12]]"}]


def _openai(base: str) -> Any:
    import openai

    return openai.OpenAI(base_url=base, api_key="sk-parity-0123456789", max_retries=0)


def _anthropic(base: str) -> Any:
    import anthropic

    return anthropic.Anthropic(base_url=base, api_key="sk-ant-parity-0123456789", max_retries=0)


def _gemini(base: str) -> Any:
    from google import genai

    return genai.Client(api_key="AIza-parity-0123456789", http_options={"base_url": base})


def chat(c: Any) -> None:
    c.chat.completions.create(model=GPT, messages=SAY, max_tokens=40, temperature=0.5)


def chat_stream(c: Any) -> None:
    for _ in c.chat.completions.create(
        model=GPT, messages=SAY, stream=True, stream_options={"include_usage": True}
    ):
        pass


def chat_tools(c: Any) -> None:
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]
    c.chat.completions.create(model=GPT, messages=[{"role": "user", "content": "weather?"}], tools=tools)


def responses(c: Any) -> None:
    c.responses.create(model=GPT, input="Say hello [[words:5]]", max_output_tokens=30)


def responses_stream(c: Any) -> None:
    for _ in c.responses.create(model=GPT, input="Say hello [[words:5]]", stream=True):
        pass


def embeddings(c: Any) -> None:
    c.embeddings.create(model="text-embedding-3-small", input=["one", "two"], encoding_format="float")


def messages(c: Any) -> None:
    c.messages.create(model=CLAUDE, max_tokens=50, messages=SAY)


def messages_stream(c: Any) -> None:
    with c.messages.stream(model=CLAUDE, max_tokens=50, messages=SAY) as stream:
        stream.until_done()


def generate(c: Any) -> None:
    c.models.generate_content(model="gemini-2.5-flash", contents="Say hello [[words:7]]")


def generate_stream(c: Any) -> None:
    for _ in c.models.generate_content_stream(model="gemini-2.5-flash", contents="Say hello [[words:7]]"):
        pass


def embed(c: Any) -> None:
    c.models.embed_content(model="gemini-embedding-001", contents=["one", "two"])


WORKLOADS: list[tuple[str, Callable[[str], Any], str, Callable[[Any], None]]] = [
    ("chat", _openai, "openai", chat),
    ("chat_stream", _openai, "openai", chat_stream),
    ("chat_tools", _openai, "openai", chat_tools),
    ("responses", _openai, "openai", responses),
    ("responses_stream", _openai, "openai", responses_stream),
    ("embeddings", _openai, "openai", embeddings),
    ("messages", _anthropic, "anthropic", messages),
    ("messages_stream", _anthropic, "anthropic", messages_stream),
    ("generate", _gemini, "gemini", generate),
    ("generate_stream", _gemini, "gemini", generate_stream),
    ("embed", _gemini, "gemini", embed),
]


def _bases(fake: FakeLLMServer, route: str, gateway_url: str | None) -> str:
    if gateway_url is None:
        return {
            "openai": fake.openai_base_url,
            "anthropic": fake.anthropic_base_url,
            "gemini": fake.base_url,
        }[route]
    return {"openai": f"{gateway_url}/openai/v1", "anthropic": f"{gateway_url}/anthropic"}.get(
        route, f"{gateway_url}/gemini"
    )


def _spans(cap: TelemetryCapture) -> list[tuple[str, Any, dict[str, Any]]]:
    return [
        (s.name, s.kind, {k: v for k, v in (s.attributes or {}).items() if k not in TIMINGS | GATEWAY_ONLY})
        for s in cap.spans()
    ]


def _points(cap: TelemetryCapture) -> dict[str, list[tuple[dict[str, Any], Any]]]:
    found: dict[str, list[tuple[dict[str, Any], Any]]] = {}
    for name in METRICS:
        rows = []
        for p in cap.metric_points(name):
            # Durations differ; their count and attributes must not. Tokens and cost: exact.
            if name == semconv.GEN_AI_CLIENT_TOKEN_USAGE:
                value: Any = (p.count, p.sum)
            elif hasattr(p, "count"):
                value = p.count
            else:
                value = p.value
            rows.append((dict(p.attributes), value))
        found[name] = sorted(rows, key=repr)
    return found


@pytest.mark.parametrize("workload", [w[0] for w in WORKLOADS])
def test_a_call_through_the_gateway_is_recorded_as_through_the_sdk(
    workload: str, fresh_fake_llm: FakeLLMServer, gateway_factory: Any, cap: TelemetryCapture
) -> None:
    _, make, route, call = next(w for w in WORKLOADS if w[0] == workload)
    if route == "gemini" and not GEMINI_INSTALLED:
        pytest.skip("google-genai is not installed")
    fresh_fake_llm.clear()
    direct = TelemetryCapture()
    try:
        from agentotel.instrumentation.google_genai import GoogleGenAIInstrumentor

        kinds = [OpenAIInstrumentor, AnthropicInstrumentor, GoogleGenAIInstrumentor]
        with instrumented(direct, *kinds):
            call(make(_bases(fresh_fake_llm, route, None)))
        expected_spans, expected_points = _spans(direct), _points(direct)
    finally:
        direct.shutdown()
    requests_direct = len(fresh_fake_llm.requests)

    fresh_fake_llm.state.reset()
    fresh_fake_llm.clear()
    gw = gateway_factory()
    call(make(_bases(fresh_fake_llm, route, gw.url)))
    gw.stop()  # the last span ends before the stop returns

    assert len(fresh_fake_llm.requests) == requests_direct == 1
    assert len(expected_spans) == 1
    ((name, kind, attributes),) = _spans(cap)
    assert (name, kind) == expected_spans[0][:2]
    assert attributes == expected_spans[0][2]
    assert _points(cap) == expected_points
    (span,) = cap.spans()
    assert span.attributes[semconv.AGENTOTEL_GATEWAY_ROUTE] == route


def test_base64_embeddings_have_their_dimension_count(
    fresh_fake_llm: FakeLLMServer, gateway: Any, cap: TelemetryCapture
) -> None:
    """The ``openai`` SDK asks for base64 vectors when the app names no format and decodes them;
    the gateway decodes its copy the same way for the dimension count. What it records as the
    request's format is what went over the wire (the SDK instrumentor sees the app's arguments,
    which name none)."""
    client = _openai(f"{gateway.url}/openai/v1")
    result = client.embeddings.create(model="text-embedding-3-small", input=["one", "two"])
    gateway.stop()
    (span,) = cap.spans()
    assert span.attributes[semconv.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] == len(result.data[0].embedding) == 8
    assert span.attributes[semconv.GEN_AI_REQUEST_ENCODING_FORMATS] == ("base64",)
    assert fresh_fake_llm.requests[-1].body["encoding_format"] == "base64"
