"""Every span name, kind, attribute key, metric name and event name agentotel records, in both
modes of ``OTEL_SEMCONV_STABILITY_OPT_IN``, pinned against tables written from the conventions.

The tables are in ``tables.py``: ``CONVENTIONS``-side (``SPANS``, ``METRICS``, ``EVENTS``) from
the text below, ``PINNED`` what each workload of ``workloads.py`` (one per instrumentor, and the
agent layer) records. Sources, read in open-telemetry/semantic-conventions-genai (file @ commit,
section):

v1.41.1 (the default): the GenAI conventions of semantic-conventions v1.41.1, as the genai
repository's first versions after the move state them (their generated tables link v1.41.1):

* inference and embeddings spans: ``docs/gen-ai/gen-ai-spans.md`` @ 7269173 § Spans > Inference,
  § Embeddings (``model/gen-ai/spans.yaml`` @ 002c8a6, ``gen_ai.embeddings.client``); OpenAI
  refinement: ``docs/gen-ai/openai.md`` @ 5bc5dd3 § Spans > Inference;
* execute_tool: ``docs/gen-ai/gen-ai-spans.md`` @ 9430220 § Execute tool span;
* invoke_agent (internal), invoke_workflow: ``docs/gen-ai/gen-ai-agent-spans.md`` @ 7e7e4e7
  § Invoke agent internal span, § Invoke workflow span (the released v1.41.0 page has no plan span);
* metrics: ``docs/gen-ai/gen-ai-metrics.md`` @ 7269173 § Generative AI client metrics
  (``gen_ai.client.token.usage``, ``.operation.duration``, ``.operation.time_to_first_chunk``,
  ``.operation.time_per_output_chunk``; no agent, tool or workflow metric);
* events: ``docs/gen-ai/gen-ai-events.md`` @ 002c8a6 (``gen_ai.client.inference.operation.details``),
  ``docs/gen-ai/gen-ai-exceptions.md`` @ e8fc575 § Generative AI client operation exception.

latest (``gen_ai_latest_experimental``): the state ``docs/gen-ai/non-normative/migration.md`` @
32c328e describes (changes from v1.41.0 "to latest"; its generated tables link v1.44.0):

* inference span: ``docs/gen-ai/client-inference.md`` @ 024a4f9 § Span ``gen_ai.client.inference``
  (cache_write, top_k int, the new optional keys), and its metrics § Metric
  ``gen_ai.client.inference.duration`` / ``.time_to_first_chunk`` / ``.time_per_output_chunk``;
* token metrics: ``docs/gen-ai/gen-ai-token-metrics.md`` and ``model/gen-ai/token-metrics.yaml`` @
  066d4a7 (five usage counters with ``gen_ai.token.modality``, two per-operation histograms);
* embeddings: ``docs/gen-ai/client-embeddings.md`` @ 88eccb1 § Span, § Metric
  ``gen_ai.client.embeddings.duration`` / ``.operation.input_tokens``;
* agent, tool and workflow metrics: ``docs/gen-ai/gen-ai-metrics.md`` @ ac48b1f § Metric
  ``gen_ai.invoke_agent.duration`` / ``.inference_calls`` / ``.tool_calls``,
  ``gen_ai.execute_tool.duration``, ``gen_ai.invoke_workflow.duration``;
* invoke_agent internal span: migration.md § Invoke agent internal span attributes (no agent.id,
  agent.version, provider.name, cache usage); plan span: gen-ai-agent-spans.md @ 7e7e4e7 § Plan span;
  execute_tool: the metric's attribute group adds ``gen_ai.agent.name``;
* guardrails: ``docs/gen-ai/gen-ai-guardrails.md`` @ f5e3733 § Apply guardrail client span,
  § Event ``gen_ai.guardrail.result``;
* exceptions: ``docs/gen-ai/gen-ai-exceptions.md`` @ 2553362.

Deviations (the Conventions page states them): the guard span stays INTERNAL without a provider
(an in-process guard, not a remote service); workflows carry the usage summed below them;
agentotel's own ``agentotel.*`` attributes and metrics are extensions in both modes.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator

import pytest
from helpers import instrumented
from tables import (
    EVENTS,
    EXTENSION_KEYS,
    GONE_IN_LATEST,
    LATEST,
    METRICS,
    PINNED,
    PROVIDER_KEYS,
    SPAN_DEVIATIONS,
    SPANS,
    V141,
)
from workloads import WORKLOADS, Observed, installed, observe

from agentotel.agent._layer import reset, select
from agentotel.config import GEN_AI_LATEST_EXPERIMENTAL, SEMCONV_STABILITY_OPT_IN
from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture

MODES = (V141, LATEST)
AWS_ENV = (
    "AWS_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_BEARER_TOKEN_BEDROCK",
)


def set_mode(monkeypatch: pytest.MonkeyPatch, mode: str) -> None:
    """The environment a holder built from now on reads its mode from."""
    if mode == LATEST:
        monkeypatch.setenv(SEMCONV_STABILITY_OPT_IN, f"http,{GEN_AI_LATEST_EXPERIMENTAL}")
    else:
        monkeypatch.delenv(SEMCONV_STABILITY_OPT_IN, raising=False)


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No machine credentials or SDK backends: only the test's fake server."""
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    for name in (*AWS_ENV, "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    yield
    if "agents" in importlib.sys.modules:  # type: ignore[attr-defined]
        from agents.tracing import get_trace_provider

        get_trace_provider().force_flush()


def record(name: str, cap: TelemetryCapture, server: FakeLLMServer) -> Observed:
    """Run workload ``name`` with its instrumentors on ``cap`` (in the environment's mode)."""
    workload = WORKLOADS[name]
    classes = []
    for entry in workload.instrumentors:
        module, cls = entry.split(":")
        classes.append(getattr(importlib.import_module(f"agentotel.instrumentation.{module}"), cls))
    server.state.reset()
    server.clear()
    if workload.agent_api:
        select(**cap.providers)
    try:
        with instrumented(cap, *classes):
            workload.run(server)
    finally:
        if workload.agent_api:
            reset()
    return observe(cap)


@pytest.mark.usefixtures("offline")
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", sorted(WORKLOADS))
def test_each_instrumentor_records_its_pinned_row(
    name: str, mode: str, cap: TelemetryCapture, fake_llm: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not installed(WORKLOADS[name]):
        pytest.skip(f"{', '.join(WORKLOADS[name].distributions)} not installed")
    set_mode(monkeypatch, mode)

    observed = record(name, cap, fake_llm)

    pinned = PINNED[name][mode]
    assert observed.spans == pinned.spans
    assert observed.metrics == pinned.metrics
    assert observed.events == pinned.events


@pytest.mark.parametrize("mode", MODES)
def test_every_pinned_span_keeps_to_its_convention_table(mode: str) -> None:
    for name, rows in PINNED.items():
        for span in rows[mode].spans:
            table = SPANS[mode][span.kind]
            assert table is not None, f"{name}: {span.name}: a {span.kind} span in {mode} mode"
            kinds, allowed = table
            assert span.span_kind in kinds, (name, span.name)
            outside = {
                key
                for key in span.keys - allowed - EXTENSION_KEYS - PROVIDER_KEYS
                if not key.startswith("agentotel.") and (span.kind, key) not in SPAN_DEVIATIONS
            }
            assert outside == set(), (name, mode, span.name)


@pytest.mark.parametrize("mode", MODES)
def test_every_pinned_metric_is_a_convention_metric_with_its_attributes_or_ours(mode: str) -> None:
    for name, rows in PINNED.items():
        for metric, keys in rows[mode].metrics.items():
            if metric.startswith("agentotel."):
                continue
            assert metric in METRICS[mode], (name, mode, metric)
            assert keys <= METRICS[mode][metric], (name, mode, metric, keys - METRICS[mode][metric])


def test_latest_mode_records_none_of_the_names_it_replaces() -> None:
    for name, rows in PINNED.items():
        assert set(rows[LATEST].metrics) & GONE_IN_LATEST == set(), name
        assert all(
            span.kind != "extension" or not span.name.startswith("guardrail ") for span in rows[LATEST].spans
        )


@pytest.mark.parametrize("mode", MODES)
def test_every_pinned_event_is_a_convention_event_of_its_mode(mode: str) -> None:
    for name, rows in PINNED.items():
        assert rows[mode].events <= EVENTS[mode], (name, mode)


def test_the_tables_cover_every_workload_in_both_modes() -> None:
    assert set(PINNED) == set(WORKLOADS)
    assert all(set(rows) == set(MODES) for rows in PINNED.values())
