"""Never break the host app, Google GenAI: when any of the provider's pure functions or the stream
accumulator's methods raises, the SDK call returns exactly what it returns uninstrumented (same
types, same dumps), streams yield every chunk, the server sees the same requests, no span is
marked ERROR, and ``agentotel.telemetry.errors`` counts the failure with a DEBUG record.

Our functions are made to raise before instrument(): the operations take their function
references when the wrappers are built.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from google.genai import types
from google_genai_helpers import EMBED_MODEL, MODEL, QUESTION, SPAN_NAME, gemini_client, get_weather
from provider_safety import Trial, dump

from agentotel.instrumentation.google_genai import GoogleGenAIInstrumentor, content, extract, patch
from agentotel.instrumentation.google_genai.stream import GenerateContentAccumulator
from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture

ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
COMPONENT = "google_genai"


TRIAL = Trial(COMPONENT, GoogleGenAIInstrumentor, gemini_client, gemini_client, patch)


# --- the calls --------------------------------------------------------------------------------


def _dump(value: Any) -> Any:
    """A response as data, without the HTTP headers (their date differs between two runs)."""
    return dump(value, {"sdk_http_response"})


def generate(client: Any) -> Any:
    return _dump(client.models.generate_content(model=MODEL, contents=QUESTION))


def stream(client: Any) -> Any:
    return _dump(list(client.models.generate_content_stream(model=MODEL, contents=QUESTION)))


def tool_loop(client: Any) -> Any:
    """Automatic function calling: two model calls, a function response in the second request."""
    config = types.GenerateContentConfig(tools=[get_weather])
    return _dump(client.models.generate_content(model=MODEL, contents=QUESTION, config=config))


def embed(client: Any) -> Any:
    return _dump(client.models.embed_content(model=EMBED_MODEL, contents=["one", "two"]))


async def agenerate(client: Any) -> Any:
    return _dump(await client.aio.models.generate_content(model=MODEL, contents=QUESTION))


async def astream(client: Any) -> Any:
    chunks = await client.aio.models.generate_content_stream(model=MODEL, contents=QUESTION)
    return _dump([c async for c in chunks])


# --- one trial ----------------------------------------------------------------------------------


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
    TRIAL.breaks(monkeypatch, target)
    TRIAL.same_outcome(fake_llm, cap, call)
    TRIAL.check(cap, debug_log, spans, count)


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
    TRIAL.breaks(monkeypatch, target)
    await TRIAL.same_outcome_async(fake_llm, cap, call)
    TRIAL.check(cap, debug_log, spans, count)
