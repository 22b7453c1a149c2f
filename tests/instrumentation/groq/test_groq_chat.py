"""``chat.completions.create`` through the real ``groq`` SDK (``Groq`` and ``AsyncGroq``) against the
fake server over HTTP: one CLIENT span per request the server sees, exact attributes, usage, Groq's
queue time and request id, errors in Groq's format, metrics, and nothing of the API key anywhere."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import groq
import openai
import pytest
import tomllib
from groq_helpers import (
    API_KEY,
    DURATION,
    MODEL,
    REPLY,
    SPAN_NAME,
    TOKENS,
    WEATHER_TOOLS,
    cost,
    groq_client,
    metric_attrs,
    reply_attrs,
    request_attrs,
    user,
)
from helpers import FAKE_OPENAI_KEY, closed_port, instrumented, resolve
from opentelemetry.trace import SpanKind, StatusCode
from packaging.requirements import Requirement

import agentotel
from agentotel._registry import available
from agentotel.instrumentation.groq import GroqInstrumentor
from agentotel.instrumentation.groq.package import _instruments
from agentotel.instrumentation.openai import OpenAIInstrumentor
from agentotel.processors import AuditSpanProcessor, RunStoreSpanProcessor
from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture
from agentotel.testing._fake.groq_chat import QUEUE_TIME


def tokens(cap: TelemetryCapture) -> list[tuple[dict[str, Any], int]]:
    return [(dict(p.attributes), p.sum) for p in cap.metric_points(TOKENS)]


def durations(cap: TelemetryCapture) -> list[tuple[dict[str, Any], int]]:
    return [(dict(p.attributes), p.count) for p in cap.metric_points(DURATION)]


async def test_create_span(groq_instrumented: TelemetryCapture, client: Any, fake: FakeLLMServer) -> None:
    completion = await resolve(client.chat.completions.create(model=MODEL, messages=user()))

    assert isinstance(completion, groq.types.chat.ChatCompletion)
    assert completion.choices[0].message.content == REPLY
    assert completion.usage.queue_time == QUEUE_TIME
    assert len(fake.requests) == 1
    [span] = groq_instrumented.spans()
    assert span.name == SPAN_NAME
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    assert dict(span.attributes) == {**request_attrs(fake), **reply_attrs()}


async def test_metrics(groq_instrumented: TelemetryCapture, client: Any, fake: FakeLLMServer) -> None:
    await resolve(client.chat.completions.create(model=MODEL, messages=user()))
    await resolve(client.chat.completions.create(model=MODEL, messages=user("[[words:3]]")))

    base = metric_attrs(fake)
    assert tokens(groq_instrumented) == [
        ({**base, "gen_ai.token.type": "input"}, 6 + 1),
        ({**base, "gen_ai.token.type": "output"}, 6 + 3),
    ]
    assert durations(groq_instrumented) == [(base, 2)]


async def test_request_options(groq_instrumented: TelemetryCapture, client: Any, fake: FakeLLMServer) -> None:
    await resolve(
        client.chat.completions.create(
            model=MODEL,
            messages=user("[[words:9]]"),
            max_tokens=4,  # max_completion_tokens: not a parameter of groq 0.9
            temperature=0.5,
            top_p=0.25,
            frequency_penalty=0.1,
            presence_penalty=0.2,
            seed=7,
            stop="END",
            response_format={"type": "json_object"},
        )
    )

    [span] = groq_instrumented.spans()
    assert dict(span.attributes) == {
        **request_attrs(fake),
        **reply_attrs(input_tokens=1, output_tokens=4, reason="length"),
        "gen_ai.request.max_tokens": 4,
        "gen_ai.request.temperature": 0.5,
        "gen_ai.request.top_p": 0.25,
        "gen_ai.request.frequency_penalty": 0.1,
        "gen_ai.request.presence_penalty": 0.2,
        "gen_ai.request.seed": 7,
        "gen_ai.request.stop_sequences": ("END",),
        "gen_ai.output.type": "json",
    }


async def test_cached_and_reasoning_tokens(
    groq_instrumented: TelemetryCapture, client: Any, fake: FakeLLMServer
) -> None:
    text = "[[scenario:cached:4]] [[scenario:reasoning:3]] hi"
    completion = await resolve(client.chat.completions.create(model=MODEL, messages=user(text)))

    details = completion.usage.model_dump()  # plain dicts where the SDK's type lacks them (groq 0.9)
    assert details["prompt_tokens_details"]["cached_tokens"] == 4
    assert details["completion_tokens_details"]["reasoning_tokens"] == 3
    [span] = groq_instrumented.spans()
    assert dict(span.attributes) == {
        **request_attrs(fake),
        **reply_attrs(input_tokens=3, output_tokens=9),
        "gen_ai.usage.cache_read.input_tokens": 4,
        # The 4 cached tokens at the input price (no cache price): none left uncached of the 3.
        "agentotel.usage.cost_usd": cost(4, 9),
        "gen_ai.usage.reasoning.output_tokens": 3,
    }


async def test_tool_loop_gives_an_inferred_tool_span(
    groq_instrumented: TelemetryCapture, client: Any, fake: FakeLLMServer
) -> None:
    messages: list[Any] = user()
    first = await resolve(client.chat.completions.create(model=MODEL, messages=messages, tools=WEATHER_TOOLS))
    [call] = first.choices[0].message.tool_calls
    assert (call.id, call.function.name, json.loads(call.function.arguments)) == (
        "call_1",
        "get_weather",
        {"city": "Paris"},
    )
    messages += [
        first.choices[0].message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "sunny"},
    ]
    second = await resolve(
        client.chat.completions.create(model=MODEL, messages=messages, tools=WEATHER_TOOLS)
    )

    assert second.choices[0].finish_reason == "stop"
    assert len(fake.requests) == 2
    spans = groq_instrumented.spans()
    assert [(s.name, s.kind) for s in spans] == [
        (SPAN_NAME, SpanKind.CLIENT),
        ("execute_tool get_weather", SpanKind.INTERNAL),
        (SPAN_NAME, SpanKind.CLIENT),
    ]
    first_span, tool, _ = spans
    assert first_span.attributes["gen_ai.response.finish_reasons"] == ("tool_calls",)
    assert first_span.attributes["agentotel.response.tool_calls.names"] == ("get_weather",)
    assert first_span.attributes["agentotel.response.tool_calls.ids"] == ("call_1",)
    assert tool.attributes["gen_ai.tool.name"] == "get_weather"
    assert tool.attributes["gen_ai.tool.call.id"] == "call_1"
    assert tool.attributes["agentotel.tool.inferred"] is True


async def test_with_raw_response(
    groq_instrumented: TelemetryCapture, client: Any, fake: FakeLLMServer
) -> None:
    raw = await resolve(client.chat.completions.with_raw_response.create(model=MODEL, messages=user()))
    assert raw.headers["x-request-id"] == "req_1"
    completion = await resolve(raw.parse())

    assert completion.choices[0].message.content == REPLY
    [span] = groq_instrumented.spans()
    assert dict(span.attributes) == {**request_attrs(fake), **reply_attrs()}


def test_with_streaming_response(groq_instrumented: TelemetryCapture, fake: FakeLLMServer) -> None:
    client = groq_client(fake)
    with client.chat.completions.with_streaming_response.create(model=MODEL, messages=user()) as response:
        completion = response.parse()

    assert completion.choices[0].message.content == REPLY
    [span] = groq_instrumented.spans()
    assert dict(span.attributes) == {**request_attrs(fake), **reply_attrs()}


# --- errors in Groq's format ------------------------------------------------------------------
ERRORS = [
    pytest.param("rate_limit", groq.RateLimitError, 429, "tokens", id="rate_limit"),
    pytest.param("server_error", groq.InternalServerError, 500, "internal_server_error", id="server_error"),
    pytest.param("overloaded", groq.InternalServerError, 503, "internal_server_error", id="overloaded"),
    pytest.param("bad_request", groq.BadRequestError, 400, "invalid_request_error", id="bad_request"),
]


@pytest.mark.parametrize(("scenario", "error", "status", "kind"), ERRORS)
async def test_error_span(
    cap: TelemetryCapture,
    client: Any,
    fake: FakeLLMServer,
    scenario: str,
    error: type[Exception],
    status: int,
    kind: str,
) -> None:
    messages = user(f"[[scenario:{scenario}]]")
    with pytest.raises(error) as plain:
        await resolve(client.chat.completions.create(model=MODEL, messages=messages))
    with instrumented(cap, GroqInstrumentor), pytest.raises(error) as traced:
        await resolve(client.chat.completions.create(model=MODEL, messages=messages))

    assert str(traced.value) == str(plain.value)
    assert traced.value.status_code == status
    assert set(traced.value.body) == {"error"}  # Groq's body: {"error": {"message", "type", "code"}}
    assert traced.value.body["error"]["type"] == kind
    assert len(fake.requests) == 2
    error_type = f"groq.{error.__name__}"
    [span] = cap.spans()
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == f"{error_type}: {traced.value}"
    assert dict(span.attributes) == {**request_attrs(fake), "error.type": error_type}
    [event] = span.events
    assert event.attributes["exception.type"] == error_type
    base = {k: v for k, v in metric_attrs(fake).items() if k != "gen_ai.response.model"}
    assert durations(cap) == [({**base, "error.type": error_type}, 1)]
    assert tokens(cap) == []


async def test_connection_error(cap: TelemetryCapture, fake: FakeLLMServer) -> None:
    port = closed_port()
    client = groq.Groq(base_url=f"http://127.0.0.1:{port}", api_key=API_KEY, max_retries=0)
    with instrumented(cap, GroqInstrumentor), pytest.raises(groq.APIConnectionError):
        client.chat.completions.create(model=MODEL, messages=user())

    [span] = cap.spans()
    assert dict(span.attributes) == {
        **request_attrs(fake),
        "server.port": port,
        "error.type": "groq.APIConnectionError",
    }


async def test_a_call_the_sdk_refuses_makes_no_span(groq_instrumented: TelemetryCapture, client: Any) -> None:
    with pytest.raises(TypeError):
        await resolve(client.chat.completions.create(model=MODEL))  # no messages: refused before sending

    assert groq_instrumented.spans() == []
    assert groq_instrumented.metric_points(DURATION) == []


async def test_retries_are_one_span_per_request(cap: TelemetryCapture, fake: FakeLLMServer) -> None:
    """A call the SDK retries is one span, failed with the last attempt's error: the retry loop is
    inside the patched request method (as in the ``openai`` SDK)."""
    client = groq.Groq(base_url=fake.base_url, api_key=API_KEY, max_retries=1)
    with instrumented(cap, GroqInstrumentor), pytest.raises(groq.InternalServerError):
        client.chat.completions.create(model=MODEL, messages=user("[[scenario:server_error]]"))

    assert len(fake.requests) == 2
    assert [s.name for s in cap.spans()] == [SPAN_NAME]


# --- one span per call, whatever else is instrumented -------------------------------------------
def test_openai_instrumentor_does_not_trace_a_groq_call(cap: TelemetryCapture, fake: FakeLLMServer) -> None:
    client = groq_client(fake)
    with instrumented(cap, OpenAIInstrumentor, GroqInstrumentor):
        client.chat.completions.create(model=MODEL, messages=user())
        stream = client.chat.completions.create(model=MODEL, messages=user(), stream=True)
        list(stream)

    assert len(fake.requests) == 2
    assert [(s.name, s.attributes["gen_ai.provider.name"]) for s in cap.spans()] == [
        (SPAN_NAME, "groq"),
        (SPAN_NAME, "groq"),
    ]
    assert {dict(p.attributes)["gen_ai.token.type"]: p.sum for p in cap.metric_points(TOKENS)} == {
        "input": 12,
        "output": 12,
    }


def test_an_openai_call_beside_is_the_openai_instrumentors(
    cap: TelemetryCapture, fake: FakeLLMServer
) -> None:
    oai = openai.OpenAI(base_url=fake.openai_base_url, api_key=FAKE_OPENAI_KEY, max_retries=0)
    with instrumented(cap, OpenAIInstrumentor, GroqInstrumentor):
        oai.chat.completions.create(model="gpt-4o", messages=user())
        groq_client(fake).chat.completions.create(model=MODEL, messages=user())

    assert [(s.name, s.attributes["gen_ai.provider.name"]) for s in cap.spans()] == [
        ("chat gpt-4o", "openai"),
        (SPAN_NAME, "groq"),
    ]


def test_uninstrumented_makes_nothing(cap: TelemetryCapture, fake: FakeLLMServer) -> None:
    with instrumented(cap, GroqInstrumentor):
        pass
    groq_client(fake).chat.completions.create(model=MODEL, messages=user())

    assert cap.spans() == []
    assert len(fake.requests) == 1


# --- the key ----------------------------------------------------------------------------------
async def test_no_key_anywhere(
    monkeypatch: pytest.MonkeyPatch, agent_layer: TelemetryCapture, fake: FakeLLMServer, tmp_path: Path
) -> None:
    """Content capture on, the key in the prompt, a call, a stream and a rate-limited call inside an
    agent: the key is in no span, log record, metric, audit record or run-store file."""
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "SPAN_AND_EVENT")
    cap = agent_layer
    audit = AuditSpanProcessor(
        tmp_path / "audit.jsonl",
        llm_calls=True,
        meter_provider=cap.meter_provider,
        logger_provider=cap.logger_provider,
    )
    store = RunStoreSpanProcessor(tmp_path / "runs", meter_provider=cap.meter_provider)
    cap.tracer_provider.add_span_processor(audit)
    cap.tracer_provider.add_span_processor(store)
    client = groq_client(fake, is_async=True)
    with instrumented(cap, GroqInstrumentor), agentotel.agent("planner"):
        await client.chat.completions.create(model=MODEL, messages=user(f"my key is {API_KEY}"))
        stream = await client.chat.completions.create(model=MODEL, messages=user(API_KEY), stream=True)
        _ = [c async for c in stream]
        with pytest.raises(groq.RateLimitError):
            await client.chat.completions.create(
                model=MODEL, messages=user(f"{API_KEY} [[scenario:rate_limit]]")
            )
    audit.force_flush()
    store.force_flush()

    llm = [s for s in cap.spans() if s.name == SPAN_NAME]
    assert len(llm) == 3
    assert "gen_ai.input.messages" in llm[0].attributes  # content was recorded, redacted
    run_files = sorted(p for p in (tmp_path / "runs").rglob("*") if p.is_file())
    assert run_files
    exported = {
        "spans": "\n".join(s.to_json() for s in cap.spans()),
        "logs": "\n".join(r.to_json() for r in cap.log_exporter.get_finished_logs()),
        "metrics": cap.metric_reader.get_metrics_data().to_json(),  # type: ignore[union-attr]
        "audit": (tmp_path / "audit.jsonl").read_text(),
        "runs": "\n".join(p.read_text() for p in run_files),
    }
    assert exported["audit"]
    assert "[REDACTED]" in exported["spans"]  # the prompt was captured, the key taken out
    for sink, text in exported.items():
        assert "fakeGroqKey" not in text, sink
    audit.shutdown()
    store.shutdown()


# --- the registry -----------------------------------------------------------------------------
def test_entry_point_and_extra() -> None:
    assert available()["agentotel_groq"] is GroqInstrumentor
    pyproject = tomllib.loads((Path(__file__).parents[3] / "pyproject.toml").read_text())
    extra = pyproject["project"]["optional-dependencies"]["groq"]
    assert [str(Requirement(r).specifier) for r in extra] == [
        str(Requirement(r.replace(" ", "")).specifier) for r in _instruments
    ]
    assert tuple(GroqInstrumentor().instrumentation_dependencies()) == _instruments


# --- the demo's call --------------------------------------------------------------------------
def test_demo_call(groq_instrumented: TelemetryCapture, fake: FakeLLMServer) -> None:
    from agentotel.cli import _demo_groq

    said: list[str] = []
    _demo_groq.run(_demo_groq.client(fake.base_url), _demo_groq.MODEL, said.append)

    assert said == [f"groq: {REPLY}"]
    assert [r.path for r in fake.requests] == ["/openai/v1/chat/completions"]
    [span] = groq_instrumented.spans()
    assert span.name == "chat llama-3.3-70b-versatile"
    assert dict(span.attributes) == {**request_attrs(fake), **reply_attrs()}


def test_demo_client_without_base_url_is_the_real_api(monkeypatch: pytest.MonkeyPatch) -> None:
    from agentotel.cli import _demo_groq

    monkeypatch.setenv("GROQ_API_KEY", API_KEY)
    real = _demo_groq.client(None)
    assert str(real.base_url) == "https://api.groq.com"
    assert real.api_key == API_KEY
