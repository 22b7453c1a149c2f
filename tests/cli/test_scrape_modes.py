"""``agentotel top`` / ``tools report`` read the metrics of both convention modes alike.

One process's work (chat and embeddings calls over real HTTP to the fake LLM server, a failing
call, an agent round with a plan and tools, a workflow) is exported by a real OpenTelemetry
``PrometheusMetricReader`` once in the default mode and once with
``OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental``; both pages must give the same
counts, token sums, costs and error rows (durations are real and the modes' bucket bounds
differ, so histograms are compared by their counts).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import openai
import pytest
from helpers import GPT, QUESTION, user
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_helpers import EXPOSED, EXPOSED_LATEST, families, names

import agentotel
from agentotel.agent import configure
from agentotel.agent._layer import reset
from agentotel.cli._board import error_totals, model_rows, tool_rows, workflow_rows
from agentotel.cli._scrape import Histogram, Snapshot, parse
from agentotel.instrumentation.openai import OpenAIInstrumentor
from agentotel.testing import FakeLLMServer

EMBEDDING = "text-embedding-3-small"


@agentotel.tool()
def search(query: str) -> str:
    return "found"


@agentotel.tool()
def broken() -> None:
    raise ValueError("boom")


def work(client: openai.OpenAI) -> None:
    """Two good and one rate-limited chat call, one embeddings call, an agent round (a plan, a
    tool that works twice and one that fails) and a workflow around it all."""
    with agentotel.workflow("research"):
        with agentotel.agent("planner"), agentotel.plan("planner"):
            client.chat.completions.create(model=GPT, messages=user(QUESTION))
            search("lunch")
            search("dinner")
            with pytest.raises(ValueError):
                broken()
        client.chat.completions.create(model=GPT, messages=user(QUESTION))
        with pytest.raises(openai.RateLimitError):
            client.chat.completions.create(model=GPT, messages=user(f"{QUESTION} [[scenario:rate_limit]]"))
        client.embeddings.create(model=EMBEDDING, input="one two three four")


def page(fake_llm: FakeLLMServer, monkeypatch: pytest.MonkeyPatch, latest: bool) -> str:
    """The ``/metrics`` text of :func:`work` done in one mode."""
    if latest:
        monkeypatch.setenv("OTEL_SEMCONV_STABILITY_OPT_IN", "gen_ai_latest_experimental")
    else:
        monkeypatch.delenv("OTEL_SEMCONV_STABILITY_OPT_IN", raising=False)
    registry = CollectorRegistry()
    meter_provider = MeterProvider(metric_readers=[PrometheusMetricReader(registry=registry)])
    tracer_provider = TracerProvider()
    instrumentor = OpenAIInstrumentor()
    instrumentor.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
    configure(tracer_provider=tracer_provider, meter_provider=meter_provider)
    try:
        work(openai.OpenAI(base_url=fake_llm.openai_base_url, api_key="sk-test", max_retries=0))
        return generate_latest(registry).decode()
    finally:
        reset()
        instrumentor.uninstrument()
        meter_provider.shutdown()
        tracer_provider.shutdown()


@pytest.fixture
def pages(fake_llm: FakeLLMServer, monkeypatch: pytest.MonkeyPatch) -> dict[bool, str]:
    return {latest: page(fake_llm, monkeypatch, latest) for latest in (False, True)}


@pytest.fixture
def snapshots(pages: dict[bool, str]) -> Iterator[dict[bool, Snapshot]]:
    yield {latest: parse(text, 100.0) for latest, text in pages.items()}


def test_each_page_has_the_metric_names_of_its_mode(pages: dict[bool, str]) -> None:
    """The names the collector-config rules and dashboards read (tests/prometheus_helpers.py)."""
    found = {latest: names(families(text.encode())) - {"target_info"} for latest, text in pages.items()}

    assert found[False] <= EXPOSED
    assert found[True] <= EXPOSED_LATEST
    assert "gen_ai_client_token_usage_sum" in found[False] - found[True]
    assert {
        "gen_ai_client_inference_usage_input_tokens_total",
        "gen_ai_client_embeddings_operation_input_tokens_sum",
        "gen_ai_execute_tool_duration_seconds_count",
        "gen_ai_invoke_agent_duration_seconds_count",
        "gen_ai_invoke_agent_inference_calls_sum",
        "gen_ai_invoke_agent_tool_calls_sum",
        "gen_ai_invoke_workflow_duration_seconds_count",
    } <= found[True] - found[False]


def counts(histograms: dict[Any, Histogram]) -> dict[Any, float]:
    return {key: h.count for key, h in histograms.items()}


def test_llm_calls_tokens_and_cost_read_the_same(snapshots: dict[bool, Snapshot]) -> None:
    default, latest = snapshots[False], snapshots[True]

    assert counts(default.llm) == {
        ("openai", GPT, ""): 2,
        ("openai", GPT, "openai.RateLimitError"): 1,
        ("openai", EMBEDDING, ""): 1,
    }
    assert counts(latest.llm) == counts(default.llm)
    # 6 words in and 6 out per chat call; 4 inputs of the embeddings call.
    assert default.tokens == {
        ("openai", GPT, "input"): 12,
        ("openai", GPT, "output"): 12,
        ("openai", EMBEDDING, "input"): 4,
    }
    assert {k: v for k, v in latest.tokens.items() if v} == default.tokens
    assert default.cost and latest.cost == default.cost
    rows = {
        mode: [
            (r.model, r.requests, r.errors, r.input_tokens, r.output_tokens, r.cost_usd)
            for r in model_rows(snap)
        ]
        for mode, snap in snapshots.items()
    }
    assert rows[True] == rows[False]
    assert [row[:5] for row in rows[False]] == [(GPT, 3, 1, 12, 12), (EMBEDDING, 1, 0, 4, 0)]


def test_tools_workflows_and_agent_rounds_read_the_same(snapshots: dict[bool, Snapshot]) -> None:
    default, latest = snapshots[False], snapshots[True]

    assert counts(default.tools) == {("search", ""): 2, ("broken", "ValueError"): 1}
    assert counts(latest.tools) == counts(default.tools)
    assert counts(default.workflows) == {
        ("invoke_workflow", "research", ""): 1,
        ("invoke_agent", "planner", ""): 1,
        ("plan", "planner", ""): 1,
    }
    assert counts(latest.workflows) == counts(default.workflows)
    assert [(r.name, r.calls, r.failures, r.success_rate) for r in tool_rows(latest)] == [
        ("search", 2, 0, 1.0),
        ("broken", 1, 1, 0.0),
    ]
    assert [(r.operation, r.name, r.runs) for r in workflow_rows(latest)] == [
        (r.operation, r.name, r.runs) for r in workflow_rows(default)
    ]
    errors = {
        mode: [(e.source, e.subject, e.error_type, e.count) for e in error_totals(snap)]
        for mode, snap in snapshots.items()
    }
    assert (
        errors[True]
        == errors[False]
        == [("llm", GPT, "openai.RateLimitError", 1), ("tool", "broken", "ValueError", 1)]
    )
