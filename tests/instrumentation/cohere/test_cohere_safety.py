"""Never break the host app, Cohere: when any of the provider's pure functions or the stream
accumulator's methods raises, the SDK call returns exactly what it returns uninstrumented (same
types, same dumps), streams yield every event, the server sees the same requests, no span is
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
from cohere_helpers import (
    EMBED_MODEL,
    MODEL,
    RERANK_MODEL,
    SPAN_NAME,
    WEATHER_TOOL,
    async_client,
    sync_client,
    user,
)
from helpers import TELEMETRY_ERRORS, instrumented

from agentotel.instrumentation.cohere import CohereInstrumentor, content, extract, patch
from agentotel.instrumentation.cohere.stream import ChatStreamAccumulator
from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture

ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
COMPONENT = "cohere"


class TelemetryBug(RuntimeError):
    """Stands for any bug in our own code."""


def _boom(*_args: Any, **_kwargs: Any) -> Any:
    raise TelemetryBug("agentotel bug (simulated)")


@pytest.fixture(autouse=True)
def _error_type_of_our_bug(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(TelemetryBug, "__module__", "test_cohere_safety")


def dump(value: Any) -> Any:
    if isinstance(value, list):
        return [dump(v) for v in value]
    return (type(value), value.model_dump())


# --- the calls --------------------------------------------------------------------------------
def chat(client: Any) -> Any:
    return dump(client.chat(model=MODEL, messages=user()))


def stream(client: Any) -> Any:
    return dump(list(client.chat_stream(model=MODEL, messages=user())))


def stream_tools(client: Any) -> Any:
    return dump(list(client.chat_stream(model=MODEL, messages=user(), tools=[WEATHER_TOOL])))


def tool_loop(client: Any) -> Any:
    first = client.chat(model=MODEL, messages=user(), tools=[WEATHER_TOOL])
    messages = [
        *user(),
        first.message,
        {"role": "tool", "tool_call_id": first.message.tool_calls[0].id, "content": "sunny"},
    ]
    return dump([first, client.chat(model=MODEL, messages=messages, tools=[WEATHER_TOOL])])


def embed(client: Any) -> Any:
    return dump(client.embed(model=EMBED_MODEL, texts=["one", "two"], input_type="search_document"))


def rerank(client: Any) -> Any:
    return dump(client.rerank(model=RERANK_MODEL, query="q", documents=["a q", "b"]))


async def achat(client: Any) -> Any:
    return dump(await client.chat(model=MODEL, messages=user()))


async def astream(client: Any) -> Any:
    return dump([e async for e in client.chat_stream(model=MODEL, messages=user())])


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
        ({"agentotel.component": COMPONENT, "error.type": "test_cohere_safety.TelemetryBug"}, count)
    ]
    records = [r for r in log.records if r.name == "agentotel" and "telemetry error" in r.getMessage()]
    assert len(records) == count
    for record in records:
        assert record.levelno == logging.DEBUG
        assert record.exc_info is not None and isinstance(record.exc_info[1], TelemetryBug)


def same_outcome(server: FakeLLMServer, cap: TelemetryCapture, call: Callable[[Any], Any]) -> None:
    server.state.reset()
    server.clear()
    plain = call(sync_client(server))
    plain_requests = [(r.path, r.body) for r in server.requests]
    server.state.reset()
    server.clear()
    with instrumented(cap, CohereInstrumentor):
        traced = call(sync_client(server))
    assert [(r.path, r.body) for r in server.requests] == plain_requests
    assert traced == plain


async def same_outcome_async(
    server: FakeLLMServer, cap: TelemetryCapture, call: Callable[[Any], Awaitable[Any]]
) -> None:
    server.state.reset()
    server.clear()
    plain = await call(async_client(server))
    plain_requests = [(r.path, r.body) for r in server.requests]
    server.state.reset()
    server.clear()
    with instrumented(cap, CohereInstrumentor):
        traced = await call(async_client(server))
    assert [(r.path, r.body) for r in server.requests] == plain_requests
    assert traced == plain


TOOL = "execute_tool get_weather"
EVENTS = 10  # the events of a streamed REPLY

# (what raises, the call, the spans left, the errors counted, content capture on)
CASES = [
    pytest.param((extract, "chat_request_attributes"), chat, [], 1, False, id="chat_request_attributes"),
    pytest.param(
        (extract, "chat_stream_request_attributes"), stream, [], 1, False, id="chat_stream_request_attributes"
    ),
    pytest.param((extract, "embed_request_attributes"), embed, [], 1, False, id="embed_request_attributes"),
    pytest.param(
        (extract, "rerank_request_attributes"), rerank, [], 1, False, id="rerank_request_attributes"
    ),
    pytest.param(
        (extract, "chat_response_attributes"), chat, [SPAN_NAME], 1, False, id="chat_response_attributes"
    ),
    pytest.param(
        (extract, "meta_response_attributes"), embed, [f"embeddings {EMBED_MODEL}"], 1, False, id="meta_embed"
    ),
    pytest.param(
        (extract, "meta_response_attributes"), rerank, [f"rerank {RERANK_MODEL}"], 1, False, id="meta_rerank"
    ),
    pytest.param((patch, "SDK.server"), chat, [], 1, False, id="server_attributes"),
    pytest.param((patch, "SDK.client"), chat, [], 1, False, id="client_of"),
    pytest.param((content, "chat_request_content"), chat, [], 1, True, id="chat_request_content"),
    pytest.param((content, "chat_output_messages"), chat, [SPAN_NAME], 1, True, id="chat_output_messages"),
    pytest.param((content, "embed_request_content"), embed, [], 1, True, id="embed_request_content"),
    pytest.param((content, "rerank_request_content"), rerank, [], 1, True, id="rerank_request_content"),
    # The inferred tool span is lost, never the LLM spans.
    pytest.param((content, "tool_results"), tool_loop, [SPAN_NAME, SPAN_NAME], 1, False, id="tool_results"),
    pytest.param(
        (ChatStreamAccumulator, "process"), stream, [SPAN_NAME], EVENTS, False, id="accumulator_process"
    ),
    pytest.param(
        (ChatStreamAccumulator, "process"),
        stream_tools,
        [SPAN_NAME],
        12,
        False,
        id="accumulator_process_tools",
    ),
    pytest.param((ChatStreamAccumulator, "outcome"), stream, [SPAN_NAME], 1, False, id="accumulator_outcome"),
    pytest.param(
        (ChatStreamAccumulator, "output_messages"), stream, [SPAN_NAME], 1, True, id="accumulator_output"
    ),
]


def _break(monkeypatch: pytest.MonkeyPatch, target: tuple[Any, str]) -> None:
    owner, name = target
    if name == "SDK.server":
        monkeypatch.setattr(patch, "SDK", dataclasses.replace(patch.SDK, server=_boom))
    elif name == "SDK.client":
        monkeypatch.setattr(patch, "SDK", dataclasses.replace(patch.SDK, client=_boom))
    else:
        monkeypatch.setattr(owner, name, _boom)


@pytest.mark.parametrize(("target", "call", "spans", "count", "capture"), CASES)
def test_our_failure_leaves_the_call_untouched(
    monkeypatch: pytest.MonkeyPatch,
    fresh_fake_llm: FakeLLMServer,
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
    same_outcome(fresh_fake_llm, cap, call)
    check(cap, debug_log, spans, count)


ASYNC_CASES = [
    pytest.param((extract, "chat_request_attributes"), achat, [], 1, id="chat_request_attributes"),
    pytest.param((extract, "chat_response_attributes"), achat, [SPAN_NAME], 1, id="chat_response_attributes"),
    pytest.param(
        (extract, "chat_stream_request_attributes"), astream, [], 1, id="chat_stream_request_attributes"
    ),
    pytest.param((ChatStreamAccumulator, "process"), astream, [SPAN_NAME], EVENTS, id="accumulator_process"),
    pytest.param((ChatStreamAccumulator, "outcome"), astream, [SPAN_NAME], 1, id="accumulator_outcome"),
]


@pytest.mark.parametrize(("target", "call", "spans", "count"), ASYNC_CASES)
async def test_our_failure_leaves_the_async_call_untouched(
    monkeypatch: pytest.MonkeyPatch,
    fresh_fake_llm: FakeLLMServer,
    cap: TelemetryCapture,
    debug_log: pytest.LogCaptureFixture,
    target: tuple[Any, str],
    call: Callable[[Any], Awaitable[Any]],
    spans: list[str],
    count: int,
) -> None:
    _break(monkeypatch, target)
    await same_outcome_async(fresh_fake_llm, cap, call)
    check(cap, debug_log, spans, count)
