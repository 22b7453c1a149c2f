"""What the agent-layer tests share: every API with the span it must produce, and a runner that
uses an API in each of its six forms (``with``, ``async with``, decorator on a function, a
coroutine function, a generator function and an async generator function).

Imported as ``from agent_helpers import ...`` (``tests/agent/`` is on ``sys.path``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan

import agentotel

FORMS = ("with", "async with", "function", "coroutine", "generator", "async generator")
DECORATOR_FORMS = FORMS[2:]
GENERATOR_FORMS = ("generator", "async generator")

ITEMS = ("first", "second")
"""What a decorated generator yields, around the body's call."""


@dataclass(frozen=True)
class Api:
    """One agent-layer API: how to make it, and the span it produces when left alone."""

    id: str
    make: Callable[[], Any]
    span_name: str
    attributes: dict[str, Any]
    """Exact attributes of a successful run without decisions or content."""
    failed_attributes: dict[str, Any]
    """Exact attributes when the user's code raised ValueError (``error.type`` included)."""


def _failed(attributes: dict[str, Any], *drop: str) -> dict[str, Any]:
    return {**{k: v for k, v in attributes.items() if k not in drop}, "error.type": "ValueError"}


_TOOL = {
    "gen_ai.operation.name": "execute_tool",
    "gen_ai.tool.name": "search",
    "gen_ai.tool.type": "function",
}
_WORKFLOW = {
    "gen_ai.operation.name": "invoke_workflow",
    "gen_ai.workflow.name": "research",
    "agentotel.plan.step_count": 0,
}
_PLAN = {"gen_ai.operation.name": "plan", "gen_ai.agent.name": "planner", "agentotel.plan.step_count": 0}
_STEP = {"gen_ai.operation.name": "step", "agentotel.step.name": "lookup", "agentotel.step.type": "tool"}
_AGENT = {
    "gen_ai.operation.name": "invoke_agent",
    "gen_ai.agent.name": "helper",
    "gen_ai.agent.id": "agent-7",
    "gen_ai.agent.description": "Answers questions",
}
_GUARD = {
    "gen_ai.operation.name": "guardrail",
    "agentotel.guard.name": "pii",
    "agentotel.guard.outcome": "allowed",
}
_APPROVAL = {
    "gen_ai.operation.name": "approval",
    "agentotel.approval.action": "send_email",
    "agentotel.approval.approver": "ops",
    "agentotel.approval.outcome": "timed_out",
}
_CONTEXT = {
    "gen_ai.operation.name": "assemble_context",
    "agentotel.context.budget_tokens": 1000,
    "agentotel.context.fragment_count": 0,
    "agentotel.context.used_tokens": 0,
}

APIS = [
    Api("tool", lambda: agentotel.tool("search"), "execute_tool search", _TOOL, _failed(_TOOL)),
    Api(
        "workflow",
        lambda: agentotel.workflow("research"),
        "invoke_workflow research",
        _WORKFLOW,
        _failed(_WORKFLOW),
    ),
    Api("plan", lambda: agentotel.plan("planner"), "plan planner", _PLAN, _failed(_PLAN)),
    Api("step", lambda: agentotel.step("lookup", type="tool"), "step lookup", _STEP, _failed(_STEP)),
    Api(
        "agent",
        lambda: agentotel.agent("helper", agent_id="agent-7", description="Answers questions"),
        "invoke_agent helper",
        _AGENT,
        _failed(_AGENT),
    ),
    # A guard whose check raised reached no verdict; an approval that raised was never decided.
    Api(
        "guard",
        lambda: agentotel.guard("pii"),
        "guardrail pii",
        _GUARD,
        _failed(_GUARD, "agentotel.guard.outcome"),
    ),
    Api(
        "approval",
        lambda: agentotel.approval("send_email", approver="ops"),
        "approval send_email",
        _APPROVAL,
        _failed(_APPROVAL),
    ),
    Api(
        "context_assembly",
        lambda: agentotel.context_assembly(budget_tokens=1000),
        "assemble_context",
        _CONTEXT,
        _failed(_CONTEXT),
    ),
]
API_IDS = [api.id for api in APIS]


def current_span_id() -> int:
    return trace.get_current_span().get_span_context().span_id


@dataclass
class Outcome:
    """What the user's code returned / yielded, and the span ids current while it ran."""

    value: Any = None
    items: list[Any] = field(default_factory=list)
    inside: list[int] = field(default_factory=list)
    """Current span id each time the user's code ran (generators: at start and each resumption)."""
    between: list[int] = field(default_factory=list)
    """Current span id in the consumer, each time it received an item."""


def run_in_form(form: str, make: Callable[[], Any], body: Callable[[], Any]) -> Outcome:
    """Run ``body`` (sync, returns the user's value) inside ``make()`` used in ``form``.

    Generators yield ``ITEMS[0]``, call ``body``, yield ``ITEMS[1]``, then return ``body``'s value
    (an async generator cannot return one). Exceptions of ``body`` propagate unchanged.
    """
    out = Outcome()

    def user_code() -> Any:
        out.inside.append(current_span_id())
        return body()

    if form == "with":
        with make():
            out.value = user_code()
    elif form == "async with":

        async def main() -> None:
            async with make():
                await asyncio.sleep(0)
                out.value = user_code()

        asyncio.run(main())
    elif form == "function":
        out.value = make()(user_code)()
    elif form == "coroutine":

        async def coroutine() -> Any:
            await asyncio.sleep(0)
            return user_code()

        out.value = asyncio.run(make()(coroutine)())
    elif form == "generator":

        def generator() -> Any:
            out.inside.append(current_span_id())
            yield ITEMS[0]
            value = user_code()
            yield ITEMS[1]
            out.inside.append(current_span_id())
            return value

        out.value = _drain(make()(generator)(), out)
    elif form == "async generator":

        async def agenerator() -> Any:
            out.inside.append(current_span_id())
            yield ITEMS[0]
            await asyncio.sleep(0)
            user_code()
            yield ITEMS[1]
            out.inside.append(current_span_id())

        async def aconsume() -> None:
            async for item in make()(agenerator)():
                out.items.append(item)
                out.between.append(current_span_id())

        asyncio.run(aconsume())
    else:  # pragma: no cover
        raise AssertionError(form)
    return out


def _drain(gen: Any, out: Outcome) -> Any:
    """Iterate ``gen`` to its end, recording the items; its return value."""
    while True:
        try:
            item = next(gen)
        except StopIteration as stop:
            return stop.value
        out.items.append(item)
        out.between.append(current_span_id())


def attrs_of(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


def by_name(spans: list[ReadableSpan]) -> dict[str, ReadableSpan]:
    """Spans by name (names must be unique)."""
    named = {span.name: span for span in spans}
    assert len(named) == len(spans), [span.name for span in spans]
    return named


def parent_id(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


def span_id(span: ReadableSpan) -> int:
    assert span.context is not None
    return span.context.span_id


def trace_id(span: ReadableSpan) -> int:
    assert span.context is not None
    return span.context.trace_id
