"""The agent-layer API, one behaviour at a time: every API (tool, workflow, plan, step, agent,
guard, approval, context_assembly; session in its own tests) in each of its six forms — ``with``,
``async with``, and decorating a function, a coroutine function, a generator function and an
async generator function.

For every API and form: the span's name, kind, exact attributes and status; the user's return
value and yielded items unchanged; the span current inside the user's code and only there;
exceptions recorded (ERROR, ``error.type``, exception event) and re-raised as the same object
with the user's frame in the traceback. Generators: the span covers the whole iteration, ends
after the last item, on an early close (no error) and on an exception (ERROR); ``send()`` and
``throw()`` reach the user's generator. Then the per-API details (verdicts, tool names and call
ids, content capture), and safety: a failing tracer never breaks the app, suppression records nothing.
"""

from __future__ import annotations

import asyncio
import inspect
import traceback
from collections.abc import AsyncIterator, Iterator
from contextlib import aclosing
from typing import Any

import openai
import pytest
from agent_helpers import (
    API_IDS,
    APIS,
    DECORATOR_FORMS,
    FORMS,
    GENERATOR_FORMS,
    ITEMS,
    Api,
    attrs_of,
    by_name,
    current_span_id,
    run_in_form,
    span_id,
    trace_id,
)
from helpers import CHAT_TOOLS, GPT, QUESTION, TELEMETRY_ERRORS, resolve, user
from opentelemetry import trace
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.trace import NonRecordingSpan, SpanKind, StatusCode

import agentotel
from agentotel.agent import configure
from agentotel.agent._layer import current_layer
from agentotel.testing._capture import TelemetryCapture

CONVERSATION, USER_ID = "conv-1", "user-1"


def only(cap: TelemetryCapture) -> ReadableSpan:
    spans = cap.spans()
    assert len(spans) == 1, [s.name for s in spans]
    return spans[0]


def explode(error: BaseException) -> Any:
    """The user's raising frame."""
    raise error


def assert_failed_with(span: ReadableSpan, error: BaseException, error_type: str) -> None:
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == f"{error_type}: {error}"
    [event] = span.events
    assert event.name == "exception"
    assert (event.attributes or {})["exception.type"] == error_type
    assert (event.attributes or {})["exception.message"] == str(error)


def assert_ended_cleanly(span: ReadableSpan) -> None:
    assert span.status.status_code is StatusCode.UNSET
    assert "error.type" not in attrs_of(span)
    assert span.events == ()


# =========================================================================== every API, every form


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("api", APIS, ids=API_IDS)
def test_each_api_makes_its_span_in_each_form(agent_layer: TelemetryCapture, api: Api, form: str) -> None:
    run_in_form(form, api.make, lambda: None)

    span = only(agent_layer)
    assert span.name == api.span_name
    assert span.kind is SpanKind.INTERNAL
    assert attrs_of(span) == api.attributes
    assert_ended_cleanly(span)
    assert span.parent is None
    assert span.instrumentation_scope is not None
    assert span.instrumentation_scope.name == "agentotel"


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("api", APIS, ids=API_IDS)
def test_the_span_is_current_inside_the_users_code_only(
    agent_layer: TelemetryCapture, api: Api, form: str
) -> None:
    tracer = agent_layer.tracer_provider.get_tracer("test")
    with tracer.start_as_current_span("caller") as caller:
        out = run_in_form(form, api.make, lambda: None)
        after = current_span_id()

    spans = by_name(agent_layer.spans())
    block, caller_id = spans[api.span_name], caller.get_span_context().span_id
    assert out.inside
    assert out.inside == [span_id(block)] * len(out.inside)
    # A generator's consumer sees its own context between two items, never the generator's span.
    assert out.between == ([caller_id] * len(ITEMS) if form in GENERATOR_FORMS else [])
    assert after == caller_id
    assert block.parent is not None
    assert block.parent.span_id == caller_id


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("api", APIS, ids=API_IDS)
def test_return_value_and_items_pass_through_unchanged(
    agent_layer: TelemetryCapture, api: Api, form: str
) -> None:
    result = object()

    out = run_in_form(form, api.make, lambda: result)

    assert out.items == (list(ITEMS) if form in GENERATOR_FORMS else [])
    # An async generator has no return value.
    assert out.value is (None if form == "async generator" else result)


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("api", APIS, ids=API_IDS)
def test_an_exception_marks_the_span_and_propagates_as_the_same_object(
    agent_layer: TelemetryCapture, api: Api, form: str
) -> None:
    error = ValueError("boom")

    with pytest.raises(ValueError) as info:
        run_in_form(form, api.make, lambda: explode(error))

    assert info.value is error
    assert "explode" in [frame.name for frame in traceback.extract_tb(info.value.__traceback__)]
    span = only(agent_layer)
    assert span.name == api.span_name
    assert attrs_of(span) == api.failed_attributes
    assert_failed_with(span, error, "ValueError")


@pytest.mark.parametrize("form", DECORATOR_FORMS)
@pytest.mark.parametrize("api", APIS, ids=API_IDS)
def test_decorating_keeps_the_functions_name_doc_and_kind(api: Api, form: str) -> None:
    def function() -> None:
        """Doc."""

    async def coroutine() -> None:
        """Doc."""

    def generator() -> Iterator[int]:
        """Doc."""
        yield 1

    async def agenerator() -> AsyncIterator[int]:
        """Doc."""
        yield 1

    fn: Any = {
        "function": function,
        "coroutine": coroutine,
        "generator": generator,
        "async generator": agenerator,
    }[form]
    kinds = (
        inspect.iscoroutinefunction,
        inspect.isgeneratorfunction,
        inspect.isasyncgenfunction,
    )

    decorated = api.make()(fn)

    assert decorated.__name__ == fn.__name__
    assert decorated.__doc__ == "Doc."
    assert decorated.__wrapped__ is fn
    assert [kind(decorated) for kind in kinds] == [kind(fn) for kind in kinds]


@pytest.mark.parametrize("api", APIS, ids=API_IDS)
def test_each_call_of_a_decorated_function_gets_its_own_span(agent_layer: TelemetryCapture, api: Api) -> None:
    @api.make()
    def work(n: int) -> int:
        return n * 2

    assert [work(1), work(2), work(3)] == [2, 4, 6]

    spans = agent_layer.spans()
    assert [s.name for s in spans] == [api.span_name] * 3
    assert [attrs_of(s) for s in spans] == [api.attributes] * 3
    assert len({span_id(s) for s in spans}) == 3
    assert len({trace_id(s) for s in spans}) == 3


# =========================================================================== generators


def _generator_forms(api: Api, started: list[str]) -> tuple[Any, Any]:
    """A decorated generator and async generator that note when they start and finish."""

    @api.make()
    def gen() -> Iterator[str]:
        started.append("start")
        try:
            yield from ITEMS
        finally:
            started.append("finally")

    @api.make()
    async def agen() -> AsyncIterator[str]:
        started.append("start")
        try:
            for item in ITEMS:
                await asyncio.sleep(0)
                yield item
        finally:
            started.append("finally")

    return gen, agen


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("api", APIS, ids=API_IDS)
async def test_generator_span_ends_after_the_last_item(
    agent_layer: TelemetryCapture, api: Api, is_async: bool
) -> None:
    notes: list[str] = []
    gen, agen = _generator_forms(api, notes)

    items = agen() if is_async else gen()
    step = items.__anext__ if is_async else items.__next__
    assert notes == []  # nothing runs before the first next()
    assert await resolve(step()) == ITEMS[0]
    assert agent_layer.spans() == []
    assert await resolve(step()) == ITEMS[1]
    assert agent_layer.spans() == []
    with pytest.raises(StopAsyncIteration if is_async else StopIteration):
        await resolve(step())

    span = only(agent_layer)
    assert attrs_of(span) == api.attributes
    assert_ended_cleanly(span)
    assert notes == ["start", "finally"]


@pytest.mark.parametrize("api", APIS, ids=API_IDS)
def test_generator_closed_early_ends_its_span_without_error(agent_layer: TelemetryCapture, api: Api) -> None:
    notes: list[str] = []
    gen, _ = _generator_forms(api, notes)

    for item in gen():
        assert item == ITEMS[0]
        break

    span = only(agent_layer)
    assert attrs_of(span) == api.attributes
    assert_ended_cleanly(span)
    assert notes == ["start", "finally"]  # the user's generator was closed too


@pytest.mark.parametrize("api", APIS, ids=API_IDS)
async def test_async_generator_closed_early_ends_its_span_without_error(
    agent_layer: TelemetryCapture, api: Api
) -> None:
    notes: list[str] = []
    _, agen = _generator_forms(api, notes)

    async with aclosing(agen()) as items:
        async for item in items:
            assert item == ITEMS[0]
            break

    span = only(agent_layer)
    assert attrs_of(span) == api.attributes
    assert_ended_cleanly(span)
    assert notes == ["start", "finally"]


@pytest.mark.parametrize("api", APIS, ids=API_IDS)
async def test_async_generator_abandoned_after_break_is_ended_by_the_event_loop(
    agent_layer: TelemetryCapture, api: Api
) -> None:
    notes: list[str] = []
    _, agen = _generator_forms(api, notes)

    async for item in agen():
        assert item == ITEMS[0]
        break
    # The dropped generator is closed by the event loop's finalizer, in a task of its own.
    for _ in range(3):
        await asyncio.sleep(0)

    span = only(agent_layer)
    assert attrs_of(span) == api.attributes
    assert_ended_cleanly(span)
    assert notes == ["start", "finally"]


def test_send_values_reach_a_decorated_generator(agent_layer: TelemetryCapture) -> None:
    @agentotel.step("accumulate")
    def accumulate() -> Iterator[int]:
        total = 0
        while True:
            value = yield total
            if value is None:
                return
            total += value

    running = accumulate()
    assert next(running) == 0
    assert running.send(5) == 5
    assert running.send(7) == 12
    with pytest.raises(StopIteration) as stop:
        running.send(None)

    assert stop.value.value is None
    assert_ended_cleanly(only(agent_layer))


async def test_asend_values_reach_a_decorated_async_generator(agent_layer: TelemetryCapture) -> None:
    @agentotel.step("accumulate")
    async def accumulate() -> AsyncIterator[int]:
        total = 0
        while True:
            value = yield total
            if value is None:
                return
            total += value

    running = accumulate()
    assert await running.asend(None) == 0
    assert await running.asend(5) == 5
    assert await running.asend(7) == 12
    with pytest.raises(StopAsyncIteration):
        await running.asend(None)

    assert_ended_cleanly(only(agent_layer))


def test_generator_return_value_reaches_yield_from(agent_layer: TelemetryCapture) -> None:
    @agentotel.tool("produce")
    def produce() -> Iterator[int]:
        yield 1
        return "done"

    def outer() -> Iterator[int]:
        result = yield from produce()
        assert result == "done"
        yield 2

    assert list(outer()) == [1, 2]
    assert_ended_cleanly(only(agent_layer))


def test_thrown_exception_the_generator_handles_does_not_fail_its_span(agent_layer: TelemetryCapture) -> None:
    @agentotel.step("resilient")
    def resilient() -> Iterator[str]:
        try:
            yield "first"
        except KeyError:
            yield "recovered"

    running = resilient()
    assert next(running) == "first"
    assert running.throw(KeyError("k")) == "recovered"
    with pytest.raises(StopIteration):
        next(running)

    assert_ended_cleanly(only(agent_layer))


def test_thrown_exception_the_generator_does_not_handle_fails_its_span(agent_layer: TelemetryCapture) -> None:
    @agentotel.step("fragile")
    def fragile() -> Iterator[str]:
        yield "first"
        yield "never"

    error = KeyError("k")
    running = fragile()
    assert next(running) == "first"
    with pytest.raises(KeyError) as info:
        running.throw(error)

    assert info.value is error
    span = only(agent_layer)
    assert attrs_of(span)["error.type"] == "KeyError"
    assert_failed_with(span, error, "KeyError")


def test_a_generator_raising_stop_async_iteration_fails_with_it(agent_layer: TelemetryCapture) -> None:
    # Only StopIteration ends a sync generator: the async one is the app's exception.
    error = StopAsyncIteration("odd")

    @agentotel.step("odd")
    def odd() -> Iterator[str]:
        yield "first"
        raise error

    running = odd()
    assert next(running) == "first"
    with pytest.raises(StopAsyncIteration) as info:
        next(running)

    assert info.value is error
    assert_failed_with(only(agent_layer), error, "StopAsyncIteration")


async def test_athrow_reaches_a_decorated_async_generator(agent_layer: TelemetryCapture) -> None:
    @agentotel.step("resilient")
    async def resilient() -> AsyncIterator[str]:
        try:
            yield "first"
        except KeyError:
            yield "recovered"

    running = resilient()
    assert await running.__anext__() == "first"
    assert await running.athrow(KeyError("k")) == "recovered"
    with pytest.raises(StopAsyncIteration):
        await running.__anext__()

    assert_ended_cleanly(only(agent_layer))


# =========================================================================== session


@pytest.mark.parametrize("form", FORMS)
def test_session_in_each_form_stamps_the_spans_inside(agent_layer: TelemetryCapture, form: str) -> None:
    other = agent_layer.tracer_provider.get_tracer("other.library")

    def body() -> str:
        with other.start_as_current_span("work"):
            return "done"

    out = run_in_form(form, lambda: agentotel.session(CONVERSATION, user_id=USER_ID), body)
    with other.start_as_current_span("after"):
        pass

    work, after = agent_layer.spans()
    assert attrs_of(work) == {"gen_ai.conversation.id": CONVERSATION, "user.id": USER_ID}
    assert attrs_of(after) == {}
    assert out.inside == [0] * len(out.inside)  # a session is context, not a span
    assert out.value == (None if form == "async generator" else "done")
    assert agent_layer.metric_sum("agentotel.session.count", {"agentotel.session.status": "completed"}) == 1


def test_session_without_user_id_stamps_only_the_conversation(agent_layer: TelemetryCapture) -> None:
    with agentotel.session(CONVERSATION), agentotel.tool("search"):
        pass

    assert attrs_of(only(agent_layer)) == {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "search",
        "gen_ai.tool.type": "function",
        "gen_ai.conversation.id": CONVERSATION,
    }


def test_inner_session_replaces_the_outer_one_until_it_ends(agent_layer: TelemetryCapture) -> None:
    with agentotel.session("outer", user_id="u-outer"):
        with agentotel.session("inner"), agentotel.step("inner step"):
            pass
        with agentotel.step("outer step"):
            pass

    spans = by_name(agent_layer.spans())
    assert attrs_of(spans["step inner step"])["gen_ai.conversation.id"] == "inner"
    assert "user.id" not in attrs_of(spans["step inner step"])
    assert attrs_of(spans["step outer step"])["gen_ai.conversation.id"] == "outer"
    assert attrs_of(spans["step outer step"])["user.id"] == "u-outer"


# =========================================================================== guard, approval


@pytest.mark.parametrize(
    ("decide", "outcome", "reason"),
    [
        (lambda g: g.allow(), "allowed", None),
        (lambda g: g.flag("mentions a competitor"), "flagged", "mentions a competitor"),
        (lambda g: g.block("PII in the prompt"), "blocked", "PII in the prompt"),
        (lambda g: None, "allowed", None),
        (lambda g: (g.block("first"), g.allow()), "allowed", None),  # the last verdict counts
    ],
    ids=["allow", "flag", "block", "no verdict", "last verdict"],
)
def test_guard_verdicts(agent_layer: TelemetryCapture, decide: Any, outcome: str, reason: str | None) -> None:
    with agentotel.guard("pii") as g:
        decide(g)

    expected = {
        "gen_ai.operation.name": "guardrail",
        "agentotel.guard.name": "pii",
        "agentotel.guard.outcome": outcome,
    }
    if reason is not None:
        expected["agentotel.guard.reason"] = reason
    assert attrs_of(only(agent_layer)) == expected


@pytest.mark.parametrize("form", ["function", "coroutine", "generator"])
@pytest.mark.parametrize(
    ("verdict", "expected"),
    [
        (True, {"agentotel.guard.outcome": "allowed"}),
        (False, {"agentotel.guard.outcome": "blocked", "agentotel.guard.reason": "returned False"}),
        ("not a bool", {"agentotel.guard.outcome": "allowed"}),
    ],
    ids=["True", "False", "other"],
)
def test_decorated_guard_takes_its_verdict_from_the_return_value(
    agent_layer: TelemetryCapture, form: str, verdict: Any, expected: dict[str, Any]
) -> None:
    out = run_in_form(form, lambda: agentotel.guard("pii"), lambda: verdict)

    assert out.value == verdict
    assert attrs_of(only(agent_layer)) == {
        "gen_ai.operation.name": "guardrail",
        "agentotel.guard.name": "pii",
        **expected,
    }


def test_explicit_guard_verdict_wins_over_the_return_value(agent_layer: TelemetryCapture) -> None:
    @agentotel.guard("pii")
    def check() -> bool:
        with agentotel.guard("inner") as inner:
            inner.flag("nested")
        return True

    assert check() is True
    spans = by_name(agent_layer.spans())
    assert attrs_of(spans["guardrail inner"])["agentotel.guard.outcome"] == "flagged"
    assert attrs_of(spans["guardrail pii"])["agentotel.guard.outcome"] == "allowed"


@pytest.mark.parametrize(
    ("decide", "expected"),
    [
        (lambda a: a.approve(), {"agentotel.approval.outcome": "approved"}),
        (
            lambda a: a.approve(approver="alice"),
            {"agentotel.approval.outcome": "approved", "agentotel.approval.approver": "alice"},
        ),
        (
            lambda a: a.deny("too risky"),
            {"agentotel.approval.outcome": "denied", "agentotel.approval.reason": "too risky"},
        ),
        (
            lambda a: a.deny("too risky", approver="bob"),
            {
                "agentotel.approval.outcome": "denied",
                "agentotel.approval.reason": "too risky",
                "agentotel.approval.approver": "bob",
            },
        ),
        (lambda a: None, {"agentotel.approval.outcome": "timed_out"}),
    ],
    ids=["approve", "approve by", "deny", "deny by", "no decision"],
)
def test_approval_decisions(agent_layer: TelemetryCapture, decide: Any, expected: dict[str, Any]) -> None:
    with agentotel.approval("send_email") as a:
        decide(a)

    span = only(agent_layer)
    assert span.name == "approval send_email"
    assert attrs_of(span) == {
        "gen_ai.operation.name": "approval",
        "agentotel.approval.action": "send_email",
        **expected,
    }


@pytest.mark.parametrize("form", ["function", "coroutine", "generator"])
@pytest.mark.parametrize(
    ("decision", "expected"),
    [
        (True, {"agentotel.approval.outcome": "approved"}),
        (False, {"agentotel.approval.outcome": "denied", "agentotel.approval.reason": "returned False"}),
        (None, {"agentotel.approval.outcome": "timed_out"}),
    ],
    ids=["True", "False", "None"],
)
def test_decorated_approval_takes_its_decision_from_the_return_value(
    agent_layer: TelemetryCapture, form: str, decision: Any, expected: dict[str, Any]
) -> None:
    out = run_in_form(form, lambda: agentotel.approval("deploy", approver="ops"), lambda: decision)

    assert out.value is decision
    assert attrs_of(only(agent_layer)) == {
        "gen_ai.operation.name": "approval",
        "agentotel.approval.action": "deploy",
        "agentotel.approval.approver": "ops",
        **expected,
    }


# =========================================================================== context assembly, runs


def test_context_assembly_counts_fragments_and_tokens(agent_layer: TelemetryCapture) -> None:
    with agentotel.context_assembly(budget_tokens=8000) as c:
        c.add_fragment("system", 120)
        c.add_fragment("retrieval", 2400)
        c.add_fragment("history", 880)

    assert attrs_of(only(agent_layer)) == {
        "gen_ai.operation.name": "assemble_context",
        "agentotel.context.budget_tokens": 8000,
        "agentotel.context.fragment_count": 3,
        "agentotel.context.used_tokens": 3400,
    }


def test_plan_without_agent_name(agent_layer: TelemetryCapture) -> None:
    with agentotel.plan():
        pass

    span = only(agent_layer)
    assert span.name == "plan"
    assert attrs_of(span) == {"gen_ai.operation.name": "plan", "agentotel.plan.step_count": 0}


def test_step_without_type(agent_layer: TelemetryCapture) -> None:
    with agentotel.step("think"):
        pass

    assert attrs_of(only(agent_layer)) == {"gen_ai.operation.name": "step", "agentotel.step.name": "think"}


def test_agent_with_only_a_name(agent_layer: TelemetryCapture) -> None:
    with agentotel.agent("helper"):
        pass

    span = only(agent_layer)
    assert span.name == "invoke_agent helper"
    assert attrs_of(span) == {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "helper"}


def test_block_span_and_set_attribute(agent_layer: TelemetryCapture) -> None:
    with agentotel.workflow("research") as w:
        w.set_attribute("app.topic", "weather")
        assert w.span is trace.get_current_span()
        assert w.span.is_recording()

    assert attrs_of(only(agent_layer))["app.topic"] == "weather"
    assert not w.span.is_recording()  # ended


async def test_cancelled_agent_round_ends_its_span_with_the_cancellation(
    agent_layer: TelemetryCapture,
) -> None:
    started = asyncio.Event()

    async def agent_round() -> None:
        async with agentotel.agent("helper"):
            started.set()
            await asyncio.sleep(30)

    task = asyncio.create_task(agent_round())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    span = only(agent_layer)
    assert attrs_of(span)["error.type"] == "asyncio.CancelledError"
    assert span.status.status_code is StatusCode.ERROR
    assert agent_layer.metric_sum("agentotel.workflow.active") == 0


def test_mark_for_audit_flags_the_current_span(agent_layer: TelemetryCapture) -> None:
    with agentotel.tool("delete_file"):
        agentotel.mark_for_audit()
    with agentotel.tool("read_file"):
        pass
    agentotel.mark_for_audit()  # outside any span: nothing to flag, nothing raised

    spans = by_name(agent_layer.spans())
    assert attrs_of(spans["execute_tool delete_file"])["agentotel.audit"] is True
    assert "agentotel.audit" not in attrs_of(spans["execute_tool read_file"])


# =========================================================================== tools


def test_decorated_tool_takes_name_and_description_from_the_function(agent_layer: TelemetryCapture) -> None:
    @agentotel.tool(type="extension")
    def get_weather(city: str) -> str:
        """Current weather for a city.

        Longer explanation that is not the description.
        """
        return f"Sunny in {city}"

    assert get_weather("Paris") == "Sunny in Paris"
    span = only(agent_layer)
    assert span.name == "execute_tool get_weather"
    assert attrs_of(span) == {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "get_weather",
        "gen_ai.tool.type": "extension",
        "gen_ai.tool.description": "Current weather for a city.",
    }


def test_explicit_name_and_description_win_over_the_function(agent_layer: TelemetryCapture) -> None:
    @agentotel.tool("weather", description="Weather lookup")
    def get_weather() -> None:
        """Ignored."""

    get_weather()
    assert attrs_of(only(agent_layer)) == {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "weather",
        "gen_ai.tool.type": "function",
        "gen_ai.tool.description": "Weather lookup",
    }


def test_tool_call_id_given_explicitly(agent_layer: TelemetryCapture) -> None:
    with agentotel.tool("search", call_id="call_abc"):
        pass

    assert attrs_of(only(agent_layer))["gen_ai.tool.call.id"] == "call_abc"


def test_tool_claims_the_call_id_an_llm_response_returned_in_its_trace(
    agent_layer: TelemetryCapture, openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI
) -> None:
    with agentotel.agent("helper"):
        response = openai_client.chat.completions.create(model=GPT, messages=user(QUESTION), tools=CHAT_TOOLS)
        [call] = response.choices[0].message.tool_calls or []
        with agentotel.tool("get_weather"):
            pass
        with agentotel.tool("get_weather"):  # the call is taken: nothing left to claim
            pass

    first, second = (s for s in agent_layer.spans() if s.name == "execute_tool get_weather")
    assert call.function.name == "get_weather"  # type: ignore[union-attr]
    assert attrs_of(first)["gen_ai.tool.call.id"] == call.id
    assert "gen_ai.tool.call.id" not in attrs_of(second)
    assert len(current_layer().pending) == 0


def test_tool_in_another_trace_does_not_claim_the_call(
    agent_layer: TelemetryCapture, openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI
) -> None:
    with agentotel.agent("asker") as asker:
        response = openai_client.chat.completions.create(model=GPT, messages=user(QUESTION), tools=CHAT_TOOLS)
        [call] = response.choices[0].message.tool_calls or []
    with agentotel.agent("stranger"), agentotel.tool("get_weather"):
        pass
    # Back in the asker's trace (e.g. a job resumed from its saved span context).
    with trace.use_span(NonRecordingSpan(asker.span.get_span_context())), agentotel.tool("get_weather"):
        pass

    stranger_tool, resumed_tool = (s for s in agent_layer.spans() if s.name == "execute_tool get_weather")
    assert "gen_ai.tool.call.id" not in attrs_of(stranger_tool)
    assert attrs_of(resumed_tool)["gen_ai.tool.call.id"] == call.id
    assert trace_id(resumed_tool) == asker.span.get_span_context().trace_id


def test_tool_outside_any_span_claims_the_call_of_any_trace(
    agent_layer: TelemetryCapture, openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI
) -> None:
    response = openai_client.chat.completions.create(model=GPT, messages=user(QUESTION), tools=CHAT_TOOLS)
    [call] = response.choices[0].message.tool_calls or []

    @agentotel.tool()
    def get_weather(city: str) -> str:
        return "Sunny"

    get_weather("Paris")

    [tool_span] = (s for s in agent_layer.spans() if s.name == "execute_tool get_weather")
    assert attrs_of(tool_span)["gen_ai.tool.call.id"] == call.id


def test_explicit_call_id_takes_the_pending_call(
    agent_layer: TelemetryCapture, openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI
) -> None:
    response = openai_client.chat.completions.create(model=GPT, messages=user(QUESTION), tools=CHAT_TOOLS)
    [call] = response.choices[0].message.tool_calls or []
    assert len(current_layer().pending) == 1

    with agentotel.tool("get_weather", call_id=call.id):
        pass

    assert len(current_layer().pending) == 0


# =========================================================================== content capture


@pytest.fixture
def content_capture(agent_layer: TelemetryCapture, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Reconfigure the agent layer with content capture set to the given value."""

    def set_to(value: str | None) -> TelemetryCapture:
        if value is None:
            monkeypatch.delenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", raising=False)
        else:
            monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", value)
        configure(tracer_provider=agent_layer.tracer_provider, meter_provider=agent_layer.meter_provider)
        return agent_layer

    return set_to


class Weather:
    @agentotel.tool()
    def lookup(self, city: str, units: str = "C", *, api_key: str = "") -> dict[str, Any]:
        return {"city": city, "forecast": "Sunny", "auth": f"Bearer {api_key}"}


@pytest.mark.parametrize("value", ["SPAN_ONLY", "SPAN_AND_EVENT", "true"])
def test_tool_arguments_and_result_captured_by_parameter_name(content_capture: Any, value: str) -> None:
    cap = content_capture(value)

    result = Weather().lookup("Paris", api_key="sk-live-0123456789abcdef")

    assert result["auth"] == "Bearer sk-live-0123456789abcdef"  # the app's value is untouched
    attrs = attrs_of(only(cap))
    # ``self`` is left out, defaults not given are not invented, secrets are redacted.
    assert attrs["gen_ai.tool.call.arguments"] == '{"city":"Paris","api_key":"[REDACTED]"}'
    assert attrs["gen_ai.tool.call.result"] == '{"city":"Paris","forecast":"Sunny","auth":"[REDACTED]"}'


@pytest.mark.parametrize("value", [None, "NO_CONTENT", "EVENT_ONLY", "false"])
def test_tool_content_is_not_captured_unless_on_spans(content_capture: Any, value: str | None) -> None:
    cap = content_capture(value)

    Weather().lookup("Paris")
    with agentotel.tool("search", arguments={"q": "Paris"}) as t:
        t.set_result(["a", "b"])

    for span in cap.spans():
        assert "gen_ai.tool.call.arguments" not in attrs_of(span)
        assert "gen_ai.tool.call.result" not in attrs_of(span)


async def test_async_tool_content_capture(content_capture: Any) -> None:
    cap = content_capture("SPAN_ONLY")

    @agentotel.tool()
    async def search(query: str, limit: int = 5) -> list[str]:
        await asyncio.sleep(0)
        return [query] * limit

    assert await search("paris", limit=2) == ["paris", "paris"]
    attrs = attrs_of(only(cap))
    assert attrs["gen_ai.tool.call.arguments"] == '{"query":"paris","limit":2}'
    assert attrs["gen_ai.tool.call.result"] == '["paris","paris"]'


def test_context_manager_tool_content_capture(content_capture: Any) -> None:
    cap = content_capture("SPAN_ONLY")

    with agentotel.tool("search", arguments={"q": "Paris", "token": "sk-proj-abcdefghijklmnop"}) as t:
        t.set_result("3 hits")

    attrs = attrs_of(only(cap))
    assert attrs["gen_ai.tool.call.arguments"] == '{"q":"Paris","token":"[REDACTED]"}'
    assert attrs["gen_ai.tool.call.result"] == '"3 hits"'


def test_failed_tool_has_arguments_but_no_result(content_capture: Any) -> None:
    cap = content_capture("SPAN_ONLY")

    @agentotel.tool()
    def search(query: str) -> str:
        raise ValueError("no index")

    with pytest.raises(ValueError):
        search("Paris")

    attrs = attrs_of(only(cap))
    assert attrs["gen_ai.tool.call.arguments"] == '{"query":"Paris"}'
    assert "gen_ai.tool.call.result" not in attrs


def test_tool_called_with_wrong_arguments_raises_the_apps_own_type_error(content_capture: Any) -> None:
    cap = content_capture("SPAN_ONLY")

    def plain(query: str) -> str:
        return query

    search = agentotel.tool("search")(plain)

    with pytest.raises(TypeError) as undecorated:
        plain("a", "b")  # type: ignore[call-arg]
    with pytest.raises(TypeError) as decorated:
        search("a", "b")

    assert str(decorated.value) == str(undecorated.value)
    attrs = attrs_of(only(cap))
    assert attrs["error.type"] == "TypeError"
    assert attrs["gen_ai.tool.call.arguments"] == '{"args":["a","b"],"kwargs":{}}'
    assert cap.metric_points(TELEMETRY_ERRORS) == []


# =========================================================================== safety


class _RaisingTracer(trace.NoOpTracer):
    def start_span(self, *args: Any, **kwargs: Any) -> trace.Span:
        raise RuntimeError("tracer bug (simulated)")


class _BrokenTracerProvider(TracerProvider):
    """An SDK provider whose tracers fail to start spans: stands for any bug on our side."""

    def get_tracer(self, *args: Any, **kwargs: Any) -> trace.Tracer:
        return _RaisingTracer()


@pytest.fixture
def broken_tracer(agent_layer: TelemetryCapture) -> Iterator[TelemetryCapture]:
    provider = _BrokenTracerProvider()
    configure(tracer_provider=provider, meter_provider=agent_layer.meter_provider)
    yield agent_layer
    provider.shutdown()


def telemetry_errors(cap: TelemetryCapture) -> list[tuple[dict[str, Any], int]]:
    return [(dict(p.attributes), p.value) for p in cap.metric_points(TELEMETRY_ERRORS)]


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("api", APIS, ids=API_IDS)
def test_a_failing_tracer_never_breaks_the_app(broken_tracer: TelemetryCapture, api: Api, form: str) -> None:
    calls: list[int] = []
    result = object()

    def body() -> object:
        calls.append(1)
        return result

    out = run_in_form(form, api.make, body)

    assert calls == [1]
    assert out.value is (None if form == "async generator" else result)
    assert out.items == (list(ITEMS) if form in GENERATOR_FORMS else [])
    assert telemetry_errors(broken_tracer) == [
        ({"agentotel.component": "agent", "error.type": "RuntimeError"}, 1)
    ]


@pytest.mark.parametrize("form", ["with", "function", "generator"])
def test_with_a_failing_tracer_the_apps_exception_still_propagates(
    broken_tracer: TelemetryCapture, form: str
) -> None:
    error = ValueError("boom")

    with pytest.raises(ValueError) as info:
        run_in_form(form, lambda: agentotel.tool("search"), lambda: explode(error))

    assert info.value is error
    assert "explode" in [frame.name for frame in traceback.extract_tb(info.value.__traceback__)]


def test_tool_context_manager_without_a_name_is_reported_not_raised(agent_layer: TelemetryCapture) -> None:
    ran = False
    with agentotel.tool():
        ran = True

    assert ran
    assert agent_layer.spans() == []
    assert telemetry_errors(agent_layer) == [({"agentotel.component": "agent", "error.type": "TypeError"}, 1)]


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("api", APIS, ids=API_IDS)
def test_suppressed_instrumentation_records_nothing(
    agent_layer: TelemetryCapture, api: Api, form: str
) -> None:
    with suppress_instrumentation():
        out = run_in_form(form, api.make, lambda: "value")

    assert out.value == (None if form == "async generator" else "value")
    assert out.inside == [0] * len(out.inside)
    assert agent_layer.spans() == []
    data = agent_layer.metric_reader.get_metrics_data()
    points = [
        point
        for rm in (data.resource_metrics if data else ())
        for sm in rm.scope_metrics
        for metric in sm.metrics
        for point in metric.data.data_points
    ]
    assert points == []


def test_suppressed_session_stamps_nothing(agent_layer: TelemetryCapture) -> None:
    with suppress_instrumentation(), agentotel.session(CONVERSATION, user_id=USER_ID):
        pass
    with agentotel.tool("search"):
        pass

    assert "gen_ai.conversation.id" not in attrs_of(only(agent_layer))
    assert agent_layer.metric_points("agentotel.session.count") == []
