"""What a run is: a trace rooted at an agent run span (``invoke_agent``, ``invoke_workflow``,
``plan``) is one run; a web request (another instrumentation's span) with agentotel spans below
it and no agent run around them is one run, rooted at the request; the top-level spans of code
with no agent span (plain LLM calls, tool spans, inferred or explicit) make one implicit run of
the process, which ends after an idle gap, when another run starts, or at shut-down. Retention
and the CLI's trace-id lookup count runs.

Every test records through real tracer providers with a :class:`RunStoreSpanProcessor` added,
the LLM calls through the real OpenAI SDK against the fake LLM server.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import CHAT_TOOLS, GPT, QUESTION, instrumented, user
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags
from runstore_helpers import events_of, names, run_ids, run_store, summary_of, wait_for_status

import agentotel
from agentotel.config import ConfigError
from agentotel.instrumentation.openai import OpenAIInstrumentor
from agentotel.processors import RunStoreSpanProcessor
from agentotel.processors.runstore import _store
from agentotel.processors.runstore._events import rfc3339
from agentotel.testing._capture import TelemetryCapture


@pytest.fixture(autouse=True)
def no_runs_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AGENTOTEL_RUNS_DIR", "AGENTOTEL_RUNS_KEEP", "AGENTOTEL_RUNS_IDLE_GAP"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def llm(agent_layer: TelemetryCapture) -> Iterator[TelemetryCapture]:
    """The agent layer and the OpenAI instrumentor on the same providers."""
    with instrumented(agent_layer, OpenAIInstrumentor):
        yield agent_layer


@agentotel.tool()
def lookup(city: str) -> str:
    """Today's weather."""
    return "Sunny"


def tool_loop(client: Any) -> None:
    """A plain SDK tool loop: the model asks for get_weather, the app runs it, the model answers."""
    messages: list[Any] = user(QUESTION)
    reply = client.chat.completions.create(model=GPT, messages=messages, tools=CHAT_TOOLS)
    message = reply.choices[0].message
    messages.append(message.model_dump(exclude_none=True))
    for call in message.tool_calls:
        messages.append({"role": "tool", "tool_call_id": call.id, "content": "Sunny"})
    client.chat.completions.create(model=GPT, messages=messages, tools=CHAT_TOOLS)


def ask(client: Any, text: str = QUESTION) -> None:
    client.chat.completions.create(model=GPT, messages=user(text))


def trace_hex(span: ReadableSpan) -> str:
    assert span.context is not None
    return f"{span.context.trace_id:032x}"


def ended(spans: list[ReadableSpan]) -> list[str]:
    return [s.name for s in spans]


# --- the implicit run -----------------------------------------------------------------------------
def test_a_plain_tool_loop_is_one_run(llm: TelemetryCapture, tmp_path: Path, openai_client: Any) -> None:
    with run_store(llm, tmp_path) as processor:
        tool_loop(openai_client)
        assert processor.force_flush()
        [rid] = run_ids(tmp_path)
        during = summary_of(tmp_path, rid)
    spans = llm.spans()
    first, _, last = spans
    assert ended(spans) == ["chat gpt-4o", "execute_tool get_weather", "chat gpt-4o"]
    assert len({trace_hex(s) for s in spans}) == 3
    assert names(events_of(tmp_path, rid)) == ended(spans)
    assert (during["status"], during["implicit"]) == ("running", True)
    summary = summary_of(tmp_path, rid)
    assert summary["trace_ids"] == [trace_hex(s) for s in spans]
    assert last.end_time is not None and first.start_time is not None
    assert {k: summary[k] for k in ("status", "span_count", "tool_calls", "error_count", "implicit")} == {
        "status": "ok",
        "span_count": 3,
        "tool_calls": {"ok": 1, "failed": 0},
        "error_count": 0,
        "implicit": True,
    }
    assert (summary["trace_id"], summary["root"]["name"], summary["root"]["llm"]) == (
        trace_hex(first),
        "chat gpt-4o",
        True,
    )
    assert summary["duration_s"] == round((last.end_time - first.start_time) / 1e9, 6)


def test_top_level_tool_and_step_spans_join_the_implicit_run(
    llm: TelemetryCapture, tmp_path: Path, openai_client: Any
) -> None:
    with run_store(llm, tmp_path) as processor:
        ask(openai_client)
        lookup("Paris")
        with agentotel.step("answer"):
            ask(openai_client)
        assert processor.force_flush()
    [rid] = run_ids(tmp_path)
    assert names(events_of(tmp_path, rid)) == [
        "chat gpt-4o",
        "execute_tool lookup",
        "chat gpt-4o",
        "step answer",
    ]
    assert summary_of(tmp_path, rid)["tool_calls"] == {"ok": 1, "failed": 0}


def test_an_agent_run_ends_the_implicit_run(
    llm: TelemetryCapture, tmp_path: Path, openai_client: Any
) -> None:
    with run_store(llm, tmp_path) as processor:
        ask(openai_client, "before")
        with agentotel.agent("helper"):
            ask(openai_client)
        ask(openai_client, "after")
        assert processor.force_flush()
        during = [summary_of(tmp_path, rid)["status"] for rid in run_ids(tmp_path)]
    before, agent, after = (summary_of(tmp_path, rid) for rid in run_ids(tmp_path))
    assert during == ["ok", "ok", "running"]  # the last one is over at shut-down
    assert [
        (s["root"]["name"], s["implicit"], s["span_count"], s["status"]) for s in (before, agent, after)
    ] == [
        ("chat gpt-4o", True, 1, "ok"),
        ("invoke_agent helper", False, 2, "ok"),
        ("chat gpt-4o", True, 1, "ok"),
    ]


def test_the_implicit_run_ends_after_the_idle_gap(
    llm: TelemetryCapture, tmp_path: Path, openai_client: Any
) -> None:
    with run_store(llm, tmp_path, idle_gap=0.2) as processor:
        ask(openai_client)
        assert processor.force_flush()
        [first] = run_ids(tmp_path)
        assert wait_for_status(tmp_path, first) == "ok"  # nothing new for 0.2 s: closed
        ask(openai_client)
        assert processor.force_flush()
        second = [rid for rid in run_ids(tmp_path) if rid != first]
        assert [summary_of(tmp_path, rid)["status"] for rid in second] == ["running"]
    assert [summary_of(tmp_path, rid)["span_count"] for rid in (first, *second)] == [1, 1]


def test_nothing_of_an_implicit_run_is_kept_once_it_is_over(
    llm: TelemetryCapture, tmp_path: Path, openai_client: Any
) -> None:
    with run_store(llm, tmp_path, idle_gap=0.2) as processor:
        tool_loop(openai_client)
        assert processor.force_flush()
        [rid] = run_ids(tmp_path)
        assert wait_for_status(tmp_path, rid) == "ok"
        assert processor.force_flush()
        sink = processor._writer.sink
        assert (processor._open, processor._implicit.open_members, sink._live) == ({}, 0, set())  # type: ignore[attr-defined]
        assert processor._implicit._current is None


def test_a_call_within_the_gap_after_a_long_call_joins_the_run(
    llm: TelemetryCapture, tmp_path: Path, openai_client: Any
) -> None:
    """The gap counts from the end of the run's last top-level span, not from its start."""
    tracer = llm.tracer_provider.get_tracer("test")
    attrs = {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai"}
    with run_store(llm, tmp_path, idle_gap=0.3) as processor:
        slow = tracer.start_span("chat slow", attributes=attrs)
        time.sleep(0.5)  # longer than the gap, but the run is busy
        slow.end()
        ask(openai_client)
        assert processor.force_flush()
    [rid] = run_ids(tmp_path)
    assert names(events_of(tmp_path, rid)) == ["chat slow", "chat gpt-4o"]


@pytest.mark.parametrize(
    ("questions", "status"),
    [
        (["[[scenario:rate_limit]]", QUESTION], "ok"),
        ([QUESTION, "[[scenario:rate_limit]]"], "error"),
    ],
    ids=["a handled failure, then an answer", "the last call failed"],
)
def test_the_implicit_runs_status_is_its_last_top_level_spans(
    llm: TelemetryCapture, tmp_path: Path, openai_client: Any, questions: list[str], status: str
) -> None:
    import openai

    with run_store(llm, tmp_path):
        for text in questions:
            with contextlib.suppress(openai.RateLimitError):
                ask(openai_client, text)
    [rid] = run_ids(tmp_path)
    summary = summary_of(tmp_path, rid)
    assert (summary["status"], summary["error_count"], summary["span_count"]) == (status, 1, 2)


def test_a_remote_parent_in_an_open_run_joins_it(agent_layer: TelemetryCapture, tmp_path: Path) -> None:
    """An in-process server (an MCP server on a memory stream) continues the client's trace with a
    remote parent: its spans belong to the client's run."""
    tracer = agent_layer.tracer_provider.get_tracer("test")
    with run_store(agent_layer, tmp_path) as processor:
        with agentotel.agent("helper"), agentotel.tool("venue_info") as tool:
            here = tool.span.get_span_context()
            remote = SpanContext(here.trace_id, here.span_id, is_remote=True, trace_flags=TraceFlags(1))
            server_ctx = trace.set_span_in_context(NonRecordingSpan(remote))
            attrs = {"gen_ai.operation.name": "execute_tool"}
            tracer.start_span("tools/call venue_info", server_ctx, attributes=attrs).end()
        assert processor.force_flush()
    [rid] = run_ids(tmp_path)
    assert names(events_of(tmp_path, rid)) == [
        "tools/call venue_info",
        "execute_tool venue_info",
        "invoke_agent helper",
    ]


# --- settings, retention, lookup ------------------------------------------------------------------
def test_the_idle_gap_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert RunStoreSpanProcessor(tmp_path).idle_gap == 30.0
    monkeypatch.setenv("AGENTOTEL_RUNS_IDLE_GAP", "5")
    assert RunStoreSpanProcessor(tmp_path).idle_gap == 5.0
    monkeypatch.setenv("AGENTOTEL_RUNS_IDLE_GAP", "0")
    with pytest.raises(
        ConfigError, match=r"^AGENTOTEL_RUNS_IDLE_GAP='0' is not valid: expected a whole number"
    ):
        RunStoreSpanProcessor(tmp_path)


def test_retention_counts_runs_not_traces(llm: TelemetryCapture, tmp_path: Path, openai_client: Any) -> None:
    with run_store(llm, tmp_path, keep=2) as processor:
        tool_loop(openai_client)
        with agentotel.agent("helper"):
            pass
        assert processor.force_flush()
    assert [summary_of(tmp_path, rid)["span_count"] for rid in run_ids(tmp_path)] == [3, 1]


def test_any_trace_id_of_an_implicit_run_selects_it(
    llm: TelemetryCapture, tmp_path: Path, openai_client: Any
) -> None:
    with run_store(llm, tmp_path):
        tool_loop(openai_client)
    [rid] = run_ids(tmp_path)
    for span in llm.spans():
        assert _store.find_run(tmp_path, trace_hex(span)) == tmp_path / rid
        assert _store.find_run(tmp_path, trace_hex(span)[:20]) == tmp_path / rid


# --- agentotel spans under a web request span ------------------------------------------------------
def serve(tracer: Any, client: Any, text: str = QUESTION, parent: Any = None) -> None:
    """One request of a web-served agent, as a web framework's instrumentation records it: a SERVER
    span, a middleware span that ends before the model is called, the LLM call, a render span."""
    with tracer.start_as_current_span("GET /chat", parent, kind=trace.SpanKind.SERVER):
        tracer.start_span("auth").end()
        ask(client, text)
        tracer.start_span("render").end()


def test_each_web_request_that_calls_a_model_is_one_run(
    llm: TelemetryCapture, tmp_path: Path, openai_client: Any
) -> None:
    web = llm.tracer_provider.get_tracer("web")
    with run_store(llm, tmp_path) as processor:
        for n in range(3):
            serve(web, openai_client, f"question {n}")
        assert processor.force_flush()
        stored = (summary_of(tmp_path, rid) for rid in run_ids(tmp_path))
        summaries = sorted(stored, key=lambda s: int(s["root"]["start_time_unix_nano"]))
        assert [names(events_of(tmp_path, rid)) for rid in run_ids(tmp_path)] == [
            ["auth", "chat gpt-4o", "render", "GET /chat"]
        ] * 3
    requests = [s for s in llm.spans() if s.name == "GET /chat"]
    assert [
        (s["root"]["name"], s["root"]["span_id"], s["trace_ids"], s["implicit"], s["status"], s["span_count"])
        for s in summaries
    ] == [("GET /chat", f"{r.context.span_id:016x}", [trace_hex(r)], False, "ok", 4) for r in requests]
    assert [s["start"] for s in summaries] == [rfc3339(r.start_time or 0) for r in requests]
    assert [s["tokens"] for s in summaries] == [{"input": 2, "output": 6}] * 3  # "question 0": 2 tokens


def test_a_web_request_that_calls_no_model_is_no_run(llm: TelemetryCapture, tmp_path: Path) -> None:
    web = llm.tracer_provider.get_tracer("web")
    with run_store(llm, tmp_path) as processor:
        with web.start_as_current_span("GET /health", kind=trace.SpanKind.SERVER):
            web.start_span("db query").end()
        assert processor.force_flush()
        assert (processor._foreign, processor._served) == ({}, {})  # type: ignore[attr-defined]
    assert run_ids(tmp_path) == []


def test_agent_spans_of_a_request_share_its_run(
    llm: TelemetryCapture, tmp_path: Path, openai_client: Any
) -> None:
    """A tool, then an agent round, in one request: one run, the request's (not the implicit run,
    not a run of the agent round's own)."""
    web = llm.tracer_provider.get_tracer("web")
    with run_store(llm, tmp_path) as processor:
        with web.start_as_current_span("POST /book", kind=trace.SpanKind.SERVER) as request:
            request.set_attribute("http.route", "/book")
            lookup("Paris")
            with agentotel.agent("helper"):
                ask(openai_client)
        ask(openai_client)  # no request: the implicit run
        assert processor.force_flush()
    served, implicit = (summary_of(tmp_path, rid) for rid in run_ids(tmp_path))
    assert names(events_of(tmp_path, served["run_id"])) == [
        "execute_tool lookup",
        "chat gpt-4o",
        "invoke_agent helper",
        "POST /book",
    ]
    assert (served["implicit"], served["tool_calls"], served["objective"]) == (
        False,
        {"ok": 1, "failed": 0},
        "POST /book",
    )
    assert (implicit["implicit"], implicit["span_count"]) == (True, 1)


def test_a_request_continuing_a_remote_trace_is_a_run(
    llm: TelemetryCapture, tmp_path: Path, openai_client: Any
) -> None:
    """The SERVER span's parent is the caller's (a traceparent header): it is still this process's
    root of the request."""
    web = llm.tracer_provider.get_tracer("web")
    remote = SpanContext(0x1234, 0x99, is_remote=True, trace_flags=TraceFlags(1))
    with run_store(llm, tmp_path) as processor:
        serve(web, openai_client, parent=trace.set_span_in_context(NonRecordingSpan(remote)))
        assert processor.force_flush()
    [rid] = run_ids(tmp_path)
    summary = summary_of(tmp_path, rid)
    assert names(events_of(tmp_path, rid)) == ["auth", "chat gpt-4o", "render", "GET /chat"]
    assert (summary["trace_id"], summary["status"]) == (f"{0x1234:032x}", "ok")


def test_a_requests_objective_is_its_first_user_message_with_capture(
    agent_layer: TelemetryCapture, tmp_path: Path, openai_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "SPAN_ONLY")
    web = agent_layer.tracer_provider.get_tracer("web")
    with instrumented(agent_layer, OpenAIInstrumentor), run_store(agent_layer, tmp_path):
        serve(web, openai_client)
    [rid] = run_ids(tmp_path)
    assert summary_of(tmp_path, rid)["objective"] == f"GET /chat: {QUESTION}"


def test_an_llm_call_after_an_agent_round_makes_the_rest_of_the_request_a_run(
    llm: TelemetryCapture, tmp_path: Path, openai_client: Any
) -> None:
    """The agent round is a run of its own (it began before the request was a run); the call
    after it makes the request a run, with the request's spans outside the agent run."""
    web = llm.tracer_provider.get_tracer("web")
    with run_store(llm, tmp_path) as processor:
        with web.start_as_current_span("GET /chat", kind=trace.SpanKind.SERVER):
            with agentotel.agent("helper"):
                ask(openai_client)
            web.start_span("save").end()
            ask(openai_client, "summarize")
        assert processor.force_flush()
    by_root = {s["root"]["name"]: s for s in (summary_of(tmp_path, rid) for rid in run_ids(tmp_path))}
    agent, request = by_root.pop("invoke_agent helper"), by_root.pop("GET /chat")
    assert by_root == {}
    assert names(events_of(tmp_path, agent["run_id"])) == ["chat gpt-4o", "invoke_agent helper"]
    assert names(events_of(tmp_path, request["run_id"])) == ["save", "chat gpt-4o", "GET /chat"]
    assert agent["trace_id"] == request["trace_id"]


def test_a_request_still_open_at_shutdown_is_interrupted(
    llm: TelemetryCapture, tmp_path: Path, openai_client: Any
) -> None:
    web = llm.tracer_provider.get_tracer("web")
    with run_store(llm, tmp_path):
        request = web.start_span("GET /chat", kind=trace.SpanKind.SERVER)
        with trace.use_span(request):
            ask(openai_client)
    request.end()
    [rid] = run_ids(tmp_path)
    summary = summary_of(tmp_path, rid)
    assert (summary["status"], summary["root"]["name"], names(events_of(tmp_path, rid))) == (
        "interrupted",
        "GET /chat",
        ["chat gpt-4o"],
    )


def test_a_request_run_keeps_at_most_100_spans_from_before_its_first_agentotel_span(
    llm: TelemetryCapture, tmp_path: Path, openai_client: Any
) -> None:
    web = llm.tracer_provider.get_tracer("web")
    with run_store(llm, tmp_path) as processor:
        with web.start_as_current_span("GET /chat", kind=trace.SpanKind.SERVER):
            for n in range(101):
                web.start_span(f"middleware {n}").end()
            ask(openai_client)
        assert processor.force_flush()
    [rid] = run_ids(tmp_path)
    assert names(events_of(tmp_path, rid)) == [
        *(f"middleware {n}" for n in range(100)),
        "chat gpt-4o",
        "GET /chat",
    ]


def test_an_llm_call_under_a_request_begun_before_the_store_joins_the_implicit_run(
    llm: TelemetryCapture, tmp_path: Path, openai_client: Any
) -> None:
    """The store never saw the request start: the call is still recorded, in the implicit run."""
    web = llm.tracer_provider.get_tracer("web")
    with web.start_as_current_span("GET /chat", kind=trace.SpanKind.SERVER), run_store(llm, tmp_path):
        ask(openai_client)
    [rid] = run_ids(tmp_path)
    summary = summary_of(tmp_path, rid)
    assert (summary["implicit"], summary["root"]["name"], summary["span_count"]) == (True, "chat gpt-4o", 1)
