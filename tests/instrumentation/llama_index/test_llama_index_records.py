"""What the LlamaIndex bridge feeds beyond the tree: audit records and run-store runs, content
only with capture on, the app's result unchanged, a bug of ours contained, and the handler on and
off LlamaIndex's dispatcher with instrument / uninstrument."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers import LLAMA_INDEX_INSTALLED, QUESTION, TELEMETRY_ERRORS, attrs_of, instrumented

if not LLAMA_INDEX_INSTALLED:
    pytest.skip("llama-index-core and llama-index-llms-openai are not installed", allow_module_level=True)

from audit_helpers import records
from li_helpers import (
    AGENT,
    ANSWER,
    CLIENT,
    INTERNAL,
    LLM,
    TOOL,
    TOOL_THEN_ANSWER,
    handlers_of_ours,
    named,
    ours,
    run,
    team,
    tree,
    weather_agent,
)
from llama_index.core.instrumentation import get_dispatcher
from runstore_helpers import run_ids, run_store, summary_of

import agentotel
from agentotel.instrumentation.llama_index import WORKFLOW_DISPATCHERS, LlamaIndexInstrumentor, extract
from agentotel.instrumentation.openai import OpenAIInstrumentor
from agentotel.processors import AuditSpanProcessor
from agentotel.testing import FakeLLMServer, Reply
from agentotel.testing._capture import TelemetryCapture


# --- records -------------------------------------------------------------------------------------
def test_tool_calls_reach_the_audit_log_with_the_agent_and_conversation(
    bridged: TelemetryCapture, fake: FakeLLMServer, tmp_path: Path
) -> None:
    path = tmp_path / "audit.jsonl"
    audit = AuditSpanProcessor(
        path, meter_provider=bridged.meter_provider, logger_provider=bridged.logger_provider
    )
    bridged.tracer_provider.add_span_processor(audit)
    fake.script(
        [
            Reply.tool_call("get_weather", {"city": "Paris"}),
            Reply.tool_call("handoff", {"to_agent": "writer", "reason": "The weather is known."}),
            ANSWER,
        ]
    )

    with agentotel.session("conv-7"):
        run(team(fake), QUESTION)
    assert audit.force_flush()
    audit.shutdown()

    found = records(path)
    assert [(r["event_type"], r["resource"], r["outcome"], r["actor"]) for r in found] == [
        ("tool_call", "get_weather", "success", {"agent": "researcher", "user": None}),
        ("tool_call", "handoff", "success", {"agent": "researcher", "user": None}),
    ]
    assert [r["metadata"]["gen_ai.tool.call.id"] for r in found] == ["call_1", "call_2"]
    assert {r["conversation_id"] for r in found} == {"conv-7"}


def test_each_agent_run_is_one_run_in_the_run_store(
    bridged: TelemetryCapture, fake: FakeLLMServer, tmp_path: Path
) -> None:
    fake.script([*TOOL_THEN_ANSWER, "Hi."])

    with run_store(bridged, tmp_path) as store:
        run(weather_agent(fake), QUESTION)
        run(weather_agent(fake), "Hello")
        assert store.force_flush()
    first, second = (summary_of(tmp_path, rid) for rid in run_ids(tmp_path))

    assert [(s["root"]["name"], s["implicit"], s["span_count"], s["status"]) for s in (first, second)] == [
        (AGENT, False, 4, "ok"),
        (AGENT, False, 2, "ok"),
    ]
    assert first["tool_calls"] == {"ok": 1, "failed": 0}


def test_tool_and_run_durations_are_recorded(bridged: TelemetryCapture, fake: FakeLLMServer) -> None:
    fake.script(TOOL_THEN_ANSWER)

    run(weather_agent(fake), QUESTION)

    assert bridged.metric_count("agentotel.tool.duration", {"gen_ai.tool.name": "get_weather"}) == 1
    assert bridged.metric_count("agentotel.workflow.duration", {"gen_ai.agent.name": "weather"}) == 1


# --- content -------------------------------------------------------------------------------------
def _all_text(cap: TelemetryCapture) -> str:
    parts: list[Any] = []
    for span in cap.spans():
        parts += [
            span.name,
            dict(span.attributes or {}),
            [(e.name, dict(e.attributes or {})) for e in span.events],
        ]
    parts += [(r.log_record.body, dict(r.log_record.attributes or {})) for r in cap.logs()]
    return json.dumps(parts, default=str)


def test_with_content_capture_off_no_prompt_tool_argument_or_result_is_recorded(
    bridged: TelemetryCapture, fake: FakeLLMServer
) -> None:
    fake.script(TOOL_THEN_ANSWER)

    run(weather_agent(fake), QUESTION)

    text = _all_text(bridged)
    for content in ("Paris", "Sunny", "weather in", ANSWER):
        assert content not in text


def test_with_content_capture_on_the_tool_span_has_the_arguments_and_result(
    cap: TelemetryCapture, fake: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "SPAN_ONLY")
    fake.script(TOOL_THEN_ANSWER)

    with instrumented(cap, OpenAIInstrumentor, LlamaIndexInstrumentor):
        run(weather_agent(fake), QUESTION)

    attrs = attrs_of(named(cap, TOOL)[0])
    assert (attrs["gen_ai.tool.call.arguments"], attrs["gen_ai.tool.call.result"]) == (
        '{"city":"Paris"}',
        '"Sunny in Paris"',
    )


# --- the app's result ----------------------------------------------------------------------------
def _summary(result: Any) -> Any:
    """What the app sees of a run: the answer, its agent, the tool calls with their outputs."""
    calls = [(c.tool_name, c.tool_kwargs, c.tool_id, str(c.tool_output)) for c in result.tool_calls]
    return str(result), result.current_agent_name, calls, result.response.model_dump()


def _fresh_team_run(fake: FakeLLMServer) -> Any:
    fake.state.reset()
    fake.script(
        [
            Reply.tool_call("get_weather", {"city": "Paris"}),
            Reply.tool_call("handoff", {"to_agent": "writer", "reason": "The weather is known."}),
            ANSWER,
        ]
    )
    return _summary(run(team(fake), QUESTION))


def _fresh_agent_run(fake: FakeLLMServer) -> Any:
    fake.state.reset()
    fake.script(TOOL_THEN_ANSWER)
    return _summary(run(weather_agent(fake), QUESTION))


@pytest.mark.parametrize("runner", [_fresh_agent_run, _fresh_team_run], ids=["agent", "workflow"])
def test_the_app_gets_the_same_result_with_and_without_the_bridge(
    cap: TelemetryCapture, fake: FakeLLMServer, runner: Any
) -> None:
    plain = runner(fake)
    with instrumented(cap, OpenAIInstrumentor, LlamaIndexInstrumentor):
        traced = runner(fake)

    assert traced == plain
    assert named(cap, LLM) != []
    assert [s.name for s in cap.spans() if s.name.startswith("invoke_")] != []


# --- safety --------------------------------------------------------------------------------------
def test_a_bug_in_the_bridge_never_reaches_the_run(
    bridged: TelemetryCapture, fake: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any) -> Any:
        raise RuntimeError("bridge bug")

    monkeypatch.setattr(extract, "tool_outcome", broken)
    fake.script(TOOL_THEN_ANSWER)

    result = run(weather_agent(fake), QUESTION)

    assert str(result) == ANSWER
    # Reading the tool's outcome failed: its span still ends, under the agent, as do the others.
    assert tree(bridged) == [
        (AGENT, None, INTERNAL),
        (LLM, AGENT, CLIENT),
        (TOOL, AGENT, INTERNAL),
        (LLM, AGENT, CLIENT),
    ]
    assert bridged.metric_sum(TELEMETRY_ERRORS, {"agentotel.component": "llama_index"}) == 1


def test_a_bug_opening_a_run_leaves_the_llm_spans_and_the_result(
    bridged: TelemetryCapture, fake: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any) -> Any:
        raise RuntimeError("bridge bug")

    monkeypatch.setattr(extract, "run_name", broken)
    fake.script(TOOL_THEN_ANSWER)

    result = run(weather_agent(fake), QUESTION)

    assert str(result) == ANSWER
    # No agent block: the LLM spans remain, and the tool run is inferred from the second request.
    assert tree(bridged) == [(LLM, None, CLIENT), (TOOL, None, INTERNAL), (LLM, None, CLIENT)]
    assert bridged.metric_sum(TELEMETRY_ERRORS, {"agentotel.component": "llama_index"}) == 1


# --- on and off the dispatcher -------------------------------------------------------------------
def test_instrument_adds_one_handler_to_the_workflow_dispatchers_and_uninstrument_takes_it_off(
    cap: TelemetryCapture,
) -> None:
    workflow_dispatchers = [get_dispatcher(name) for name in WORKFLOW_DISPATCHERS]
    before = [list(d.span_handlers) for d in workflow_dispatchers]
    root_before = list(get_dispatcher().span_handlers)
    instrumentor = LlamaIndexInstrumentor()

    instrumentor.instrument(**cap.providers)
    instrumentor.uninstrument()
    instrumentor.instrument(**cap.providers)
    try:
        handler = instrumentor.handler
        # On the two dispatchers of the workflow engine, once each; not on the root one, which
        # would hear every LLM, tool and retriever span of the app.
        assert handlers_of_ours() == {name: [handler] for name in WORKFLOW_DISPATCHERS}
        assert [d.span_handlers for d in workflow_dispatchers] == [[*b, handler] for b in before]
        assert get_dispatcher().span_handlers == root_before
        assert get_dispatcher().event_handlers[0].__class__.__name__ == "NullEventHandler"
    finally:
        instrumentor.uninstrument()
    assert ours() == []
    assert [d.span_handlers for d in workflow_dispatchers] == before


def test_after_uninstrument_a_run_has_only_the_llm_spans(cap: TelemetryCapture, fake: FakeLLMServer) -> None:
    with instrumented(cap, LlamaIndexInstrumentor):
        pass
    fake.script(TOOL_THEN_ANSWER)

    with instrumented(cap, OpenAIInstrumentor):
        run(weather_agent(fake), QUESTION)

    assert tree(cap) == [(LLM, None, CLIENT), (TOOL, None, INTERNAL), (LLM, None, CLIENT)]


def test_a_handler_uninstrumented_mid_run_ends_what_it_opened_then_leaves(
    cap: TelemetryCapture, fake: FakeLLMServer
) -> None:
    instrumentor = LlamaIndexInstrumentor()
    openai_instrumentor = OpenAIInstrumentor()
    openai_instrumentor.instrument(**cap.providers)
    instrumentor.instrument(**cap.providers)

    def get_weather(city: str) -> str:
        """Weather for a city."""
        instrumentor.uninstrument()  # while the run is open
        assert ours() == [instrumentor.handler]
        return f"Sunny in {city}"

    fake.script(TOOL_THEN_ANSWER)
    try:
        run(weather_agent(fake, tool=get_weather), QUESTION)
    finally:
        openai_instrumentor.uninstrument()

    assert tree(cap) == [
        (AGENT, None, INTERNAL),
        (LLM, AGENT, CLIENT),
        (TOOL, AGENT, INTERNAL),
        (LLM, AGENT, CLIENT),
    ]
    assert ours() == []
