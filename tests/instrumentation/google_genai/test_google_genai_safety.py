"""Never break the host app, Google GenAI: when any of the provider's pure functions or the stream
accumulator's methods raises, the SDK call returns exactly what it returns uninstrumented (same
types, same dumps), streams yield every chunk, the server sees the same requests, no span is
marked ERROR, and ``agentotel.telemetry.errors`` counts the failure with a DEBUG record.

Our functions are made to raise before instrument(): the operations take their function
references when the wrappers are built.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from google.genai import types
from google_genai_helpers import EMBED_MODEL, MODEL, QUESTION, SPAN_NAME, gemini_client, get_weather
from helpers import TELEMETRY_ERRORS, instrumented

from agentotel.instrumentation.google_genai import GoogleGenAIInstrumentor, content, extract, patch
from agentotel.instrumentation.google_genai.stream import GenerateContentAccumulator
from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture

ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
COMPONENT = "google_genai"


class TelemetryBug(RuntimeError):
    """Stands for any bug in our own code."""


def _boom(*_args: Any, **_kwargs: Any) -> Any:
    raise TelemetryBug("agentotel bug (simulated)")


@pytest.fixture(autouse=True)
def _error_type_of_our_bug(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(TelemetryBug, "__module__", "test_google_genai_safety")


def dump(value: Any) -> Any:
    """A response as data, without the HTTP headers (their date differs between two runs)."""
    if isinstance(value, list):
        return [dump(v) for v in value]
    return (type(value), value.model_dump(exclude={"sdk_http_response"}))


# --- the calls --------------------------------------------------------------------------------
def generate(client: Any) -> Any:
    return dump(client.models.generate_content(model=MODEL, contents=QUESTION))


def stream(client: Any) -> Any:
    return dump(list(client.models.generate_content_stream(model=MODEL, contents=QUESTION)))


def tool_loop(client: Any) -> Any:
    """Automatic function calling: two model calls, a function response in the second request."""
    config = types.GenerateContentConfig(tools=[get_weather])
    return dump(client.models.generate_content(model=MODEL, contents=QUESTION, config=config))


def embed(client: Any) -> Any:
    return dump(client.models.embed_content(model=EMBED_MODEL, contents=["one", "two"]))


async def agenerate(client: Any) -> Any:
    return dump(await client.aio.models.generate_content(model=MODEL, contents=QUESTION))


async def astream(client: Any) -> Any:
    chunks = await client.aio.models.generate_content_stream(model=MODEL, contents=QUESTION)
    return dump([c async for c in chunks])


# --- one trial ----------------------------------------------------------------------------------
def reported(cap: TelemetryCapture) -> list[tuple[dict[str, Any], int]]:
    return [(dict(p.attributes), p.value) for p in cap.metric_points(TELEMETRY_ERRORS)]


def check(cap: TelemetryCapture, log: pytest.LogCaptureFixture, names: list[str], count: int) -> None:
    spans = cap.spans()
    assert [s.name for s in spans] == names
    for span in spans:
        assert span.status.status_code.name == "UNSET"
        assert "error.type" not in (span.attributes or {})
    assert reported(cap) == [
        ({"agentotel.component": COMPONENT, "error.type": "test_google_genai_safety.TelemetryBug"}, count)
    ]
    records = [r for r in log.records if r.name == "agentotel" and "telemetry error" in r.getMessage()]
    assert len(records) == count
    for record in records:
        assert record.levelno == logging.DEBUG
        assert record.exc_info is not None and isinstance(record.exc_info[1], TelemetryBug)


def same_outcome(server: FakeLLMServer, cap: TelemetryCapture, call: Callable[[Any], Any]) -> Any:
    server.state.reset()
    server.clear()
    plain = call(gemini_client(server))
    plain_requests = [(r.path, r.body) for r in server.requests]
    server.state.reset()
    server.clear()
    with instrumented(cap, GoogleGenAIInstrumentor):
        traced = call(gemini_client(server))
    assert [(r.path, r.body) for r in server.requests] == plain_requests
    assert traced == plain
    return plain


async def same_outcome_async(
    server: FakeLLMServer, cap: TelemetryCapture, call: Callable[[Any], Awaitable[Any]]
) -> Any:
    server.state.reset()
    server.clear()
    plain = await call(gemini_client(server))
    plain_requests = len(server.requests)
    server.state.reset()
    server.clear()
    with instrumented(cap, GoogleGenAIInstrumentor):
        traced = await call(gemini_client(server))
    assert len(server.requests) == plain_requests
    assert traced == plain
    return plain


TOOL = "execute_tool get_weather"
EMBED = f"embeddings {EMBED_MODEL}"

# (what raises, the call, the spans left, the errors counted, content capture on)
CASES = [
    pytest.param((extract, "request_attributes"), generate, [], 1, False, id="request_attributes"),
    pytest.param(
        (extract, "stream_request_attributes"), stream, [], 1, False, id="stream_request_attributes"
    ),
    pytest.param((extract, "embed_request_attributes"), embed, [], 1, False, id="embed_request_attributes"),
    pytest.param((extract, "response_attributes"), generate, [SPAN_NAME], 1, False, id="response_attributes"),
    pytest.param(
        (extract, "embed_response_attributes"), embed, [EMBED], 1, False, id="embed_response_attributes"
    ),
    pytest.param((patch, "SDK.server"), generate, [], 1, False, id="server_attributes"),
    pytest.param((content, "request_content"), generate, [], 1, True, id="request_content"),
    pytest.param((content, "output_messages"), generate, [SPAN_NAME], 1, True, id="output_messages"),
    # The inferred tool span is lost, never the LLM spans.
    pytest.param((content, "tool_results"), tool_loop, [SPAN_NAME, SPAN_NAME], 1, False, id="tool_results"),
    # The first response loses its attributes (and its pending calls), so no tool span either.
    pytest.param((extract, "call_ids"), tool_loop, [SPAN_NAME, SPAN_NAME], 1, False, id="call_ids"),
    pytest.param(
        (GenerateContentAccumulator, "process"), stream, [SPAN_NAME], 6, False, id="accumulator_process"
    ),
    pytest.param(
        (GenerateContentAccumulator, "outcome"), stream, [SPAN_NAME], 1, False, id="accumulator_outcome"
    ),
    pytest.param(
        (GenerateContentAccumulator, "output_messages"), stream, [SPAN_NAME], 1, True, id="accumulator_output"
    ),
]


def _break(monkeypatch: pytest.MonkeyPatch, target: tuple[Any, str]) -> None:
    owner, name = target
    if name == "SDK.server":
        monkeypatch.setattr(patch, "SDK", dataclasses.replace(patch.SDK, server=_boom))
    else:
        monkeypatch.setattr(owner, name, _boom)


@pytest.mark.parametrize(("target", "call", "spans", "count", "capture"), CASES)
def test_our_failure_leaves_the_call_untouched(
    monkeypatch: pytest.MonkeyPatch,
    fake_llm: FakeLLMServer,
    cap: TelemetryCapture,
    debug_log: pytest.LogCaptureFixture,
    target: tuple[Any, str],
    call: Callable[[Any], Any],
    spans: list[str],
    count: int,
    capture: bool,
) -> None:
    if capture:
        monkeypatch.setenv(ENV, "SPAN_ONLY")
    _break(monkeypatch, target)
    same_outcome(fake_llm, cap, call)
    check(cap, debug_log, spans, count)


ASYNC_CASES = [
    pytest.param((extract, "request_attributes"), agenerate, [], 1, id="request_attributes"),
    pytest.param((extract, "response_attributes"), agenerate, [SPAN_NAME], 1, id="response_attributes"),
    pytest.param((GenerateContentAccumulator, "process"), astream, [SPAN_NAME], 6, id="accumulator_process"),
    pytest.param((GenerateContentAccumulator, "outcome"), astream, [SPAN_NAME], 1, id="accumulator_outcome"),
]


@pytest.mark.parametrize(("target", "call", "spans", "count"), ASYNC_CASES)
async def test_our_failure_leaves_the_async_call_untouched(
    monkeypatch: pytest.MonkeyPatch,
    fake_llm: FakeLLMServer,
    cap: TelemetryCapture,
    debug_log: pytest.LogCaptureFixture,
    target: tuple[Any, str],
    call: Callable[[Any], Awaitable[Any]],
    spans: list[str],
    count: int,
) -> None:
    _break(monkeypatch, target)
    await same_outcome_async(fake_llm, cap, call)
    check(cap, debug_log, spans, count)
