"""Never break the host app, Groq: when any of the provider's pure functions or the stream
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
from groq_helpers import MODEL, SPAN_NAME, WEATHER_TOOLS, groq_client, user
from helpers import TELEMETRY_ERRORS, instrumented

from agentotel.instrumentation.groq import GroqInstrumentor, content, extract, patch
from agentotel.instrumentation.groq.stream import ChatStreamAccumulator
from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture

ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
COMPONENT = "groq"
CHUNKS = 8  # the fake server's stream of the default reply: an opening chunk, six words, the end


class TelemetryBug(RuntimeError):
    """Stands for any bug in our own code."""


def _boom(*_args: Any, **_kwargs: Any) -> Any:
    raise TelemetryBug("agentotel bug (simulated)")


@pytest.fixture(autouse=True)
def _error_type_of_our_bug(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(TelemetryBug, "__module__", "test_groq_safety")


def dump(value: Any) -> Any:
    if isinstance(value, list):
        return [dump(v) for v in value]
    return (type(value), value.model_dump())


# --- the calls --------------------------------------------------------------------------------
def chat(client: Any) -> Any:
    return dump(client.chat.completions.create(model=MODEL, messages=user()))


def stream(client: Any) -> Any:
    return dump(list(client.chat.completions.create(model=MODEL, messages=user(), stream=True)))


def tool_loop(client: Any) -> Any:
    """A tool call, then its result sent back: two model calls."""
    messages: list[Any] = user()
    first = client.chat.completions.create(model=MODEL, messages=messages, tools=WEATHER_TOOLS)
    [call] = first.choices[0].message.tool_calls
    messages += [
        first.choices[0].message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "sunny"},
    ]
    second = client.chat.completions.create(model=MODEL, messages=messages, tools=WEATHER_TOOLS)
    return [dump(first), dump(second)]


async def achat(client: Any) -> Any:
    return dump(await client.chat.completions.create(model=MODEL, messages=user()))


async def astream(client: Any) -> Any:
    chunks = await client.chat.completions.create(model=MODEL, messages=user(), stream=True)
    return dump([c async for c in chunks])


# --- one trial --------------------------------------------------------------------------------
def reported(cap: TelemetryCapture) -> list[tuple[dict[str, Any], int]]:
    return [(dict(p.attributes), p.value) for p in cap.metric_points(TELEMETRY_ERRORS)]


def check(cap: TelemetryCapture, log: pytest.LogCaptureFixture, names: list[str], count: int) -> None:
    spans = cap.spans()
    assert [s.name for s in spans] == names
    for span in spans:
        assert span.status.status_code.name == "UNSET"
        assert "error.type" not in (span.attributes or {})
    assert reported(cap) == [
        ({"agentotel.component": COMPONENT, "error.type": "test_groq_safety.TelemetryBug"}, count)
    ]
    records = [r for r in log.records if r.name == "agentotel" and "telemetry error" in r.getMessage()]
    assert len(records) == count
    for record in records:
        assert record.levelno == logging.DEBUG
        assert record.exc_info is not None and isinstance(record.exc_info[1], TelemetryBug)


def same_outcome(server: FakeLLMServer, cap: TelemetryCapture, call: Callable[[Any], Any]) -> None:
    server.state.reset()
    server.clear()
    plain = call(groq_client(server))
    plain_requests = [(r.path, r.body) for r in server.requests]
    server.state.reset()
    server.clear()
    with instrumented(cap, GroqInstrumentor):
        traced = call(groq_client(server))
    assert [(r.path, r.body) for r in server.requests] == plain_requests
    assert traced == plain


async def same_outcome_async(
    server: FakeLLMServer, cap: TelemetryCapture, call: Callable[[Any], Awaitable[Any]]
) -> None:
    server.state.reset()
    server.clear()
    plain = await call(groq_client(server, is_async=True))
    plain_requests = [(r.path, r.body) for r in server.requests]
    server.state.reset()
    server.clear()
    with instrumented(cap, GroqInstrumentor):
        traced = await call(groq_client(server, is_async=True))
    assert [(r.path, r.body) for r in server.requests] == plain_requests
    assert traced == plain


# (what raises, the call, the spans left, the errors counted, content capture on)
CASES = [
    pytest.param((extract, "request_attributes"), chat, [], 1, False, id="request_attributes"),
    pytest.param((extract, "response_attributes"), chat, [SPAN_NAME], 1, False, id="response_attributes"),
    pytest.param((patch, "SDK.server"), chat, [], 1, False, id="server_attributes"),
    pytest.param((content, "request_content"), chat, [], 1, True, id="request_content"),
    pytest.param((content, "output_messages"), chat, [SPAN_NAME], 1, True, id="output_messages"),
    # The inferred tool span is lost, never the LLM spans.
    pytest.param((content, "tool_results"), tool_loop, [SPAN_NAME, SPAN_NAME], 1, False, id="tool_results"),
    pytest.param(
        (ChatStreamAccumulator, "process"), stream, [SPAN_NAME], CHUNKS, False, id="accumulator_process"
    ),
    pytest.param((ChatStreamAccumulator, "outcome"), stream, [SPAN_NAME], 1, False, id="accumulator_outcome"),
    pytest.param(
        (ChatStreamAccumulator, "output_messages"), stream, [SPAN_NAME], 1, True, id="accumulator_output"
    ),
    pytest.param((ChatStreamAccumulator, "__init__"), stream, [SPAN_NAME], 1, False, id="accumulator_init"),
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
    pytest.param((extract, "request_attributes"), achat, [], 1, id="request_attributes"),
    pytest.param((extract, "response_attributes"), achat, [SPAN_NAME], 1, id="response_attributes"),
    pytest.param((ChatStreamAccumulator, "process"), astream, [SPAN_NAME], CHUNKS, id="accumulator_process"),
    pytest.param((ChatStreamAccumulator, "outcome"), astream, [SPAN_NAME], 1, id="accumulator_outcome"),
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
