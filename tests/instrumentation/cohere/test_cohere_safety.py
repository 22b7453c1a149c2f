"""Never break the host app, Cohere: when any of the provider's pure functions or the stream
accumulator's methods raises, the SDK call returns exactly what it returns uninstrumented (same
types, same dumps), streams yield every event, the server sees the same requests, no span is
marked ERROR, and ``agentotel.telemetry.errors`` counts the failure with a DEBUG record.

Our functions are made to raise before instrument(): the operations take their function
references when the wrappers are built.
"""

from __future__ import annotations

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
from provider_safety import Trial, dump

from agentotel.instrumentation.cohere import CohereInstrumentor, content, extract, patch
from agentotel.instrumentation.cohere.stream import ChatStreamAccumulator
from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture

ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
COMPONENT = "cohere"


TRIAL = Trial(COMPONENT, CohereInstrumentor, sync_client, async_client, patch)


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
    TRIAL.breaks(monkeypatch, target)
    TRIAL.same_outcome(fresh_fake_llm, cap, call)
    TRIAL.check(cap, debug_log, spans, count)


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
    TRIAL.breaks(monkeypatch, target)
    await TRIAL.same_outcome_async(fresh_fake_llm, cap, call)
    TRIAL.check(cap, debug_log, spans, count)
