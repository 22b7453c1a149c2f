"""What the processors make of a Pydantic AI run (audit records, a run-store run, cost), privacy
by default, the app's result unchanged, and the safety boundary."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from audit_helpers import records
from helpers import QUESTION, TELEMETRY_ERRORS, attrs_of, instrumented
from pai_helpers import (
    ANSWER,
    RUN,
    TOOL,
    TOOL_RUN_TOKENS,
    TOOL_THEN_ANSWER,
    ModelFactory,
    named,
    weather_agent,
)
from pydantic_ai.models.instrumented import InstrumentationSettings

from agentotel.instrumentation.anthropic import AnthropicInstrumentor
from agentotel.instrumentation.openai import OpenAIInstrumentor
from agentotel.instrumentation.pydantic_ai import PydanticAIInstrumentor, extract
from agentotel.processors import AuditSpanProcessor, RunStoreSpanProcessor
from agentotel.testing import FakeLLMServer, Reply
from agentotel.testing._capture import TelemetryCapture

RETRY_THEN_ANSWER = [
    Reply.tool_call("get_weather", {"city": "Parigi"}),
    Reply.tool_call("get_weather", {"city": "Paris"}),
    Reply.text(ANSWER),
]


@pytest.fixture(autouse=True)
def _no_processor_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AGENTOTEL_RUNS_DIR", "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"):
        monkeypatch.delenv(name, raising=False)
    for name in [n for n in __import__("os").environ if n.startswith("AGENTOTEL_AUDIT_")]:
        monkeypatch.delenv(name)


@pytest.fixture
def audit_path(pai: TelemetryCapture, tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "audit.jsonl"
    processor = AuditSpanProcessor(
        path, meter_provider=pai.meter_provider, logger_provider=pai.logger_provider
    )
    pai.tracer_provider.add_span_processor(processor)
    yield path
    processor.shutdown()


def everything_recorded(cap: TelemetryCapture) -> str:
    """Every span's name, attributes and events, every log record, as one text."""
    parts: list[str] = []
    for span in cap.spans():
        parts.append(span.name)
        parts.append(json.dumps(attrs_of(span), default=str))
        parts.extend(json.dumps(dict(e.attributes or {}), default=str) for e in span.events)
    parts.extend(str(record) for record in cap.logs())
    return "\n".join(parts)


# --- audit, run store, cost ----------------------------------------------------------------------------
async def test_every_tool_call_is_an_audit_record_of_the_agent(
    pai: TelemetryCapture, audit_path: Path, make_model: ModelFactory, fresh_fake_llm: FakeLLMServer
) -> None:
    fresh_fake_llm.script(RETRY_THEN_ANSWER)

    await weather_agent(make_model(), retry_first=True).run(QUESTION, deps="noon")

    for processor in pai.tracer_provider._active_span_processor._span_processors:  # type: ignore[attr-defined]
        processor.force_flush()
    retried, succeeded = sorted(named(pai, TOOL), key=lambda s: s.start_time or 0)
    found = [r for r in records(audit_path) if r["event_type"] == "tool_call"]
    assert [(r["resource"], r["outcome"], r["actor"]) for r in found] == [
        ("get_weather", "failure", {"agent": "weather", "user": None}),
        ("get_weather", "success", {"agent": "weather", "user": None}),
    ]
    assert found[0]["metadata"] == {
        "gen_ai.tool.call.id": attrs_of(retried)["gen_ai.tool.call.id"],
        "gen_ai.tool.type": "function",
        "error.type": "pydantic_ai.ModelRetry",
    }
    assert found[1]["metadata"]["gen_ai.tool.call.id"] == attrs_of(succeeded)["gen_ai.tool.call.id"]
    assert found[0]["conversation_id"] == attrs_of(named(pai, RUN)[0])["gen_ai.conversation.id"]


async def test_each_run_is_one_run_store_run(
    pai: TelemetryCapture,
    tmp_path: Path,
    make_model: ModelFactory,
    provider: str,
    fresh_fake_llm: FakeLLMServer,
) -> None:
    processor = RunStoreSpanProcessor(tmp_path, meter_provider=pai.meter_provider)
    pai.tracer_provider.add_span_processor(processor)
    try:
        agent = weather_agent(make_model())
        fresh_fake_llm.script(TOOL_THEN_ANSWER)
        await agent.run(QUESTION, deps="noon")
        fresh_fake_llm.script([Reply.text(ANSWER)])
        await agent.run(QUESTION, deps="noon")
        assert processor.force_flush()
    finally:
        processor.shutdown()

    summaries = [json.loads(p.read_text()) for p in sorted(tmp_path.glob("*/summary.json"))]
    assert [(s["objective"], s["status"], s["tool_calls"], s["root"]["name"]) for s in summaries] == [
        ("invoke_agent weather", "ok", {"ok": 1, "failed": 0}, RUN),
        ("invoke_agent weather", "ok", {"ok": 0, "failed": 0}, RUN),
    ]
    assert summaries[0]["tokens"] == TOOL_RUN_TOKENS[provider]


async def test_the_runs_cost_is_the_sum_of_its_llm_calls(
    pai: TelemetryCapture, make_model: ModelFactory, fresh_fake_llm: FakeLLMServer
) -> None:
    fresh_fake_llm.script(TOOL_THEN_ANSWER)

    await weather_agent(make_model()).run(QUESTION, deps="noon")

    chats = [attrs_of(s)["agentotel.usage.cost_usd"] for s in pai.spans() if s.name.startswith("chat ")]
    [run] = named(pai, RUN)
    assert len(chats) == 2
    assert attrs_of(run)["agentotel.usage.cost_usd"] == pytest.approx(sum(chats), rel=1e-12)


# --- privacy -------------------------------------------------------------------------------------------
async def test_no_prompt_or_tool_content_by_default_even_with_pydantic_ais_content_on(
    pai: TelemetryCapture, make_model: ModelFactory, fresh_fake_llm: FakeLLMServer
) -> None:
    fresh_fake_llm.script(TOOL_THEN_ANSWER)
    agent = weather_agent(make_model())
    # Pydantic AI's own instrumentation records prompts and tool arguments unless told not to.
    agent.instrument = InstrumentationSettings(
        tracer_provider=pai.tracer_provider, meter_provider=pai.meter_provider, include_content=True
    )

    result = await agent.run(QUESTION, deps="noon")

    assert result.output == ANSWER
    recorded = everything_recorded(pai)
    for content in (QUESTION, "Paris", "Sunny in", ANSWER, "noon"):
        assert content not in recorded
    assert [s.name for s in pai.spans()].count(TOOL) == 1


async def test_tool_arguments_and_results_with_content_capture(
    cap: TelemetryCapture,
    monkeypatch: pytest.MonkeyPatch,
    make_model: ModelFactory,
    fresh_fake_llm: FakeLLMServer,
) -> None:
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "SPAN_ONLY")
    fresh_fake_llm.script(TOOL_THEN_ANSWER)
    with instrumented(cap, OpenAIInstrumentor, AnthropicInstrumentor, PydanticAIInstrumentor):
        await weather_agent(make_model()).run(QUESTION, deps="noon")

    [tool] = named(cap, TOOL)
    assert attrs_of(tool)["gen_ai.tool.call.arguments"] == '{"city":"Paris"}'
    assert attrs_of(tool)["gen_ai.tool.call.result"] == '"Sunny in Paris"'


# --- the app's result ------------------------------------------------------------------------------
def _conversation(result: Any) -> list[tuple[Any, ...]]:
    """The run's messages without their timestamps."""
    return [
        (
            type(part).__name__,
            getattr(part, "content", None),
            getattr(part, "args", None),
            getattr(part, "tool_call_id", None),
        )
        for message in result.all_messages()
        for part in message.parts
    ]


async def _weather_run(make_model: ModelFactory, server: FakeLLMServer) -> Any:
    server.state.reset()
    server.script(RETRY_THEN_ANSWER)
    return await weather_agent(make_model(), retry_first=True).run(QUESTION, deps="noon")


async def test_the_apps_result_is_the_same_with_and_without_instrumentation(
    cap: TelemetryCapture, make_model: ModelFactory, fresh_fake_llm: FakeLLMServer
) -> None:
    bare = await _weather_run(make_model, fresh_fake_llm)
    with instrumented(cap, OpenAIInstrumentor, AnthropicInstrumentor, PydanticAIInstrumentor):
        traced = await _weather_run(make_model, fresh_fake_llm)

    assert len(cap.spans()) == 6
    assert traced.output == bare.output == ANSWER
    assert _conversation(traced) == _conversation(bare)
    assert (traced.usage.input_tokens, traced.usage.output_tokens, traced.usage.requests) == (
        bare.usage.input_tokens,
        bare.usage.output_tokens,
        bare.usage.requests,
    )


# --- safety --------------------------------------------------------------------------------------------
# One call per run, per tool call, per output validation, per model request (two here).
@pytest.mark.parametrize(
    ("broken", "bugs"), [("agent_name", 1), ("tool_call", 1), ("output_call_id", 1), ("sdk_model", 2)]
)
async def test_a_bug_of_ours_leaves_the_run_untouched(
    pai: TelemetryCapture,
    monkeypatch: pytest.MonkeyPatch,
    make_model: ModelFactory,
    fresh_fake_llm: FakeLLMServer,
    broken: str,
    bugs: int,
) -> None:
    def bug(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("agentotel bug")

    monkeypatch.setattr(extract, broken, bug)
    agent = weather_agent(make_model())
    agent.instrument = InstrumentationSettings(
        tracer_provider=pai.tracer_provider, meter_provider=pai.meter_provider
    )
    fresh_fake_llm.script(
        [*TOOL_THEN_ANSWER[:1], Reply.tool_call("final_result", {"city": "Paris", "celsius": 21})]
    )

    from pai_helpers import Weather

    result = await agent.run(QUESTION, deps="noon", output_type=Weather)

    assert result.output == Weather(city="Paris", celsius=21)
    assert pai.metric_sum(TELEMETRY_ERRORS, {"agentotel.component": "pydantic_ai"}) == bugs


# --- approvals (human in the loop) -----------------------------------------------------------------
def approval_agent(model: Any, deleted: list[str]) -> Any:
    from pydantic_ai import Agent, DeferredToolRequests

    agent: Any = Agent(model, name="weather", output_type=[str, DeferredToolRequests])

    @agent.tool_plain(requires_approval=True)
    def delete_file(path: str) -> str:
        """Delete a file."""
        deleted.append(path)
        return f"deleted {path}"

    return agent


@pytest.mark.parametrize("approved", [True, False], ids=["approved", "denied"])
async def test_an_approval_decision_is_an_approval_span_and_an_audit_record(
    pai: TelemetryCapture,
    audit_path: Path,
    make_model: ModelFactory,
    chat_span: str,
    fresh_fake_llm: FakeLLMServer,
    approved: bool,
) -> None:
    from pydantic_ai import DeferredToolRequests, DeferredToolResults, ToolDenied

    deleted: list[str] = []
    agent = approval_agent(make_model(), deleted)
    fresh_fake_llm.script([Reply.tool_call("delete_file", {"path": "a.txt"})])
    first = await agent.run(QUESTION)
    assert isinstance(first.output, DeferredToolRequests)
    [call] = first.output.approvals
    decision: Any = True if approved else ToolDenied("not that file")
    fresh_fake_llm.script([Reply.text(ANSWER)])

    second = await agent.run(
        message_history=first.all_messages(),
        deferred_tool_results=DeferredToolResults(approvals={call.tool_call_id: decision}),
    )

    assert second.output == ANSWER and deleted == (["a.txt"] if approved else [])
    runs = sorted(named(pai, RUN), key=lambda s: s.start_time or 0)
    resumed = [s for s in pai.spans() if s.parent and s.parent.span_id == runs[1].context.span_id]
    expected = ["approval delete_file", *(["execute_tool delete_file"] if approved else []), chat_span]
    assert [s.name for s in sorted(resumed, key=lambda s: s.start_time or 0)] == expected
    assert not [s for s in pai.spans() if attrs_of(s).get("agentotel.tool.inferred")]
    for processor in pai.tracer_provider._active_span_processor._span_processors:  # type: ignore[attr-defined]
        processor.force_flush()
    [record] = [r for r in records(audit_path) if r["event_type"] == "approval_decision"]
    assert (record["resource"], record["outcome"]) == ("delete_file", "approved" if approved else "denied")
