"""Agent-layer metrics (DESIGN §5), exact: every series with its attributes and count or value.

Also the cardinality guard (``AGENTOTEL_METRIC_CARDINALITY_LIMIT``: past N distinct values of a
user-chosen attribute, new values become ``_OTHER``; spans keep the real names) and the rule that
conversation and user ids never become metric attributes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from agent_helpers import FORMS, attrs_of, run_in_form
from helpers import GPT, QUESTION, TELEMETRY_ERRORS, user

import agentotel
from agentotel import ConfigError, Settings
from agentotel.agent import configure
from agentotel.agent._layer import current_layer, reset
from agentotel.config import DEFAULT_METRIC_CARDINALITY_LIMIT
from agentotel.testing._capture import TelemetryCapture

Series = frozenset[tuple[str, Any]]

LIMIT_ENV = "AGENTOTEL_METRIC_CARDINALITY_LIMIT"


def series(cap: TelemetryCapture, name: str) -> dict[Series, float]:
    """Each point of ``name`` by its attributes: a histogram's count, a counter's value."""
    return {
        frozenset((p.attributes or {}).items()): (p.count if hasattr(p, "count") else p.value)
        for p in cap.metric_points(name)
    }


def tool_series(name: str, error: str | None = None, type: str = "function") -> Series:
    attrs = {"gen_ai.tool.name": name, "gen_ai.tool.type": type}
    if error is not None:
        attrs["error.type"] = error
    return frozenset(attrs.items())


def run_series(op: str, key: str, name: str, error: str | None = None) -> Series:
    attrs = {"gen_ai.operation.name": op, key: name}
    if error is not None:
        attrs["error.type"] = error
    return frozenset(attrs.items())


# =========================================================================== tools


def test_tool_duration_counts_per_tool_and_error_type(agent_layer: TelemetryCapture) -> None:
    @agentotel.tool()
    def search(query: str) -> str:
        if not query:
            raise ValueError("empty query")
        return query

    @agentotel.tool(type="datastore")
    async def fetch(key: str) -> str:
        await asyncio.sleep(0)
        return {"a": "1"}[key]

    for query in ("a", "b", "c", ""):
        with contextlib.suppress(ValueError):
            search(query)
    asyncio.run(fetch("a"))
    with pytest.raises(KeyError):
        asyncio.run(fetch("missing"))
    with agentotel.tool("search"):
        pass

    assert series(agent_layer, "agentotel.tool.duration") == {
        tool_series("search"): 4,
        tool_series("search", "ValueError"): 1,
        tool_series("fetch", type="datastore"): 1,
        tool_series("fetch", "KeyError", type="datastore"): 1,
    }
    assert agent_layer.metric_points(TELEMETRY_ERRORS) == []


def test_tool_duration_measures_the_execution(agent_layer: TelemetryCapture) -> None:
    with agentotel.tool("slow"):
        time.sleep(0.02)

    [span] = agent_layer.spans()
    assert span.end_time is not None and span.start_time is not None
    recorded = agent_layer.metric_sum("agentotel.tool.duration")
    assert 0.02 <= recorded <= (span.end_time - span.start_time) / 1e9


@pytest.mark.parametrize("form", FORMS)
def test_one_measurement_per_run_in_each_form(agent_layer: TelemetryCapture, form: str) -> None:
    run_in_form(form, lambda: agentotel.tool("search"), lambda: None)
    run_in_form(form, lambda: agentotel.agent("helper"), lambda: None)

    assert series(agent_layer, "agentotel.tool.duration") == {tool_series("search"): 1}
    assert series(agent_layer, "agentotel.workflow.duration") == {
        run_series("invoke_agent", "gen_ai.agent.name", "helper"): 1
    }
    assert series(agent_layer, "agentotel.workflow.active") == {
        run_series("invoke_agent", "gen_ai.agent.name", "helper"): 0
    }


# =========================================================================== workflows, plans, agents, steps


def test_workflow_duration_per_operation(agent_layer: TelemetryCapture) -> None:
    for _ in range(2):
        with agentotel.workflow("research"):
            pass
    with agentotel.plan("planner"):
        pass
    with agentotel.plan():
        pass
    with agentotel.agent("helper"):
        pass
    with pytest.raises(RuntimeError), agentotel.agent("helper"):
        raise RuntimeError("model unavailable")

    assert series(agent_layer, "agentotel.workflow.duration") == {
        run_series("invoke_workflow", "gen_ai.workflow.name", "research"): 2,
        run_series("plan", "gen_ai.agent.name", "planner"): 1,
        frozenset({("gen_ai.operation.name", "plan")}): 1,
        run_series("invoke_agent", "gen_ai.agent.name", "helper"): 1,
        run_series("invoke_agent", "gen_ai.agent.name", "helper", "RuntimeError"): 1,
    }


def test_workflow_active_while_inside_and_zero_after(agent_layer: TelemetryCapture) -> None:
    research = run_series("invoke_workflow", "gen_ai.workflow.name", "research")
    helper = run_series("invoke_agent", "gen_ai.agent.name", "helper")

    with agentotel.workflow("research"):
        assert series(agent_layer, "agentotel.workflow.active") == {research: 1}
        with agentotel.agent("helper"):
            assert series(agent_layer, "agentotel.workflow.active") == {research: 1, helper: 1}
            with agentotel.agent("helper"):
                assert series(agent_layer, "agentotel.workflow.active") == {research: 1, helper: 2}
        assert series(agent_layer, "agentotel.workflow.active") == {research: 1, helper: 0}
    with pytest.raises(ValueError), agentotel.workflow("research"):
        raise ValueError("boom")

    assert series(agent_layer, "agentotel.workflow.active") == {research: 0, helper: 0}


def test_workflow_active_while_a_generator_is_iterated(agent_layer: TelemetryCapture) -> None:
    @agentotel.workflow("pipeline")
    def pipeline() -> Iterator[int]:
        yield 1
        yield 2

    running = pipeline()
    next(running)
    assert agent_layer.metric_sum("agentotel.workflow.active") == 1
    running.close()
    assert agent_layer.metric_sum("agentotel.workflow.active") == 0


def test_step_duration_per_type_and_error(agent_layer: TelemetryCapture) -> None:
    for name in ("search", "fetch"):
        with agentotel.step(name, type="tool"):
            pass
    with agentotel.step("think"):
        pass
    with pytest.raises(ValueError), agentotel.step("parse", type="tool"):
        raise ValueError("bad json")

    assert series(agent_layer, "agentotel.step.duration") == {
        frozenset({("agentotel.step.type", "tool")}): 2,
        frozenset(): 1,
        frozenset({("agentotel.step.type", "tool"), ("error.type", "ValueError")}): 1,
    }


# =========================================================================== sessions


def test_session_count_by_status_and_active(agent_layer: TelemetryCapture) -> None:
    with agentotel.session("c1"):
        assert agent_layer.metric_sum("agentotel.session.active") == 1
        with agentotel.session("c2"):
            assert agent_layer.metric_sum("agentotel.session.active") == 2
    with pytest.raises(ValueError), agentotel.session("c3"):
        raise ValueError("boom")

    assert series(agent_layer, "agentotel.session.count") == {
        frozenset({("agentotel.session.status", "completed")}): 2,
        frozenset({("agentotel.session.status", "failed")}): 1,
    }
    assert series(agent_layer, "agentotel.session.active") == {frozenset(): 0}


def test_session_messages_from_add_messages_or_agent_rounds(agent_layer: TelemetryCapture) -> None:
    with agentotel.session("explicit") as explicit:
        explicit.add_messages(3)
        with agentotel.agent("helper"):  # not counted: the app counts its messages itself
            pass
        explicit.add_messages()
        explicit.add_messages(2)
    with agentotel.session("rounds"):
        for _ in range(2):
            with agentotel.agent("helper"):
                pass
    with agentotel.session("empty"):
        pass
    with pytest.raises(ValueError), agentotel.session("failed"), agentotel.agent("helper"):
        raise ValueError("boom")

    completed = {"agentotel.session.status": "completed"}
    failed = {"agentotel.session.status": "failed"}
    assert agent_layer.metric_count("agentotel.session.messages", completed) == 3
    assert agent_layer.metric_sum("agentotel.session.messages", completed) == 6 + 2 + 0
    assert agent_layer.metric_count("agentotel.session.messages", failed) == 1
    assert agent_layer.metric_sum("agentotel.session.messages", failed) == 1
    [point] = agent_layer.matching_points("agentotel.session.messages", completed)
    assert (point.min, point.max) == (0, 6)


# =========================================================================== context assembly


def test_context_metrics(agent_layer: TelemetryCapture) -> None:
    with agentotel.context_assembly(budget_tokens=800) as c:
        c.add_fragment("system", 100)
        c.add_fragment("retrieval", 200)
        c.add_fragment("history", 300)
    with agentotel.context_assembly(budget_tokens=400) as c:
        c.add_fragment("system", 500)  # over budget

    assert agent_layer.metric_count("agentotel.context.fragments") == 2
    assert agent_layer.metric_sum("agentotel.context.fragments") == 4
    [utilization] = agent_layer.metric_points("agentotel.context.budget.utilization")
    assert (utilization.count, utilization.min, utilization.max) == (2, 600 / 800, 500 / 400)
    assert utilization.sum == 600 / 800 + 500 / 400
    assert agent_layer.metric_count("agentotel.context.duration") == 2


def test_context_without_budget_has_no_utilization(agent_layer: TelemetryCapture) -> None:
    with agentotel.context_assembly(budget_tokens=0) as c:
        c.add_fragment("system", 10)

    assert agent_layer.metric_count("agentotel.context.fragments") == 1
    assert agent_layer.metric_points("agentotel.context.budget.utilization") == []
    assert agent_layer.metric_count("agentotel.context.duration") == 1


def test_failed_context_assembly_is_measured_with_its_error_type(agent_layer: TelemetryCapture) -> None:
    with pytest.raises(ValueError), agentotel.context_assembly(budget_tokens=100) as c:
        c.add_fragment("system", 50)
        raise ValueError("retrieval down")

    failed = frozenset({("error.type", "ValueError")})
    assert series(agent_layer, "agentotel.context.fragments") == {failed: 1}
    assert series(agent_layer, "agentotel.context.budget.utilization") == {failed: 1}
    assert series(agent_layer, "agentotel.context.duration") == {failed: 1}
    assert agent_layer.metric_sum("agentotel.context.budget.utilization") == 0.5


# =========================================================================== decisions


def guard_series(name: str, outcome: str) -> Series:
    return frozenset({("agentotel.guard.name", name), ("agentotel.guard.outcome", outcome)})


def approval_series(action: str, outcome: str) -> Series:
    return frozenset({("agentotel.approval.action", action), ("agentotel.approval.outcome", outcome)})


def test_guard_decisions_by_outcome(agent_layer: TelemetryCapture) -> None:
    @agentotel.guard("pii")
    def no_pii(text: str) -> bool:
        return "@" not in text

    with agentotel.guard("pii"):
        pass  # no verdict: allowed
    no_pii("hello")
    no_pii("me@example.com")
    with agentotel.guard("pii") as g:
        g.flag("looks like a phone number")
    with agentotel.guard("toxicity") as g:
        g.block("insult")
    with pytest.raises(ValueError), agentotel.guard("toxicity"):
        raise ValueError("classifier down")  # no decision reached: not counted

    assert series(agent_layer, "agentotel.guard.decisions") == {
        guard_series("pii", "allowed"): 2,
        guard_series("pii", "blocked"): 1,
        guard_series("pii", "flagged"): 1,
        guard_series("toxicity", "blocked"): 1,
    }


def test_approval_decisions_by_outcome(agent_layer: TelemetryCapture) -> None:
    @agentotel.approval("deploy")
    async def ask(answer: bool | None) -> bool | None:
        await asyncio.sleep(0)
        return answer

    for answer in (True, True, False, None):
        asyncio.run(ask(answer))
    with agentotel.approval("send_email", approver="ops") as a:
        a.deny("not now")
    with agentotel.approval("send_email"):
        pass

    assert series(agent_layer, "agentotel.approval.decisions") == {
        approval_series("deploy", "approved"): 2,
        approval_series("deploy", "denied"): 1,
        approval_series("deploy", "timed_out"): 1,
        approval_series("send_email", "denied"): 1,
        approval_series("send_email", "timed_out"): 1,
    }


# =========================================================================== no ids in metrics


def test_no_conversation_or_user_id_in_any_metric(
    agent_layer: TelemetryCapture, openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI
) -> None:
    conversation, user_id = "conv-secret-9f2", "user-secret-41a"
    with agentotel.session(conversation, user_id=user_id) as session, agentotel.workflow("trip"):
        session.add_messages(2)
        with agentotel.agent("helper", agent_id="agent-1"), agentotel.plan("helper"):
            with agentotel.step("lookup", type="tool"), agentotel.tool("search"):
                openai_client.chat.completions.create(model=GPT, messages=user(QUESTION))
            with (
                agentotel.guard("pii"),
                agentotel.approval("send"),
                agentotel.context_assembly(budget_tokens=10),
            ):
                pass

    data = agent_layer.metric_reader.get_metrics_data()
    assert data is not None
    names: set[str] = set()
    for rm in data.resource_metrics:
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                names.add(metric.name)
                for point in metric.data.data_points:
                    attrs = dict(point.attributes or {})
                    assert "gen_ai.conversation.id" not in attrs, metric.name
                    assert "user.id" not in attrs, metric.name
                    assert not {conversation, user_id, "agent-1"} & {str(v) for v in attrs.values()}
    # Every instrument was recorded, so the check above covered them all.
    assert {
        "agentotel.session.count",
        "agentotel.session.messages",
        "agentotel.workflow.duration",
        "agentotel.step.duration",
        "agentotel.tool.duration",
        "agentotel.guard.decisions",
        "agentotel.approval.decisions",
        "agentotel.context.duration",
        "gen_ai.client.token.usage",
    } <= names


# =========================================================================== cardinality guard


@pytest.fixture
def limit_of_3(agent_layer: TelemetryCapture, monkeypatch: pytest.MonkeyPatch) -> Iterator[TelemetryCapture]:
    """The agent layer configured with ``AGENTOTEL_METRIC_CARDINALITY_LIMIT=3``."""
    monkeypatch.setenv(LIMIT_ENV, "3")
    configure(tracer_provider=agent_layer.tracer_provider, meter_provider=agent_layer.meter_provider)
    yield agent_layer


def test_tool_names_past_the_limit_become_other(limit_of_3: TelemetryCapture) -> None:
    names = ["t0", "t1", "t2", "t3", "t4", "t0", "t4"]
    for name in names:
        with agentotel.tool(name):
            pass

    assert series(limit_of_3, "agentotel.tool.duration") == {
        tool_series("t0"): 2,  # seen before the limit: keeps its series
        tool_series("t1"): 1,
        tool_series("t2"): 1,
        tool_series("_OTHER"): 3,
    }
    assert [attrs_of(span)["gen_ai.tool.name"] for span in limit_of_3.spans()] == names


def test_kept_tool_labels_stop_at_their_cap_and_stay_exact(
    limit_of_3: TelemetryCapture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A tool's guarded labels are made once and kept (at most _TOOL_LABELS_MAX sets); a failing
    # execution adds error.type to a copy, never to the kept set.
    monkeypatch.setattr("agentotel.agent._tool._TOOL_LABELS_MAX", 2)
    for name in ["t0", "t1", "t2", "t3", "t0", "t3"]:
        with agentotel.tool(name):
            pass
    with contextlib.suppress(ValueError), agentotel.tool("t0"):
        raise ValueError("boom")
    with agentotel.tool("t0"):
        pass

    assert series(limit_of_3, "agentotel.tool.duration") == {
        tool_series("t0"): 3,
        tool_series("t0", "ValueError"): 1,
        tool_series("t1"): 1,
        tool_series("t2"): 1,
        tool_series("_OTHER"): 2,
    }
    assert current_layer().tool_labels == {
        ("t0", "function", None): {"gen_ai.tool.name": "t0", "gen_ai.tool.type": "function"},
        ("t1", "function", None): {"gen_ai.tool.name": "t1", "gen_ai.tool.type": "function"},
    }


def test_the_limit_applies_per_attribute(limit_of_3: TelemetryCapture) -> None:
    for i in range(4):
        with agentotel.workflow(f"w{i}"), agentotel.tool(f"t{i}"), agentotel.guard(f"g{i}"):
            pass

    assert series(limit_of_3, "agentotel.workflow.duration") == {
        run_series("invoke_workflow", "gen_ai.workflow.name", name): 1
        for name in ("w0", "w1", "w2", "_OTHER")
    }
    assert series(limit_of_3, "agentotel.workflow.active") == {
        run_series("invoke_workflow", "gen_ai.workflow.name", name): 0
        for name in ("w0", "w1", "w2", "_OTHER")
    }
    assert series(limit_of_3, "agentotel.tool.duration") == {
        tool_series(name): 1 for name in ("t0", "t1", "t2", "_OTHER")
    }
    assert series(limit_of_3, "agentotel.guard.decisions") == {
        guard_series(name, "allowed"): 1 for name in ("g0", "g1", "g2", "_OTHER")
    }


@pytest.mark.parametrize("value", ["abc", "0", "-1", "2.5"])
def test_bad_cardinality_limit_is_a_config_error_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv(LIMIT_ENV, value)

    with pytest.raises(ConfigError) as info:
        Settings.from_env()

    assert LIMIT_ENV in str(info.value)
    assert repr(value) in str(info.value)


def test_configure_with_a_bad_limit_raises(
    agent_layer: TelemetryCapture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(LIMIT_ENV, "abc")

    with pytest.raises(ConfigError, match=LIMIT_ENV):
        configure(tracer_provider=agent_layer.tracer_provider, meter_provider=agent_layer.meter_provider)


def test_the_api_without_configure_warns_about_a_bad_limit_and_goes_on(
    agent_layer: TelemetryCapture, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(LIMIT_ENV, "abc")
    reset()

    @agentotel.tool()
    def search() -> str:
        return "ok"

    with caplog.at_level(logging.WARNING, logger="agentotel"):
        assert search() == "ok"

    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert LIMIT_ENV in warnings[0]
    assert current_layer().settings.cardinality_limit == DEFAULT_METRIC_CARDINALITY_LIMIT
