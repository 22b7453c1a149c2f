"""Never break the host app, Ollama: when any of the provider's pure functions or the stream
accumulators' methods raises, the SDK call returns exactly what it returns uninstrumented (same
types, same dumps), streams yield every chunk, the server sees the same requests, no span is
marked ERROR, and ``agentotel.telemetry.errors`` counts the failure with a DEBUG record.

Our functions are made to raise before instrument(): the operations take their function
references when the wrappers are built.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from ollama_helpers import EMBED_MODEL, MODEL, QUESTION, WEATHER_TOOL, client, user
from provider_safety import Trial, boom, dump

from agentotel.instrumentation.ollama import OllamaInstrumentor, content, extract, patch
from agentotel.instrumentation.ollama.stream import ChatAccumulator, GenerateAccumulator
from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture

ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
COMPONENT = "ollama"
CHAT = f"chat {MODEL}"
GENERATE = f"text_completion {MODEL}"
EMBED = f"embeddings {EMBED_MODEL}"


TRIAL = Trial(COMPONENT, OllamaInstrumentor, client, lambda server: client(server, is_async=True), patch)


# --- the calls --------------------------------------------------------------------------------


def chat(c: Any) -> Any:
    return dump(c.chat(model=MODEL, messages=user()))


def chat_stream(c: Any) -> Any:
    return dump(list(c.chat(model=MODEL, messages=user(), stream=True)))


def generate(c: Any) -> Any:
    return dump(c.generate(model=MODEL, prompt=QUESTION))


def generate_stream(c: Any) -> Any:
    return dump(list(c.generate(model=MODEL, prompt=QUESTION, stream=True)))


def embed(c: Any) -> Any:
    return dump(c.embed(model=EMBED_MODEL, input=["one", "two"]))


def tool_loop(c: Any) -> Any:
    """A tool call, then its result sent back: two model calls."""
    messages: list[Any] = user()
    first = c.chat(model=MODEL, messages=messages, tools=[WEATHER_TOOL])
    answer = {"role": "tool", "content": "sunny", "tool_name": "get_weather"}
    second = c.chat(model=MODEL, messages=[*messages, first.message, answer], tools=[WEATHER_TOOL])
    return dump([first, second])


async def achat(c: Any) -> Any:
    return dump(await c.chat(model=MODEL, messages=user()))


async def achat_stream(c: Any) -> Any:
    return dump([chunk async for chunk in await c.chat(model=MODEL, messages=user(), stream=True)])


# --- one trial ----------------------------------------------------------------------------------


# (what raises, the call, the spans left, the errors counted, content capture on)
CASES = [
    pytest.param((extract, "chat_request_attributes"), chat, [], 1, False, id="chat_request_attributes"),
    pytest.param(
        (extract, "chat_request_attributes"), chat_stream, [], 1, False, id="stream_request_attributes"
    ),
    pytest.param(
        (extract, "generate_request_attributes"), generate, [], 1, False, id="generate_request_attributes"
    ),
    pytest.param((extract, "embed_request_attributes"), embed, [], 1, False, id="embed_request_attributes"),
    pytest.param((extract, "response_attributes"), chat, [CHAT], 1, False, id="response_attributes"),
    pytest.param(
        (extract, "response_attributes"), generate, [GENERATE], 1, False, id="generate_response_attributes"
    ),
    pytest.param(
        (extract, "embed_response_attributes"), embed, [EMBED], 1, False, id="embed_response_attributes"
    ),
    pytest.param((patch, "SDK.server"), chat, [], 1, False, id="server_attributes"),
    pytest.param((content, "chat_request_content"), chat, [], 1, True, id="chat_request_content"),
    pytest.param((content, "generate_request_content"), generate, [], 1, True, id="generate_request_content"),
    pytest.param((content, "embed_request_content"), embed, [], 1, True, id="embed_request_content"),
    pytest.param((content, "chat_output_messages"), chat, [CHAT], 1, True, id="chat_output_messages"),
    pytest.param(
        (content, "generate_output_messages"), generate, [GENERATE], 1, True, id="generate_output_messages"
    ),
    # The inferred tool span is lost, never the LLM spans.
    pytest.param((content, "tool_results"), tool_loop, [CHAT, CHAT], 1, False, id="tool_results"),
    # The first response loses its attributes (and its pending calls), so no tool span either.
    pytest.param((extract, "call_ids"), tool_loop, [CHAT, CHAT], 1, False, id="call_ids"),
    pytest.param((ChatAccumulator, "process"), chat_stream, [CHAT], 7, False, id="chat_accumulator_process"),
    pytest.param((ChatAccumulator, "outcome"), chat_stream, [CHAT], 1, False, id="chat_accumulator_outcome"),
    pytest.param(
        (ChatAccumulator, "output_messages"), chat_stream, [CHAT], 1, True, id="chat_accumulator_output"
    ),
    pytest.param(
        (GenerateAccumulator, "process"), generate_stream, [GENERATE], 7, False, id="gen_accumulator_process"
    ),
    pytest.param(
        (GenerateAccumulator, "outcome"), generate_stream, [GENERATE], 1, False, id="gen_accumulator_outcome"
    ),
    pytest.param(
        (GenerateAccumulator, "output_messages"),
        generate_stream,
        [GENERATE],
        1,
        True,
        id="gen_accumulator_output",
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
    pytest.param((extract, "chat_request_attributes"), achat, [], 1, id="request_attributes"),
    pytest.param((extract, "chat_request_attributes"), achat_stream, [], 1, id="stream_request_attributes"),
    pytest.param((extract, "response_attributes"), achat, [CHAT], 1, id="response_attributes"),
    pytest.param((ChatAccumulator, "process"), achat_stream, [CHAT], 7, id="accumulator_process"),
    pytest.param((ChatAccumulator, "outcome"), achat_stream, [CHAT], 1, id="accumulator_outcome"),
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


def test_a_broken_lazy_stream_proxy_leaves_the_stream(
    monkeypatch: pytest.MonkeyPatch,
    fake_llm: FakeLLMServer,
    cap: TelemetryCapture,
    debug_log: pytest.LogCaptureFixture,
) -> None:
    """The engine's lazy-stream proxy failing to build: the app gets the SDK's own generator."""
    from agentotel.instrumentation import _sdk_hooks

    monkeypatch.setattr(_sdk_hooks._LazyStream, "__init__", boom)
    TRIAL.same_outcome(fake_llm, cap, chat_stream)
    TRIAL.check(cap, debug_log, [], 1)
