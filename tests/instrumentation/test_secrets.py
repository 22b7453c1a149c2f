"""Secrets a server echoes back never leave the process through what agentotel records.

A provider answers a bad key with a 401 repeating it ("Incorrect API key provided: sk-..."), and
some gateways answer a 400 repeating the URL with its query (``?api-key=...``). The SDK puts that
text in the exception it raises; the app sees that exception unchanged, but the span status, the
``exception`` span event, the log records, the audit file, the run store, the metrics and Sentry
get the text with the credentials replaced by ``[REDACTED]``.

The servers here are tiny local HTTP handlers that mimic those provider answers; the real
``openai`` / ``anthropic`` SDKs call them over HTTP.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anthropic
import openai
import pytest
import sentry_sdk
from helpers import (
    CLAUDE,
    GPT,
    INSTRUMENTORS,
    LocalHTTPServer,
    QuietHandler,
    instrumented,
    openai_status_text,
    serve_in_background,
    stop_serving,
    user,
)
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport

import agentotel
from agentotel._redact import REDACTED, redact
from agentotel.integrations.logs import configure_logging
from agentotel.integrations.sentry import init_sentry
from agentotel.processors import AuditSpanProcessor, RunStoreSpanProcessor
from agentotel.testing._capture import TelemetryCapture

# The OpenAI client's key has no well-known shape: only knowing the client's own credentials
# redacts it. The Anthropic key has the ``sk-ant-`` shape.
OPENAI_KEY = "corp-gateway-7f3a9c2e11d04b8a9e6f"
ANTHROPIC_KEY = "sk-ant-api03-Qw3rTy7UiOp9AsDfGhJkL"
QUERY_KEY = "qk9b1e5d7c3a2f4e6d8c0b"  # sent as ?api-key=... (Azure-style gateways)
SECRETS = (OPENAI_KEY, ANTHROPIC_KEY, QUERY_KEY)
FRAGMENTS = ("7f3a9c2e11d04b8a9e6f", "Qw3rTy7UiOp9AsDfGhJkL", "9b1e5d7c3a2f4e6d8c0b")


# --------------------------------------------------------------------------- the echoing server
class _EchoHandler(QuietHandler):
    """401 repeating the key that was sent, or 400 repeating the URL when it has a query."""

    def do_POST(self) -> None:
        request = json.loads(self.read_body() or b"{}")
        # anthropic 0.x/1.x send the key as x-api-key, 2.x as a bearer token.
        anthropic_key = self.headers.get("x-api-key") or self.headers.get("Authorization", "").removeprefix(
            "Bearer "
        )
        if self.path.startswith("/v1/messages") and request.get("stream"):
            self._stream_error(anthropic_key)
            return
        if self.path.startswith("/v1/messages"):
            key = anthropic_key
            body: dict[str, Any] = {
                "type": "error",
                "error": {"type": "authentication_error", "message": f"invalid x-api-key: {key}"},
            }
            status = 401
        elif urlsplit(self.path).query:
            body = {
                "error": {
                    "message": f"Invalid URL (POST {self.path})",
                    "type": "invalid_request_error",
                    "param": None,
                    "code": None,
                }
            }
            status = 400
        else:
            key = self.headers.get("Authorization", "").removeprefix("Bearer ")
            body = {
                "error": {
                    "message": f"Incorrect API key provided: {key}. You can find your API key at "
                    "https://platform.openai.com/account/api-keys.",
                    "type": "invalid_request_error",
                    "param": None,
                    "code": "invalid_api_key",
                }
            }
            status = 401
        self.reply(status, "application/json", json.dumps(body).encode())

    def _stream_error(self, key: str) -> None:
        """A stream that starts, then fails with an error event repeating the key."""
        message = {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": CLAUDE,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 1, "output_tokens": 0},
        }
        events = [
            ("message_start", {"type": "message_start", "message": message}),
            (
                "error",
                {"type": "error", "error": {"type": "authentication_error", "message": f"key {key} revoked"}},
            ),
        ]
        data = b"".join(f"event: {name}\ndata: {json.dumps(body)}\n\n".encode() for name, body in events)
        self.reply(200, "text/event-stream", data)


@pytest.fixture(scope="module")
def echo_server() -> Iterator[str]:
    server = LocalHTTPServer(_EchoHandler)
    thread = serve_in_background(server, "echo-401")
    yield f"http://127.0.0.1:{server.server_address[1]}"
    stop_serving(server, thread)


# --------------------------------------------------------------------------- every sink
class _Envelopes(Transport):
    """Keeps what Sentry would send (the event after every ``before_send``)."""

    def __init__(self, options: Any = None) -> None:
        super().__init__(options)
        self.sent: list[str] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        out = io.BytesIO()
        envelope.serialize_into(out)
        self.sent.append(out.getvalue().decode("utf-8", "replace"))


class Sinks:
    """Every place agentotel records to, read back as text."""

    def __init__(self, cap: TelemetryCapture, tmp_path: Path) -> None:
        self.cap = cap
        self.audit_path = tmp_path / "audit.jsonl"
        self.runs = tmp_path / "runs"
        self.audit = AuditSpanProcessor(
            self.audit_path,
            llm_calls=True,
            meter_provider=cap.meter_provider,
            logger_provider=cap.logger_provider,
        )
        self.store = RunStoreSpanProcessor(self.runs, meter_provider=cap.meter_provider)
        cap.tracer_provider.add_span_processor(self.audit)
        cap.tracer_provider.add_span_processor(self.store)
        self.log_lines = io.StringIO()
        self.sentry = _Envelopes()

    def texts(self) -> dict[str, str]:
        self.audit.force_flush()
        self.store.force_flush()
        sentry_sdk.flush(timeout=5)
        run_files = sorted(p for p in self.runs.rglob("*") if p.is_file())
        return {
            "spans": "\n".join(s.to_json() for s in self.cap.spans()),
            "logs": "\n".join(r.to_json() for r in self.cap.log_exporter.get_finished_logs()),
            "metrics": self.cap.metric_reader.get_metrics_data().to_json(),  # type: ignore[union-attr]
            "audit": self.audit_path.read_text(),
            "runs": "\n".join(p.read_text() for p in run_files),
            "json logs": self.log_lines.getvalue(),
            "sentry": "\n".join(self.sentry.sent),
        }


@pytest.fixture
def sinks(agent_layer: TelemetryCapture, tmp_path: Path) -> Iterator[Sinks]:
    found = Sinks(agent_layer, tmp_path)
    handler = configure_logging("json", stream=found.log_lines)
    init_sentry(
        "http://public@127.0.0.1:9/1", tracer_provider=agent_layer.tracer_provider, transport=found.sentry
    )
    try:
        with instrumented(agent_layer, *INSTRUMENTORS):
            yield found
    finally:
        logging.getLogger().removeHandler(handler)
        sentry_sdk.get_client().close()
        sentry_sdk.get_global_scope().set_client(None)
        sentry_sdk.get_isolation_scope().clear()
        sentry_sdk.get_current_scope().clear()
        found.audit.shutdown()
        found.store.shutdown()


def assert_no_secret(texts: dict[str, str]) -> None:
    for sink, text in texts.items():
        for secret in (*SECRETS, *FRAGMENTS):
            assert secret not in text, f"{secret!r} leaked into {sink}"


def exception_event(span: ReadableSpan) -> dict[str, Any]:
    [event] = [e for e in span.events if e.name == "exception"]
    return dict(event.attributes or {})


def by_name(cap: TelemetryCapture, name: str) -> ReadableSpan:
    [span] = [s for s in cap.spans() if s.name == name]
    return span


_log = logging.getLogger("app")


def _call_and_report(call: Any) -> BaseException:
    """What an app does: call inside an agent round and a tool, log the failure, report it."""

    def run() -> None:
        with agentotel.agent("planner"), agentotel.tool("ask"):
            call()

    try:
        run()
    except Exception as exc:
        _log.exception("LLM call failed")
        _log.error("LLM call failed: %s", exc)
        sentry_sdk.capture_exception(exc)
        return exc
    raise AssertionError("the call did not fail")


# --------------------------------------------------------------------------- the tests
def test_a_401_echoing_the_openai_clients_own_key_leaves_no_trace(sinks: Sinks, echo_server: str) -> None:
    client = openai.OpenAI(base_url=f"{echo_server}/v1", api_key=OPENAI_KEY, max_retries=0)

    exc = _call_and_report(lambda: client.chat.completions.create(model=GPT, messages=user("hi")))

    assert isinstance(exc, openai.AuthenticationError)
    assert OPENAI_KEY in str(exc)  # the app's exception is untouched
    texts = sinks.texts()
    assert_no_secret(texts)
    llm = by_name(sinks.cap, f"chat {GPT}")
    assert llm.status.status_code is StatusCode.ERROR
    assert llm.status.description == f"openai.AuthenticationError: {str(exc).replace(OPENAI_KEY, REDACTED)}"
    event = exception_event(llm)
    assert event["exception.type"] == "openai.AuthenticationError"
    assert event["exception.message"] == str(exc).replace(OPENAI_KEY, REDACTED)
    assert "Traceback (most recent call last)" in str(event["exception.stacktrace"])
    assert f"Incorrect API key provided: {REDACTED}" in str(event["exception.stacktrace"])
    for name in ("execute_tool ask", "invoke_agent planner"):  # the spans it went through
        assert exception_event(by_name(sinks.cap, name))["exception.message"] == event["exception.message"]
    assert REDACTED in texts["runs"] and REDACTED in texts["json logs"] and REDACTED in texts["sentry"]


def test_a_401_echoing_an_anthropic_key_leaves_no_trace(sinks: Sinks, echo_server: str) -> None:
    client = anthropic.Anthropic(base_url=echo_server, api_key=ANTHROPIC_KEY, max_retries=0)

    exc = _call_and_report(lambda: client.messages.create(model=CLAUDE, max_tokens=16, messages=user("hi")))

    assert isinstance(exc, anthropic.AuthenticationError)
    assert ANTHROPIC_KEY in str(exc)
    assert_no_secret(sinks.texts())
    llm = by_name(sinks.cap, f"chat {CLAUDE}")
    assert exception_event(llm)["exception.message"] == str(exc).replace(ANTHROPIC_KEY, REDACTED)


def test_a_400_echoing_the_url_with_a_key_in_its_query_leaves_no_trace(
    sinks: Sinks, echo_server: str
) -> None:
    client = openai.OpenAI(
        base_url=f"{echo_server}/v1", api_key=OPENAI_KEY, default_query={"api-key": QUERY_KEY}, max_retries=0
    )

    exc = _call_and_report(lambda: client.chat.completions.create(model=GPT, messages=user("hi")))

    assert isinstance(exc, openai.BadRequestError)
    assert QUERY_KEY in str(exc)
    assert_no_secret(sinks.texts())
    message = exception_event(by_name(sinks.cap, f"chat {GPT}"))["exception.message"]
    assert f"/v1/chat/completions?api-key={REDACTED}" in str(message)


def test_a_stream_failing_with_an_error_echoing_the_key_leaves_no_trace(
    sinks: Sinks, echo_server: str
) -> None:
    client = anthropic.Anthropic(base_url=echo_server, api_key=ANTHROPIC_KEY, max_retries=0)

    def read() -> None:
        for _ in client.messages.create(model=CLAUDE, max_tokens=16, messages=user("hi"), stream=True):
            pass

    exc = _call_and_report(read)

    assert isinstance(exc, anthropic.APIStatusError)
    assert ANTHROPIC_KEY in str(exc)
    assert_no_secret(sinks.texts())
    llm = by_name(sinks.cap, f"chat {CLAUDE}")
    assert dict(llm.attributes or {})["agentotel.stream.end"] == "error"
    assert f"key {REDACTED} revoked" in str(exception_event(llm)["exception.message"])


def test_text_log_lines_are_redacted(echo_server: str, cap: TelemetryCapture) -> None:
    lines = io.StringIO()
    handler = configure_logging("text", stream=lines)
    client = openai.OpenAI(base_url=f"{echo_server}/v1", api_key="sk-proj-Qz8Wx7Ec6Rv5Tb4Yn3", max_retries=0)
    try:
        with instrumented(cap, *INSTRUMENTORS):
            try:
                client.chat.completions.create(model=GPT, messages=user("hi"))
            except openai.AuthenticationError as exc:
                _log.exception("LLM call failed: %s", exc)
    finally:
        logging.getLogger().removeHandler(handler)

    text = lines.getvalue()
    assert "Qz8Wx7Ec6Rv5Tb4Yn3" not in text
    # The start of the SDK's message (openai 1.x/2.x put the whole body in it, 3.x the message).
    body = {"error": {"message": f"Incorrect API key provided: {REDACTED}. You"}}
    assert f"ERROR app: LLM call failed: {openai_status_text(401, body)}".rstrip("'}") in text
    assert "Traceback (most recent call last)" in text


def test_sentry_still_links_a_redacted_failure_to_its_llm_span(sinks: Sinks, echo_server: str) -> None:
    client = openai.OpenAI(base_url=f"{echo_server}/v1", api_key=OPENAI_KEY, max_retries=0)

    try:
        client.chat.completions.create(model=GPT, messages=user("hi"))
    except openai.AuthenticationError as exc:
        sentry_sdk.capture_exception(exc)  # outside every span

    sentry_sdk.flush(timeout=5)
    [envelope] = [e for e in sinks.sentry.sent if "AuthenticationError" in e]
    span = by_name(sinks.cap, f"chat {GPT}")
    assert f'"otel.span_id":"{span.context.span_id:016x}"' in envelope.replace(" ", "")  # type: ignore[union-attr]
    assert OPENAI_KEY not in envelope


# --------------------------------------------------------------------------- the function itself
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Incorrect API key provided: sk-proj-abcDEF0123456789xyz.",
            f"Incorrect API key provided: {REDACTED}.",
        ),
        ("key sk-ant-api03-abcdefghijklmnop", f"key {REDACTED}"),
        ("aws AKIAIOSFODNN7EXAMPLE here", f"aws {REDACTED} here"),
        ("GET /v1/x?key=abc123&b=2", f"GET /v1/x?key={REDACTED}&b=2"),
        ("POST /x?api-key=abc123 failed", f"POST /x?api-key={REDACTED} failed"),
        ("POST /x?a=1&token=t0k#frag", f"POST /x?a=1&token={REDACTED}#frag"),
        ("POST /x?access_token=ya29.a0Af", f"POST /x?access_token={REDACTED}"),
        ("Authorization: Bearer abcdefgh12345678", f"Authorization: {REDACTED}"),
        ("openai sk-abcDEF0123456789xyz rejected", f"openai {REDACTED} rejected"),
        ("aws ASIAIOSFODNN7EXAMPLE here", f"aws {REDACTED} here"),
        ("google AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q end", f"google {REDACTED} end"),
        ("POST /x?api_key=abc123&b=2", f"POST /x?api_key={REDACTED}&b=2"),
        ("POST /x?apikey=abc123 failed", f"POST /x?apikey={REDACTED} failed"),
        ("POST /x?secret=s3cr3t&b=2", f"POST /x?secret={REDACTED}&b=2"),
        ("login password=hunter2 failed", f"login password={REDACTED} failed"),
        ("GET /blob?sv=2024&sig=AbC%2Fd3f", f"GET /blob?sv=2024&sig={REDACTED}"),
        ("monkey=banana and turkey=1", "monkey=banana and turkey=1"),  # not a credential
        ("no secrets here", "no secrets here"),
    ],
)
def test_credential_shapes_are_redacted(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_given_credentials_are_redacted_whatever_their_shape() -> None:
    never_used = "shapeless-credential-4d2c9a71"  # no client was ever configured with it
    assert redact(f"bad key {never_used}!", (never_used,)) == f"bad key {REDACTED}!"
    assert redact(f"bad key {never_used}!") == f"bad key {never_used}!"


def test_an_error_result_message_is_redacted(agent_layer: TelemetryCapture) -> None:
    with agentotel.tool("fetch") as tool:
        tool.mark_error_result("tool_error", f"upstream refused key {ANTHROPIC_KEY}")

    [span] = agent_layer.spans()
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == f"upstream refused key {REDACTED}"


class _Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no text")


def test_exceptions_that_resist_reading_are_still_recorded(agent_layer: TelemetryCapture) -> None:
    import httpx2

    without_request = httpx2.ConnectError("connection refused")  # its .request raises RuntimeError
    for error in (without_request, _Unprintable()):
        with pytest.raises(type(error)), agentotel.tool("fetch"):
            raise error

    first, second = agent_layer.spans()
    assert first.status.status_code is StatusCode.ERROR
    assert first.status.description == "httpx2.ConnectError: connection refused"
    assert exception_event(first)["exception.message"] == "connection refused"
    assert second.status.status_code is StatusCode.ERROR
    assert exception_event(second)["exception.message"] == "<exception str() failed>"
    assert "_Unprintable" in str(exception_event(second)["exception.stacktrace"])
