"""Anthropic instrumentor, streamed calls: ``messages.create(stream=True)`` and the ``messages.stream()``
helper (every way of consuming it), sync and async, against the fake server over real HTTP.

Every stream must end exactly one span, with ``agentotel.stream.end`` telling how it ended and an
UNSET status unless the stream failed. The fake server sends two ``message_delta`` events with
*cumulative* usage when the reply has 4+ output tokens: the span must report the final number.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import anthropic
import pytest
from anthropic_helpers import (
    HTTP_ERRORS,
    MAX_TOKENS,
    MODEL,
    OVERLOADED,
    RATE_LIMIT,
    SPAN_NAME,
    is_async,
    metric_attrs,
    reply_attrs,
    request_attrs,
    requires_beta_stream,
    requires_prompt_caching,
    tool_use_attrs,
)
from helpers import (
    CLAUDE_TOOLS,
    DURATION,
    QUESTION,
    REPLY,
    TIME_PER_OUTPUT_CHUNK,
    TIME_TO_FIRST_CHUNK,
    TOKENS,
    Failure,
    attrs_of,
    http_library,
    instrumented,
    only_span,
    resolve,
    stream_disconnect_error,
    token_sums,
    user,
)
from opentelemetry.trace import SpanKind, StatusCode

from agentotel.instrumentation.anthropic import AnthropicInstrumentor
from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture

pytestmark = pytest.mark.usefixtures("fresh_fake_llm")

STREAM_END = "agentotel.stream.end"
# What a mid-stream disconnect raises: the HTTP library's RemoteProtocolError (httpx on anthropic
# 0.x, httpx2 on 1.x and 2.x), and its error.type.
DISCONNECT = stream_disconnect_error(anthropic)
DISCONNECT_TYPE = f"{http_library(anthropic).__name__}.RemoteProtocolError"


# --------------------------------------------------------------------------- helpers


async def create_stream(client: Any, text: str = QUESTION, *, beta: bool = False, **kwargs: Any) -> Any:
    """``messages.create(stream=True)`` (or ``beta.messages``)."""
    resource = client.beta.messages if beta else client.messages
    kwargs.setdefault("max_tokens", MAX_TOKENS)
    return await resolve(resource.create(model=MODEL, messages=user(text), stream=True, **kwargs))


def stream_manager(client: Any, text: str = QUESTION, *, beta: bool = False, **kwargs: Any) -> Any:
    """The manager ``messages.stream(...)`` returns (no request is sent before it is entered)."""
    resource = client.beta.messages if beta else client.messages
    kwargs.setdefault("max_tokens", MAX_TOKENS)
    return resource.stream(model=MODEL, messages=user(text), **kwargs)


async def enter_stream_manager(client: Any) -> Any:
    """The stream of a ``messages.stream(...)`` manager that is entered and never exited."""
    manager = stream_manager(client)
    return await manager.__aenter__() if is_async(client) else manager.__enter__()


@contextlib.asynccontextmanager
async def helper_stream(client: Any, text: str = QUESTION, **kwargs: Any) -> AsyncIterator[Any]:
    """``with client.messages.stream(...) as stream`` (``async with`` for the async client)."""
    manager = stream_manager(client, text, **kwargs)
    if is_async(client):
        async with manager as stream:
            yield stream
    else:
        with manager as stream:
            yield stream


async def drain(stream: Any, client: Any) -> list[Any]:
    if is_async(client):
        return [event async for event in stream]
    return list(stream)


async def next_event(stream: Any, client: Any) -> Any:
    return await stream.__anext__() if is_async(client) else next(stream)


async def collect_garbage() -> None:
    # An abandoned async generator is closed by a task the event loop schedules: let it run.
    for _ in range(2):
        gc.collect()
        await asyncio.sleep(0)


def stream_span(cap: TelemetryCapture, end: str) -> dict[str, Any]:
    """The one span of a stream that ended normally; its attributes without the timing one."""
    span = only_span(cap)
    assert span.name == SPAN_NAME
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    attrs = attrs_of(span)
    assert attrs[STREAM_END] == end
    ttfc = attrs.pop("gen_ai.response.time_to_first_chunk", None)
    assert ttfc is None or ttfc > 0
    return attrs


def failed_stream_span(cap: TelemetryCapture, error_type: str) -> dict[str, Any]:
    span = only_span(cap)
    assert span.name == SPAN_NAME
    assert span.status.status_code is StatusCode.ERROR
    attrs = attrs_of(span)
    assert attrs["error.type"] == error_type
    assert [e.name for e in span.events] == ["exception"]
    assert cap.metric_count(DURATION, {"error.type": error_type}) == 1
    assert cap.metric_count(DURATION) == 1
    return attrs


def full_attrs(server: FakeLLMServer, **reply: Any) -> dict[str, Any]:
    """Every attribute of the span of an exhausted stream answered ``msg_1``."""
    return {**reply_attrs(server, stream=True, **reply), STREAM_END: "exhausted"}


def unread_attrs(server: FakeLLMServer, end: str) -> dict[str, Any]:
    """Every attribute of the span of a stream that ended (``end``) before its first event."""
    return {**request_attrs(server, stream=True), STREAM_END: end}


# --------------------------------------------------------------------------- create(stream=True)


async def test_create_stream_exhausted(
    anthropic_instrumented: TelemetryCapture, client: Any, fake_llm: FakeLLMServer
) -> None:
    stream = await create_stream(client)
    assert anthropic_instrumented.spans() == []
    events = await drain(stream, client)

    assert "".join(e.delta.text for e in events if e.type == "content_block_delta") == REPLY
    assert stream_span(anthropic_instrumented, "exhausted") == full_attrs(fake_llm)
    assert attrs_of(only_span(anthropic_instrumented))["gen_ai.response.time_to_first_chunk"] > 0


async def test_create_stream_is_the_sdk_stream_class(
    anthropic_instrumented: TelemetryCapture, client: Any
) -> None:
    """``isinstance(stream, anthropic.Stream)`` holds as without us (anthropic 0.x's ``Stream`` has a
    metaclass whose instance check is true only for the exact class and ``MessageStream``)."""
    stream = await create_stream(client)
    (sdk_class, other) = (
        (anthropic.AsyncStream, anthropic.Stream)
        if is_async(client)
        else (anthropic.Stream, anthropic.AsyncStream)
    )

    assert isinstance(stream, sdk_class)
    assert not isinstance(stream, other)
    assert not isinstance(object(), sdk_class)
    await drain(stream, client)
    stream_span(anthropic_instrumented, "exhausted")


async def test_create_stream_metrics(
    anthropic_instrumented: TelemetryCapture, client: Any, fake_llm: FakeLLMServer
) -> None:
    await drain(await create_stream(client), client)

    cap = anthropic_instrumented
    attrs = metric_attrs(fake_llm, **{"gen_ai.response.model": MODEL})
    assert cap.metric_sum(TOKENS, {**attrs, "gen_ai.token.type": "input"}) == 6
    assert cap.metric_sum(TOKENS, {**attrs, "gen_ai.token.type": "output"}) == 6
    assert cap.metric_count(TOKENS) == 2
    assert cap.metric_count(DURATION, attrs) == 1
    assert cap.metric_count(TIME_TO_FIRST_CHUNK, attrs) == 1
    assert cap.metric_count(TIME_PER_OUTPUT_CHUNK, attrs) == 1


async def test_cumulative_output_tokens_not_summed(
    anthropic_instrumented: TelemetryCapture, client: Any
) -> None:
    # The reply has 10 tokens: message_start says 1, then message_delta says 5, then 10.
    events = await drain(await create_stream(client, f"{QUESTION} [[words:10]]"), client)

    assert [e.usage.output_tokens for e in events if e.type == "message_delta"] == [5, 10]
    attrs = stream_span(anthropic_instrumented, "exhausted")
    assert attrs["gen_ai.usage.input_tokens"] == 7
    assert attrs["gen_ai.usage.output_tokens"] == 10
    assert token_sums(anthropic_instrumented) == {"input": 7, "output": 10}


async def test_stream_cache_tokens_count_as_input(
    anthropic_instrumented: TelemetryCapture, client: Any
) -> None:
    # 8 words: input_tokens=3, cache read 2, cache creation 3.
    await drain(
        await create_stream(client, f"{QUESTION} [[scenario:cached:2]] [[scenario:cache_write:3]]"), client
    )

    attrs = stream_span(anthropic_instrumented, "exhausted")
    assert attrs["gen_ai.usage.input_tokens"] == 8
    assert attrs["gen_ai.usage.cache_read.input_tokens"] == 2
    assert attrs["gen_ai.usage.cache_creation.input_tokens"] == 3
    assert token_sums(anthropic_instrumented) == {"input": 8, "output": 6}


async def test_stream_max_tokens(
    anthropic_instrumented: TelemetryCapture, client: Any, fake_llm: FakeLLMServer
) -> None:
    await drain(await create_stream(client, max_tokens=3), client)

    expected = full_attrs(fake_llm, finish="max_tokens", output_tokens=3)
    expected["gen_ai.request.max_tokens"] = 3
    assert stream_span(anthropic_instrumented, "exhausted") == expected


async def test_stream_stop_sequences(anthropic_instrumented: TelemetryCapture, client: Any) -> None:
    await drain(await create_stream(client, stop_sequences=["STOP"]), client)

    assert stream_span(anthropic_instrumented, "exhausted")["gen_ai.request.stop_sequences"] == ("STOP",)


async def test_stream_tool_use(
    anthropic_instrumented: TelemetryCapture, client: Any, fake_llm: FakeLLMServer
) -> None:
    events = await drain(await create_stream(client, tools=CLAUDE_TOOLS), client)

    partial = "".join(e.delta.partial_json for e in events if e.type == "content_block_delta")
    assert json.loads(partial) == {"city": "Paris"}
    expected = {**tool_use_attrs(fake_llm, stream=True), STREAM_END: "exhausted"}
    assert stream_span(anthropic_instrumented, "exhausted") == expected


async def test_stream_thinking(
    anthropic_instrumented: TelemetryCapture, client: Any, fake_llm: FakeLLMServer
) -> None:
    events = await drain(await create_stream(client, f"{QUESTION} [[scenario:reasoning:5]]"), client)

    assert [e.content_block.type for e in events if e.type == "content_block_start"] == ["thinking", "text"]
    # 6 visible + 5 thinking tokens; the API reports no thinking_tokens detail, so no reasoning attribute.
    assert stream_span(anthropic_instrumented, "exhausted") == full_attrs(
        fake_llm, input_tokens=7, output_tokens=11
    )


async def test_create_stream_break_then_with_exit(
    anthropic_instrumented: TelemetryCapture, client: Any, fake_llm: FakeLLMServer
) -> None:
    stream = await create_stream(client)
    if is_async(client):
        async with stream:
            async for _ in stream:
                break
    else:
        with stream:
            for _ in stream:
                break

    attrs = stream_span(anthropic_instrumented, "closed")
    assert attrs["gen_ai.response.id"] == "msg_1"
    assert attrs["gen_ai.usage.input_tokens"] == 6
    assert "gen_ai.response.finish_reasons" not in attrs


async def test_create_stream_closed_unread(
    anthropic_instrumented: TelemetryCapture, client: Any, fake_llm: FakeLLMServer
) -> None:
    stream = await create_stream(client)
    await resolve(stream.close())

    assert stream_span(anthropic_instrumented, "closed") == unread_attrs(fake_llm, "closed")
    cap = anthropic_instrumented
    assert cap.metric_count(DURATION) == 1
    assert cap.metric_points(TOKENS) == []
    assert cap.metric_count(TIME_TO_FIRST_CHUNK) == 0
    assert cap.metric_count(TIME_PER_OUTPUT_CHUNK) == 0


@pytest.mark.parametrize(
    "open_stream",
    [
        pytest.param(create_stream, id="create"),  # messages.create(stream=True)
        pytest.param(enter_stream_manager, id="helper"),  # messages.stream(): entered, never exited
    ],
)
async def test_abandoned_after_the_first_event(
    anthropic_instrumented: TelemetryCapture, client: Any, open_stream: Callable[[Any], Awaitable[Any]]
) -> None:
    stream = await open_stream(client)
    await next_event(stream, client)
    assert anthropic_instrumented.spans() == []

    del stream
    await collect_garbage()

    attrs = stream_span(anthropic_instrumented, "abandoned")
    assert attrs["gen_ai.response.id"] == "msg_1"
    assert attrs["gen_ai.usage.input_tokens"] == 6


@pytest.mark.parametrize(
    "open_stream",
    [
        pytest.param(create_stream, id="create"),  # messages.create(stream=True)
        pytest.param(enter_stream_manager, id="helper"),  # messages.stream(): entered, never exited
    ],
)
async def test_abandoned_unread(
    anthropic_instrumented: TelemetryCapture,
    client: Any,
    fake_llm: FakeLLMServer,
    open_stream: Callable[[Any], Awaitable[Any]],
) -> None:
    stream = await open_stream(client)
    del stream
    await collect_garbage()

    assert stream_span(anthropic_instrumented, "abandoned") == unread_attrs(fake_llm, "abandoned")


async def test_create_stream_ends_once(anthropic_instrumented: TelemetryCapture, client: Any) -> None:
    stream = await create_stream(client)
    await drain(stream, client)
    await resolve(stream.close())
    del stream
    await collect_garbage()

    stream_span(anthropic_instrumented, "exhausted")
    assert anthropic_instrumented.metric_count(DURATION) == 1


async def test_beta_create_stream(
    anthropic_instrumented: TelemetryCapture, client: Any, fake_llm: FakeLLMServer
) -> None:
    await drain(await create_stream(client, beta=True), client)

    assert stream_span(anthropic_instrumented, "exhausted") == full_attrs(fake_llm)


async def test_raw_response_stream(
    anthropic_instrumented: TelemetryCapture, client: Any, fake_llm: FakeLLMServer
) -> None:
    raw = await resolve(
        client.messages.with_raw_response.create(
            model=MODEL, max_tokens=MAX_TOKENS, messages=user(QUESTION), stream=True
        )
    )
    assert raw.headers["request-id"] == "req_1"
    stream = await resolve(raw.parse())
    await drain(stream, client)

    assert stream_span(anthropic_instrumented, "exhausted") == full_attrs(fake_llm)


async def test_streaming_response_stream(
    anthropic_instrumented: TelemetryCapture, client: Any, fake_llm: FakeLLMServer
) -> None:
    manager = client.messages.with_streaming_response.create(
        model=MODEL, max_tokens=MAX_TOKENS, messages=user(QUESTION), stream=True
    )
    if is_async(client):
        async with manager as response:
            await drain(await response.parse(), client)
    else:
        with manager as response:
            await drain(response.parse(), client)

    assert stream_span(anthropic_instrumented, "exhausted") == full_attrs(fake_llm)


# --------------------------------------------------------------------------- messages.stream() helper


async def test_helper_iterate_events(
    anthropic_instrumented: TelemetryCapture, client: Any, fake_llm: FakeLLMServer
) -> None:
    async with helper_stream(client) as stream:
        events = await drain(stream, client)

    assert "".join(e.text for e in events if e.type == "text") == REPLY
    assert stream_span(anthropic_instrumented, "exhausted") == full_attrs(fake_llm)


async def test_helper_metrics(anthropic_instrumented: TelemetryCapture, client: Any) -> None:
    async with helper_stream(client) as stream:
        await drain(stream, client)

    cap = anthropic_instrumented
    assert token_sums(cap) == {"input": 6, "output": 6}
    assert cap.metric_count(DURATION) == 1
    assert cap.metric_count(TIME_TO_FIRST_CHUNK) == 1
    assert cap.metric_count(TIME_PER_OUTPUT_CHUNK) == 1


async def test_helper_text_stream(
    anthropic_instrumented: TelemetryCapture, client: Any, fake_llm: FakeLLMServer
) -> None:
    async with helper_stream(client) as stream:
        text = "".join(await drain(stream.text_stream, client))

    assert text == REPLY
    assert stream_span(anthropic_instrumented, "exhausted") == full_attrs(fake_llm)


async def test_helper_until_done(
    anthropic_instrumented: TelemetryCapture, client: Any, fake_llm: FakeLLMServer
) -> None:
    async with helper_stream(client) as stream:
        await resolve(stream.until_done())
        # Ended as soon as the stream was read, not only at the exit of ``with``.
        assert len(anthropic_instrumented.spans()) == 1

    assert stream_span(anthropic_instrumented, "exhausted") == full_attrs(fake_llm)


async def test_helper_get_final_message(
    anthropic_instrumented: TelemetryCapture, client: Any, fake_llm: FakeLLMServer
) -> None:
    async with helper_stream(client, f"{QUESTION} [[words:10]]") as stream:
        message = await resolve(stream.get_final_message())

    assert message.usage.output_tokens == 10
    assert stream_span(anthropic_instrumented, "exhausted") == full_attrs(
        fake_llm, input_tokens=7, output_tokens=10
    )


@pytest.mark.parametrize(
    "beta", [pytest.param(False, id="messages"), pytest.param(True, id="beta", marks=requires_beta_stream)]
)
async def test_helper_get_final_text(
    anthropic_instrumented: TelemetryCapture, client: Any, fake_llm: FakeLLMServer, beta: bool
) -> None:
    async with helper_stream(client, beta=beta) as stream:
        text = await resolve(stream.get_final_text())

    assert text == REPLY
    assert stream_span(anthropic_instrumented, "exhausted") == full_attrs(fake_llm)


async def test_helper_break_then_exit(anthropic_instrumented: TelemetryCapture, client: Any) -> None:
    async with helper_stream(client) as stream:
        first = await next_event(stream, client)
        assert anthropic_instrumented.spans() == []

    assert first.type == "message_start"
    attrs = stream_span(anthropic_instrumented, "closed")
    assert attrs["gen_ai.response.id"] == "msg_1"
    assert attrs["gen_ai.usage.input_tokens"] == 6
    assert "gen_ai.response.finish_reasons" not in attrs


async def test_helper_for_loop_break_then_exit(anthropic_instrumented: TelemetryCapture, client: Any) -> None:
    async with helper_stream(client) as stream:
        if is_async(client):
            async for _ in stream:
                break
        else:
            for _ in stream:
                break

    stream_span(anthropic_instrumented, "closed")


async def test_helper_exit_unread(
    anthropic_instrumented: TelemetryCapture, client: Any, fake_llm: FakeLLMServer
) -> None:
    async with helper_stream(client):
        assert anthropic_instrumented.spans() == []

    assert stream_span(anthropic_instrumented, "closed") == unread_attrs(fake_llm, "closed")
    cap = anthropic_instrumented
    assert cap.metric_count(DURATION) == 1
    assert cap.metric_points(TOKENS) == []
    assert cap.metric_count(TIME_TO_FIRST_CHUNK) == 0


async def test_helper_error_in_with_body(anthropic_instrumented: TelemetryCapture, client: Any) -> None:
    """An exception of the application's own closes the stream; it is not the LLM call's error."""
    with pytest.raises(KeyError):
        async with helper_stream(client) as stream:
            await next_event(stream, client)
            raise KeyError("app bug")

    attrs = stream_span(anthropic_instrumented, "closed")
    assert "error.type" not in attrs


async def test_helper_keeps_sdk_attributes(anthropic_instrumented: TelemetryCapture, client: Any) -> None:
    async with helper_stream(client) as stream:
        assert stream.response.status_code == 200
        assert stream.response.headers["request-id"] == "req_1"
        await resolve(stream.until_done())

    stream_span(anthropic_instrumented, "exhausted")


@pytest.mark.skipif(
    not hasattr(anthropic.lib.streaming.MessageStream, "request_id"),
    reason="MessageStream.request_id: anthropic>=0.44.0",
)
async def test_helper_keeps_request_id(anthropic_instrumented: TelemetryCapture, client: Any) -> None:
    async with helper_stream(client) as stream:
        assert stream.request_id == "req_1"
        await resolve(stream.until_done())

    stream_span(anthropic_instrumented, "exhausted")


async def test_helper_close_unread(
    anthropic_instrumented: TelemetryCapture, client: Any, fake_llm: FakeLLMServer
) -> None:
    """``stream.close()`` inside ``with`` ends the span at once (anthropic<0.43 closes the HTTP
    response directly, not through the raw stream)."""
    async with helper_stream(client) as stream:
        await resolve(stream.close())
        assert stream_span(anthropic_instrumented, "closed") == unread_attrs(fake_llm, "closed")

    assert len(anthropic_instrumented.spans()) == 1


async def test_helper_tool_use(
    anthropic_instrumented: TelemetryCapture, client: Any, fake_llm: FakeLLMServer
) -> None:
    async with helper_stream(client, tools=CLAUDE_TOOLS) as stream:
        message = await resolve(stream.get_final_message())

    assert message.content[0].input == {"city": "Paris"}
    expected = {**tool_use_attrs(fake_llm, stream=True), STREAM_END: "exhausted"}
    assert stream_span(anthropic_instrumented, "exhausted") == expected


async def test_helper_thinking(
    anthropic_instrumented: TelemetryCapture, client: Any, fake_llm: FakeLLMServer
) -> None:
    async with helper_stream(client, f"{QUESTION} [[scenario:reasoning:5]]") as stream:
        message = await resolve(stream.get_final_message())

    assert [b.type for b in message.content] == ["thinking", "text"]
    assert stream_span(anthropic_instrumented, "exhausted") == full_attrs(
        fake_llm, input_tokens=7, output_tokens=11
    )


@requires_beta_stream
async def test_beta_helper_exit_unread(anthropic_instrumented: TelemetryCapture, client: Any) -> None:
    async with helper_stream(client, beta=True):
        pass

    stream_span(anthropic_instrumented, "closed")


# --------------------------------------------------------------------------- beta.prompt_caching (0.40)


@requires_prompt_caching
async def test_prompt_caching_create(
    anthropic_instrumented: TelemetryCapture, client: Any, fake_llm: FakeLLMServer
) -> None:
    resource = client.beta.prompt_caching.messages
    text = f"{QUESTION} [[scenario:cached:2]]"
    message = await resolve(resource.create(model=MODEL, max_tokens=MAX_TOKENS, messages=user(text)))

    assert message.usage.cache_read_input_tokens == 2
    span = only_span(anthropic_instrumented)
    assert span.status.status_code is StatusCode.UNSET
    assert attrs_of(span) == reply_attrs(fake_llm, input_tokens=7, cache_read=2)


@requires_prompt_caching
async def test_prompt_caching_create_stream(
    anthropic_instrumented: TelemetryCapture, client: Any, fake_llm: FakeLLMServer
) -> None:
    resource = client.beta.prompt_caching.messages
    stream = await resolve(
        resource.create(model=MODEL, max_tokens=MAX_TOKENS, messages=user(QUESTION), stream=True)
    )
    await drain(stream, client)

    assert stream_span(anthropic_instrumented, "exhausted") == full_attrs(fake_llm)


@requires_prompt_caching
async def test_prompt_caching_helper(
    anthropic_instrumented: TelemetryCapture, client: Any, fake_llm: FakeLLMServer
) -> None:
    manager = client.beta.prompt_caching.messages.stream(
        model=MODEL, max_tokens=MAX_TOKENS, messages=user(QUESTION)
    )
    if is_async(client):
        async with manager as stream:
            text = await stream.get_final_text()
    else:
        with manager as stream:
            text = stream.get_final_text()

    assert text == REPLY
    assert stream_span(anthropic_instrumented, "exhausted") == full_attrs(fake_llm)


@requires_prompt_caching
async def test_prompt_caching_helper_exit_unread(
    anthropic_instrumented: TelemetryCapture, client: Any, fake_llm: FakeLLMServer
) -> None:
    manager = client.beta.prompt_caching.messages.stream(
        model=MODEL, max_tokens=MAX_TOKENS, messages=user(QUESTION)
    )
    if is_async(client):
        async with manager:
            pass
    else:
        with manager:
            pass

    assert stream_span(anthropic_instrumented, "closed") == unread_attrs(fake_llm, "closed")


# --------------------------------------------------------------------------- errors


async def test_create_stream_disconnect(anthropic_instrumented: TelemetryCapture, client: Any) -> None:
    stream = await create_stream(client, f"{QUESTION} [[scenario:disconnect]]")
    with pytest.raises(DISCONNECT):
        await drain(stream, client)

    attrs = failed_stream_span(anthropic_instrumented, DISCONNECT_TYPE)
    assert attrs[STREAM_END] == "error"
    # What arrived before the connection dropped (message_start) is kept.
    assert attrs["gen_ai.response.id"] == "msg_1"
    assert attrs["gen_ai.usage.input_tokens"] == 7


async def test_helper_disconnect(anthropic_instrumented: TelemetryCapture, client: Any) -> None:
    with pytest.raises(DISCONNECT):
        async with helper_stream(client, f"{QUESTION} [[scenario:disconnect]]") as stream:
            await resolve(stream.get_final_text())

    attrs = failed_stream_span(anthropic_instrumented, DISCONNECT_TYPE)
    assert attrs[STREAM_END] == "error"


async def test_create_stream_malformed_event(anthropic_instrumented: TelemetryCapture, client: Any) -> None:
    stream = await create_stream(client, f"{QUESTION} [[scenario:malformed]]")
    with pytest.raises(json.JSONDecodeError):
        await drain(stream, client)

    attrs = failed_stream_span(anthropic_instrumented, "json.JSONDecodeError")
    assert attrs[STREAM_END] == "error"


async def test_helper_malformed_event(anthropic_instrumented: TelemetryCapture, client: Any) -> None:
    with pytest.raises(json.JSONDecodeError):
        async with helper_stream(client, f"{QUESTION} [[scenario:malformed]]") as stream:
            await resolve(stream.until_done())

    assert failed_stream_span(anthropic_instrumented, "json.JSONDecodeError")[STREAM_END] == "error"


@pytest.mark.parametrize("failure", HTTP_ERRORS)
async def test_create_stream_http_error(
    anthropic_instrumented: TelemetryCapture, client: Any, fake_llm: FakeLLMServer, failure: Failure
) -> None:
    with pytest.raises(failure.error) as info:
        await create_stream(client, f"{QUESTION} {failure.marker}")

    assert type(info.value) is failure.error
    attrs = failed_stream_span(anthropic_instrumented, failure.error_type)
    assert attrs == {**request_attrs(fake_llm, stream=True), "error.type": failure.error_type}


@pytest.mark.parametrize("failure", [RATE_LIMIT, OVERLOADED])
async def test_helper_http_error_on_enter(
    anthropic_instrumented: TelemetryCapture, client: Any, fake_llm: FakeLLMServer, failure: Failure
) -> None:
    with pytest.raises(failure.error) as info:
        async with helper_stream(client, f"{QUESTION} {failure.marker}"):
            pass

    assert type(info.value) is failure.error
    attrs = failed_stream_span(anthropic_instrumented, failure.error_type)
    assert attrs == {**request_attrs(fake_llm, stream=True), "error.type": failure.error_type}


async def test_helper_timeout(anthropic_instrumented: TelemetryCapture, client: Any) -> None:
    with pytest.raises(anthropic.APITimeoutError):
        async with helper_stream(client, f"{QUESTION} [[scenario:slow:1]]", timeout=0.2):
            pass

    failed_stream_span(anthropic_instrumented, "anthropic.APITimeoutError")


async def test_stream_error_classes_match_uninstrumented(cap: TelemetryCapture, client: Any) -> None:
    """A stream fails with exactly what the bare SDK raises."""

    async def raised(scenario: str) -> type[BaseException]:
        with pytest.raises(Exception) as info:
            await drain(await create_stream(client, f"[[scenario:{scenario}]]"), client)
        return type(info.value)

    scenarios = ["disconnect", "malformed", "rate_limit"]
    bare = [await raised(s) for s in scenarios]
    with instrumented(cap, AnthropicInstrumentor):
        traced = [await raised(s) for s in scenarios]
    assert traced == bare
    assert [attrs_of(s)["error.type"] for s in cap.spans()] == [
        DISCONNECT_TYPE,
        "json.JSONDecodeError",
        "anthropic.RateLimitError",
    ]
