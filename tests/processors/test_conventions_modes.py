"""The audit log and the run store in both convention modes (docs/conventions.md).

The same agent session runs twice on fresh providers: once with the default conventions
(semantic-conventions v1.41.1), once with ``OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental``
(guards are ``apply_guardrail`` spans, the cache-write tokens ``gen_ai.usage.cache_write.input_tokens``,
``invoke_agent`` has ``agentotel.agent.id`` instead of ``gen_ai.agent.id``). Every audit record and
every run of the run store must come out the same, once span ids, times and hashes are set aside
and the one name a record carries of its span (``action``, the operation name) is mapped back.
The OpenAI and Anthropic calls go over real HTTP to the fake LLM server.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest
from audit_helpers import ended_span, records
from helpers import CLAUDE, GPT, QUESTION, instrumented, user
from runstore_helpers import events_of, run_ids, run_store, summary_of

import agentotel
from agentotel import semconv
from agentotel.agent._layer import reset, select
from agentotel.config import SEMCONV_STABILITY_OPT_IN
from agentotel.instrumentation.anthropic import AnthropicInstrumentor
from agentotel.instrumentation.openai import OpenAIInstrumentor
from agentotel.processors import AuditSpanProcessor
from agentotel.processors.audit._derive import AuditPolicy, derive
from agentotel.processors.runstore import is_llm_span
from agentotel.processors.runstore._events import is_agent_span
from agentotel.testing._capture import TelemetryCapture

LATEST = "gen_ai_latest_experimental"


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AGENTOTEL_RUNS_DIR", "AGENTOTEL_AUDIT_PATH", SEMCONV_STABILITY_OPT_IN):
        monkeypatch.delenv(name, raising=False)


@agentotel.tool()
def get_weather(city: str) -> str:
    return f"sunny in {city}"


@agentotel.tool()
def book_table(city: str) -> str:
    raise TimeoutError("no answer from the booking service")


def session(oai: openai.OpenAI, claude: anthropic.Anthropic) -> None:
    """A guard before the agent round (a run of its own), then a round with a plan, LLM calls of two
    providers (Anthropic with prompt-cache reads and writes), tools (one failing), a flagged and
    a blocked guard, an approval, a step marked for the audit log; then a workflow."""
    with agentotel.session("conv-1", user_id="u-1"):
        with agentotel.guard("input-filter") as g:
            g.allow()
        with agentotel.agent("planner", agent_id="agent-7", description="plans lunches"):
            with agentotel.guard("prompt-policy") as g:
                g.flag("mentions a competitor")
            with agentotel.plan("planner"):
                with agentotel.step("ask", type="llm"):
                    oai.chat.completions.create(model=GPT, messages=user(QUESTION))
                    claude.messages.create(
                        model=CLAUDE,
                        max_tokens=50,
                        messages=user(f"{QUESTION} [[scenario:cached:4]] [[scenario:cache_write:3]]"),
                    )
                with agentotel.step("act", type="tool"):
                    get_weather("Paris")
                    with pytest.raises(TimeoutError):
                        book_table("Paris")
                with agentotel.approval("send_email", approver="ops") as a:
                    a.deny("not today")
                with agentotel.step("note", type="memo"):
                    agentotel.mark_for_audit()
            with agentotel.guard("output-policy") as g:
                g.block("leaks a phone number")
        with agentotel.workflow("digest"):
            oai.chat.completions.create(model=GPT, messages=user("Summarise the day"))


def drive(
    monkeypatch: pytest.MonkeyPatch, base: Path, fake_urls: tuple[str, str], latest: bool
) -> tuple[list[dict[str, Any]], Path, TelemetryCapture]:
    """Run :func:`session` in one mode on fresh providers; the audit records, the run store
    folder and the capture (its spans)."""
    if latest:
        monkeypatch.setenv(SEMCONV_STABILITY_OPT_IN, LATEST)
    else:
        monkeypatch.delenv(SEMCONV_STABILITY_OPT_IN, raising=False)
    cap = TelemetryCapture()
    audit_path, runs = base / "audit.jsonl", base / "runs"
    audit = AuditSpanProcessor(
        audit_path, guard_checks=True, llm_calls=True, meter_provider=cap.meter_provider
    )
    cap.tracer_provider.add_span_processor(audit)
    select(**cap.providers)
    oai = openai.OpenAI(base_url=fake_urls[0], api_key="sk-test", max_retries=0)
    claude = anthropic.Anthropic(base_url=fake_urls[1], api_key="sk-ant-test", max_retries=0)
    try:
        with (
            run_store(cap, runs) as store,
            instrumented(cap, OpenAIInstrumentor, AnthropicInstrumentor),
        ):
            session(oai, claude)
            assert store.force_flush()
        assert audit.force_flush()
    finally:
        audit.shutdown()
        reset()
    return records(audit_path), runs, cap


@pytest.fixture
def both(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fake_llm: Any
) -> Iterator[dict[bool, tuple[list[dict[str, Any]], Path, TelemetryCapture]]]:
    urls = (fake_llm.openai_base_url, fake_llm.anthropic_base_url)
    runs = {latest: drive(monkeypatch, tmp_path / str(latest), urls, latest) for latest in (False, True)}
    yield runs
    for _, _, cap in runs.values():
        cap.shutdown()


_OWN = ("timestamp", "trace_id", "span_id", "hash", "prev_hash", "seq")
_ACTION = {semconv.OP_APPLY_GUARDRAIL: semconv.OP_GUARDRAIL}


def _record(record: dict[str, Any]) -> dict[str, Any]:
    """An audit record without what differs from one run to the next, the action in default names."""
    kept = {k: v for k, v in record.items() if k not in _OWN}
    kept["action"] = _ACTION.get(kept["action"], kept["action"])
    return kept


def _summary(summary: dict[str, Any]) -> dict[str, Any]:
    """A run's summary without ids and times."""
    root = {k: v for k, v in summary["root"].items() if k not in ("span_id", "start_time_unix_nano")}
    root["name"] = _default_name(root["name"])
    root["operation"] = _ACTION.get(root["operation"], root["operation"])
    errors = [{k: v for k, v in e.items() if k != "span_id"} for e in summary["errors"]]
    skip = ("run_id", "trace_id", "trace_ids", "start", "end", "duration_s")
    kept = {k: v for k, v in summary.items() if k not in skip}
    return {**kept, "root": root, "errors": errors, "objective": _default_name(summary["objective"])}


def _default_name(span_name: str) -> str:
    """A span name (or an objective starting with one) as the default mode names it."""
    return span_name.replace(f"{semconv.OP_APPLY_GUARDRAIL} ", f"{semconv.OP_GUARDRAIL} ", 1)


def test_the_session_really_ran_in_each_mode(both: Any) -> None:
    """What tells the modes apart on the spans (so the comparisons below compare two modes)."""
    names = {latest: {s.name for s in cap.spans()} for latest, (_, _, cap) in both.items()}
    attrs = {
        latest: {k for s in cap.spans() for k in (s.attributes or {})} for latest, (_, _, cap) in both.items()
    }

    assert "guardrail prompt-policy" in names[False]
    assert "apply_guardrail prompt-policy" in names[True]
    assert semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS in attrs[False] - attrs[True]
    assert semconv.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS in attrs[True] - attrs[False]
    assert semconv.AGENTOTEL_AGENT_ID in attrs[True] - attrs[False]
    agents = {
        latest: next(s.attributes for s in cap.spans() if s.name == "invoke_agent planner")
        for latest, (_, _, cap) in both.items()
    }
    assert (agents[False][semconv.GEN_AI_AGENT_ID], agents[True][semconv.AGENTOTEL_AGENT_ID]) == (
        "agent-7",
    ) * 2
    assert semconv.GEN_AI_AGENT_ID not in agents[True]
    # The round called two providers: no gen_ai.provider.name in either mode.
    assert (
        semconv.GEN_AI_PROVIDER_NAME not in agents[False] and semconv.GEN_AI_PROVIDER_NAME not in agents[True]
    )


def test_every_audit_record_is_the_same_in_both_modes(both: Any) -> None:
    default, latest = both[False][0], both[True][0]

    assert [(r["event_type"], r["resource"], r["outcome"]) for r in default] == [
        ("guard_check", "input-filter", "allowed"),
        ("guard_violation", "prompt-policy", "flagged"),
        ("llm_call", GPT, "success"),
        ("llm_call", CLAUDE, "success"),
        ("tool_call", "get_weather", "success"),
        ("tool_call", "book_table", "failure"),
        ("approval_decision", "send_email", "denied"),
        ("custom", "note", "success"),
        ("guard_violation", "output-policy", "blocked"),
        ("llm_call", GPT, "success"),
    ]
    assert [_record(r) for r in latest] == [_record(r) for r in default]
    guard_actions = [r["action"] for r in latest if r["event_type"].startswith("guard")]
    assert guard_actions == [semconv.OP_APPLY_GUARDRAIL] * 3


def test_every_run_of_the_run_store_is_the_same_in_both_modes(both: Any) -> None:
    stores = {latest: runs for latest, (_, runs, _) in both.items()}
    summaries = {latest: [summary_of(root, rid) for rid in run_ids(root)] for latest, root in stores.items()}

    assert [(s["root"]["operation"], s["objective"], s["status"]) for s in summaries[False]] == [
        (semconv.OP_GUARDRAIL, "guardrail input-filter", "ok"),
        (semconv.OP_INVOKE_AGENT, "invoke_agent planner", "ok"),
        (semconv.OP_INVOKE_WORKFLOW, "invoke_workflow digest", "ok"),
    ]
    assert [_summary(s) for s in summaries[True]] == [_summary(s) for s in summaries[False]]
    [_, round_, _] = summaries[True]
    assert round_["tool_calls"] == {"ok": 1, "failed": 1}
    # gpt-4o: 6 in; Claude: 8 in (the prompt's words: 4 of them read from the cache, 3 written to it).
    assert round_["tokens"] == {"input": 6 + 8, "output": 6 + 6}
    assert round_["cost_usd"] is not None and round_["cost_usd"] > 0
    # The events hold every span of each run, in the same order and shape.
    for rid_default, rid_latest in zip(run_ids(stores[False]), run_ids(stores[True]), strict=True):
        shape = {
            latest: [
                (
                    e["name"].replace(semconv.OP_APPLY_GUARDRAIL, semconv.OP_GUARDRAIL, 1),
                    e["kind"],
                    e["status"],
                )
                for e in events_of(stores[latest], rid)
            ]
            for latest, rid in ((False, rid_default), (True, rid_latest))
        }
        assert shape[True] == shape[False]


# --- spans of either mode, one at a time ----------------------------------------------------------
@pytest.mark.parametrize("operation", [semconv.OP_GUARDRAIL, semconv.OP_APPLY_GUARDRAIL])
@pytest.mark.parametrize(
    ("outcome", "event_type"),
    [(semconv.GUARD_BLOCKED, "guard_violation"), (semconv.GUARD_FLAGGED, "guard_violation")],
)
def test_a_guard_span_of_either_mode_is_a_guard_record(operation: str, outcome: str, event_type: str) -> None:
    span = ended_span(
        f"{operation} pii",
        {
            semconv.GEN_AI_OPERATION_NAME: operation,
            semconv.AGENTOTEL_GUARD_NAME: "pii",
            semconv.AGENTOTEL_GUARD_OUTCOME: outcome,
            semconv.AGENTOTEL_GUARD_REASON: "a phone number",
        },
    )

    record = derive(span, AuditPolicy())

    assert record is not None
    assert (record.event_type, record.action, record.resource, record.outcome, dict(record.metadata)) == (
        event_type,
        operation,
        "pii",
        outcome,
        {semconv.AGENTOTEL_GUARD_REASON: "a phone number"},
    )


@pytest.mark.parametrize("operation", [semconv.OP_GUARDRAIL, semconv.OP_APPLY_GUARDRAIL])
def test_a_guard_span_of_either_mode_is_an_agent_layer_span(operation: str) -> None:
    attrs = {semconv.GEN_AI_OPERATION_NAME: operation, semconv.AGENTOTEL_GUARD_NAME: "pii"}

    assert (is_agent_span(attrs), is_llm_span(attrs)) == (True, False)


def test_an_agent_round_naming_its_provider_is_no_llm_call() -> None:
    """Default mode names the provider on ``invoke_agent`` when all its LLM calls share one: it
    stays an agent span, not counted again as an LLM call."""
    attrs = {
        semconv.GEN_AI_OPERATION_NAME: semconv.OP_INVOKE_AGENT,
        semconv.GEN_AI_PROVIDER_NAME: semconv.PROVIDER_OPENAI,
        semconv.GEN_AI_USAGE_INPUT_TOKENS: 12,
    }

    assert (is_agent_span(attrs), is_llm_span(attrs)) == (True, False)


def test_events_keep_the_attributes_of_their_mode(both: Any) -> None:
    """The run store writes what the span has: each mode's names, never translated."""
    found = {}
    for latest, (_, root, _) in both.items():
        [_, round_, _] = run_ids(root)
        claude = next(e for e in events_of(root, round_) if e["name"] == f"chat {CLAUDE}")
        found[latest] = {k: v for k, v in claude["attributes"].items() if "cache" in k}

    assert found == {
        False: {
            semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: 4,
            semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: 3,
        },
        True: {
            semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: 4,
            semconv.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS: 3,
        },
    }
    json.dumps(found)
