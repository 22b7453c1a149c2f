"""What the processors make of a crew run (audit records, run-store runs, cost), sessions, tool
failures and retries, privacy by default, the app's result unchanged, and the safety boundary."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
from helpers import CREWAI_INSTALLED

if not CREWAI_INSTALLED:
    pytest.skip("crewai is not installed: nox -s 'majors(crewai)'", allow_module_level=True)

from audit_helpers import records
from crewai import Agent, Crew, Task
from crewai.tools import tool
from crewai_helpers import (
    AGENT,
    ANSWER,
    CLIENT,
    CREW,
    INTERNAL,
    LLM_SPAN,
    TASK,
    TOOL,
    TOOL_THEN_ANSWER,
    TREE,
    llm,
    llm_requests,
    named,
    tree,
    weather_crew,
)
from helpers import TELEMETRY_ERRORS, TOKENS, attrs_of, instrumented
from opentelemetry import trace
from opentelemetry.trace import StatusCode
from runstore_helpers import run_ids, run_store, summary_of

import agentotel
from agentotel.instrumentation.crewai import CrewAIInstrumentor
from agentotel.instrumentation.openai import OpenAIInstrumentor
from agentotel.processors import AuditSpanProcessor
from agentotel.testing import FakeLLMServer, Reply
from agentotel.testing._capture import TelemetryCapture

CAPTURE = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"


@pytest.fixture(autouse=True)
def _no_capture_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CAPTURE, raising=False)


def crew_with(fake: FakeLLMServer, *tools: Any) -> Any:
    agent = Agent(
        role="forecaster",
        goal="Tell the weather",
        backstory="A meteorologist.",
        llm=llm(fake),
        tools=list(tools),
        verbose=False,
    )
    task = Task(
        name="forecast", description="Weather in Paris?", expected_output="One sentence.", agent=agent
    )
    return Crew(name="weather crew", agents=[agent], tasks=[task], verbose=False)


@tool("broken_weather")
def broken_weather(city: str) -> str:
    """Weather for a city (always fails)."""
    raise ConnectionError("weather service down")


# --- audit, run store, cost ------------------------------------------------------------------------
def test_every_tool_call_is_an_audit_record_of_the_agent(
    bridged: TelemetryCapture, fake: FakeLLMServer, tmp_path: Path
) -> None:
    path = tmp_path / "audit.jsonl"
    audit = AuditSpanProcessor(
        path, meter_provider=bridged.meter_provider, logger_provider=bridged.logger_provider
    )
    bridged.tracer_provider.add_span_processor(audit)
    fake.script(TOOL_THEN_ANSWER)

    with agentotel.session("conv-7", user_id="u-7"):
        weather_crew(fake).kickoff(inputs={"city": "Paris"})
    assert audit.force_flush()
    audit.shutdown()

    found = [r for r in records(path) if r["event_type"] == "tool_call"]
    assert [(r["resource"], r["outcome"], r["actor"], r["conversation_id"]) for r in found] == [
        ("get_weather", "success", {"agent": "forecaster", "user": "u-7"}, "conv-7"),
    ]
    assert found[0]["metadata"] == {"gen_ai.tool.call.id": "call_1", "gen_ai.tool.type": "function"}


def test_a_failing_tool_is_an_error_span_and_a_failure_record(
    bridged: TelemetryCapture, fake: FakeLLMServer, tmp_path: Path
) -> None:
    path = tmp_path / "audit.jsonl"
    audit = AuditSpanProcessor(
        path, meter_provider=bridged.meter_provider, logger_provider=bridged.logger_provider
    )
    bridged.tracer_provider.add_span_processor(audit)
    fake.script([Reply.tool_call("broken_weather", {"city": "Paris"}), Reply.text("Sorry.")])

    result = crew_with(fake, broken_weather).kickoff()
    assert audit.force_flush()
    audit.shutdown()

    assert result.raw == "Sorry."
    [span] = named(bridged, "execute_tool broken_weather")
    assert span.status.status_code is StatusCode.ERROR
    assert attrs_of(span)["error.type"] == "ConnectionError"
    assert attrs_of(span)["gen_ai.tool.call.id"] == "call_1"
    assert bridged.metric_count("agentotel.tool.duration", {"error.type": "ConnectionError"}) == 1
    [agent] = named(bridged, AGENT)
    assert agent.status.status_code is StatusCode.UNSET
    found = [r for r in records(path) if r["event_type"] == "tool_call"]
    assert [(r["resource"], r["outcome"]) for r in found] == [("broken_weather", "failure")]
    assert not [s for s in bridged.spans() if attrs_of(s).get("agentotel.tool.inferred")]


@pytest.mark.skipif(
    importlib.util.find_spec("crewai.tools.tool_failure") is None, reason="ToolFailure: crewai>=1.15.9"
)
def test_a_tool_failure_the_tool_returns_fails_its_span(
    bridged: TelemetryCapture, fake: FakeLLMServer
) -> None:
    from crewai.tools.tool_failure import ToolFailure

    @tool("flaky_weather")
    def flaky_weather(city: str) -> Any:
        """Weather for a city (reports a failure)."""
        return ToolFailure(message="no station in " + city)

    fake.script([Reply.tool_call("flaky_weather", {"city": "Paris"}), Reply.text("Sorry.")])

    crew_with(fake, flaky_weather).kickoff()

    [span] = named(bridged, "execute_tool flaky_weather")
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "tool_reported"  # its message quotes the city: content
    assert attrs_of(span)["error.type"] == "tool_error"
    assert "Paris" not in all_text(bridged)


@pytest.mark.skipif(
    importlib.util.find_spec("crewai.tools.tool_failure") is None, reason="ToolFailure: crewai>=1.15.9"
)
def test_with_content_capture_on_a_returned_tool_failure_gives_its_message(
    cap: TelemetryCapture, fake: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from crewai.tools.tool_failure import ToolFailure

    @tool("flaky_weather")
    def flaky_weather(city: str) -> Any:
        """Weather for a city (reports a failure)."""
        return ToolFailure(message="no station in " + city)

    monkeypatch.setenv(CAPTURE, "SPAN_ONLY")
    fake.script([Reply.tool_call("flaky_weather", {"city": "Paris"}), Reply.text("Sorry.")])

    with instrumented(cap, OpenAIInstrumentor, CrewAIInstrumentor):
        crew_with(fake, flaky_weather).kickoff()

    [span] = named(cap, "execute_tool flaky_weather")
    assert span.status.description == "no station in Paris"


def test_each_kickoff_is_one_run_in_the_run_store(
    bridged: TelemetryCapture, fake: FakeLLMServer, tmp_path: Path
) -> None:
    fake.script([*TOOL_THEN_ANSWER, *TOOL_THEN_ANSWER])

    with run_store(bridged, tmp_path) as store:
        crew = weather_crew(fake)
        crew.kickoff(inputs={"city": "Paris"})
        crew.kickoff(inputs={"city": "Rome"})
        assert store.force_flush()
    summaries = [summary_of(tmp_path, rid) for rid in run_ids(tmp_path)]

    assert [(s["root"]["name"], s["span_count"], s["status"], s["tool_calls"]) for s in summaries] == [
        (CREW, len(TREE), "ok", {"ok": 1, "failed": 0}),
        (CREW, len(TREE), "ok", {"ok": 1, "failed": 0}),
    ]


def test_the_cost_of_the_llm_calls_is_summed_onto_the_agent_and_the_crew(
    bridged: TelemetryCapture, fake: FakeLLMServer
) -> None:
    fake.script(TOOL_THEN_ANSWER)

    weather_crew(fake).kickoff(inputs={"city": "Paris"})

    cost = sum(attrs_of(s)["agentotel.usage.cost_usd"] for s in named(bridged, LLM_SPAN))
    assert cost > 0
    for name in (AGENT, CREW):
        [span] = named(bridged, name)
        assert attrs_of(span)["agentotel.usage.cost_usd"] == pytest.approx(cost, rel=1e-12)
    assert bridged.metric_count(TOKENS) == 2 * 2  # input and output of each of the two calls


# --- sessions, app spans ----------------------------------------------------------------------------
def test_an_agentotel_session_stamps_every_span_of_the_crew(
    bridged: TelemetryCapture, fake: FakeLLMServer
) -> None:
    fake.script(TOOL_THEN_ANSWER)

    with agentotel.session("conv-1", user_id="u-1"):
        weather_crew(fake).kickoff(inputs={"city": "Paris"})

    assert len(bridged.spans()) == len(TREE)
    assert {(attrs_of(s)["gen_ai.conversation.id"], attrs_of(s)["user.id"]) for s in bridged.spans()} == {
        ("conv-1", "u-1")
    }


def test_a_crew_inside_an_app_span_nests_under_it(bridged: TelemetryCapture, fake: FakeLLMServer) -> None:
    fake.script(TOOL_THEN_ANSWER)

    with bridged.tracer_provider.get_tracer("app").start_as_current_span("handle request"):
        weather_crew(fake).kickoff(inputs={"city": "Paris"})

    assert tree(bridged) == [
        ("handle request", None, INTERNAL),
        *[(n, p or "handle request", k) for n, p, k in TREE],
    ]


# --- retries -----------------------------------------------------------------------------------------
def test_a_retried_execution_is_one_agent_span_with_every_llm_call_under_it(
    bridged: TelemetryCapture, fake: FakeLLMServer
) -> None:
    fake.script([Reply.error("server_error"), *TOOL_THEN_ANSWER])

    result = weather_crew(fake).kickoff(inputs={"city": "Paris"})

    assert result.raw == ANSWER
    assert llm_requests(fake) == 3
    assert tree(bridged) == [*TREE[:3], (LLM_SPAN, AGENT, CLIENT), *TREE[3:]]
    failed, *answered = named(bridged, LLM_SPAN)
    assert failed.status.status_code is StatusCode.ERROR
    assert [s.status.status_code for s in answered] == [StatusCode.UNSET, StatusCode.UNSET]
    [agent] = named(bridged, AGENT)
    assert agent.status.status_code is StatusCode.UNSET


def test_a_failed_kickoff_fails_the_agent_the_step_and_the_crew(
    bridged: TelemetryCapture, fake: FakeLLMServer
) -> None:
    import openai

    fake.script([Reply.error("bad_request")] * 3)
    crew = weather_crew(fake)
    crew.agents[0].max_retry_limit = 0

    with pytest.raises(openai.BadRequestError):
        crew.kickoff(inputs={"city": "Paris"})

    assert tree(bridged) == [*TREE[:3], (LLM_SPAN, AGENT, CLIENT)]
    for name in (CREW, TASK, AGENT, LLM_SPAN):
        [span] = named(bridged, name)
        assert span.status.status_code is StatusCode.ERROR, name
        assert attrs_of(span)["error.type"] == "openai.BadRequestError", name


# --- content ---------------------------------------------------------------------------------------
def all_text(cap: TelemetryCapture) -> str:
    parts: list[Any] = []
    for span in cap.spans():
        parts += [
            span.name,
            dict(span.attributes or {}),
            [(e.name, dict(e.attributes or {})) for e in span.events],
        ]
    parts += [(r.log_record.body, dict(r.log_record.attributes or {})) for r in cap.logs()]
    return json.dumps(parts, default=str)


def test_with_content_capture_off_no_task_tool_argument_or_result_is_recorded(
    bridged: TelemetryCapture, fake: FakeLLMServer
) -> None:
    fake.script(TOOL_THEN_ANSWER)

    weather_crew(fake).kickoff(inputs={"city": "Paris"})

    text = all_text(bridged)
    for content in ("Paris", "Sunny", "Tell the weather", "meteorologist", "One sentence", "sunny"):
        assert content not in text
    [step] = named(bridged, TASK)
    assert attrs_of(step) == {
        "gen_ai.operation.name": "step",
        "agentotel.step.name": "forecast",
        "agentotel.step.type": "task",
    }


def test_with_content_capture_on_the_task_description_and_tool_arguments_and_result_are_recorded(
    cap: TelemetryCapture, fake: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CAPTURE, "SPAN_ONLY")
    fake.script(TOOL_THEN_ANSWER)

    with instrumented(cap, OpenAIInstrumentor, CrewAIInstrumentor):
        weather_crew(fake).kickoff(inputs={"city": "Paris"})

    [step] = named(cap, TASK)
    assert attrs_of(step)["agentotel.step.description"] == "Tell the weather in Paris."
    [span] = named(cap, TOOL)
    assert (attrs_of(span)["gen_ai.tool.call.arguments"], attrs_of(span)["gen_ai.tool.call.result"]) == (
        '{"city":"Paris"}',
        '"Sunny in Paris"',
    )
    assert attrs_of(span)["gen_ai.tool.description"] == "Weather for a city."


# --- the app's result, the safety boundary -----------------------------------------------------------
def outcome(fake: FakeLLMServer) -> Any:
    """A fresh crew run on a fresh script: what the app sees of it."""
    fake.state.reset()
    fake.clear()
    fake.script(TOOL_THEN_ANSWER)
    calls: list[str] = []
    result = weather_crew(fake, calls).kickoff(inputs={"city": "Paris"})
    return (
        result.raw,
        result.json_dict,
        [(t.name, t.raw, t.agent) for t in result.tasks_output],
        result.token_usage.model_dump(),
        calls,
        [r.body for r in fake.requests],
    )


def test_the_app_gets_the_same_result_with_and_without_the_bridge(
    providers_only: TelemetryCapture, fake: FakeLLMServer
) -> None:
    plain = outcome(fake)
    assert [s.name for s in providers_only.spans()] == [LLM_SPAN, "execute_tool get_weather", LLM_SPAN]
    with instrumented(providers_only, CrewAIInstrumentor):
        traced = outcome(fake)

    assert traced == plain
    assert len(providers_only.spans()) == 3 + len(TREE)


def test_a_bug_in_the_bridge_never_reaches_the_run(
    bridged: TelemetryCapture, fake: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agentotel.instrumentation.crewai import extract

    def broken(*args: Any) -> Any:
        raise RuntimeError("bridge bug")

    monkeypatch.setattr(extract, "agent_role", broken)
    monkeypatch.setattr(extract, "task_name", broken)
    fake.script(TOOL_THEN_ANSWER)

    result = weather_crew(fake).kickoff(inputs={"city": "Paris"})

    assert result.raw == ANSWER
    assert tree(bridged) == [
        (CREW, None, INTERNAL),
        (LLM_SPAN, CREW, CLIENT),
        (TOOL, CREW, INTERNAL),
        (LLM_SPAN, CREW, CLIENT),
    ]
    assert bridged.metric_sum(TELEMETRY_ERRORS, {"agentotel.component": "crewai"}) == 2


# --- CrewAI's own telemetry ------------------------------------------------------------------------------
def _processors(provider: Any) -> tuple[Any, ...]:
    return tuple(provider._active_span_processor._span_processors)


def test_crewai_telemetry_stays_off_and_adds_nothing_to_the_apps_provider(
    bridged: TelemetryCapture, fake: FakeLLMServer
) -> None:
    from crewai.telemetry import Telemetry

    fake.script(TOOL_THEN_ANSWER)
    before = _processors(bridged.tracer_provider)
    global_before = trace.get_tracer_provider()

    weather_crew(fake).kickoff(inputs={"city": "Paris"})

    assert _processors(bridged.tracer_provider) == before
    assert trace.get_tracer_provider() is global_before
    telemetry = Telemetry()
    assert (telemetry.ready, getattr(telemetry, "provider", None)) == (False, None)
    assert llm_requests(fake) == len(fake.requests) == 2  # nothing else reached the (only) server


# --- guardrails ---------------------------------------------------------------------------------------
def test_a_task_guardrail_is_a_guard_span_and_a_rejection_a_blocked_guard_with_an_audit_record(
    bridged: TelemetryCapture, fake: FakeLLMServer, tmp_path: Path
) -> None:
    path = tmp_path / "audit.jsonl"
    audit = AuditSpanProcessor(
        path, meter_provider=bridged.meter_provider, logger_provider=bridged.logger_provider
    )
    bridged.tracer_provider.add_span_processor(audit)
    fake.script([*TOOL_THEN_ANSWER, *TOOL_THEN_ANSWER])
    seen: list[str] = []

    def one_sentence(output: Any):  # type: ignore[no-untyped-def]  # CrewAI refuses a string annotation
        seen.append(output.raw)
        return (True, output.raw) if len(seen) > 1 else (False, "Say it about Paris again.")

    agent = weather_crew(fake).agents[0]
    task = Task(
        name="forecast",
        description="Weather in Paris?",
        expected_output="One sentence.",
        agent=agent,
        guardrail=one_sentence,
    )

    result = Crew(name="weather crew", agents=[agent], tasks=[task]).kickoff()
    assert audit.force_flush()
    audit.shutdown()

    assert result.raw == ANSWER and seen == [ANSWER, ANSWER]
    guard = "guardrail one_sentence"
    assert tree(bridged) == [*TREE, (guard, TASK, INTERNAL), *TREE[2:], (guard, TASK, INTERNAL)]
    blocked, allowed = named(bridged, guard)
    assert attrs_of(blocked) == {
        "gen_ai.operation.name": "guardrail",
        "agentotel.guard.name": "one_sentence",
        "agentotel.guard.outcome": "blocked",
        "agentotel.guard.reason": "rejected",  # the message is content: capture is off
    }
    assert attrs_of(allowed)["agentotel.guard.outcome"] == "allowed"
    found = [(r["event_type"], r["resource"], r["outcome"]) for r in records(path)]
    assert ("guard_violation", "one_sentence", "blocked") in found
    assert [f for f in found if f[0] == "tool_call"] == [("tool_call", "get_weather", "success")] * 2


def test_with_content_capture_on_a_rejected_guardrail_gives_its_message(
    cap: TelemetryCapture, fake: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CAPTURE, "SPAN_ONLY")
    fake.script([*TOOL_THEN_ANSWER, *TOOL_THEN_ANSWER])
    calls: list[int] = []

    def short(output: Any):  # type: ignore[no-untyped-def]
        calls.append(1)
        return (True, output.raw) if len(calls) > 1 else (False, "Too long.")

    with instrumented(cap, OpenAIInstrumentor, CrewAIInstrumentor):
        agent = weather_crew(fake).agents[0]
        task = Task(description="Weather?", expected_output="One sentence.", agent=agent, guardrail=short)
        Crew(agents=[agent], tasks=[task]).kickoff()

    blocked, _ = named(cap, "guardrail short")
    assert attrs_of(blocked)["agentotel.guard.reason"] == "Too long."
