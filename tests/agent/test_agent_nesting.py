"""Agent-layer spans together: the tree they build, what a session stamps, and concurrency.

* session → agent → plan → step → tool → a real LLM call (the OpenAI SDK against the fake server,
  through our instrumentor) is one trace with the exact parent chain; every span, the LLM CLIENT
  spans included, carries the session's ``gen_ai.conversation.id`` and ``user.id``; runs carry the
  exact token sum of the LLM calls below them and the number of steps inside them.
* A session stamps the spans of any instrumentation on the provider, and only inside it.
* 100 concurrent asyncio agent rounds (and rounds on threads) keep their sessions and token sums apart.

Fake server token counts (see ``agentotel.testing``): input = whitespace words of the messages,
reply ``"Hello from the fake LLM server."`` = 6 words, or N words with ``[[words:N]]``.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import openai
import pytest
from agent_helpers import attrs_of, by_name, current_span_id, parent_id, span_id, trace_id
from helpers import GPT, QUESTION, expected_cost, user
from opentelemetry.sdk.trace import ReadableSpan

import agentotel
from agentotel.testing import count_tokens
from agentotel.testing._capture import TelemetryCapture

CONVERSATION, USER_ID = "conv-42", "user-7"
IDS = {"gen_ai.conversation.id": CONVERSATION, "user.id": USER_ID}

SUMMARY = "Summarise [[words:4]]"
# Known fake values: QUESTION is 6 words and the default reply 6; SUMMARY is 2 words, its reply 4.
QUESTION_USAGE = (6, 6)
SUMMARY_USAGE = (2, 4)


def usage(span: ReadableSpan) -> tuple[int, int]:
    attrs = attrs_of(span)
    return attrs["gen_ai.usage.input_tokens"], attrs["gen_ai.usage.output_tokens"]


def summed(spans: list[ReadableSpan]) -> tuple[int, int]:
    pairs = [usage(s) for s in spans]
    return sum(p[0] for p in pairs), sum(p[1] for p in pairs)


def chat_spans(cap: TelemetryCapture) -> list[ReadableSpan]:
    return [s for s in cap.spans() if s.name == f"chat {GPT}"]


def test_fake_server_token_counts_behind_the_expected_sums() -> None:
    assert count_tokens(QUESTION) == QUESTION_USAGE[0]
    assert count_tokens("Hello from the fake LLM server.") == QUESTION_USAGE[1]
    assert count_tokens(SUMMARY) == SUMMARY_USAGE[0]


# =========================================================================== the tree


def assert_travel_tree(cap: TelemetryCapture) -> None:
    """The spans of one ``travel`` round: see the two tests below."""
    forecast_llm, summary_llm = chat_spans(cap)
    spans = by_name([s for s in cap.spans() if s.name != f"chat {GPT}"])
    agent, plan = spans["invoke_agent travel"], spans["plan travel"]
    lookup, answer, tool = spans["step lookup"], spans["step answer"], spans["execute_tool forecast"]
    everything = cap.spans()

    assert len(everything) == 7
    assert len({trace_id(s) for s in everything}) == 1
    assert agent.parent is None
    assert parent_id(plan) == span_id(agent)
    assert parent_id(lookup) == span_id(plan)
    assert parent_id(tool) == span_id(lookup)
    assert parent_id(forecast_llm) == span_id(tool)
    assert parent_id(answer) == span_id(plan)
    assert parent_id(summary_llm) == span_id(answer)

    for span in everything:
        assert {k: attrs_of(span).get(k) for k in IDS} == IDS, span.name

    # Each LLM span's own usage is the fake server's; the runs above carry the exact sum.
    assert usage(forecast_llm) == QUESTION_USAGE
    assert usage(summary_llm) == SUMMARY_USAGE
    total = (QUESTION_USAGE[0] + SUMMARY_USAGE[0], QUESTION_USAGE[1] + SUMMARY_USAGE[1])
    assert summed([forecast_llm, summary_llm]) == total
    # gpt-4o's price is the same for both calls, so the summed cost is the cost of the summed usage.
    cost = pytest.approx(expected_cost(GPT, *total), rel=1e-12)
    assert attrs_of(agent) == {
        "gen_ai.operation.name": "invoke_agent",
        "gen_ai.agent.name": "travel",
        "gen_ai.agent.id": "agent-1",
        # v1.41.1 requires it: every LLM call of the round went to OpenAI.
        "gen_ai.provider.name": "openai",
        "gen_ai.usage.input_tokens": total[0],
        "gen_ai.usage.output_tokens": total[1],
        "agentotel.usage.cost_usd": cost,
        **IDS,
    }
    assert attrs_of(plan) == {
        "gen_ai.operation.name": "plan",
        "gen_ai.agent.name": "travel",
        "agentotel.plan.step_count": 2,
        "gen_ai.usage.input_tokens": total[0],
        "gen_ai.usage.output_tokens": total[1],
        "agentotel.usage.cost_usd": cost,
        **IDS,
    }
    assert attrs_of(lookup) == {
        "gen_ai.operation.name": "step",
        "agentotel.step.name": "lookup",
        "agentotel.step.type": "tool",
        **IDS,
    }
    assert attrs_of(tool) == {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "forecast",
        "gen_ai.tool.type": "function",
        **IDS,
    }


def test_session_agent_plan_step_tool_llm_is_one_trace(
    agent_layer: TelemetryCapture, openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI
) -> None:
    with (
        agentotel.session(CONVERSATION, user_id=USER_ID),
        agentotel.agent("travel", agent_id="agent-1"),
        agentotel.plan("travel"),
    ):
        with agentotel.step("lookup", type="tool"), agentotel.tool("forecast"):
            openai_client.chat.completions.create(model=GPT, messages=user(QUESTION))
        with agentotel.step("answer", type="llm"):
            openai_client.chat.completions.create(model=GPT, messages=user(SUMMARY))

    assert_travel_tree(agent_layer)


async def test_the_same_tree_from_decorated_async_functions(
    agent_layer: TelemetryCapture,
    openai_instrumented: TelemetryCapture,
    async_openai_client: openai.AsyncOpenAI,
) -> None:
    @agentotel.tool()
    async def forecast() -> str:
        reply = await async_openai_client.chat.completions.create(model=GPT, messages=user(QUESTION))
        return reply.choices[0].message.content or ""

    @agentotel.step("lookup", type="tool")
    async def lookup() -> str:
        return await forecast()

    @agentotel.step("answer", type="llm")
    async def answer() -> Any:
        # An async generator step: the LLM call happens while it is iterated.
        reply = await async_openai_client.chat.completions.create(model=GPT, messages=user(SUMMARY))
        yield reply.choices[0].message.content

    @agentotel.plan("travel")
    async def make_plan() -> list[Any]:
        return [await lookup(), *[part async for part in answer()]]

    @agentotel.agent("travel", agent_id="agent-1")
    async def travel_round() -> list[Any]:
        return await make_plan()

    async with agentotel.session(CONVERSATION, user_id=USER_ID):
        parts = await travel_round()

    assert parts == ["Hello from the fake LLM server.", "w1 w2 w3 w4"]
    assert_travel_tree(agent_layer)


def test_sibling_agents_sum_only_their_own_calls(
    agent_layer: TelemetryCapture, openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI
) -> None:
    with agentotel.workflow("trip"):
        with agentotel.agent("researcher"):
            openai_client.chat.completions.create(model=GPT, messages=user(QUESTION))
        with agentotel.agent("writer"):
            openai_client.chat.completions.create(model=GPT, messages=user(SUMMARY))
        with agentotel.agent("idle"):
            pass

    spans = by_name([s for s in agent_layer.spans() if s.name != f"chat {GPT}"])
    assert usage(spans["invoke_agent researcher"]) == QUESTION_USAGE
    assert usage(spans["invoke_agent writer"]) == SUMMARY_USAGE
    assert usage(spans["invoke_workflow trip"]) == summed(chat_spans(agent_layer))
    assert "gen_ai.usage.input_tokens" not in attrs_of(spans["invoke_agent idle"])


def test_failed_llm_call_adds_no_usage(
    agent_layer: TelemetryCapture, openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI
) -> None:
    with agentotel.agent("helper"):
        openai_client.chat.completions.create(model=GPT, messages=user(QUESTION))
        with pytest.raises(openai.BadRequestError):
            openai_client.chat.completions.create(model=GPT, messages=user("[[scenario:bad_request]]"))

    spans = by_name([s for s in agent_layer.spans() if s.name != f"chat {GPT}"])
    assert usage(spans["invoke_agent helper"]) == QUESTION_USAGE


def test_workflow_counts_the_steps_of_the_plans_inside_it(agent_layer: TelemetryCapture) -> None:
    with agentotel.workflow("trip"):
        with agentotel.plan("outbound"):
            for name in ("book flight", "book hotel"):
                with agentotel.step(name):
                    pass
        with agentotel.step("send summary"):
            pass
        with agentotel.agent("helper"), agentotel.step("inside the agent"):
            pass

    spans = by_name(agent_layer.spans())
    assert attrs_of(spans["plan outbound"])["agentotel.plan.step_count"] == 2
    assert attrs_of(spans["invoke_workflow trip"])["agentotel.plan.step_count"] == 4
    assert "agentotel.plan.step_count" not in attrs_of(spans["invoke_agent helper"])


def test_steps_run_on_threads_are_all_counted(agent_layer: TelemetryCapture) -> None:
    @agentotel.step("fetch")
    def fetch(i: int) -> int:
        time.sleep(0.0005)
        return i

    with agentotel.plan("parallel"), ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(contextvars.copy_context().run, fetch, i) for i in range(64)]
        assert [f.result() for f in futures] == list(range(64))

    [plan] = (s for s in agent_layer.spans() if s.name == "plan parallel")
    assert attrs_of(plan)["agentotel.plan.step_count"] == 64
    steps = [s for s in agent_layer.spans() if s.name == "step fetch"]
    assert len(steps) == 64
    assert {parent_id(s) for s in steps} == {span_id(plan)}


# =========================================================================== session stamping


def test_session_stamps_spans_of_another_instrumentation(agent_layer: TelemetryCapture) -> None:
    other = agent_layer.tracer_provider.get_tracer("some.other.instrumentation", "1.0")

    with other.start_as_current_span("before"):
        pass
    with agentotel.session(CONVERSATION, user_id=USER_ID), other.start_as_current_span("inside") as span:
        span.set_attribute("db.system", "postgresql")
    with other.start_as_current_span("after"):
        pass

    spans = by_name(agent_layer.spans())
    assert spans["inside"].instrumentation_scope is not None
    assert spans["inside"].instrumentation_scope.name == "some.other.instrumentation"
    assert attrs_of(spans["inside"]) == {**IDS, "db.system": "postgresql"}
    assert attrs_of(spans["before"]) == {}
    assert attrs_of(spans["after"]) == {}


async def test_tasks_started_inside_a_session_belong_to_it(agent_layer: TelemetryCapture) -> None:
    @agentotel.tool()
    async def lookup(i: int) -> int:
        await asyncio.sleep(0)
        return i

    async with agentotel.session(CONVERSATION, user_id=USER_ID):
        tasks = [asyncio.create_task(lookup(i)) for i in range(3)]
    # The tasks copied the session's context when they were created; they run after it closed.
    assert await asyncio.gather(*tasks) == [0, 1, 2]

    for span in agent_layer.spans():
        assert {k: attrs_of(span).get(k) for k in IDS} == IDS


# =========================================================================== concurrency


def assert_rounds_kept_apart(cap: TelemetryCapture, seen: dict[int, int], prefix: str, rounds: int) -> None:
    """``seen`` maps round i to the span id of its tool; its tool and agent spans carry round i's ids."""
    spans = {span_id(s): s for s in cap.spans()}
    assert len(spans) == 2 * rounds
    assert sorted(seen) == list(range(rounds))
    traces: set[int] = set()
    for i, tool_id in seen.items():
        tool = spans[tool_id]
        agent = spans[parent_id(tool)]  # type: ignore[index]
        assert agent.name == "invoke_agent helper"
        expected = {"gen_ai.conversation.id": f"{prefix}{i}", "user.id": f"u{i}"}
        for span in (tool, agent):
            assert {k: attrs_of(span).get(k) for k in expected} == expected
        assert attrs_of(tool)["gen_ai.tool.name"] == "lookup"
        traces.add(trace_id(agent))
        assert trace_id(tool) == trace_id(agent)
    assert len(traces) == rounds  # every round is its own trace


def assert_session_metrics(cap: TelemetryCapture, rounds: int) -> None:
    assert cap.metric_sum("agentotel.session.count", {"agentotel.session.status": "completed"}) == rounds
    assert cap.metric_sum("agentotel.session.count", {"agentotel.session.status": "failed"}) == 0
    assert cap.metric_sum("agentotel.session.active") == 0
    assert cap.metric_count("agentotel.session.messages") == rounds
    assert cap.metric_sum("agentotel.session.messages") == rounds  # one agent round each
    assert cap.metric_sum("agentotel.workflow.active") == 0
    assert cap.metric_count("agentotel.tool.duration") == rounds


async def test_100_concurrent_agent_rounds_keep_their_conversations_apart(
    agent_layer: TelemetryCapture,
) -> None:
    seen: dict[int, int] = {}

    @agentotel.tool()
    async def lookup(i: int) -> None:
        for _ in range(i % 4):
            await asyncio.sleep(0)
        seen[i] = current_span_id()

    async def agent_round(i: int) -> None:
        async with agentotel.session(f"c{i}", user_id=f"u{i}"):
            await asyncio.sleep(0)
            async with agentotel.agent("helper"):
                for _ in range(i % 3):
                    await asyncio.sleep(0)
                await lookup(i)
                await asyncio.sleep(0)
            await asyncio.sleep(0)

    await asyncio.gather(*(agent_round(i) for i in range(100)))

    assert_rounds_kept_apart(agent_layer, seen, "c", 100)
    assert_session_metrics(agent_layer, 100)


def test_agent_rounds_on_threads_keep_their_conversations_apart(agent_layer: TelemetryCapture) -> None:
    seen: dict[int, int] = {}

    @agentotel.tool()
    def lookup(i: int) -> None:
        time.sleep(0.0005 * (i % 3))
        seen[i] = current_span_id()

    def agent_round(i: int) -> None:
        with agentotel.session(f"t{i}", user_id=f"u{i}"), agentotel.agent("helper"):
            time.sleep(0.0005 * (i % 2))
            lookup(i)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(agent_round, range(40)))

    assert_rounds_kept_apart(agent_layer, seen, "t", 40)
    assert_session_metrics(agent_layer, 40)


async def test_concurrent_agent_rounds_sum_only_their_own_tokens(
    agent_layer: TelemetryCapture,
    openai_instrumented: TelemetryCapture,
    async_openai_client: openai.AsyncOpenAI,
) -> None:
    # All 20 rounds are open at once; at most 4 requests are in flight, because the fake server
    # listens with socketserver's default backlog of 5 and refuses connections beyond it.
    in_flight = asyncio.Semaphore(4)

    async def agent_round(i: int) -> None:
        async with agentotel.session(f"c{i}"), agentotel.agent(f"agent-{i}"):
            await asyncio.sleep(0)
            async with in_flight:
                await async_openai_client.chat.completions.create(
                    model=GPT, messages=user(f"round {i} [[words:{i + 1}]]")
                )

    await asyncio.gather(*(agent_round(i) for i in range(20)))

    agents = by_name([s for s in agent_layer.spans() if s.name.startswith("invoke_agent")])
    for i in range(20):
        agent = agents[f"invoke_agent agent-{i}"]
        assert usage(agent) == (count_tokens(f"round {i} [[words:{i + 1}]]"), i + 1)
        assert attrs_of(agent)["gen_ai.conversation.id"] == f"c{i}"
    for llm in chat_spans(agent_layer):
        parent = next(s for s in agents.values() if span_id(s) == parent_id(llm))
        assert usage(llm) == usage(parent)
        assert attrs_of(llm)["gen_ai.conversation.id"] == attrs_of(parent)["gen_ai.conversation.id"]
