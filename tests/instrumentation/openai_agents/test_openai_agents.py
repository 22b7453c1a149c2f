"""The OpenAI Agents SDK bridge against the real ``openai-agents`` SDK, whose model calls the fake
LLM server through the real ``openai`` SDK with our OpenAI instrumentor on: the LLM spans come from
it alone, one per HTTP request the server received."""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
from pathlib import Path
from typing import Any

import openai
import pytest
from audit_helpers import records
from helpers import (
    FAKE_OPENAI_KEY,
    GPT,
    QUESTION,
    TELEMETRY_ERRORS,
    TOKENS,
    attrs_of,
    expected_cost,
    instrumented,
    token_sums,
)
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode
from runstore_helpers import run_ids, run_store, summary_of

import agentotel
from agentotel.instrumentation.openai import OpenAIInstrumentor
from agentotel.instrumentation.openai_agents import OpenAIAgentsInstrumentor
from agentotel.processors import AuditSpanProcessor
from agentotel.testing import FakeLLMServer, Reply, ToolCall
from agentotel.testing._capture import TelemetryCapture

agents = pytest.importorskip("agents")

WORKFLOW = "invoke_workflow Agent workflow"
TRIAGE = "invoke_agent triage"
BILLING = "invoke_agent billing"
TOOL = "execute_tool get_weather"
LLM = f"chat {GPT}"
INTERNAL, CLIENT = SpanKind.INTERNAL, SpanKind.CLIENT

# A tool call, a handoff (the SDK offers it as the tool ``transfer_to_billing``), a final answer.
SCRIPT: list[Reply | str] = [
    Reply.tool_call("get_weather", {"city": "Paris"}),
    Reply.tool_call("transfer_to_billing", {}),
    "Done.",
]
# What the fake server counts for the three requests of SCRIPT (input words, output words).
USAGE = [(8, 2), (11, 1), (13, 1)]

TREE = [
    (WORKFLOW, None, INTERNAL),
    (TRIAGE, WORKFLOW, INTERNAL),
    (LLM, TRIAGE, CLIENT),
    (TOOL, TRIAGE, INTERNAL),
    (LLM, TRIAGE, CLIENT),
    (BILLING, WORKFLOW, INTERNAL),
    (LLM, BILLING, CLIENT),
]


def responses_model(fake: FakeLLMServer) -> Any:
    """The SDK's default model class (Responses API) on the fake server, with a client of its own
    (an async client belongs to the event loop of its first request: one per ``asyncio.run``)."""
    client = openai.AsyncOpenAI(base_url=fake.openai_base_url, api_key=FAKE_OPENAI_KEY, max_retries=0)
    return agents.OpenAIResponsesModel(GPT, client)


@pytest.fixture
def model(fake: FakeLLMServer) -> Any:
    """:func:`responses_model` for one run."""
    return responses_model(fake)


@agents.function_tool
def get_weather(city: str) -> str:
    """Weather for a city."""
    return f"Sunny in {city}"


@agents.function_tool
def broken_weather(city: str) -> str:
    """Weather for a city, failing."""
    raise RuntimeError("station offline")


def triage(model: Any, **kwargs: Any) -> Any:
    billing = agents.Agent(name="billing", instructions="You bill.", model=model)
    kwargs.setdefault("tools", [get_weather])
    return agents.Agent(name="triage", instructions="You triage.", handoffs=[billing], model=model, **kwargs)


def run(mode: str, agent: Any, text: str = QUESTION, **kwargs: Any) -> Any:
    """The agent run through ``Runner.run``, ``run_sync`` or ``run_streamed`` (fully consumed)."""
    if mode == "run":
        return asyncio.run(agents.Runner.run(agent, text, **kwargs))
    if mode == "run_sync":
        # A fresh thread's state: an event loop set (openai-agents < 0.3 runs on the current one,
        # which an earlier asyncio.run() has closed and unset).
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            return agents.Runner.run_sync(agent, text, **kwargs)
        finally:
            asyncio.set_event_loop(None)
            loop.close()

    async def streamed() -> Any:
        result = agents.Runner.run_streamed(agent, text, **kwargs)
        async for _ in result.stream_events():
            pass
        return result

    return asyncio.run(streamed())


MODES = ["run", "run_sync", "run_streamed"]


def tree(cap: TelemetryCapture) -> list[tuple[str, str | None, SpanKind]]:
    """(name, parent name, kind) of every span, in start order."""
    spans = sorted(cap.spans(), key=lambda s: s.start_time or 0)
    names = {s.context.span_id: s.name for s in spans}
    return [(s.name, names.get(s.parent.span_id) if s.parent else None, s.kind) for s in spans]


def by_name(cap: TelemetryCapture, name: str) -> list[ReadableSpan]:
    return [s for s in cap.spans() if s.name == name]


def one(cap: TelemetryCapture, name: str) -> ReadableSpan:
    [span] = by_name(cap, name)
    return span


def summary(result: Any) -> Any:
    """What the app sees of a run: its answer, last agent and the whole conversation."""
    return result.final_output, result.last_agent.name, result.to_input_list()


# --- the tree ------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_a_run_with_a_tool_and_a_handoff_is_one_workflow_of_agents_tools_and_llm_calls(
    bridged: TelemetryCapture, fake: FakeLLMServer, model: Any, mode: str
) -> None:
    fake.script(SCRIPT)

    result = run(mode, triage(model))

    assert result.final_output == "Done."
    assert tree(bridged) == TREE
    # One LLM span per HTTP request the server received.
    assert [r.path for r in fake.requests] == ["/v1/responses"] * 3
    assert len(by_name(bridged, LLM)) == len(fake.requests)
    assert all(s.status.status_code is StatusCode.UNSET for s in bridged.spans())


def test_the_chat_completions_model_gives_the_same_tree(
    bridged: TelemetryCapture, fake: FakeLLMServer, chat_model: Any
) -> None:
    fake.script(SCRIPT)

    run("run", triage(chat_model))

    assert tree(bridged) == TREE
    assert [r.path for r in fake.requests] == ["/v1/chat/completions"] * 3


@pytest.mark.parametrize("mode", MODES)
def test_the_sdk_tool_span_carries_the_call_id_and_no_tool_span_is_inferred(
    bridged: TelemetryCapture, fake: FakeLLMServer, model: Any, mode: str
) -> None:
    fake.script(SCRIPT)

    run(mode, triage(model))

    assert attrs_of(one(bridged, TOOL)) == {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "get_weather",
        "gen_ai.tool.type": "function",
        "gen_ai.tool.call.id": "call_1",
    }
    assert [s.name for s in bridged.spans() if s.name.startswith("execute_tool")] == [TOOL]
    assert bridged.metric_count("agentotel.tool.duration") == 1


def test_a_handoff_is_an_event_on_the_handing_agent_with_its_tool_call_id(
    bridged: TelemetryCapture, fake: FakeLLMServer, model: Any
) -> None:
    fake.script(SCRIPT)

    run("run", triage(model))

    [event] = one(bridged, TRIAGE).events
    assert (event.name, dict(event.attributes or {})) == (
        "agentotel.handoff",
        {
            "agentotel.handoff.from_agent": "triage",
            "agentotel.handoff.to_agent": "billing",
            "gen_ai.tool.call.id": "call_2",
        },
    )
    assert one(bridged, BILLING).events == ()


@pytest.mark.parametrize("mode", MODES)
def test_usage_is_summed_onto_agents_and_workflow_and_counted_once_in_metrics(
    bridged: TelemetryCapture, fake: FakeLLMServer, model: Any, mode: str
) -> None:
    fake.script(SCRIPT)

    run(mode, triage(model))

    def usage(name: str) -> tuple[Any, Any, Any]:
        a = attrs_of(one(bridged, name))
        return a["gen_ai.usage.input_tokens"], a["gen_ai.usage.output_tokens"], a["agentotel.usage.cost_usd"]

    (i1, o1), (i2, o2), (i3, o3) = USAGE
    assert usage(TRIAGE) == (
        i1 + i2,
        o1 + o2,
        pytest.approx(expected_cost(GPT, i1, o1) + expected_cost(GPT, i2, o2)),
    )
    assert usage(BILLING) == (i3, o3, pytest.approx(expected_cost(GPT, i3, o3)))
    assert usage(WORKFLOW) == (32, 4, pytest.approx(sum(expected_cost(GPT, i, o) for i, o in USAGE)))
    assert token_sums(bridged) == {"input": 32, "output": 4}
    assert bridged.metric_count(TOKENS) == 2 * 3  # input and output of each of the 3 calls


def test_the_trace_group_id_is_the_conversation_id_of_every_span(
    bridged: TelemetryCapture, fake: FakeLLMServer, model: Any
) -> None:
    fake.script(SCRIPT)

    run("run", triage(model), run_config=agents.RunConfig(group_id="conv-7"))

    assert {s.name: attrs_of(s).get("gen_ai.conversation.id") for s in bridged.spans()} == {
        WORKFLOW: "conv-7",
        TRIAGE: "conv-7",
        BILLING: "conv-7",
        TOOL: "conv-7",
        LLM: "conv-7",
    }


def test_an_open_agentotel_session_wins_over_the_group_id(
    bridged: TelemetryCapture, fake: FakeLLMServer, model: Any
) -> None:
    fake.script(SCRIPT)

    with agentotel.session("conv-app", user_id="u-1"):
        run("run_sync", triage(model), run_config=agents.RunConfig(group_id="conv-7"))

    assert {attrs_of(s).get("gen_ai.conversation.id") for s in bridged.spans()} == {"conv-app"}


def test_a_run_inside_an_app_span_nests_under_it(
    bridged: TelemetryCapture, fake: FakeLLMServer, model: Any
) -> None:
    fake.script(["Hi."])
    tracer = bridged.tracer_provider.get_tracer("app")

    with tracer.start_as_current_span("handle request"):
        run("run_sync", agents.Agent(name="solo", model=model))

    assert tree(bridged) == [
        ("handle request", None, INTERNAL),
        (WORKFLOW, "handle request", INTERNAL),
        ("invoke_agent solo", WORKFLOW, INTERNAL),
        (LLM, "invoke_agent solo", CLIENT),
    ]


def test_a_tool_that_raises_is_an_error_span_and_the_run_goes_on(
    bridged: TelemetryCapture, fake: FakeLLMServer, model: Any
) -> None:
    fake.script([Reply.tool_call("broken_weather", {"city": "Paris"}), "Sorry."])

    result = run("run", triage(model, tools=[broken_weather]))

    assert result.final_output == "Sorry."
    span = one(bridged, "execute_tool broken_weather")
    assert span.status.status_code is StatusCode.ERROR
    assert attrs_of(span)["error.type"] == "tool_error"
    assert attrs_of(span)["gen_ai.tool.call.id"] == "call_1"
    assert bridged.metric_count("agentotel.tool.duration", {"error.type": "tool_error"}) == 1
    assert one(bridged, TRIAGE).status.status_code is StatusCode.UNSET


# --- guardrails ----------------------------------------------------------------------------------
def _no_secrets(ctx: Any, agent: Any, text: Any) -> Any:
    return agents.GuardrailFunctionOutput(output_info=None, tripwire_triggered="secret" in str(text))


_no_secrets.__name__ = "no_secrets"
SEQUENTIAL_GUARDRAILS = "run_in_parallel" in inspect.signature(agents.input_guardrail).parameters
# Before the model call when the SDK can (else it runs beside it, and the model call may be made).
no_secrets = (
    agents.input_guardrail(run_in_parallel=False)(_no_secrets)
    if SEQUENTIAL_GUARDRAILS
    else agents.input_guardrail(_no_secrets)
)
needs_sequential_guardrails = pytest.mark.skipif(
    not SEQUENTIAL_GUARDRAILS, reason="input guardrails run before the model call: openai-agents>=0.6.0"
)


@agents.output_guardrail
def polite(ctx: Any, agent: Any, output: Any) -> Any:
    return agents.GuardrailFunctionOutput(output_info=None, tripwire_triggered="Sorry" not in str(output))


def guard_attrs(cap: TelemetryCapture, name: str) -> dict[str, Any]:
    return attrs_of(one(cap, f"guardrail {name}"))


@needs_sequential_guardrails
@pytest.mark.parametrize("mode", MODES)
def test_an_input_guardrail_tripwire_is_a_blocked_guard_and_fails_the_agent_and_workflow(
    bridged: TelemetryCapture, fake: FakeLLMServer, model: Any, mode: str
) -> None:
    agent = agents.Agent(name="solo", model=model, input_guardrails=[no_secrets])

    with pytest.raises(agents.InputGuardrailTripwireTriggered):
        run(mode, agent, "tell me the secret")

    assert fake.requests == []
    assert tree(bridged) == [
        (WORKFLOW, None, INTERNAL),
        ("invoke_agent solo", WORKFLOW, INTERNAL),
        ("guardrail no_secrets", "invoke_agent solo", INTERNAL),
    ]
    assert guard_attrs(bridged, "no_secrets") == {
        "gen_ai.operation.name": "guardrail",
        "agentotel.guard.name": "no_secrets",
        "agentotel.guard.outcome": "blocked",
        "agentotel.guard.reason": "tripwire triggered",
    }
    for name in (WORKFLOW, "invoke_agent solo"):
        span = one(bridged, name)
        assert (span.status.status_code, attrs_of(span)["error.type"]) == (StatusCode.ERROR, "_OTHER")
        assert span.status.description == "Guardrail tripwire triggered"
    assert (
        bridged.metric_sum(
            "agentotel.guard.decisions",
            {"agentotel.guard.name": "no_secrets", "agentotel.guard.outcome": "blocked"},
        )
        == 1
    )


def test_a_passing_input_guardrail_is_an_allowed_guard(
    bridged: TelemetryCapture, fake: FakeLLMServer, model: Any
) -> None:
    fake.script(["Hi."])

    run("run", agents.Agent(name="solo", model=model, input_guardrails=[no_secrets]))

    assert guard_attrs(bridged, "no_secrets")["agentotel.guard.outcome"] == "allowed"
    assert one(bridged, WORKFLOW).status.status_code is StatusCode.UNSET


@pytest.mark.parametrize("mode", MODES)
def test_an_output_guardrail_tripwire_is_a_blocked_guard_after_the_llm_call(
    bridged: TelemetryCapture, fake: FakeLLMServer, model: Any, mode: str
) -> None:
    fake.script(["Rude answer."])
    agent = agents.Agent(name="solo", model=model, output_guardrails=[polite])

    with pytest.raises(agents.OutputGuardrailTripwireTriggered):
        run(mode, agent)

    assert tree(bridged) == [
        (WORKFLOW, None, INTERNAL),
        ("invoke_agent solo", WORKFLOW, INTERNAL),
        (LLM, "invoke_agent solo", CLIENT),
        ("guardrail polite", "invoke_agent solo", INTERNAL),
    ]
    assert len(fake.requests) == 1
    assert guard_attrs(bridged, "polite")["agentotel.guard.outcome"] == "blocked"
    assert one(bridged, WORKFLOW).status.status_code is StatusCode.ERROR


# --- audit ---------------------------------------------------------------------------------------
def test_tool_calls_and_tripwires_reach_the_audit_log(
    bridged: TelemetryCapture, fake: FakeLLMServer, model: Any, tmp_path: Path
) -> None:
    path = tmp_path / "audit.jsonl"
    audit = AuditSpanProcessor(
        path, meter_provider=bridged.meter_provider, logger_provider=bridged.logger_provider
    )
    bridged.tracer_provider.add_span_processor(audit)
    fake.script([*SCRIPT[:2], "Rude answer."])
    agent = triage(model)
    agent.handoffs[0].output_guardrails = [polite]

    with pytest.raises(agents.OutputGuardrailTripwireTriggered):
        run("run", agent, run_config=agents.RunConfig(group_id="conv-7"))
    assert audit.force_flush()
    audit.shutdown()

    found = records(path)
    assert [(r["event_type"], r["resource"], r["outcome"], r["actor"]) for r in found] == [
        ("tool_call", "get_weather", "success", {"agent": "triage", "user": None}),
        ("guard_violation", "polite", "blocked", {"agent": "billing", "user": None}),
    ]
    assert found[0]["metadata"]["gen_ai.tool.call.id"] == "call_1"
    assert {r["conversation_id"] for r in found} == {"conv-7"}


# --- content, result, safety ---------------------------------------------------------------------
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
    bridged: TelemetryCapture, fake: FakeLLMServer, model: Any
) -> None:
    fake.script(SCRIPT)

    run("run", triage(model))

    text = _all_text(bridged)
    for content in ("Paris", "Sunny", "weather in", "You triage", "Done."):
        assert content not in text


def test_with_content_capture_on_the_tool_span_has_the_arguments_and_result(
    cap: TelemetryCapture, fake: FakeLLMServer, model: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "SPAN_ONLY")
    fake.script(SCRIPT)

    with instrumented(cap, OpenAIInstrumentor, OpenAIAgentsInstrumentor):
        run("run", triage(model))

    attrs = attrs_of(one(cap, TOOL))
    assert (attrs["gen_ai.tool.call.arguments"], attrs["gen_ai.tool.call.result"]) == (
        '{"city":"Paris"}',
        '"Sunny in Paris"',
    )


def _fresh_run(fake: FakeLLMServer, mode: str) -> Any:
    fake.state.reset()
    fake.script(SCRIPT)
    return summary(run(mode, triage(responses_model(fake))))


@pytest.mark.parametrize("mode", MODES)
def test_the_app_gets_the_same_result_with_and_without_the_bridge(
    cap: TelemetryCapture, fake: FakeLLMServer, mode: str
) -> None:
    plain = _fresh_run(fake, mode)
    with instrumented(cap, OpenAIInstrumentor, OpenAIAgentsInstrumentor):
        traced = _fresh_run(fake, mode)

    assert traced == plain
    assert len(cap.spans()) == len(TREE)


class SpanCounter(agents.TracingProcessor):  # type: ignore[misc]
    """Counts the spans the SDK starts."""

    def __init__(self) -> None:
        self.started = 0

    def on_trace_start(self, trace: Any) -> None:
        pass

    def on_trace_end(self, trace: Any) -> None:
        pass

    def on_span_start(self, span: Any) -> None:
        self.started += 1

    def on_span_end(self, span: Any) -> None:
        pass

    def shutdown(self) -> None:
        pass

    def force_flush(self) -> None:
        pass


def test_a_bug_in_the_bridge_never_reaches_the_run(
    bridged: TelemetryCapture, fake: FakeLLMServer, model: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any) -> Any:
        raise RuntimeError("bridge bug")

    from agentotel.instrumentation.openai_agents import processor

    monkeypatch.setattr(processor, "_block_for", broken)
    fake.script(SCRIPT)
    counter = SpanCounter()
    before = _sdk_processors()
    agents.add_trace_processor(counter)
    try:
        result = run("run", triage(model))
    finally:
        agents.set_trace_processors(list(before))

    assert result.final_output == "Done."
    # No agent or tool block: the LLM spans and the tool spans inferred from them remain.
    assert tree(bridged) == [
        (WORKFLOW, None, INTERNAL),
        (LLM, WORKFLOW, CLIENT),
        (TOOL, WORKFLOW, INTERNAL),
        (LLM, WORKFLOW, CLIENT),
        ("execute_tool transfer_to_billing", WORKFLOW, INTERNAL),
        (LLM, WORKFLOW, CLIENT),
    ]
    # One error per SDK span started (2 agents, 3 responses, a function, a handoff; since
    # openai-agents 0.21 also a task and 3 turns).
    errors = bridged.metric_sum(TELEMETRY_ERRORS, {"agentotel.component": "openai_agents"})
    assert errors == counter.started > 0


# --- the SDK's own tracing -----------------------------------------------------------------------
def _sdk_processors() -> tuple[Any, ...]:
    return agents.tracing.get_trace_provider()._multi_processor._processors  # type: ignore[no-any-return]


def test_the_sdk_keeps_its_processors_and_gets_the_bridge_once(cap: TelemetryCapture) -> None:
    before = _sdk_processors()

    with instrumented(cap, OpenAIAgentsInstrumentor):
        with instrumented(cap, OpenAIAgentsInstrumentor):
            pass
        during = _sdk_processors()

    from agentotel.instrumentation.openai_agents.processor import Bridge

    bridge = OpenAIAgentsInstrumentor().processor
    assert isinstance(bridge, Bridge)
    kept = tuple(p for p in before if p is not bridge)
    assert during == (*kept, bridge)
    assert isinstance(kept[0], agents.tracing.processors.BatchTraceProcessor)
    assert _sdk_processors() == during  # uninstrument() disarms it: the SDK cannot remove one


def test_after_uninstrument_the_bridge_records_nothing(
    cap: TelemetryCapture, fake: FakeLLMServer, model: Any
) -> None:
    with instrumented(cap, OpenAIAgentsInstrumentor):
        pass
    fake.script(["Hi."])

    run("run", agents.Agent(name="solo", model=model))

    assert cap.spans() == []


def test_the_sdk_export_can_be_turned_off_keeping_the_bridge(
    bridged: TelemetryCapture, fake: FakeLLMServer, model: Any
) -> None:
    before = _sdk_processors()
    agents.set_trace_processors([OpenAIAgentsInstrumentor().processor])
    try:
        fake.script(["Hi."])
        run("run", agents.Agent(name="solo", model=model))
    finally:
        agents.set_trace_processors(list(before))

    assert [name for name, _, _ in tree(bridged)] == [WORKFLOW, "invoke_agent solo", LLM]


def test_an_explicit_trace_with_a_custom_span_is_a_workflow_with_a_step(
    bridged: TelemetryCapture, fake: FakeLLMServer, model: Any
) -> None:
    fake.script(["Hi."])

    async def support() -> None:
        with agents.trace("support"), agents.custom_span("lookup", {"customer": "c-1"}):
            await agents.Runner.run(agents.Agent(name="solo", model=model), QUESTION)

    asyncio.run(support())

    assert tree(bridged) == [
        ("invoke_workflow support", None, INTERNAL),
        ("step lookup", "invoke_workflow support", INTERNAL),
        ("invoke_agent solo", "step lookup", INTERNAL),
        (LLM, "invoke_agent solo", CLIENT),
    ]
    assert attrs_of(one(bridged, "step lookup")) == {
        "gen_ai.operation.name": "step",
        "agentotel.step.name": "lookup",
        "agentotel.step.type": "custom",
    }
    assert attrs_of(one(bridged, "invoke_workflow support"))["agentotel.plan.step_count"] == 1


def test_too_many_turns_fails_the_agent_and_workflow_with_the_sdk_message(
    bridged: TelemetryCapture, fake: FakeLLMServer, model: Any
) -> None:
    fake.script(SCRIPT)

    with pytest.raises(agents.MaxTurnsExceeded):
        run("run", triage(model), max_turns=1)

    for name in (WORKFLOW, TRIAGE):
        span = one(bridged, name)
        assert (span.status.status_code, span.status.description) == (StatusCode.ERROR, "Max turns exceeded")
    assert one(bridged, TOOL).status.status_code is StatusCode.UNSET


def test_each_runner_run_is_one_run_in_the_run_store(
    bridged: TelemetryCapture, fake: FakeLLMServer, model: Any, tmp_path: Path
) -> None:
    fake.script([*SCRIPT, "Hi."])

    with run_store(bridged, tmp_path) as store:
        run("run", triage(model))
        run("run", agents.Agent(name="solo", model=responses_model(fake)))
        assert store.force_flush()
    first, second = (summary_of(tmp_path, rid) for rid in run_ids(tmp_path))

    assert [(s["root"]["name"], s["implicit"], s["span_count"], s["status"]) for s in (first, second)] == [
        (WORKFLOW, False, len(TREE), "ok"),
        (WORKFLOW, False, 3, "ok"),
    ]
    assert first["tool_calls"] == {"ok": 1, "failed": 0}


def test_a_span_ended_in_another_context_leaves_it_alone_without_an_error_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    import contextvars

    from opentelemetry import context as otel_context

    from agentotel.instrumentation.openai_agents.processor import _detach

    caplog.set_level(logging.DEBUG)
    ours = otel_context.set_value("k", "v")
    token = otel_context.attach(ours)

    contextvars.copy_context().run(_detach, token)  # an SDK span ended in another task
    assert otel_context.get_current() is ours
    _detach(token)

    assert otel_context.get_current() is not ours
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_a_bug_in_reading_an_ended_sdk_span_still_ends_our_span(
    bridged: TelemetryCapture, fake: FakeLLMServer, model: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agentotel.instrumentation.openai_agents.blocks import FunctionBlock

    def broken(self: Any, span: Any) -> None:
        raise RuntimeError("bridge bug")

    monkeypatch.setattr(FunctionBlock, "settle", broken)
    fake.script(SCRIPT)

    result = run("run", triage(model))

    assert result.final_output == "Done."
    assert tree(bridged) == TREE
    assert bridged.metric_sum(TELEMETRY_ERRORS, {"agentotel.component": "openai_agents"}) == 1


@pytest.mark.parametrize("mode", MODES)
def test_a_failed_model_call_fails_the_llm_span_the_agent_and_the_workflow(
    bridged: TelemetryCapture, fake: FakeLLMServer, model: Any, mode: str
) -> None:
    fake.script([Reply.error("server_error")])

    with pytest.raises(openai.InternalServerError):
        run(mode, agents.Agent(name="solo", model=model))

    assert [
        (name, one(bridged, name).status.status_code) for name in (LLM, "invoke_agent solo", WORKFLOW)
    ] == [
        (LLM, StatusCode.ERROR),
        ("invoke_agent solo", StatusCode.ERROR),
        (WORKFLOW, StatusCode.ERROR),
    ]
    # The workflow has the last error the SDK attached: its response span's, then (in
    # later releases) its agent span's.
    agent = one(bridged, "invoke_agent solo").status.description
    assert agent in ("Error getting response", "Error in agent run")
    assert one(bridged, WORKFLOW).status.description == agent


@pytest.mark.parametrize("mode", MODES)
def test_parallel_calls_of_one_tool_get_one_span_each_with_its_own_call_id(
    bridged: TelemetryCapture, fake: FakeLLMServer, model: Any, mode: str
) -> None:
    fake.script(
        [
            Reply.tool_calls(
                ToolCall("get_weather", {"city": "Paris"}), ToolCall("get_weather", {"city": "Rome"})
            ),
            "Both sunny.",
        ]
    )

    run(mode, agents.Agent(name="solo", model=model, tools=[get_weather]))

    tools = by_name(bridged, TOOL)
    assert sorted(attrs_of(s)["gen_ai.tool.call.id"] for s in tools) == ["call_1", "call_2"]
    assert [s.name for s in bridged.spans() if s.name.startswith("execute_tool")] == [TOOL, TOOL]
    assert {s.parent.span_id for s in tools if s.parent} == {
        one(bridged, "invoke_agent solo").context.span_id
    }
