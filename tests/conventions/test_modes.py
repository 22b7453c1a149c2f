"""The switch (``OTEL_SEMCONV_STABILITY_OPT_IN``) and what changes with it beyond names: values,
counts, buckets and events, in both modes (the names themselves: ``test_conventions_table.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from helpers import CLAUDE, FAKE_ANTHROPIC_KEY, FAKE_OPENAI_KEY, GPT, QUESTION, instrumented

import agentotel
from agentotel import semconv
from agentotel._telemetry import telemetry_for
from agentotel.config import GEN_AI_LATEST_EXPERIMENTAL, SEMCONV_STABILITY_OPT_IN, Settings, gen_ai_latest
from agentotel.instrumentation.anthropic import AnthropicInstrumentor
from agentotel.instrumentation.openai import OpenAIInstrumentor
from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture

pytestmark = pytest.mark.usefixtures("fresh_fake_llm")
CACHE = "[[scenario:cached:3]] [[scenario:cache_write:4]]"
INVOKE_AGENT_BUCKETS = (0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 51.2, 102.4, 204.8, 409.6)


@pytest.fixture(params=["v1.41.1", "latest"])
def mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "latest":
        monkeypatch.setenv(SEMCONV_STABILITY_OPT_IN, GEN_AI_LATEST_EXPERIMENTAL)
    else:
        monkeypatch.delenv(SEMCONV_STABILITY_OPT_IN, raising=False)
    return str(request.param)


@pytest.fixture
def latest(monkeypatch: pytest.MonkeyPatch) -> None:
    """Latest mode for the holders built after it (list it before ``llms``)."""
    monkeypatch.setenv(SEMCONV_STABILITY_OPT_IN, GEN_AI_LATEST_EXPERIMENTAL)


@pytest.fixture
def v141(monkeypatch: pytest.MonkeyPatch) -> None:
    """The default mode for the holders built after it, whatever the runner's environment."""
    monkeypatch.delenv(SEMCONV_STABILITY_OPT_IN, raising=False)


@pytest.fixture
def llms(agent_layer: TelemetryCapture) -> Iterator[TelemetryCapture]:
    """The agent API, the OpenAI and the Anthropic instrumentors on ``cap`` (mode read now)."""
    with instrumented(agent_layer, OpenAIInstrumentor, AnthropicInstrumentor):
        yield agent_layer


def openai_client(server: FakeLLMServer) -> Any:
    import openai

    return openai.OpenAI(base_url=server.openai_base_url, api_key=FAKE_OPENAI_KEY, max_retries=0)


def anthropic_client(server: FakeLLMServer) -> Any:
    import anthropic

    return anthropic.Anthropic(base_url=server.anthropic_base_url, api_key=FAKE_ANTHROPIC_KEY, max_retries=0)


def ask(server: FakeLLMServer, text: str = QUESTION, **kwargs: Any) -> Any:
    return openai_client(server).chat.completions.create(
        model=GPT, messages=[{"role": "user", "content": text}], **kwargs
    )


def one_span(cap: TelemetryCapture, name: str) -> dict[str, Any]:
    [span] = [s for s in cap.spans() if s.name == name]
    return dict(span.attributes or {})


# --- the switch ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, False),
        ("", False),
        ("gen_ai_latest_experimental", True),
        ("http, gen_ai_latest_experimental ,database", True),
        ("GEN_AI_LATEST_EXPERIMENTAL", True),
        ("http,database/dup", False),  # other instrumentations' values: ignored, no error
        ("gen_ai", False),
    ],
)
def test_the_opt_in_list_selects_latest_only_with_its_value(raw: str | None, expected: bool) -> None:
    assert gen_ai_latest(raw) is expected
    environ = {} if raw is None else {SEMCONV_STABILITY_OPT_IN: raw}
    assert Settings.from_env(environ).gen_ai_latest is expected


def test_the_holder_reads_the_switch_once(cap: TelemetryCapture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SEMCONV_STABILITY_OPT_IN, raising=False)
    holder = telemetry_for(cap.tracer_provider, cap.meter_provider, cap.logger_provider)
    monkeypatch.setenv(SEMCONV_STABILITY_OPT_IN, GEN_AI_LATEST_EXPERIMENTAL)

    again = telemetry_for(cap.tracer_provider, cap.meter_provider, cap.logger_provider)

    assert again is holder
    assert again.conventions is semconv.V1_41_1
    assert again.inference is None


def test_a_holder_built_with_the_switch_on_is_in_latest_mode(cap: TelemetryCapture, latest: None) -> None:
    holder = telemetry_for(cap.tracer_provider, cap.meter_provider, cap.logger_provider)
    assert holder.conventions is semconv.LATEST
    assert holder.inference is not None


# --- buckets ---------------------------------------------------------------------------------------
def test_time_per_output_chunk_has_the_conventions_buckets_in_both_modes(
    mode: str, llms: TelemetryCapture, fresh_fake_llm: FakeLLMServer
) -> None:
    for _ in ask(fresh_fake_llm, stream=True):
        pass
    name = (
        semconv.GEN_AI_CLIENT_OPERATION_TIME_PER_OUTPUT_CHUNK
        if mode == "v1.41.1"
        else semconv.GEN_AI_CLIENT_INFERENCE_TIME_PER_OUTPUT_CHUNK
    )
    [point] = llms.metric_points(name)
    assert tuple(point.explicit_bounds) == semconv.DURATION_BUCKETS


def test_latest_agent_tool_and_workflow_metrics_have_the_conventions_buckets(
    latest: None, llms: TelemetryCapture
) -> None:
    with agentotel.workflow("research"), agentotel.agent("helper"), agentotel.tool("search"):
        pass
    bounds = {
        name: tuple(llms.metric_points(name)[0].explicit_bounds)
        for name in (
            semconv.GEN_AI_INVOKE_WORKFLOW_DURATION,
            semconv.GEN_AI_INVOKE_AGENT_DURATION,
            semconv.GEN_AI_INVOKE_AGENT_INFERENCE_CALLS,
            semconv.GEN_AI_INVOKE_AGENT_TOOL_CALLS,
            semconv.GEN_AI_EXECUTE_TOOL_DURATION,
        )
    }
    assert bounds == {
        "gen_ai.invoke_workflow.duration": (1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200),
        "gen_ai.invoke_agent.duration": INVOKE_AGENT_BUCKETS,
        "gen_ai.invoke_agent.inference_calls": (1, 2, 4, 8, 16, 32, 64, 128),
        "gen_ai.invoke_agent.tool_calls": (1, 2, 4, 8, 16, 32, 64, 128),
        "gen_ai.execute_tool.duration": semconv.DURATION_BUCKETS,
    }


# --- values ----------------------------------------------------------------------------------------
def test_latest_usage_counters_carry_the_reply_with_modality_unknown(
    latest: None, llms: TelemetryCapture, fresh_fake_llm: FakeLLMServer
) -> None:
    anthropic_client(fresh_fake_llm).messages.create(
        model=CLAUDE, max_tokens=100, messages=[{"role": "user", "content": f"{QUESTION} {CACHE}"}]
    )
    unknown = {semconv.GEN_AI_TOKEN_MODALITY: "unknown"}
    sums = {
        name: llms.metric_sum(f"gen_ai.client.inference.usage.{name}", unknown)
        for name in ("input_tokens", "output_tokens", "cache_read.input_tokens", "cache_write.input_tokens")
    }
    span = one_span(llms, f"chat {CLAUDE}")
    assert sums == {
        "input_tokens": span["gen_ai.usage.input_tokens"],
        "output_tokens": span["gen_ai.usage.output_tokens"],
        "cache_read.input_tokens": 3,
        "cache_write.input_tokens": 4,
    }
    assert span["gen_ai.usage.cache_write.input_tokens"] == 4
    assert "gen_ai.usage.cache_creation.input_tokens" not in span
    assert llms.metric_sum("gen_ai.client.inference.usage.reasoning.output_tokens", unknown) == 0
    assert (
        llms.metric_sum("gen_ai.client.inference.operation.input_tokens") == span["gen_ai.usage.input_tokens"]
    )


def test_latest_failed_call_records_zero_tokens_and_its_error_type(
    latest: None, llms: TelemetryCapture, fresh_fake_llm: FakeLLMServer
) -> None:
    import openai

    with pytest.raises(openai.BadRequestError):
        ask(fresh_fake_llm, "[[scenario:bad_request]]")

    error = {semconv.ERROR_TYPE: "openai.BadRequestError"}
    for name in ("input_tokens", "output_tokens", "cache_read.input_tokens", "reasoning.output_tokens"):
        [point] = llms.metric_points(f"gen_ai.client.inference.usage.{name}")
        assert (point.value, point.attributes[semconv.GEN_AI_TOKEN_MODALITY]) == (0, "unknown")
        assert semconv.ERROR_TYPE not in point.attributes
    [histogram] = llms.metric_points("gen_ai.client.inference.operation.input_tokens")
    assert (histogram.count, histogram.sum, histogram.attributes[semconv.ERROR_TYPE]) == (
        1,
        0,
        error["error.type"],
    )
    assert llms.metric_count("gen_ai.client.inference.duration", error) == 1


def test_latest_top_k_is_an_int_v1_41_1_a_double(
    mode: str, cap: TelemetryCapture, fresh_fake_llm: FakeLLMServer
) -> None:
    pytest.importorskip("google.genai", reason="google-genai is not installed")
    from google import genai

    from agentotel.instrumentation.google_genai import GoogleGenAIInstrumentor

    with instrumented(cap, GoogleGenAIInstrumentor):
        client = genai.Client(
            api_key="AIzaFakeGeminiKey0123456789", http_options={"base_url": fresh_fake_llm.base_url}
        )
        client.models.generate_content(model="gemini-2.5-flash", contents=QUESTION, config={"top_k": 40})

    top_k = one_span(cap, "generate_content gemini-2.5-flash")["gen_ai.request.top_k"]
    assert (type(top_k), top_k) == ((float, 40.0) if mode == "v1.41.1" else (int, 40))


def test_latest_agent_round_counts_its_own_inference_and_tool_calls(
    latest: None, llms: TelemetryCapture, fresh_fake_llm: FakeLLMServer
) -> None:
    with agentotel.agent("lead"):
        ask(fresh_fake_llm)
        with agentotel.tool("search"):
            pass
        with agentotel.agent("helper"), agentotel.plan("helper"):
            # The sub-agent's calls are its own, even below a plan.
            ask(fresh_fake_llm)
            ask(fresh_fake_llm)
        with agentotel.tool("summarize"):
            ask(fresh_fake_llm)  # a call made inside a tool is still the agent's

    def counted(metric: str) -> dict[str, float]:
        return {p.attributes["gen_ai.agent.name"]: p.sum for p in llms.metric_points(metric)}

    assert counted("gen_ai.invoke_agent.inference_calls") == {"lead": 2, "helper": 2}
    assert counted("gen_ai.invoke_agent.tool_calls") == {"lead": 2, "helper": 0}
    assert llms.metric_count("gen_ai.invoke_agent.duration", {"gen_ai.agent.name": "lead"}) == 1
    assert {
        p.attributes.get("gen_ai.agent.name") for p in llms.metric_points("gen_ai.execute_tool.duration")
    } == {"lead"}
    assert one_span(llms, "execute_tool search")["gen_ai.agent.name"] == "lead"


def test_latest_agent_id_moves_to_agentotel_agent_id(latest: None, llms: TelemetryCapture) -> None:
    with agentotel.agent("helper", agent_id="agent-7"):
        pass
    attrs = one_span(llms, "invoke_agent helper")
    assert attrs == {
        "gen_ai.operation.name": "invoke_agent",
        "gen_ai.agent.name": "helper",
        "agentotel.agent.id": "agent-7",
    }


def test_v1_41_1_agent_round_names_its_provider_when_every_call_had_the_same(
    v141: None, llms: TelemetryCapture, fresh_fake_llm: FakeLLMServer
) -> None:
    with agentotel.agent("one"):
        ask(fresh_fake_llm)
        ask(fresh_fake_llm)
    with agentotel.agent("two"):
        ask(fresh_fake_llm)
        anthropic_client(fresh_fake_llm).messages.create(
            model=CLAUDE, max_tokens=100, messages=[{"role": "user", "content": QUESTION}]
        )
    with agentotel.agent("none"):
        pass

    assert one_span(llms, "invoke_agent one")["gen_ai.provider.name"] == "openai"
    assert "gen_ai.provider.name" not in one_span(llms, "invoke_agent two")
    assert "gen_ai.provider.name" not in one_span(llms, "invoke_agent none")


def test_latest_agent_round_has_no_provider(
    latest: None, llms: TelemetryCapture, fresh_fake_llm: FakeLLMServer
) -> None:
    with agentotel.agent("one"):
        ask(fresh_fake_llm)
    assert "gen_ai.provider.name" not in one_span(llms, "invoke_agent one")


# --- events ----------------------------------------------------------------------------------------
def test_latest_guard_is_apply_guardrail_with_its_result_event(latest: None, llms: TelemetryCapture) -> None:
    with agentotel.guard("pii") as guard:
        guard.block("an e-mail address")

    [span] = llms.spans()
    assert (span.name, dict(span.attributes or {})) == (
        "apply_guardrail pii",
        {
            "gen_ai.operation.name": "apply_guardrail",
            "gen_ai.guardrail.component.name": "pii",
            "gen_ai.guardrail.result.type": "outcome",
            "gen_ai.guardrail.result.value": "blocked",
            "gen_ai.guardrail.result.reason": "an e-mail address",
            "agentotel.guard.name": "pii",
            "agentotel.guard.outcome": "blocked",
            "agentotel.guard.reason": "an e-mail address",
        },
    )
    [event] = llms.logs()
    assert event.event_name == "gen_ai.guardrail.result"
    assert dict(event.attributes or {}) == {
        "gen_ai.guardrail.component.name": "pii",
        "gen_ai.guardrail.result.type": "outcome",
        "gen_ai.guardrail.result.value": "blocked",
        "gen_ai.guardrail.result.reason": "an e-mail address",
    }
    assert event.span_id == span.context.span_id


def test_v1_41_1_guard_is_unchanged_and_has_no_event(v141: None, llms: TelemetryCapture) -> None:
    with agentotel.guard("pii"):
        pass
    [span] = llms.spans()
    assert span.name == "guardrail pii"
    assert dict(span.attributes or {}) == {
        "gen_ai.operation.name": "guardrail",
        "agentotel.guard.name": "pii",
        "agentotel.guard.outcome": "allowed",
    }
    assert llms.logs() == []


def test_a_failed_call_emits_the_operation_exception_event_in_both_modes(
    mode: str, llms: TelemetryCapture, fresh_fake_llm: FakeLLMServer
) -> None:
    import openai

    with pytest.raises(openai.BadRequestError):
        ask(fresh_fake_llm, "[[scenario:bad_request]]")

    [span] = llms.spans()
    [event] = llms.logs()
    assert (event.event_name, event.severity_number.value, event.severity_text) == (
        "gen_ai.client.operation.exception",
        13,
        "WARN",
    )
    attrs = dict(event.attributes or {})
    [recorded] = [e for e in span.events if e.name == "exception"]
    # The span's own exception event and this one say the same, redacted the same way.
    assert attrs == dict(recorded.attributes or {})
    assert attrs["exception.type"] == "openai.BadRequestError"
    assert FAKE_OPENAI_KEY not in repr(attrs)
    assert event.span_id == span.context.span_id
