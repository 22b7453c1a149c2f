"""Never break the host app, Ollama: when any of the provider's pure functions or the stream
accumulators' methods raises, the SDK call returns exactly what it returns uninstrumented (same
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
from helpers import TELEMETRY_ERRORS, instrumented
from ollama_helpers import EMBED_MODEL, MODEL, QUESTION, WEATHER_TOOL, client, user

from agentotel.instrumentation.ollama import OllamaInstrumentor, content, extract, patch
from agentotel.instrumentation.ollama.stream import ChatAccumulator, GenerateAccumulator
from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture

ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
COMPONENT = "ollama"
CHAT = f"chat {MODEL}"
GENERATE = f"text_completion {MODEL}"
EMBED = f"embeddings {EMBED_MODEL}"


class TelemetryBug(RuntimeError):
    """Stands for any bug in our own code."""


def _boom(*_args: Any, **_kwargs: Any) -> Any:
    raise TelemetryBug("agentotel bug (simulated)")


@pytest.fixture(autouse=True)
def _error_type_of_our_bug(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(TelemetryBug, "__module__", "test_ollama_safety")


def dump(value: Any) -> Any:
    if isinstance(value, list):
        return [dump(v) for v in value]
    return (type(value), value.model_dump())


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
def reported(cap: TelemetryCapture) -> list[tuple[dict[str, Any], int]]:
    return [(dict(p.attributes), p.value) for p in cap.metric_points(TELEMETRY_ERRORS)]


def check(cap: TelemetryCapture, log: pytest.LogCaptureFixture, names: list[str], count: int) -> None:
    spans = cap.spans()
    assert [s.name for s in spans] == names
    for span in spans:
        assert span.status.status_code.name == "UNSET"
        assert "error.type" not in (span.attributes or {})
    assert reported(cap) == [
        ({"agentotel.component": COMPONENT, "error.type": "test_ollama_safety.TelemetryBug"}, count)
    ]
    records = [r for r in log.records if r.name == "agentotel" and "telemetry error" in r.getMessage()]
    assert len(records) == count
    for record in records:
        assert record.levelno == logging.DEBUG
        assert record.exc_info is not None and isinstance(record.exc_info[1], TelemetryBug)


def same_outcome(server: FakeLLMServer, cap: TelemetryCapture, call: Callable[[Any], Any]) -> Any:
    server.state.reset()
    server.clear()
    plain = call(client(server))
    plain_requests = [(r.path, r.body) for r in server.requests]
    server.state.reset()
    server.clear()
    with instrumented(cap, OllamaInstrumentor):
        traced = call(client(server))
    assert [(r.path, r.body) for r in server.requests] == plain_requests
    assert traced == plain
    return plain


async def same_outcome_async(
    server: FakeLLMServer, cap: TelemetryCapture, call: Callable[[Any], Awaitable[Any]]
) -> Any:
    server.state.reset()
    server.clear()
    plain = await call(client(server, is_async=True))
    plain_requests = [(r.path, r.body) for r in server.requests]
    server.state.reset()
    server.clear()
    with instrumented(cap, OllamaInstrumentor):
        traced = await call(client(server, is_async=True))
    assert [(r.path, r.body) for r in server.requests] == plain_requests
    assert traced == plain
    return plain


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
    _break(monkeypatch, target)
    await same_outcome_async(fake_llm, cap, call)
    check(cap, debug_log, spans, count)


def test_a_broken_lazy_stream_proxy_leaves_the_stream(
    monkeypatch: pytest.MonkeyPatch,
    fake_llm: FakeLLMServer,
    cap: TelemetryCapture,
    debug_log: pytest.LogCaptureFixture,
) -> None:
    """The engine's lazy-stream proxy failing to build: the app gets the SDK's own generator."""
    from agentotel.instrumentation import _sdk_hooks

    monkeypatch.setattr(_sdk_hooks._LazyStream, "__init__", _boom)
    same_outcome(fake_llm, cap, chat_stream)
    check(cap, debug_log, [], 1)
