"""Never break the host app, Groq: when any of the provider's pure functions or the stream
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
from groq_helpers import MODEL, SPAN_NAME, WEATHER_TOOLS, groq_client, user
from provider_safety import Trial, dump

from agentotel.instrumentation.groq import GroqInstrumentor, content, extract, patch
from agentotel.instrumentation.groq.stream import ChatStreamAccumulator, LastChunksAccumulator
from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture

ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
COMPONENT = "groq"
CHUNKS = 8  # the fake server's stream of the default reply: an opening chunk, six words, the end


TRIAL = Trial(
    COMPONENT,
    GroqInstrumentor,
    groq_client,
    lambda server: groq_client(server, is_async=True),
    patch,
)


# --- the calls --------------------------------------------------------------------------------


def chat(client: Any) -> Any:
    return dump(client.chat.completions.create(model=MODEL, messages=user()))


def stream(client: Any) -> Any:
    """A plain stream: read from its first and last two chunks (``LastChunksAccumulator``)."""
    return dump(list(client.chat.completions.create(model=MODEL, messages=user(), stream=True)))


def stream_read_per_chunk(client: Any) -> Any:
    """Tools offered (answered in text): every chunk goes through ``ChatStreamAccumulator.process``."""
    chunks = client.chat.completions.create(
        model=MODEL, messages=user(), stream=True, tools=WEATHER_TOOLS, tool_choice="none"
    )
    return dump(list(chunks))


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


async def astream_read_per_chunk(client: Any) -> Any:
    chunks = await client.chat.completions.create(
        model=MODEL, messages=user(), stream=True, tools=WEATHER_TOOLS, tool_choice="none"
    )
    return dump([c async for c in chunks])


# --- one trial --------------------------------------------------------------------------------


# (what raises, the call, the spans left, the errors counted, content capture on)
CASES = [
    pytest.param((extract, "request_attributes"), chat, [], 1, False, id="request_attributes"),
    pytest.param((extract, "response_attributes"), chat, [SPAN_NAME], 1, False, id="response_attributes"),
    pytest.param((patch, "SDK.server"), chat, [], 1, False, id="server_attributes"),
    pytest.param((content, "request_content"), chat, [], 1, True, id="request_content"),
    pytest.param((content, "output_messages"), chat, [SPAN_NAME], 1, True, id="output_messages"),
    # The inferred tool span is lost, never the LLM spans.
    pytest.param((content, "tool_results"), tool_loop, [SPAN_NAME, SPAN_NAME], 1, False, id="tool_results"),
    pytest.param((extract, "one_plain_choice"), stream, [], 1, False, id="one_plain_choice"),
    pytest.param(
        (ChatStreamAccumulator, "process"),
        stream_read_per_chunk,
        [SPAN_NAME],
        CHUNKS,
        False,
        id="accumulator_process",
    ),
    # A plain stream's chunks reach the accumulator at the end only: it raises on the first.
    pytest.param(
        (ChatStreamAccumulator, "process"), stream, [SPAN_NAME], 1, False, id="accumulator_process_plain"
    ),
    pytest.param((ChatStreamAccumulator, "outcome"), stream, [SPAN_NAME], 1, False, id="accumulator_outcome"),
    pytest.param(
        (ChatStreamAccumulator, "outcome"),
        stream_read_per_chunk,
        [SPAN_NAME],
        1,
        False,
        id="accumulator_outcome_per_chunk",
    ),
    pytest.param((LastChunksAccumulator, "outcome"), stream, [SPAN_NAME], 1, False, id="last_chunks_outcome"),
    # The first chunk's take raises every time: ``process`` never becomes the C ``append``.
    pytest.param(
        (LastChunksAccumulator, "_take_first"), stream, [SPAN_NAME], CHUNKS, False, id="last_chunks_first"
    ),
    pytest.param(
        (ChatStreamAccumulator, "output_messages"), stream, [SPAN_NAME], 1, True, id="accumulator_output"
    ),
    pytest.param((ChatStreamAccumulator, "__init__"), stream, [SPAN_NAME], 1, False, id="accumulator_init"),
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
    pytest.param((extract, "request_attributes"), achat, [], 1, id="request_attributes"),
    pytest.param((extract, "response_attributes"), achat, [SPAN_NAME], 1, id="response_attributes"),
    pytest.param(
        (ChatStreamAccumulator, "process"),
        astream_read_per_chunk,
        [SPAN_NAME],
        CHUNKS,
        id="accumulator_process",
    ),
    pytest.param((ChatStreamAccumulator, "process"), astream, [SPAN_NAME], 1, id="accumulator_process_plain"),
    pytest.param((LastChunksAccumulator, "outcome"), astream, [SPAN_NAME], 1, id="last_chunks_outcome"),
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
    TRIAL.breaks(monkeypatch, target)
    await TRIAL.same_outcome_async(fake_llm, cap, call)
    TRIAL.check(cap, debug_log, spans, count)
