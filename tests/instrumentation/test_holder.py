"""One telemetry holder per set of providers (``agentotel._telemetry``): the settings read once,
the pending tool calls and the cardinality guard its own, and the same holder for every
instrumentor and the agent API that record through those providers."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from typing import Any

import pytest
from helpers import DURATION, attrs_of

import agentotel
from agentotel import _registry, config
from agentotel._telemetry import Telemetry, telemetry_for
from agentotel.agent import configure
from agentotel.agent._layer import current_layer, reset
from agentotel.cli._demo_agent import TOOLS
from agentotel.instrumentation._base import AgentotelInstrumentor
from agentotel.instrumentation.anthropic import AnthropicInstrumentor
from agentotel.instrumentation.openai import OpenAIInstrumentor
from agentotel.testing._capture import TelemetryCapture

pytestmark = pytest.mark.usefixtures("fresh_fake_llm")


@pytest.fixture
def two_caps() -> Iterator[tuple[TelemetryCapture, TelemetryCapture]]:
    first, second = TelemetryCapture(), TelemetryCapture()
    yield first, second
    first.shutdown()
    second.shutdown()


def _ask_twice_then_answer_both(client: Any) -> None:
    """Two responses asking for a tool (models gpt-4o, then gpt-4o-mini), then one request per
    result sent back."""
    question = {"role": "user", "content": "Weather?"}
    answers: list[list[dict[str, Any]]] = []
    for model in ("gpt-4o", "gpt-4o-mini"):
        reply = client.chat.completions.create(model=model, messages=[question], tools=TOOLS)
        message = reply.choices[0].message
        [call] = message.tool_calls
        result = {"role": "tool", "tool_call_id": call.id, "content": "Sunny"}
        answers.append([question, message.model_dump(exclude_none=True), result])
    for messages in answers:
        client.chat.completions.create(model="gpt-4o", messages=messages, tools=TOOLS)


def test_an_instrumentor_built_later_with_other_settings_leaves_the_first_ones_limits(
    two_caps: tuple[TelemetryCapture, TelemetryCapture],
    monkeypatch: pytest.MonkeyPatch,
    openai_client: Any,
) -> None:
    first, second = two_caps
    monkeypatch.setenv(config.METRIC_CARDINALITY_LIMIT, "1")
    monkeypatch.setenv(config.TOOL_PENDING_MAX, "1")
    openai_instrumentor = OpenAIInstrumentor()
    openai_instrumentor.instrument(**first.providers)
    monkeypatch.setenv(config.METRIC_CARDINALITY_LIMIT, "100")
    monkeypatch.setenv(config.TOOL_PENDING_MAX, "100")
    anthropic_instrumentor = AnthropicInstrumentor()
    anthropic_instrumentor.instrument(**second.providers)
    try:
        _ask_twice_then_answer_both(openai_client)
    finally:
        openai_instrumentor.uninstrument()
        anthropic_instrumentor.uninstrument()

    # Limit 1: the second model is reported as _OTHER.
    models = {dict(p.attributes)["gen_ai.request.model"] for p in first.metric_points(DURATION)}
    assert models == {"gpt-4o", "_OTHER"}
    # At most 1 pending call: only the newer one is left for an inferred span.
    inferred = [s for s in first.spans() if s.name.startswith("execute_tool")]
    assert [attrs_of(s)["gen_ai.tool.call.id"] for s in inferred] == ["call_2"]


def test_one_holder_per_set_of_providers(cap: TelemetryCapture) -> None:
    holder = telemetry_for(cap.tracer_provider, cap.meter_provider, cap.logger_provider)

    assert telemetry_for(cap.tracer_provider, cap.meter_provider, cap.logger_provider) is holder
    assert telemetry_for(cap.tracer_provider, cap.meter_provider) is not holder
    assert holder.tracer_provider is cap.tracer_provider
    assert holder.meter_provider is cap.meter_provider
    assert holder.logger_provider is cap.logger_provider
    assert holder.boundary("openai") is holder.boundary("openai")
    assert holder.boundary("openai") is not holder.boundary("mcp")


def test_the_holder_does_not_keep_its_providers_alive() -> None:
    capture = TelemetryCapture()
    holder = weakref.ref(telemetry_for(**capture.providers))
    provider = weakref.ref(capture.tracer_provider)
    capture.shutdown()
    del capture
    gc.collect()

    assert provider() is None
    assert holder() is None


def test_agentotel_instrument_hands_one_holder_to_every_instrumentor_and_the_agent_api(
    cap: TelemetryCapture, monkeypatch: pytest.MonkeyPatch
) -> None:
    given: dict[str, Telemetry] = {}
    build = AgentotelInstrumentor._telemetry

    def spy(self: AgentotelInstrumentor, **kwargs: Any) -> Telemetry:
        given[self.component] = build(**kwargs)
        return given[self.component]

    monkeypatch.setattr(AgentotelInstrumentor, "_telemetry", spy)
    try:
        agentotel.instrument(**cap.providers)
        layer = current_layer()
        holder = telemetry_for(**cap.providers)
    finally:
        agentotel.uninstrument()

    # Every instrumentor whose SDK this environment has (the noxfile's SDK rows lack some).
    assert set(given) == {cls.component for cls in _registry.available().values()}
    assert {"openai", "anthropic", "mcp", "langchain"} <= set(given)
    assert all(telemetry is holder for telemetry in given.values())
    assert layer is holder


def test_a_tool_span_claims_the_call_an_llm_response_asked_for_after_agentotel_instrument(
    cap: TelemetryCapture, openai_client: Any
) -> None:
    agentotel.instrument(**cap.providers)
    try:
        reply = openai_client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "Weather?"}], tools=TOOLS
        )
        with agentotel.tool("get_weather"):
            pass
    finally:
        agentotel.uninstrument()

    [tool] = [s for s in cap.spans() if s.name == "execute_tool get_weather"]
    assert attrs_of(tool)["gen_ai.tool.call.id"] == reply.choices[0].message.tool_calls[0].id


def test_the_settings_are_read_once_per_holder(
    cap: TelemetryCapture, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[int] = []
    read = config.Settings.from_env

    def counted(environ: Any = None) -> config.Settings:
        reads.append(1)
        return read(environ)

    monkeypatch.setattr(config.Settings, "from_env", staticmethod(counted))
    monkeypatch.setenv(config.CAPTURE_MESSAGE_CONTENT, "SPAN_ONLY")
    holder = telemetry_for(**cap.providers)
    monkeypatch.setenv(config.CAPTURE_MESSAGE_CONTENT, "NO_CONTENT")
    for instrumentor in (OpenAIInstrumentor(), AnthropicInstrumentor()):
        instrumentor.instrument(**cap.providers)
        instrumentor.uninstrument()
    configure(**cap.providers)
    try:
        same = current_layer()
    finally:
        reset()

    assert len(reads) == 1
    assert same is holder
    assert holder.settings.capture is config.CaptureMode.SPAN_ONLY
