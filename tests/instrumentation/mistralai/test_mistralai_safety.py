"""Never break the host app, Mistral: when any of the provider's pure functions or the stream
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
from helpers import instrumented
from mistralai_helpers import EMBED_MODEL, MESSAGES, MODEL, QUESTION, SPAN_NAME, WEATHER_TOOL, mistral_client
from provider_safety import Trial, dump

from agentotel.instrumentation.mistralai import MistralInstrumentor, content, extract, patch
from agentotel.instrumentation.mistralai.stream import ChatStreamAccumulator, LastEventsAccumulator
from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture

ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
COMPONENT = "mistralai"
EVENTS = 8  # events of a streamed REPLY


TRIAL = Trial(COMPONENT, MistralInstrumentor, mistral_client, mistral_client, patch)


# --- the calls --------------------------------------------------------------------------------


def complete(client: Any) -> Any:
    return dump(client.chat.complete(model=MODEL, messages=MESSAGES))


def stream(client: Any) -> Any:
    return dump(list(client.chat.stream(model=MODEL, messages=MESSAGES)))


def stream_read_per_event(client: Any) -> Any:
    """Tools offered (answered in text): every event goes through ``ChatStreamAccumulator.process``."""
    return dump(
        list(client.chat.stream(model=MODEL, messages=MESSAGES, tools=[WEATHER_TOOL], tool_choice="none"))
    )


def tool_loop(client: Any) -> Any:
    """Two model calls, the tool's result sent back in the second."""
    first = client.chat.complete(model=MODEL, messages=MESSAGES, tools=[WEATHER_TOOL])
    message = first.choices[0].message
    [call] = message.tool_calls
    result = {"role": "tool", "tool_call_id": call.id, "name": "get_weather", "content": "sunny"}
    messages = [*MESSAGES, message, result]
    return dump([first, client.chat.complete(model=MODEL, messages=messages, tools=[WEATHER_TOOL])])


def embed(client: Any) -> Any:
    return dump(client.embeddings.create(model=EMBED_MODEL, inputs=["one", "two"]))


async def acomplete(client: Any) -> Any:
    return dump(
        await client.chat.complete_async(model=MODEL, messages=[{"role": "user", "content": QUESTION}])
    )


async def astream(client: Any) -> Any:
    events = await client.chat.stream_async(model=MODEL, messages=MESSAGES)
    return dump([e async for e in events])


async def astream_read_per_event(client: Any) -> Any:
    events = await client.chat.stream_async(
        model=MODEL, messages=MESSAGES, tools=[WEATHER_TOOL], tool_choice="none"
    )
    return dump([e async for e in events])


async def aembed(client: Any) -> Any:
    return dump(await client.embeddings.create_async(model=EMBED_MODEL, inputs=["one"]))


# --- one trial ----------------------------------------------------------------------------------


TOOL = "execute_tool get_weather"
EMBED = f"embeddings {EMBED_MODEL}"

# (what raises, the call, the spans left, the errors counted, content capture on)
CASES = [
    pytest.param((extract, "chat_request_attributes"), complete, [], 1, False, id="chat_request_attributes"),
    pytest.param(
        (extract, "stream_request_attributes"), stream, [], 1, False, id="stream_request_attributes"
    ),
    pytest.param((extract, "embeddings_request_attributes"), embed, [], 1, False, id="embeddings_request"),
    pytest.param((extract, "chat_response_attributes"), complete, [SPAN_NAME], 1, False, id="chat_response"),
    pytest.param(
        (extract, "embeddings_response_attributes"), embed, [EMBED], 1, False, id="embeddings_response"
    ),
    pytest.param((patch, "SDK.client"), complete, [], 1, False, id="client_of"),
    pytest.param((patch, "SDK.server"), complete, [], 1, False, id="server_of"),
    pytest.param((content, "chat_request_content"), complete, [], 1, True, id="chat_request_content"),
    pytest.param(
        (content, "chat_output_messages"), complete, [SPAN_NAME], 1, True, id="chat_output_messages"
    ),
    pytest.param(
        (content, "embeddings_request_content"), embed, [], 1, True, id="embeddings_request_content"
    ),
    # The inferred tool span is lost, never the LLM spans.
    pytest.param((content, "tool_results"), tool_loop, [SPAN_NAME, SPAN_NAME], 1, False, id="tool_results"),
    pytest.param((extract, "one_plain_choice"), stream, [], 1, False, id="one_plain_choice"),
    pytest.param(
        (ChatStreamAccumulator, "process"),
        stream_read_per_event,
        [SPAN_NAME],
        EVENTS,
        False,
        id="accumulator_process",
    ),
    pytest.param(
        (ChatStreamAccumulator, "outcome"),
        stream_read_per_event,
        [SPAN_NAME],
        1,
        False,
        id="accumulator_outcome",
    ),
    pytest.param((LastEventsAccumulator, "outcome"), stream, [SPAN_NAME], 1, False, id="last_events_outcome"),
    pytest.param(
        (ChatStreamAccumulator, "output_messages"), stream, [SPAN_NAME], 1, True, id="accumulator_output"
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
    pytest.param((extract, "chat_request_attributes"), acomplete, [], 1, id="chat_request_attributes"),
    pytest.param((extract, "chat_response_attributes"), acomplete, [SPAN_NAME], 1, id="chat_response"),
    pytest.param((extract, "embeddings_response_attributes"), aembed, [EMBED], 1, id="embeddings_response"),
    pytest.param(
        (ChatStreamAccumulator, "process"),
        astream_read_per_event,
        [SPAN_NAME],
        EVENTS,
        id="accumulator_process",
    ),
    pytest.param(
        (ChatStreamAccumulator, "outcome"), astream_read_per_event, [SPAN_NAME], 1, id="accumulator_outcome"
    ),
    pytest.param((LastEventsAccumulator, "outcome"), astream, [SPAN_NAME], 1, id="last_events_outcome"),
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


def test_app_errors_propagate_unchanged(fake_llm: FakeLLMServer, cap: TelemetryCapture) -> None:
    """The SDK's own exception reaches the app as it is, from the SDK's frames."""
    from mistralai.client import errors

    client = mistral_client(fake_llm)
    with instrumented(cap, MistralInstrumentor), pytest.raises(errors.SDKError) as raised:
        client.chat.complete(model=MODEL, messages=[{"role": "user", "content": "[[scenario:server_error]]"}])
    assert raised.value.status_code == 500
    assert type(raised.value) is errors.SDKError
