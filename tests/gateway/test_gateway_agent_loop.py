"""An agent loop through the gateway gets what the SDK instrumentors give it: the LLM spans, the
inferred ``execute_tool`` span between the response that asked for a tool and the request that
sends its result back, and the audit log's ``tool_call`` record for it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import openai
import pytest
from helpers import instrumented
from opentelemetry.trace import StatusCode

from agentotel import semconv
from agentotel.cli._demo_agent import run_anthropic, run_openai
from agentotel.instrumentation.anthropic import AnthropicInstrumentor
from agentotel.instrumentation.openai import OpenAIInstrumentor
from agentotel.processors import AuditSpanProcessor
from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture


def _quiet(_: str) -> None:
    """The demo loop's output, not needed here."""


def _shape(cap: TelemetryCapture) -> list[tuple[str, str, dict[str, Any]]]:
    """Each span's name, status, and attributes without timings, the gateway's own, and the error
    details the two paths name differently (the SDK's exception class, the gateway's HTTP status;
    the embeddings format the ``openai`` SDK puts on the wire, test_gateway_parity.py)."""
    leave = {
        semconv.GEN_AI_REQUEST_ENCODING_FORMATS,
        semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK,
        semconv.AGENTOTEL_GATEWAY_ROUTE,
        semconv.ERROR_TYPE,
        semconv.HTTP_RESPONSE_STATUS_CODE,
    }
    return [
        (s.name, s.status.status_code.name, {k: v for k, v in (s.attributes or {}).items() if k not in leave})
        for s in cap.spans()
    ]


@pytest.mark.parametrize(
    ("run", "route", "model", "errors"),
    [(run_openai, "openai", "gpt-4o-mini", ["429"]), (run_anthropic, "anthropic", "claude-opus-5", [])],
    ids=["openai", "anthropic"],
)
def test_the_demo_agent_loop_through_the_gateway(
    run: Any,
    route: str,
    model: str,
    errors: list[str],
    tmp_path: Path,
    fresh_fake_llm: FakeLLMServer,
    gateway_factory: Any,
    cap: TelemetryCapture,
) -> None:
    direct = TelemetryCapture()
    try:
        with instrumented(direct, OpenAIInstrumentor, AnthropicInstrumentor):
            run(_client(route, fresh_fake_llm.base_url, direct=True), model, offline=True, say=_quiet)
        expected = _shape(direct)
    finally:
        direct.shutdown()

    fresh_fake_llm.state.reset()
    audit = tmp_path / "audit.jsonl"
    processor = AuditSpanProcessor(audit)
    cap.tracer_provider.add_span_processor(processor)
    gw = gateway_factory()
    run(_client(route, gw.url, direct=False), model, offline=True, say=_quiet)
    gw.stop()
    processor.shutdown()

    assert _shape(cap) == expected
    names = [name for name, _, _ in expected]
    assert names.count("execute_tool get_weather") == 1
    failed = [s for s in cap.spans() if s.status.status_code is StatusCode.ERROR]
    assert [s.attributes[semconv.ERROR_TYPE] for s in failed] == errors  # the OpenAI loop's handled 429
    records = [json.loads(line) for line in audit.read_text().splitlines()]
    calls = [r for r in records if r["event_type"] == "tool_call"]
    assert [(r["action"], r["resource"], r["outcome"]) for r in calls] == [
        ("execute_tool", "get_weather", "success")
    ]


def _client(route: str, base: str, direct: bool) -> Any:
    import anthropic

    if route == "openai":
        return openai.OpenAI(
            base_url=f"{base}/v1" if direct else f"{base}/openai/v1",
            api_key="sk-loop-0123456789",
            max_retries=0,
        )
    return anthropic.Anthropic(
        base_url=base if direct else f"{base}/anthropic", api_key="sk-ant-loop-0123456789", max_retries=0
    )
