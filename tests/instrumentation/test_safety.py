"""Never break the host app: when agentotel's own code raises, the SDK call is unaffected.

Our functions are made to raise (monkeypatched BEFORE instrument(): the operations capture their
function references when the wrappers are built). The SDKs are real and talk real HTTP to the fake
LLM server. For every failure point we check that

* the call returns exactly what it returns uninstrumented (same type, same model_dump, same ids),
  streams still yield every chunk, and the server saw exactly one request per call;
* the span, if there is one, is not marked ERROR;
* ``agentotel.telemetry.errors`` counted the failure with ``agentotel.component`` and ``error.type``;
* a DEBUG record of logger ``agentotel`` names the component and carries the traceback.

The second half drives ``agentotel._safe.sync_wrapper`` / ``async_wrapper`` directly: the app's
own exception propagates as the very same object with its original traceback, and the wrapped
function runs exactly once whatever our start/on_result hooks do.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import anthropic
import httpx2
import openai
import pytest
import wrapt
from helpers import (
    CHAT_TOOLS,
    CLAUDE,
    CLAUDE_TOOLS,
    FAKE_ANTHROPIC_KEY,
    FAKE_OPENAI_KEY,
    GPT,
    QUESTION,
    REPLY,
    RESPONSES_API,
    TELEMETRY_ERRORS,
    assert_raised_outside_agentotel,
    instrumented,
    openai_rate_limit_text,
    resolve,
    user,
)
from opentelemetry.trace import StatusCode

from agentotel import _safe
from agentotel._safe import Boundary, async_wrapper, sync_wrapper
from agentotel.instrumentation._invocation import Invocation
from agentotel.instrumentation._sdk_hooks import EnteredStream
from agentotel.instrumentation.anthropic import AnthropicInstrumentor
from agentotel.instrumentation.anthropic import extract as anthropic_extract
from agentotel.instrumentation.anthropic.stream import MessageStreamAccumulator
from agentotel.instrumentation.openai import OpenAIInstrumentor
from agentotel.instrumentation.openai import extract as openai_extract
from agentotel.instrumentation.openai.stream import ChatStreamAccumulator, ResponsesStreamAccumulator
from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture

USER = user(QUESTION)


class TelemetryBug(RuntimeError):
    """Stands for any bug in our own code."""


def _boom(*_args: Any, **_kwargs: Any) -> Any:
    raise TelemetryBug("agentotel bug (simulated)")


# --- fixtures ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def server() -> Iterator[FakeLLMServer]:
    """This module's own fake server, so that id counters can be reset between the two runs."""
    with FakeLLMServer() as srv:
        yield srv


# Client factories: every run gets a fresh client. (The SDKs cache resource objects such as
# ``client.chat.completions.with_raw_response`` on first access, bound to the method as it was then.)
@pytest.fixture
def oai(server: FakeLLMServer) -> Callable[[], openai.OpenAI]:
    return lambda: openai.OpenAI(base_url=server.openai_base_url, api_key=FAKE_OPENAI_KEY, max_retries=0)


@pytest.fixture
def aoai(server: FakeLLMServer) -> Callable[[], openai.AsyncOpenAI]:
    return lambda: openai.AsyncOpenAI(base_url=server.openai_base_url, api_key=FAKE_OPENAI_KEY, max_retries=0)


@pytest.fixture
def claude(server: FakeLLMServer) -> Callable[[], anthropic.Anthropic]:
    return lambda: anthropic.Anthropic(
        base_url=server.anthropic_base_url, api_key=FAKE_ANTHROPIC_KEY, max_retries=0
    )


@pytest.fixture
def aclaude(server: FakeLLMServer) -> Callable[[], anthropic.AsyncAnthropic]:
    return lambda: anthropic.AsyncAnthropic(
        base_url=server.anthropic_base_url, api_key=FAKE_ANTHROPIC_KEY, max_retries=0
    )


def reported_errors(cap: TelemetryCapture) -> list[tuple[dict[str, Any], int]]:
    """(attributes, value) of each point of ``agentotel.telemetry.errors``."""
    return [(dict(p.attributes), p.value) for p in cap.metric_points(TELEMETRY_ERRORS)]


@dataclass
class Trial:
    """One test's fake server, telemetry and DEBUG log: runs an SDK call uninstrumented, then
    instrumented, and checks what agentotel reported about the failures of its own code."""

    server: FakeLLMServer
    cap: TelemetryCapture
    log: pytest.LogCaptureFixture

    def fresh(self) -> None:
        self.server.state.reset()
        self.server.clear()

    def same_outcome(self, cls: type[Any], call: Callable[[], Any]) -> Any:
        """Run ``call`` uninstrumented then instrumented (same server state); the outcome of both."""
        self.fresh()
        plain = call()
        plain_requests = len(self.server.requests)
        self.fresh()
        with instrumented(self.cap, cls):
            traced = call()
        assert len(self.server.requests) == plain_requests, "the SDK call must run exactly once"
        assert traced == plain
        return plain

    async def same_outcome_async(self, cls: type[Any], call: Callable[[], Awaitable[Any]]) -> Any:
        self.fresh()
        plain = await call()
        plain_requests = len(self.server.requests)
        self.fresh()
        with instrumented(self.cap, cls):
            traced = await call()
        assert len(self.server.requests) == plain_requests, "the SDK call must run exactly once"
        assert traced == plain
        return plain

    def assert_reported(self, component: str, count: int, etype: str = "test_safety.TelemetryBug") -> None:
        """The boundary counted ``count`` errors of ``etype`` for ``component`` and logged each at DEBUG."""
        assert reported_errors(self.cap) == [({"agentotel.component": component, "error.type": etype}, count)]
        records = [
            r for r in self.log.records if r.name == "agentotel" and "telemetry error" in r.getMessage()
        ]
        assert len(records) == count
        for record in records:
            assert record.levelno == logging.DEBUG
            assert record.getMessage() == f"agentotel {component}: telemetry error (the app is unaffected)"
            assert record.exc_info is not None
            assert isinstance(record.exc_info[1], TelemetryBug)
        assert [
            r for r in self.log.records if r.levelno >= logging.WARNING and r.name.startswith("agentotel")
        ] == []

    def assert_not_error(self, names: list[str]) -> None:
        spans = self.cap.spans()
        assert [s.name for s in spans] == names
        for span in spans:
            assert span.status.status_code is StatusCode.UNSET
            assert "error.type" not in (span.attributes or {})
            assert [e.name for e in span.events] == []


@pytest.fixture
def trial(server: FakeLLMServer, cap: TelemetryCapture, debug_log: pytest.LogCaptureFixture) -> Trial:
    return Trial(server, cap, debug_log)


@pytest.fixture(autouse=True)
def _error_type_of_our_bug(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pin the error.type of TelemetryBug whatever name pytest imported this module under."""
    monkeypatch.setattr(TelemetryBug, "__module__", "test_safety")


# --- OpenAI: response / request / stream extractors raise --------------------------------------
def test_openai_chat_response_attributes_raises(
    monkeypatch: pytest.MonkeyPatch, trial: Trial, oai: Callable[[], openai.OpenAI]
) -> None:
    monkeypatch.setattr(openai_extract, "chat_response_attributes", _boom)

    def call() -> Any:
        reply = oai().chat.completions.create(model=GPT, messages=USER, tools=CHAT_TOOLS)
        return type(reply), reply.model_dump()

    plain = trial.same_outcome(OpenAIInstrumentor, call)
    assert plain[0] is openai.types.chat.ChatCompletion
    assert plain[1]["id"] == "chatcmpl-1"
    assert plain[1]["choices"][0]["message"]["tool_calls"][0]["id"] == "call_1"
    trial.assert_not_error([f"chat {GPT}"])
    # The span still has its request attributes; it ended without response attributes.
    [span] = trial.cap.spans()
    assert span.attributes["gen_ai.request.model"] == GPT
    assert "gen_ai.response.id" not in span.attributes
    assert trial.cap.metric_count("gen_ai.client.token.usage") == 0
    trial.assert_reported("openai", 1)


def test_openai_chat_request_attributes_raises(
    monkeypatch: pytest.MonkeyPatch, trial: Trial, oai: Callable[[], openai.OpenAI]
) -> None:
    monkeypatch.setattr(openai_extract, "chat_request_attributes", _boom)

    def call() -> Any:
        reply = oai().chat.completions.create(model=GPT, messages=USER)
        return type(reply), reply.model_dump()

    plain = trial.same_outcome(OpenAIInstrumentor, call)
    assert plain[1]["choices"][0]["message"]["content"] == REPLY
    assert trial.cap.spans() == []  # start failed: no span, the call went through untouched
    trial.assert_reported("openai", 1)


def test_openai_chat_stream_accumulator_process_raises(
    monkeypatch: pytest.MonkeyPatch, trial: Trial, oai: Callable[[], openai.OpenAI]
) -> None:
    monkeypatch.setattr(ChatStreamAccumulator, "process", _boom)

    def call() -> Any:
        stream = oai().chat.completions.create(
            model=GPT, messages=USER, stream=True, stream_options={"include_usage": True}
        )
        assert isinstance(stream, openai.Stream)
        return [chunk.model_dump() for chunk in stream]

    plain = trial.same_outcome(OpenAIInstrumentor, call)
    assert len(plain) == 1 + 6 + 1 + 1  # role, six words, finish, usage
    assert "".join(c["choices"][0]["delta"]["content"] or "" for c in plain if c["choices"]) == (REPLY)
    trial.assert_not_error([f"chat {GPT}"])
    [span] = trial.cap.spans()
    assert span.attributes["agentotel.stream.end"] == "exhausted"
    trial.assert_reported("openai", len(plain))  # once per chunk


def test_openai_chat_stream_accumulator_outcome_raises(
    monkeypatch: pytest.MonkeyPatch, trial: Trial, oai: Callable[[], openai.OpenAI]
) -> None:
    monkeypatch.setattr(ChatStreamAccumulator, "outcome", _boom)

    def call() -> Any:
        with oai().chat.completions.create(model=GPT, messages=USER, stream=True) as stream:
            return [chunk.model_dump() for chunk in stream]

    plain = trial.same_outcome(OpenAIInstrumentor, call)
    assert len(plain) == 8
    trial.assert_not_error([f"chat {GPT}"])
    trial.assert_reported("openai", 1)


async def test_async_openai_chat_response_attributes_raises(
    monkeypatch: pytest.MonkeyPatch, trial: Trial, aoai: Callable[[], openai.AsyncOpenAI]
) -> None:
    monkeypatch.setattr(openai_extract, "chat_response_attributes", _boom)

    async def call() -> Any:
        reply = await aoai().chat.completions.create(model=GPT, messages=USER)
        return type(reply), reply.model_dump()

    await trial.same_outcome_async(OpenAIInstrumentor, call)
    trial.assert_not_error([f"chat {GPT}"])
    trial.assert_reported("openai", 1)


async def test_async_openai_chat_stream_accumulator_process_raises(
    monkeypatch: pytest.MonkeyPatch, trial: Trial, aoai: Callable[[], openai.AsyncOpenAI]
) -> None:
    monkeypatch.setattr(ChatStreamAccumulator, "process", _boom)

    async def call() -> Any:
        stream = await aoai().chat.completions.create(model=GPT, messages=USER, tools=CHAT_TOOLS, stream=True)
        assert isinstance(stream, openai.AsyncStream)
        return [chunk.model_dump() async for chunk in stream]

    plain = await trial.same_outcome_async(OpenAIInstrumentor, call)
    trial.assert_not_error([f"chat {GPT}"])
    trial.assert_reported("openai", len(plain))


def test_openai_raw_response_parse_with_response_attributes_raising(
    monkeypatch: pytest.MonkeyPatch, trial: Trial, oai: Callable[[], openai.OpenAI]
) -> None:
    monkeypatch.setattr(openai_extract, "chat_response_attributes", _boom)

    def call() -> Any:
        raw = oai().chat.completions.with_raw_response.create(model=GPT, messages=USER)
        parsed = raw.parse()
        return raw.status_code, raw.headers.get("x-request-id"), type(parsed), parsed.model_dump()

    plain = trial.same_outcome(OpenAIInstrumentor, call)
    assert plain[:2] == (200, "req_1")
    trial.assert_not_error([f"chat {GPT}"])
    trial.assert_reported("openai", 1)


@RESPONSES_API
def test_openai_responses_response_attributes_raises(
    monkeypatch: pytest.MonkeyPatch, trial: Trial, oai: Callable[[], openai.OpenAI]
) -> None:
    monkeypatch.setattr(openai_extract, "responses_response_attributes", _boom)

    def call() -> Any:
        response = oai().responses.create(
            model=GPT, input="What is the weather in Paris?", instructions="Be brief."
        )
        return type(response), response.model_dump(), response.output_text

    plain = trial.same_outcome(OpenAIInstrumentor, call)
    assert plain[2] == REPLY
    trial.assert_not_error([f"chat {GPT}"])
    trial.assert_reported("openai", 1)


@RESPONSES_API
def test_openai_responses_stream_accumulator_process_raises(
    monkeypatch: pytest.MonkeyPatch, trial: Trial, oai: Callable[[], openai.OpenAI]
) -> None:
    monkeypatch.setattr(ResponsesStreamAccumulator, "process", _boom)

    def call() -> Any:
        return [event.model_dump() for event in oai().responses.create(model=GPT, input="hi", stream=True)]

    plain = trial.same_outcome(OpenAIInstrumentor, call)
    assert plain[0]["type"] == "response.created"
    assert plain[-1]["type"] == "response.completed"
    trial.assert_not_error([f"chat {GPT}"])
    trial.assert_reported("openai", len(plain))


def test_openai_embeddings_response_attributes_raises(
    monkeypatch: pytest.MonkeyPatch, trial: Trial, oai: Callable[[], openai.OpenAI]
) -> None:
    monkeypatch.setattr(openai_extract, "embeddings_response_attributes", _boom)

    def call() -> Any:
        result = oai().embeddings.create(model="text-embedding-3-small", input=["a b", "c"])
        return type(result), result.model_dump()

    plain = trial.same_outcome(OpenAIInstrumentor, call)
    assert len(plain[1]["data"]) == 2
    trial.assert_not_error(["embeddings text-embedding-3-small"])
    trial.assert_reported("openai", 1)


def test_openai_error_path_with_our_fail_raising(
    monkeypatch: pytest.MonkeyPatch, trial: Trial, oai: Callable[[], openai.OpenAI]
) -> None:
    """The app's own 429 still reaches it unchanged when our error handling is what breaks."""
    monkeypatch.setattr(Invocation, "fail", _boom)

    def call() -> Any:
        with pytest.raises(openai.RateLimitError) as info:
            oai().chat.completions.create(
                model=GPT, messages=[{"role": "user", "content": "hi [[scenario:rate_limit]]"}]
            )
        exc = info.value
        # Not chained to our bug, and raised from the SDK's own frame.
        assert exc.__context__ is None or not isinstance(exc.__context__, TelemetryBug)
        assert not isinstance(exc.__cause__, TelemetryBug)
        assert_raised_outside_agentotel(exc)
        return type(exc), str(exc), exc.status_code, exc.body, exc.request_id

    plain = trial.same_outcome(OpenAIInstrumentor, call)
    assert plain[:3] == (openai.RateLimitError, openai_rate_limit_text(), 429)
    # fail() broke: the span must still be closed (ended without a verdict), not left open forever.
    trial.assert_not_error([f"chat {GPT}"])
    trial.assert_reported("openai", 1)


def test_openai_429_propagates_as_the_same_object(
    monkeypatch: pytest.MonkeyPatch, trial: Trial, oai: Callable[[], openai.OpenAI]
) -> None:
    """The exception the span records is the very object the app catches."""
    seen: list[BaseException] = []
    original_fail = Invocation.fail

    def spy(self: Invocation, exc: BaseException, attributes: Any = None) -> None:
        seen.append(exc)
        original_fail(self, exc, attributes)

    monkeypatch.setattr(Invocation, "fail", spy)
    trial.fresh()
    with instrumented(trial.cap, OpenAIInstrumentor):
        try:
            oai().chat.completions.create(
                model=GPT, messages=[{"role": "user", "content": "x [[scenario:rate_limit]]"}]
            )
        except openai.RateLimitError as exc:
            caught = exc
        else:  # pragma: no cover
            pytest.fail("no RateLimitError")
    assert len(trial.server.requests) == 1
    assert len(seen) == 1
    assert seen[0] is caught
    [span] = trial.cap.spans()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == "openai.RateLimitError"
    assert reported_errors(trial.cap) == []


# --- Anthropic -------------------------------------------------------------------------------------
def test_anthropic_response_attributes_raises(
    monkeypatch: pytest.MonkeyPatch, trial: Trial, claude: Callable[[], anthropic.Anthropic]
) -> None:
    monkeypatch.setattr(anthropic_extract, "response_attributes", _boom)

    def call() -> Any:
        message = claude().messages.create(model=CLAUDE, max_tokens=64, messages=USER, tools=CLAUDE_TOOLS)
        return type(message), message.model_dump()

    plain = trial.same_outcome(AnthropicInstrumentor, call)
    assert plain[0] is anthropic.types.Message
    assert plain[1]["id"] == "msg_1"
    assert plain[1]["content"][0]["id"] == "toolu_1"
    trial.assert_not_error([f"chat {CLAUDE}"])
    trial.assert_reported("anthropic", 1)


def test_anthropic_request_attributes_raises(
    monkeypatch: pytest.MonkeyPatch, trial: Trial, claude: Callable[[], anthropic.Anthropic]
) -> None:
    monkeypatch.setattr(anthropic_extract, "request_attributes", _boom)

    def call() -> Any:
        message = claude().messages.create(model=CLAUDE, max_tokens=64, messages=USER)
        with claude().messages.stream(model=CLAUDE, max_tokens=64, messages=USER) as stream:
            text = "".join(stream.text_stream)
        return type(message), message.model_dump(), text

    trial.same_outcome(AnthropicInstrumentor, call)
    assert trial.cap.spans() == []
    trial.assert_reported("anthropic", 2)


def test_anthropic_stream_accumulator_process_raises(
    monkeypatch: pytest.MonkeyPatch, trial: Trial, claude: Callable[[], anthropic.Anthropic]
) -> None:
    monkeypatch.setattr(MessageStreamAccumulator, "process", _boom)

    def call() -> Any:
        stream = claude().messages.create(model=CLAUDE, max_tokens=64, messages=USER, stream=True)
        assert isinstance(stream, anthropic.Stream)
        return [event.model_dump() for event in stream]

    plain = trial.same_outcome(AnthropicInstrumentor, call)
    assert plain[0]["type"] == "message_start"
    assert plain[-1]["type"] == "message_stop"
    trial.assert_not_error([f"chat {CLAUDE}"])
    trial.assert_reported("anthropic", len(plain))


def test_anthropic_stream_helper_with_accumulator_raising(
    monkeypatch: pytest.MonkeyPatch, trial: Trial, claude: Callable[[], anthropic.Anthropic]
) -> None:
    monkeypatch.setattr(MessageStreamAccumulator, "process", _boom)

    def call() -> Any:
        with claude().messages.stream(model=CLAUDE, max_tokens=64, messages=USER) as stream:
            text = "".join(stream.text_stream)
            final = stream.get_final_message()
        return text, type(final), final.model_dump()

    plain = trial.same_outcome(AnthropicInstrumentor, call)
    assert plain[0] == REPLY
    trial.assert_not_error([f"chat {CLAUDE}"])
    # message_start, content_block_start, 6 deltas, content_block_stop, 2 message_delta, message_stop
    # (the SDK drops the "ping" event before anyone sees it)
    trial.assert_reported("anthropic", 12)


def test_anthropic_stream_helper_with_attach_raising(
    monkeypatch: pytest.MonkeyPatch, trial: Trial, claude: Callable[[], anthropic.Anthropic]
) -> None:
    monkeypatch.setattr(EnteredStream, "attach", _boom)

    def call() -> Any:
        with claude().messages.stream(model=CLAUDE, max_tokens=64, messages=USER) as stream:
            events = [event.model_dump() for event in stream]
            final = stream.get_final_message()
        return events, final.model_dump()

    trial.same_outcome(AnthropicInstrumentor, call)
    # attach failed: the span is ended at once (no outcome judged), never ERROR.
    trial.assert_not_error([f"chat {CLAUDE}"])
    trial.assert_reported("anthropic", 1)


async def test_async_anthropic_stream_and_response_raise(
    monkeypatch: pytest.MonkeyPatch, trial: Trial, aclaude: Callable[[], anthropic.AsyncAnthropic]
) -> None:
    monkeypatch.setattr(MessageStreamAccumulator, "process", _boom)
    monkeypatch.setattr(anthropic_extract, "response_attributes", _boom)

    async def call() -> Any:
        message = await aclaude().messages.create(model=CLAUDE, max_tokens=64, messages=USER)
        stream = await aclaude().messages.create(model=CLAUDE, max_tokens=64, messages=USER, stream=True)
        events = [event.model_dump() async for event in stream]
        async with aclaude().messages.stream(model=CLAUDE, max_tokens=64, messages=USER) as helper:
            text = "".join([t async for t in helper.text_stream])
        return message.model_dump(), events, text

    plain = await trial.same_outcome_async(AnthropicInstrumentor, call)
    assert plain[2] == REPLY
    trial.assert_not_error([f"chat {CLAUDE}"] * 3)
    trial.assert_reported("anthropic", 1 + 12 + 12)


def test_anthropic_error_path_with_our_fail_raising(
    monkeypatch: pytest.MonkeyPatch, trial: Trial, claude: Callable[[], anthropic.Anthropic]
) -> None:
    monkeypatch.setattr(Invocation, "fail", _boom)

    def call() -> Any:
        with pytest.raises(anthropic.RateLimitError) as info:
            claude().messages.create(
                model=CLAUDE, max_tokens=64, messages=[{"role": "user", "content": "[[scenario:rate_limit]]"}]
            )
        return type(info.value), str(info.value), info.value.status_code

    plain = trial.same_outcome(AnthropicInstrumentor, call)
    assert plain[2] == 429
    trial.assert_not_error([f"chat {CLAUDE}"])
    trial.assert_reported("anthropic", 1)


# --- the wrappers themselves -------------------------------------------------------------------
class AppError(Exception):
    """The application's own exception."""


class FakeCall:
    """A stand-in for ``Invocation`` that records what the wrapper did; any step can be made to raise."""

    def __init__(self, raising: set[str]) -> None:
        self.raising = raising
        self.log: list[str] = []
        self.failed_with: BaseException | None = None

    def _step(self, name: str) -> None:
        self.log.append(name)
        if name in self.raising:
            raise TelemetryBug(name)

    def activate(self) -> None:
        self._step("activate")

    def deactivate(self) -> None:
        self._step("deactivate")

    def fail(self, exc: BaseException) -> None:
        self.failed_with = exc
        self._step("fail")

    def end(self) -> None:
        self._step("end")


class Harness:
    """One wrapped app function (sync or async) with counters, hooks and a boundary on ``cap``."""

    def __init__(self, cap: TelemetryCapture, raising: set[str], is_async: bool) -> None:
        self.cap = cap
        self.raising = raising
        self.calls = 0
        self.call: FakeCall | None = None
        self.on_result_seen: list[Any] = []
        self.boundary = Boundary("unit", cap.meter_provider.get_meter("test"))
        factory = async_wrapper if is_async else sync_wrapper
        target = self._async_app if is_async else self._app
        self.fn = wrapt.FunctionWrapper(target, factory(self.boundary, self._start, self._on_result))
        self.behaviour: Callable[[], Any] = lambda: None

    def _start(self, instance: Any, args: Any, kwargs: Any) -> FakeCall:
        if "start" in self.raising:
            raise TelemetryBug("start")
        self.call = FakeCall(self.raising)
        return self.call

    def _on_result(self, call: FakeCall, result: Any) -> Any:
        self.on_result_seen.append(result)
        if "on_result" in self.raising:
            raise TelemetryBug("on_result")
        call.end()
        return result

    def _app(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return self.behaviour()

    async def _async_app(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        await asyncio.sleep(0)
        return self.behaviour()

    def errors(self) -> list[tuple[dict[str, Any], int]]:
        return reported_errors(self.cap)


def raise_app_error(error: BaseException) -> Any:
    raise error  # the app's raising frame


# Whatever hook of ours fails, the app function runs once and its outcome passes through; and the
# call, once started, is still closed exactly once where a closing step remains that works
# ("exactly one of finish / fail / end closes it", agentotel.instrumentation._invocation).
@dataclass(frozen=True)
class FailurePoint:
    raising: set[str]  # the steps of ours that raise
    ok_errors: int  # telemetry errors counted when the app function succeeds
    fail_errors: int  # ... when it raises
    ok_log: list[str] | None  # the FakeCall's log when the app function succeeds (None: no call)
    fail_log: list[str] | None  # ... when it raises


OK_LOG = ["activate", "deactivate", "end"]
FAIL_LOG = ["activate", "deactivate", "fail"]
FAILURE_POINTS = [
    pytest.param(FailurePoint(set(), 0, 0, OK_LOG, FAIL_LOG), id="nothing"),
    pytest.param(FailurePoint({"start"}, 1, 1, None, None), id="start"),
    # activate broke after start opened the call: the call must still be closed (end), then the
    # app function runs untraced.
    pytest.param(FailurePoint({"activate"}, 1, 1, ["activate", "end"], ["activate", "end"]), id="activate"),
    # deactivate broke: on success the call is ended; on failure it must still be failed.
    pytest.param(FailurePoint({"deactivate"}, 1, 1, OK_LOG, FAIL_LOG), id="deactivate"),
    # fail broke: like a broken on_result, the call must then be ended.
    pytest.param(FailurePoint({"fail"}, 0, 1, OK_LOG, [*FAIL_LOG, "end"]), id="fail"),
    pytest.param(FailurePoint({"on_result"}, 1, 0, OK_LOG, FAIL_LOG), id="on_result"),
    pytest.param(FailurePoint({"on_result", "end"}, 2, 0, OK_LOG, FAIL_LOG), id="on_result+end"),
    pytest.param(
        FailurePoint({"start", "activate", "deactivate", "fail", "on_result", "end"}, 1, 1, None, None),
        id="everything",
    ),
]


def _check_counts(h: Harness, expected_errors: int) -> None:
    assert h.calls == 1
    expected = [({"agentotel.component": "unit", "error.type": "test_safety.TelemetryBug"}, expected_errors)]
    assert h.errors() == (expected if expected_errors else [])


@pytest.mark.parametrize("point", FAILURE_POINTS)
@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_wrapper_returns_the_same_object_and_runs_once(
    cap: TelemetryCapture, point: FailurePoint, is_async: bool
) -> None:
    h = Harness(cap, point.raising, is_async=is_async)
    sentinel = object()
    h.behaviour = lambda: sentinel
    assert await resolve(h.fn(1, k=2)) is sentinel
    _check_counts(h, point.ok_errors)
    assert (h.call.log if h.call else None) == point.ok_log


@pytest.mark.parametrize("point", FAILURE_POINTS)
@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_wrapper_propagates_the_apps_exception_as_the_same_object(
    cap: TelemetryCapture, point: FailurePoint, is_async: bool
) -> None:
    h = Harness(cap, point.raising, is_async=is_async)
    original = AppError("the app's own failure")
    h.behaviour = lambda: raise_app_error(original)
    try:
        await resolve(h.fn())
    except AppError as exc:
        caught = exc
    else:  # pragma: no cover
        pytest.fail("the app's exception was swallowed")
    assert caught is original
    assert caught.args == ("the app's own failure",)
    assert caught.__cause__ is None
    assert caught.__context__ is None  # not chained to any error of ours
    frames = traceback.extract_tb(caught.__traceback__)
    assert frames[-1].name == "raise_app_error"  # the original raising frame is still the innermost
    assert frames[-1].line == "raise error  # the app's raising frame"
    assert ("_async_app" if is_async else "_app") in [f.name for f in frames]
    _check_counts(h, point.fail_errors)
    assert (h.call.log if h.call else None) == point.fail_log
    if h.call is not None and "fail" in h.call.log:
        assert h.call.failed_with is original
    assert h.on_result_seen == []


@pytest.mark.parametrize("exc_type", [KeyboardInterrupt, SystemExit, GeneratorExit])
def test_sync_wrapper_base_exceptions_pass_through_unchanged(
    cap: TelemetryCapture, exc_type: type[BaseException]
) -> None:
    h = Harness(cap, set(), is_async=False)
    original = exc_type()
    h.behaviour = lambda: raise_app_error(original)
    with pytest.raises(exc_type) as info:
        h.fn()
    assert info.value is original
    assert h.calls == 1
    assert h.call is not None and h.call.failed_with is original
    assert h.errors() == []


async def test_async_wrapper_cancellation_passes_through_unchanged(cap: TelemetryCapture) -> None:
    h = Harness(cap, {"fail"}, is_async=True)
    original = asyncio.CancelledError("cancelled by the app")
    h.behaviour = lambda: raise_app_error(original)
    with pytest.raises(asyncio.CancelledError) as info:
        await h.fn()
    assert info.value is original
    assert h.calls == 1
    assert h.call is not None and h.call.failed_with is original
    assert h.errors() == [({"agentotel.component": "unit", "error.type": "test_safety.TelemetryBug"}, 1)]


def test_wrapper_is_transparent_when_instrumentation_is_suppressed(cap: TelemetryCapture) -> None:
    from opentelemetry.instrumentation.utils import suppress_instrumentation

    h = Harness(cap, set(), is_async=False)
    sentinel = object()
    h.behaviour = lambda: sentinel
    with suppress_instrumentation():
        assert h.fn() is sentinel
    assert h.calls == 1
    assert h.call is None  # start was not even called


def test_boundary_call_returns_the_default_and_reports(
    cap: TelemetryCapture, debug_log: pytest.LogCaptureFixture
) -> None:
    boundary = Boundary("unit", cap.meter_provider.get_meter("test"))
    assert boundary.call("default", _boom, 1, 2) == "default"
    assert boundary.call("default", lambda a, b: a + b, 1, 2) == 3
    assert reported_errors(cap) == [
        ({"agentotel.component": "unit", "error.type": "test_safety.TelemetryBug"}, 1)
    ]
    [record] = [r for r in debug_log.records if r.name == "agentotel"]
    assert record.getMessage() == "agentotel unit: telemetry error (the app is unaffected)"


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (RuntimeError("x"), "RuntimeError"),
        (KeyError("x"), "KeyError"),
        (ValueError(), "ValueError"),
        (asyncio.CancelledError(), "asyncio.CancelledError"),
        (openai.APIConnectionError(request=httpx2.Request("GET", "http://x")), "openai.APIConnectionError"),
        (TelemetryBug(), "test_safety.TelemetryBug"),
    ],
)
def test_error_type_names(exc: BaseException, expected: str) -> None:
    assert _safe.error_type(exc) == expected
