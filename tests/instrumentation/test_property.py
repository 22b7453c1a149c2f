"""Property: whatever the server answers, an instrumented SDK call behaves exactly like an uninstrumented one.

The fake LLM server only speaks well-formed API, so this module has its own tiny HTTP server that
answers whatever status / content type / body the current example hands it: valid chat completions
and messages with random, missing, null or wrongly-typed fields, truncated JSON, non-JSON bytes,
empty bodies, huge numbers, error statuses, and SSE streams with random, odd or truncated events
(also cut off mid-body, like a dropped connection).

For each example the real SDK is called twice against the same answer, once uninstrumented and once
instrumented, and the outcomes must be identical: the same result (repr of model_dump / of every
chunk) or the same exception class and message. No exception may originate in agentotel's code,
and the call still gets exactly one ended span whose status says whether the app saw an error.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import anthropic
import openai
import pytest
from helpers import (
    CLAUDE,
    GPT,
    LocalHTTPServer,
    QuietHandler,
    assert_raised_outside_agentotel,
    instrumented,
    serve_in_background,
    stop_serving,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.trace import StatusCode

from agentotel._safe import error_type
from agentotel.instrumentation.anthropic import AnthropicInstrumentor
from agentotel.instrumentation.openai import OpenAIInstrumentor
from agentotel.testing._capture import TelemetryCapture

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    derandomize=False,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


# --- the answer-anything server --------------------------------------------------------------------
@dataclass(frozen=True)
class Answer:
    """One HTTP answer: status, content type (None: no header) and body chunks.

    ``cut``: send the body chunked and drop the connection without the final chunk.
    """

    status: int
    content_type: str | None
    chunks: tuple[bytes, ...]
    cut: bool = False

    @property
    def body(self) -> bytes:
        return b"".join(self.chunks)


class _Handler(QuietHandler):
    server: _Server

    def do_POST(self) -> None:
        self.read_body()
        answer = self.server.answer
        self.server.hits += 1
        self.close_connection = True
        try:
            self.send_response(answer.status)
            if answer.content_type is not None:
                self.send_header("Content-Type", answer.content_type)
            self.send_header("Connection", "close")
            if answer.cut:
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for chunk in answer.chunks:
                    if chunk:
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)  # no terminating chunk
                return
            body = answer.body
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass


class _Server(LocalHTTPServer):
    answer: Answer = Answer(200, "application/json", (b"{}",))
    hits = 0


@pytest.fixture(scope="module")
def server() -> Iterator[_Server]:
    httpd = _Server(_Handler)
    thread = serve_in_background(httpd)
    yield httpd
    stop_serving(httpd, thread)


@pytest.fixture(scope="module")
def oai(server: _Server) -> openai.OpenAI:
    host, port = server.server_address[:2]
    return openai.OpenAI(
        base_url=f"http://{host}:{port}/v1", api_key="sk-prop-0123456789", max_retries=0, timeout=10
    )


@pytest.fixture(scope="module")
def claude(server: _Server) -> anthropic.Anthropic:
    host, port = server.server_address[:2]
    return anthropic.Anthropic(
        base_url=f"http://{host}:{port}", api_key="sk-ant-prop-0123456789", max_retries=0, timeout=10
    )


# --- strategies --------------------------------------------------------------------------------------
MISSING = object()

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
)
junk = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)
huge = st.sampled_from([2**63, 2**64 + 1, 10**30, -1, -(2**63) - 1, 0])


def field(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly the valid value; sometimes missing, null, junk of any type, or a huge/negative number."""
    return st.one_of(valid, valid, valid, st.just(MISSING), st.none(), junk, huge)


def item(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A list element: like :func:`field` but never missing."""
    return st.one_of(valid, valid, valid, st.none(), junk, huge)


def obj(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(fields).map(lambda d: {k: v for k, v in d.items() if v is not MISSING})


tokens = st.integers(min_value=0, max_value=5000)
short = st.text(max_size=12)

chat_usage = obj(
    prompt_tokens=field(tokens),
    completion_tokens=field(tokens),
    total_tokens=field(tokens),
    prompt_tokens_details=field(obj(cached_tokens=field(tokens))),
    completion_tokens_details=field(obj(reasoning_tokens=field(tokens))),
)
tool_call = obj(
    id=field(short),
    type=field(st.just("function")),
    function=field(obj(name=field(short), arguments=field(short))),
)
chat_message = obj(
    role=field(st.just("assistant")),
    content=field(short),
    tool_calls=field(st.lists(item(tool_call), max_size=2)),
)
chat_choice = obj(
    index=field(st.integers(0, 3)),
    message=field(chat_message),
    finish_reason=field(st.sampled_from(["stop", "length", "tool_calls"])),
)
chat_completion = obj(
    id=field(short),
    object=field(st.just("chat.completion")),
    created=field(tokens),
    model=field(st.sampled_from(["gpt-4o-2024-08-06", ""])),
    choices=field(st.lists(item(chat_choice), max_size=3)),
    usage=field(chat_usage),
    service_tier=field(st.sampled_from(["default", "flex"])),
    system_fingerprint=field(short),
)
chat_delta = obj(
    role=field(st.just("assistant")),
    content=field(short),
    tool_calls=field(
        st.lists(
            item(
                obj(
                    index=field(st.integers(0, 2)),
                    id=field(short),
                    function=field(obj(name=field(short), arguments=field(short))),
                )
            ),
            max_size=2,
        )
    ),
)
chat_chunk = obj(
    id=field(short),
    object=field(st.just("chat.completion.chunk")),
    created=field(tokens),
    model=field(st.just("gpt-4o-2024-08-06")),
    choices=field(
        st.lists(
            item(
                obj(
                    index=field(st.integers(0, 2)),
                    delta=field(chat_delta),
                    finish_reason=field(st.sampled_from(["stop", "length"])),
                )
            ),
            max_size=2,
        )
    ),
    usage=field(st.none() | chat_usage),
    service_tier=field(st.just("default")),
    system_fingerprint=field(short),
)

claude_usage = obj(
    input_tokens=field(tokens),
    output_tokens=field(tokens),
    cache_read_input_tokens=field(tokens),
    cache_creation_input_tokens=field(tokens),
)
claude_block = st.one_of(
    obj(type=field(st.just("text")), text=field(short)),
    obj(type=field(st.just("tool_use")), id=field(short), name=field(short), input=field(junk)),
    obj(type=field(st.just("thinking")), thinking=field(short), signature=field(short)),
)
claude_message = obj(
    id=field(short),
    type=field(st.just("message")),
    role=field(st.just("assistant")),
    model=field(st.just(CLAUDE)),
    content=field(st.lists(item(claude_block), max_size=3)),
    stop_reason=field(st.sampled_from(["end_turn", "max_tokens", "tool_use"])),
    stop_sequence=field(st.none()),
    usage=field(claude_usage),
)
claude_delta = st.one_of(
    obj(type=field(st.just("text_delta")), text=field(short)),
    obj(type=field(st.just("input_json_delta")), partial_json=field(short)),
    obj(type=field(st.just("thinking_delta")), thinking=field(short)),
)
claude_event = st.one_of(
    st.tuples(
        st.just("message_start"), obj(type=field(st.just("message_start")), message=field(claude_message))
    ),
    st.tuples(
        st.just("content_block_start"),
        obj(
            type=field(st.just("content_block_start")),
            index=field(st.integers(0, 2)),
            content_block=field(claude_block),
        ),
    ),
    st.tuples(
        st.just("content_block_delta"),
        obj(
            type=field(st.just("content_block_delta")),
            index=field(st.integers(0, 2)),
            delta=field(claude_delta),
        ),
    ),
    st.tuples(
        st.just("content_block_stop"),
        obj(type=field(st.just("content_block_stop")), index=field(st.integers(0, 2))),
    ),
    st.tuples(
        st.just("message_delta"),
        obj(
            type=field(st.just("message_delta")),
            delta=field(obj(stop_reason=field(st.sampled_from(["end_turn", "tool_use"])))),
            usage=field(claude_usage),
        ),
    ),
    st.tuples(st.just("message_stop"), obj(type=field(st.just("message_stop")))),
    st.tuples(st.just("ping"), st.just({"type": "ping"})),
    st.tuples(
        st.just("error"),
        obj(type=field(st.just("error")), error=field(obj(type=field(short), message=field(short)))),
    ),
    st.tuples(short, junk),  # an event name the SDK does not know
)


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()  # NaN/Infinity allowed: Python's json reads them back


def bodies(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[bytes]:
    """A JSON body (valid-ish), truncated JSON, JSON of the wrong shape, non-JSON bytes or nothing."""
    as_json = valid.map(_json)
    return st.one_of(
        as_json,
        as_json,
        as_json,
        st.tuples(as_json, st.integers(min_value=0, max_value=400)).map(lambda t: t[0][: t[1]]),
        junk.map(_json),
        st.binary(max_size=40),
        st.just(b""),
        st.just(b"\xff\xfe not utf-8 \x80"),
    )


statuses = st.sampled_from([200, 200, 200, 200, 400, 429, 500])
json_types = st.sampled_from(
    ["application/json", "application/json", "application/json; charset=utf-8", "text/plain", None]
)


def sse_event(data: bytes, event: str | None = None) -> bytes:
    return (f"event: {event}\n".encode() if event else b"") + b"data: " + data + b"\n\n"


odd_sse = st.one_of(
    st.just(b": keep-alive comment\n\n"),
    st.just(b"data: {not json\n\n"),
    st.just(b"garbage without a field\n\n"),
    st.just(b"data:\n\n"),
    st.binary(max_size=20),
    junk.map(lambda j: sse_event(_json(j))),
)


def _body_answer(draw: st.DrawFn, stream: bool, valid: st.SearchStrategy[Any]) -> Answer | None:
    """One (JSON-ish) body with any status; for a stream, only now and then or with an error status.
    None: answer the stream with events."""
    status = draw(statuses)
    if stream and status == 200 and draw(st.integers(0, 9)) != 0:
        return None
    ctype = (
        draw(json_types)
        if not stream
        else draw(st.sampled_from(["application/json", "text/event-stream", None]))
    )
    return Answer(status, ctype, (draw(bodies(valid)),))


def _sse_answer(draw: st.DrawFn, chunks: list[bytes], content_type: str) -> Answer:
    """A 200 event stream, sometimes cut off (a dropped connection) or truncated somewhere."""
    cut = draw(st.booleans()) and draw(st.booleans())
    if not cut and draw(st.booleans()):  # truncate the body somewhere
        body = b"".join(chunks)
        chunks = [body[: draw(st.integers(0, len(body)))]]
    return Answer(200, content_type, tuple(chunks), cut)


@st.composite
def openai_answers(draw: st.DrawFn, stream: bool) -> Answer:
    answer = _body_answer(draw, stream, chat_completion)
    if answer is not None:
        return answer
    chunk = chat_chunk.map(lambda c: sse_event(_json(c)))
    events = draw(st.lists(st.one_of(chunk, chunk, odd_sse), max_size=6))
    tail = draw(st.sampled_from([b"data: [DONE]\n\n", b"", b"data: [DONE]\n\ndata: {}\n\n"]))
    content_type = draw(st.sampled_from(["text/event-stream", "text/event-stream; charset=utf-8"]))
    return _sse_answer(draw, [*events, tail], content_type)


@st.composite
def anthropic_answers(draw: st.DrawFn, stream: bool) -> Answer:
    answer = _body_answer(draw, stream, claude_message)
    if answer is not None:
        return answer
    event = claude_event.map(lambda e: sse_event(_json(e[1]), e[0]))
    events = draw(st.lists(st.one_of(event, event, odd_sse), max_size=8))
    return _sse_answer(draw, events, "text/event-stream")


# --- running one example twice -------------------------------------------------------------------------
def _describe(value: Any) -> str:
    """A comparable description of a result (repr survives NaN, where == would not)."""
    try:
        dumped = value.model_dump(warnings=False) if hasattr(value, "model_dump") else value
    except Exception as exc:  # the SDK's own object may fail to dump junk: that is part of the outcome
        return f"<model_dump raised {type(exc).__name__}: {exc}>"
    return f"{type(value).__module__}.{type(value).__qualname__}:{dumped!r}"


@dataclass
class Outcome:
    result: Any = None  # description of the result / every chunk
    error: tuple[str, str] | None = None
    exc: BaseException | None = None

    def key(self) -> tuple[Any, ...]:
        return (self.result, self.error)


def _outcome(fn: Callable[[], Any]) -> Outcome:
    out = Outcome()
    try:
        out.result = fn()
    except Exception as exc:
        out.error = (f"{type(exc).__module__}.{type(exc).__qualname__}", str(exc))
        out.exc = exc
    return out


HI = [{"role": "user", "content": "hi"}]


def _chat(oai: openai.OpenAI) -> str:
    return _describe(oai.chat.completions.create(model=GPT, messages=HI))


def _claude(claude: anthropic.Anthropic) -> str:
    return _describe(claude.messages.create(model=CLAUDE, max_tokens=64, messages=HI))


def _read(start: Callable[[], Any], seen: list[list[str]]) -> list[str]:
    """Describe every chunk of the stream ``start()`` returns, as they come, into a new list of ``seen``."""
    chunks: list[str] = []
    seen.append(chunks)  # before the call: a call that fails saw no chunk
    stream = start()
    # Closed however it is left, as an app's ``with`` does. Left to the garbage collector, a stream
    # that raised mid-way (openai 1.40 leaves its response open then) is closed whenever a
    # collection runs: if that is inside httpcore's connection pool, holding its lock, the close
    # waits for that same lock and the test hangs (httpcore 1.0.9, seen on the SDK floor row).
    try:
        for chunk in stream:
            chunks.append(_describe(chunk))
    finally:
        stream.close()
    return chunks


def _chat_stream(oai: openai.OpenAI, seen: list[list[str]], **options: Any) -> list[str]:
    return _read(lambda: oai.chat.completions.create(model=GPT, messages=HI, stream=True, **options), seen)


def _claude_stream(claude: anthropic.Anthropic, seen: list[list[str]]) -> list[str]:
    return _read(lambda: claude.messages.create(model=CLAUDE, max_tokens=64, messages=HI, stream=True), seen)


def run_twice(
    server: _Server, answer: Answer, instrumentor_cls: type[Any], call: Callable[[], Any]
) -> tuple[Outcome, Outcome, TelemetryCapture]:
    server.answer = answer
    server.hits = 0
    plain = _outcome(call)
    assert server.hits == 1
    cap = TelemetryCapture()
    with instrumented(cap, instrumentor_cls):
        traced = _outcome(call)
    assert server.hits == 2, "the instrumented call must be made exactly once"
    return plain, traced, cap


STRING_ATTRIBUTES = (
    "gen_ai.operation.name",
    "gen_ai.provider.name",
    "gen_ai.request.model",
    "gen_ai.response.id",
    "gen_ai.response.model",
    "openai.response.service_tier",
    "openai.response.system_fingerprint",
    "error.type",
    "agentotel.stream.end",
)
INT_ATTRIBUTES = (
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.output_tokens",
    "gen_ai.usage.cache_read.input_tokens",
    "gen_ai.usage.cache_creation.input_tokens",
    "gen_ai.usage.reasoning.output_tokens",
)
STRING_ARRAY_ATTRIBUTES = (
    "gen_ai.response.finish_reasons",
    "agentotel.response.tool_calls.names",
    "agentotel.response.tool_calls.ids",
)


def assert_attribute_types(attributes: Any) -> None:
    """Whatever junk the response held, every attribute we set has its semantic-convention type."""
    for key in STRING_ATTRIBUTES:
        if key in attributes:
            assert type(attributes[key]) is str, (key, attributes[key])
    for key in INT_ATTRIBUTES:
        if key in attributes:
            assert type(attributes[key]) is int, (key, attributes[key])  # not bool, not float
    for key in STRING_ARRAY_ATTRIBUTES:
        if key in attributes:
            assert isinstance(attributes[key], tuple), (key, attributes[key])
            assert all(type(v) is str for v in attributes[key]), (key, attributes[key])


def check(plain: Outcome, traced: Outcome, cap: TelemetryCapture, span_name: str) -> None:
    try:
        assert traced.key() == plain.key()
        if traced.exc is not None:
            # Raised by the SDK / HTTP stack, never by us: the innermost frame is not ours.
            assert_raised_outside_agentotel(traced.exc)
            assert "agentotel" not in type(traced.exc).__module__
        spans = cap.spans()
        assert [s.name for s in spans] == [span_name], "exactly one span, ended"
        [span] = spans
        assert_attribute_types(span.attributes)
        for name in ("gen_ai.client.token.usage", "gen_ai.client.operation.duration"):
            for point in cap.metric_points(name):
                assert_attribute_types(point.attributes)
        if traced.exc is not None:
            assert span.status.status_code is StatusCode.ERROR
            assert span.attributes["error.type"] == error_type(traced.exc)
        else:
            assert span.status.status_code is StatusCode.UNSET
            assert "error.type" not in span.attributes
    finally:
        cap.shutdown()


# --- properties ---------------------------------------------------------------------------------------
@SETTINGS
@given(answer=openai_answers(stream=False))
def test_openai_chat_completion_outcome_is_unchanged(
    server: _Server, oai: openai.OpenAI, answer: Answer
) -> None:
    plain, traced, cap = run_twice(server, answer, OpenAIInstrumentor, lambda: _chat(oai))
    check(plain, traced, cap, f"chat {GPT}")


@SETTINGS
@given(answer=openai_answers(stream=True))
def test_openai_chat_stream_outcome_is_unchanged(server: _Server, oai: openai.OpenAI, answer: Answer) -> None:
    seen: list[list[str]] = []

    def call() -> list[str]:
        return _chat_stream(oai, seen, stream_options={"include_usage": True})

    plain, traced, cap = run_twice(server, answer, OpenAIInstrumentor, call)
    assert seen[1] == seen[0]  # every chunk yielded before any error, in order
    check(plain, traced, cap, f"chat {GPT}")


@SETTINGS
@given(answer=anthropic_answers(stream=False))
def test_anthropic_message_outcome_is_unchanged(
    server: _Server, claude: anthropic.Anthropic, answer: Answer
) -> None:
    plain, traced, cap = run_twice(server, answer, AnthropicInstrumentor, lambda: _claude(claude))
    check(plain, traced, cap, f"chat {CLAUDE}")


@SETTINGS
@given(answer=anthropic_answers(stream=True))
def test_anthropic_stream_outcome_is_unchanged(
    server: _Server, claude: anthropic.Anthropic, answer: Answer
) -> None:
    seen: list[list[str]] = []
    plain, traced, cap = run_twice(
        server, answer, AnthropicInstrumentor, lambda: _claude_stream(claude, seen)
    )
    assert seen[1] == seen[0]
    check(plain, traced, cap, f"chat {CLAUDE}")


# --- a few fixed answers that the strategies reach only by luck -------------------------------------------
FIXED = [
    Answer(200, "application/json", (b'{"id": "broken',)),
    Answer(200, "application/json", (b"",)),
    Answer(200, "text/html", (b"<html>oops</html>",)),
    Answer(
        200,
        "application/json",
        (
            b'{"choices": [{"index": null, "finish_reason": 7}], '
            b'"usage": {"prompt_tokens": "12", "completion_tokens": true}}',
        ),
    ),
    Answer(
        200,
        "application/json",
        (b'{"usage": {"prompt_tokens": 99999999999999999999999, "completion_tokens": -5}}',),
    ),
    Answer(
        200,
        "application/json",
        (b'{"usage": {"prompt_tokens": NaN, "completion_tokens": Infinity}, "model": 5}',),
    ),
    Answer(200, "application/json", (b"[1, 2, 3]",)),
    Answer(200, "application/json", (b"null",)),
    Answer(500, "application/json", (b'{"error": {"message": "boom", "type": "server_error"}}',)),
    Answer(429, None, (b"slow down",)),
    Answer(400, "application/json", (b"{",)),
]
FIXED_STREAMS = [
    Answer(200, "text/event-stream", (b'data: {"id": "broken\n\n',)),
    Answer(
        200,
        "text/event-stream",
        (
            b'data: {"choices": [{"index": null, "delta": {"content": "a"}, "finish_reason": "stop"}, '
            b'{"index": 0, "delta": null, "finish_reason": "stop"}]}\n\n',
            b"data: [DONE]\n\n",
        ),
    ),
    Answer(200, "text/event-stream", (b'data: {"error": {"message": "mid-stream failure"}}\n\n',)),
    Answer(
        200,
        "text/event-stream",
        (b'data: {"id": "c1", "choices": []}\n\n', b'data: {"id": "c1", "choices": []}\n\n'),
        cut=True,
    ),
    Answer(200, "text/event-stream", (b"",)),
    Answer(200, "application/json", (b'{"id": "not a stream"}',)),
    # wrongly-typed head fields: the non-stream path type-checks these, the stream path must too
    Answer(
        200,
        "text/event-stream",
        (
            b'data: {"id": 5, "model": {"a": 1}, "service_tier": 7, "system_fingerprint": [1], '
            b'"choices": [{"index": 0, "delta": {"content": "x"}, "finish_reason": 3}]}\n\n',
            b'data: {"id": 5, "choices": [], "usage": {"prompt_tokens": true, "completion_tokens": 2.5}}\n\n',
            b"data: [DONE]\n\n",
        ),
    ),
]


@pytest.mark.parametrize("answer", FIXED, ids=lambda a: f"{a.status}-{a.body[:24]!r}")
def test_openai_fixed_odd_answers(server: _Server, oai: openai.OpenAI, answer: Answer) -> None:
    plain, traced, cap = run_twice(server, answer, OpenAIInstrumentor, lambda: _chat(oai))
    check(plain, traced, cap, f"chat {GPT}")


@pytest.mark.parametrize("answer", FIXED_STREAMS, ids=lambda a: f"{a.status}-{a.body[:24]!r}")
def test_openai_fixed_odd_streams(server: _Server, oai: openai.OpenAI, answer: Answer) -> None:
    plain, traced, cap = run_twice(server, answer, OpenAIInstrumentor, lambda: _chat_stream(oai, []))
    check(plain, traced, cap, f"chat {GPT}")


CLAUDE_FIXED_STREAMS = [
    Answer(
        200, "text/event-stream", (sse_event(b'{"type": "message_start", "message": null}', "message_start"),)
    ),
    Answer(
        200,
        "text/event-stream",
        (sse_event(b'{"type": "message_delta", "delta": null, "usage": null}', "message_delta"),),
    ),
    Answer(
        200,
        "text/event-stream",
        (
            sse_event(
                b'{"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": null}}',
                "content_block_delta",
            ),
        ),
    ),
    Answer(
        200,
        "text/event-stream",
        (
            sse_event(
                b'{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}', "error"
            ),
        ),
    ),
    Answer(200, "text/event-stream", (sse_event(b'{"type": "message_stop"}', "message_stop"),), cut=True),
    # wrongly-typed fields: the non-stream path type-checks (or str()s) these, the stream path must too
    Answer(
        200,
        "text/event-stream",
        (
            sse_event(
                b'{"type": "content_block_start", "index": 0, '
                b'"content_block": {"type": "tool_use", "id": null, "name": 5, "input": {}}}',
                "content_block_start",
            ),
            sse_event(
                b'{"type": "message_delta", "delta": {"stop_reason": []}, "usage": {"output_tokens": 3}}',
                "message_delta",
            ),
            sse_event(b'{"type": "message_stop"}', "message_stop"),
        ),
    ),
]


@pytest.mark.parametrize("answer", CLAUDE_FIXED_STREAMS, ids=lambda a: f"{a.body[:40]!r}")
def test_anthropic_fixed_odd_streams(server: _Server, claude: anthropic.Anthropic, answer: Answer) -> None:
    plain, traced, cap = run_twice(server, answer, AnthropicInstrumentor, lambda: _claude_stream(claude, []))
    check(plain, traced, cap, f"chat {CLAUDE}")
