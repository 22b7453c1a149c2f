"""Sentry: a real sentry-sdk sends to a local HTTP server acting as Sentry's ingest, and the
envelopes it receives are read back.

What is checked: the exception's type and value; the OpenTelemetry trace and span ids as tags and
as the event's trace context (the span being the one the exception failed, also when it is
reported after every span has ended); no duplicate of our GenAI telemetry (Sentry's own
OpenAI/Anthropic/... integrations stay off, so a handled LLM failure sends nothing); the global
propagators untouched and no Sentry headers on the LLM request; no prompt text in what is sent.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from typing import Any

import openai
import pytest
import sentry_sdk
from helpers import (
    GPT,
    LocalHTTPServer,
    QuietHandler,
    openai_rate_limit_text,
    serve_in_background,
    stop_serving,
    user,
)
from opentelemetry import propagate, trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode

import agentotel
from agentotel import ConfigError, config
from agentotel.integrations import sentry as agentotel_sentry
from agentotel.integrations.sentry import configure_from_env, init_sentry, scrub_request
from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture

RATE_LIMIT = "[[scenario:rate_limit]]"
AI_INTEGRATIONS = {"openai", "anthropic", "langchain", "langgraph", "mcp"}


# --------------------------------------------------------------------------- a local Sentry ingest
class Ingest(LocalHTTPServer):
    """Accepts ``POST /api/<project>/envelope/`` and keeps each envelope, decompressed."""

    def __init__(self) -> None:
        self.envelopes: list[bytes] = []
        self.lock = threading.Lock()
        super().__init__(_IngestHandler)

    @property
    def dsn(self) -> str:
        return f"http://public@127.0.0.1:{self.server_address[1]}/1"

    def items(self, kind: str) -> list[dict[str, Any]]:
        """Payloads of every received item of type ``kind`` (``event``, ``transaction``, ...)."""
        with self.lock:
            envelopes = list(self.envelopes)
        return [payload for body in envelopes for header, payload in parse_envelope(body) if header == kind]

    def events(self) -> list[dict[str, Any]]:
        return self.items("event")

    def raw(self) -> bytes:
        with self.lock:
            return b"\n".join(self.envelopes)


class _IngestHandler(QuietHandler):
    server: Ingest

    def do_POST(self) -> None:
        body = self.read_body()
        encoding = self.headers.get("Content-Encoding", "").lower()
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "br":
            import brotli  # type: ignore[import-not-found]  # only if sentry-sdk found it

            body = brotli.decompress(body)
        if self.path == "/api/1/envelope/":
            with self.server.lock:
                self.server.envelopes.append(body)
        reply = b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)


def parse_envelope(body: bytes) -> list[tuple[str, dict[str, Any]]]:
    """``(item type, JSON payload)`` of each item: a header line, then per item a header line
    and a payload (``length`` bytes, or up to the next newline)."""
    _, _, rest = body.partition(b"\n")
    items: list[tuple[str, dict[str, Any]]] = []
    while rest.strip():
        line, _, rest = rest.partition(b"\n")
        header = json.loads(line)
        if "length" in header:
            payload, rest = rest[: header["length"]], rest[header["length"] :].removeprefix(b"\n")
        else:
            payload, _, rest = rest.partition(b"\n")
        items.append((header["type"], json.loads(payload) if payload.strip() else {}))
    return items


@pytest.fixture
def ingest() -> Iterator[Ingest]:
    server = Ingest()
    thread = serve_in_background(server, "sentry-ingest")
    yield server
    stop_serving(server, thread)


@pytest.fixture
def sentry(ingest: Ingest, cap: TelemetryCapture) -> Iterator[Ingest]:
    """Sentry initialised by agentotel, sending to ``ingest``; the SDK reset afterwards."""
    assert init_sentry(ingest.dsn, tracer_provider=cap.tracer_provider) is True
    yield ingest
    reset_sentry()


def reset_sentry() -> None:
    sentry_sdk.flush(timeout=5)
    sentry_sdk.get_client().close()
    sentry_sdk.get_global_scope().set_client(None)
    sentry_sdk.get_isolation_scope().clear()
    sentry_sdk.get_current_scope().clear()


def sent_events(ingest: Ingest) -> list[dict[str, Any]]:
    assert sentry_sdk.flush(timeout=5) is not False
    return ingest.events()


def only_event(ingest: Ingest) -> dict[str, Any]:
    events = sent_events(ingest)
    assert len(events) == 1, events
    return events[0]


def ids(span: ReadableSpan | trace.Span) -> tuple[str, str]:
    ctx = span.get_span_context()
    assert ctx is not None
    return trace.format_trace_id(ctx.trace_id), trace.format_span_id(ctx.span_id)


def exception_of(event: dict[str, Any]) -> tuple[str, str]:
    [value] = event["exception"]["values"]
    return value["type"], value["value"]


def otel_tags(event: dict[str, Any]) -> dict[str, str]:
    return {k: v for k, v in event["tags"].items() if k in ("otel.trace_id", "otel.span_id")}


def by_name(cap: TelemetryCapture, name: str) -> ReadableSpan:
    [span] = [s for s in cap.spans() if s.name == name]
    return span


def fail(message: str) -> None:
    raise ValueError(message)


# --------------------------------------------------------------------------- tagging and linking
def test_an_exception_captured_inside_a_span_carries_its_ids(sentry: Ingest, cap: TelemetryCapture) -> None:
    tracer = cap.tracer_provider.get_tracer("test")
    with tracer.start_as_current_span("work") as span:
        try:
            fail("boom")
        except ValueError as exc:
            sentry_sdk.capture_exception(exc)

    event = only_event(sentry)
    trace_id, span_id = ids(span)
    assert exception_of(event) == ("ValueError", "boom")
    assert otel_tags(event) == {"otel.trace_id": trace_id, "otel.span_id": span_id}
    assert event["contexts"]["trace"] == {"trace_id": trace_id, "span_id": span_id}


def test_an_error_logged_inside_a_span_carries_its_ids(sentry: Ingest, cap: TelemetryCapture) -> None:
    tracer = cap.tracer_provider.get_tracer("test")
    with tracer.start_as_current_span("work") as span:
        try:
            fail("logged")
        except ValueError:
            import logging

            logging.getLogger("test.sentry").exception("the step failed")

    event = only_event(sentry)
    trace_id, span_id = ids(span)
    assert exception_of(event) == ("ValueError", "logged")
    assert event["logentry"]["message"] == "the step failed"
    assert otel_tags(event) == {"otel.trace_id": trace_id, "otel.span_id": span_id}
    assert event["contexts"]["trace"] == {"trace_id": trace_id, "span_id": span_id}


def test_an_uncaught_exception_is_reported_with_the_span_it_failed_in(
    sentry: Ingest, agent_layer: TelemetryCapture
) -> None:
    with pytest.raises(ValueError) as info:  # noqa: SIM117 - the nesting is the point
        with agentotel.session("conv-9"):
            with agentotel.agent("planner"):
                with agentotel.tool("lookup"):
                    fail("tool broke")
    assert trace.get_current_span() is trace.INVALID_SPAN  # every span has ended
    sys.excepthook(info.type, info.value, info.tb)  # what the interpreter does at the top

    event = only_event(sentry)
    trace_id, span_id = ids(by_name(agent_layer, "execute_tool lookup"))
    assert exception_of(event) == ("ValueError", "tool broke")
    assert event["exception"]["values"][0]["mechanism"]["type"] == "excepthook"
    assert otel_tags(event) == {"otel.trace_id": trace_id, "otel.span_id": span_id}
    assert event["tags"]["gen_ai.conversation.id"] == "conv-9"
    assert event["contexts"]["trace"] == {"trace_id": trace_id, "span_id": span_id}


def test_a_failed_llm_call_is_reported_with_its_llm_span(
    sentry: Ingest,
    agent_layer: TelemetryCapture,
    openai_instrumented: TelemetryCapture,
    openai_client: openai.OpenAI,
) -> None:
    try:
        with agentotel.agent("planner"):
            openai_client.chat.completions.create(model=GPT, messages=user(RATE_LIMIT))
    except openai.RateLimitError as exc:
        sentry_sdk.capture_exception(exc)  # outside every span

    event = only_event(sentry)
    llm_trace, llm_span = ids(by_name(agent_layer, f"chat {GPT}"))
    assert exception_of(event) == ("RateLimitError", openai_rate_limit_text())
    assert otel_tags(event) == {"otel.trace_id": llm_trace, "otel.span_id": llm_span}
    assert event["contexts"]["trace"] == {"trace_id": llm_trace, "span_id": llm_span}


def test_a_span_failing_while_another_exception_is_handled_does_not_claim_it(
    sentry: Ingest, cap: TelemetryCapture
) -> None:
    try:
        raise KeyError("missing")
    except KeyError as handled:
        with cap.tracer_provider.get_tracer("test").start_as_current_span("fallback") as span:
            span.set_status(StatusCode.ERROR, "no fallback either")  # records no exception
        caught = handled
    sentry_sdk.capture_exception(caught)

    assert otel_tags(only_event(sentry)) == {}


def test_an_event_outside_any_span_has_no_otel_tags(sentry: Ingest) -> None:
    sentry_sdk.capture_message("plain")

    event = only_event(sentry)
    assert event["message"] == "plain"
    assert otel_tags(event) == {}


def test_your_before_send_runs_after_ours(ingest: Ingest, cap: TelemetryCapture) -> None:
    seen: list[dict[str, str]] = []

    def before_send(event: Any, hint: Any) -> Any:
        seen.append(dict(event["tags"]))
        return None  # and it may still drop the event

    init_sentry(ingest.dsn, tracer_provider=cap.tracer_provider, before_send=before_send)
    try:
        with cap.tracer_provider.get_tracer("test").start_as_current_span("work") as span:
            sentry_sdk.capture_message("dropped")
        trace_id, span_id = ids(span)
        assert seen == [{"otel.trace_id": trace_id, "otel.span_id": span_id}]
        assert sent_events(ingest) == []
    finally:
        reset_sentry()


# --------------------------------------------------------------------------- no duplicates
def test_a_handled_llm_failure_sends_nothing(
    sentry: Ingest, openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI
) -> None:
    """Sentry's OpenAI integration would report it as an unhandled error (see the next test)."""
    with pytest.raises(openai.RateLimitError):
        openai_client.chat.completions.create(model=GPT, messages=user(RATE_LIMIT))

    assert sent_events(sentry) == []
    assert [s.name for s in openai_instrumented.spans()] == [f"chat {GPT}"]  # ours is there


SENTRY_ALONE = "sentry_sdk.init({dsn!r}, default_integrations=False, integrations=[OpenAIIntegration()])"
WITH_AGENTOTEL = "init_sentry({dsn!r}, integrations=[OpenAIIntegration()])"


@pytest.mark.parametrize(
    ("init", "mechanisms"),
    [
        pytest.param(SENTRY_ALONE, [{"type": "openai", "handled": False}], id="sentry-alone"),
        pytest.param(WITH_AGENTOTEL, [], id="with-agentotel"),
    ],
)
def test_sentry_openai_integration_duplicates_a_handled_failure_unless_agentotel_disables_it(
    ingest: Ingest, fake_llm: FakeLLMServer, init: str, mechanisms: list[dict[str, Any]]
) -> None:
    """In a fresh interpreter each (Sentry sets an integration up once per process). Sentry's
    OpenAI integration, when on, reports every failed call as unhandled, even one the app handles
    and retries; agentotel keeps it off even when asked for. (Sentry already switches it off by
    itself when LangChain is installed, as here: hence asking for it.)"""
    script = textwrap.dedent(
        f"""
        import openai, sentry_sdk
        from sentry_sdk.integrations.openai import OpenAIIntegration
        from agentotel.integrations.sentry import init_sentry
        {init.format(dsn=ingest.dsn)}
        client = openai.OpenAI(base_url={fake_llm.openai_base_url!r}, api_key="sk-test", max_retries=0)
        messages = [{{"role": "user", "content": {RATE_LIMIT!r}}}]
        try:
            client.chat.completions.create(model="gpt-4o", messages=messages)
        except openai.RateLimitError:
            pass
        sentry_sdk.capture_message("done")
        sentry_sdk.flush(timeout=5)
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)

    events = ingest.events()
    assert [e.get("message") for e in events] == [None] * len(mechanisms) + ["done"]
    assert [e["exception"]["values"][0]["mechanism"] for e in events[:-1]] == mechanisms


def test_sentry_adds_no_spans_integrations_or_headers_of_its_own(
    sentry: Ingest,
    agent_layer: TelemetryCapture,
    openai_instrumented: TelemetryCapture,
    openai_client: openai.OpenAI,
    fake_llm: FakeLLMServer,
) -> None:
    fake_llm.clear()
    with agentotel.agent("planner"):
        openai_client.chat.completions.create(model=GPT, messages=user("hello"))
        sentry_sdk.capture_message("after the call")

    event = only_event(sentry)
    assert AI_INTEGRATIONS.isdisjoint(event["sdk"]["integrations"])
    assert "otlp" in event["sdk"]["integrations"]  # trace linking only
    crumbs = event.get("breadcrumbs", {}).get("values", [])
    assert [c for c in crumbs if c.get("category") not in ("httplib", "http")] == []
    assert sentry.items("transaction") == [] and sentry.items("span") == []
    [request] = fake_llm.requests
    assert "sentry-trace" not in request.headers and "baggage" not in request.headers


def test_the_global_propagators_are_left_alone(ingest: Ingest, cap: TelemetryCapture) -> None:
    before = propagate.get_global_textmap()
    init_sentry(ingest.dsn, tracer_provider=cap.tracer_provider)
    try:
        assert propagate.get_global_textmap() is before
        carrier: dict[str, str] = {}
        with cap.tracer_provider.get_tracer("test").start_as_current_span("work") as span:
            propagate.inject(carrier)
        trace_id, span_id = ids(span)
        flags = span.get_span_context().trace_flags
        assert carrier == {"traceparent": f"00-{trace_id}-{span_id}-{flags:02x}"}
    finally:
        reset_sentry()


# --------------------------------------------------------------------------- no prompt content
def answer(prompt: str) -> None:
    messages = [{"role": "user", "content": prompt}]  # a local variable holding the prompt
    raise RuntimeError(f"no answer for {len(messages)} message(s)")


def test_no_local_variable_or_prompt_reaches_sentry(sentry: Ingest, cap: TelemetryCapture) -> None:
    with cap.tracer_provider.get_tracer("test").start_as_current_span("work"):
        try:
            answer("-".join(["PROMPT", "TEXT", "1234"]))  # not in the source context either
        except RuntimeError as exc:
            sentry_sdk.capture_exception(exc)

    event = only_event(sentry)
    frames = event["exception"]["values"][0]["stacktrace"]["frames"]
    assert [f["function"] for f in frames][-1] == "answer"
    assert all("vars" not in f for f in frames)
    assert b"PROMPT-TEXT-1234" not in sentry.raw()


def test_request_bodies_are_dropped_and_credential_headers_filtered() -> None:
    event: dict[str, Any] = {
        "request": {
            "url": "http://app/chat",
            "data": {"message": "a prompt"},
            "headers": {"Authorization": "Bearer x", "X-Api-Key": "k", "Cookie": "c", "Accept": "*/*"},
        }
    }
    scrub_request(event)
    assert event == {
        "request": {
            "url": "http://app/chat",
            "headers": {
                "Authorization": "[Filtered]",
                "X-Api-Key": "[Filtered]",
                "Cookie": "[Filtered]",
                "Accept": "*/*",
            },
        }
    }


# --------------------------------------------------------------------------- switched on by SENTRY_DSN
def test_without_a_dsn_sentry_is_not_initialised(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(config.SENTRY_DSN, raising=False)
    assert init_sentry() is False
    configure_from_env({})
    assert not sentry_sdk.is_initialized()


def test_sentry_dsn_in_the_environment_initialises_sentry_once(ingest: Ingest, cap: TelemetryCapture) -> None:
    env = {config.SENTRY_DSN: ingest.dsn}
    try:
        configure_from_env(env, tracer_provider=cap.tracer_provider)
        client = sentry_sdk.get_client()
        configure_from_env(env, tracer_provider=cap.tracer_provider)
        assert sentry_sdk.get_client() is client  # the second call left it alone
        sentry_sdk.capture_message("hello")
        assert [e["message"] for e in sent_events(ingest)] == ["hello"]
    finally:
        reset_sentry()


def test_a_dsn_sentry_cannot_parse_names_the_variable() -> None:
    with pytest.raises(
        ConfigError, match=r"^SENTRY_DSN is not a valid Sentry DSN: Unsupported scheme 'ftp'$"
    ):
        configure_from_env({config.SENTRY_DSN: "ftp://key@127.0.0.1/1"})
    assert not sentry_sdk.is_initialized()


def test_the_marker_is_attached_once_per_tracer_provider(ingest: Ingest, cap: TelemetryCapture) -> None:
    try:
        init_sentry(ingest.dsn, tracer_provider=cap.tracer_provider)
        init_sentry(ingest.dsn, tracer_provider=cap.tracer_provider)
        processors = cap.tracer_provider._active_span_processor._span_processors
        assert sum(isinstance(p, agentotel_sentry.FailedSpanMarker) for p in processors) == 1
    finally:
        reset_sentry()
