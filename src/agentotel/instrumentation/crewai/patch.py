"""Thin ``wrapt`` wrappers: a crew kickoff is one agent-layer
:class:`~agentotel.agent.Workflow` block (``invoke_workflow {crew}``), a task execution one
:class:`~agentotel.agent.Step` (``step {task}``), an agent's execution of it one
:class:`~agentotel.agent.Agent` (``invoke_agent {role}``), a tool run one
:class:`~agentotel.agent.Tool` (``execute_tool {tool}``). The blocks own the spans, the metrics,
content capture and the safety boundary; the wrapped method runs exactly once, outside the
boundary, and its result and exceptions pass through unchanged.

Why wrappers and not CrewAI's event bus: the bus runs its handlers on a thread pool, after the
emitting code has moved on, so a handler can neither make its span the current context of the
code it describes (the LLM call of the provider instrumentor would not nest under the agent) nor
be sure to start before its children. Every patched method is public API, and runs where its
caller's context is current (CrewAI copies the context into the threads it starts).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from opentelemetry import context as otel_context

from agentotel import semconv
from agentotel._lifecycle import Attributes
from agentotel._safe import Boundary
from agentotel._telemetry import Telemetry
from agentotel.agent import Agent, Approval, Guard, Step, Tool, Workflow
from agentotel.agent._block import Block
from agentotel.instrumentation.crewai import extract

Wrapper = Callable[[Callable[..., Any], Any, tuple[Any, ...], dict[str, Any]], Any]
Opener = Callable[[Telemetry, Any, tuple[Any, ...], dict[str, Any]], Block | None]

COMPONENT = "crewai"
"""The instrumentor's component: errors of its blocks are counted under it."""

STEP_TYPE_TASK = "task"
"""``agentotel.step.type`` of a CrewAI task execution."""

HUMAN = "human"
"""``agentotel.approval.approver`` of the answers CrewAI asks a human for (``human_input=True``)."""

FEEDBACK = "feedback"
"""``agentotel.approval.reason`` of a human's feedback with content capture off (it is content)."""

CREW_KEY = otel_context.create_key("agentotel-crewai-crew")
AGENT_KEY = otel_context.create_key("agentotel-crewai-agent")
"""Context keys naming the crew and the (agent, task) whose block is open: the same one run again
inside it (a retried task execution) makes no second span."""


# --- blocks ----------------------------------------------------------------------------------------
class CrewRun(Workflow):
    """One kickoff of a crew (``invoke_workflow {crew name}``)."""

    __slots__ = ("crew",)
    component = COMPONENT

    def __init__(self, crew: Any, layer: Telemetry) -> None:
        super().__init__(extract.crew_name(crew), layer)
        self.crew = crew

    def _extend(self, ctx: otel_context.Context) -> otel_context.Context:
        return otel_context.set_value(CREW_KEY, self.crew, super()._extend(ctx))


class TaskStep(Step):
    """One execution of a task (``step {task name}``, type ``task``); its description, which is
    content, only with content capture on."""

    __slots__ = ("description",)
    component = COMPONENT

    def __init__(self, task: Any, layer: Telemetry) -> None:
        super().__init__(extract.task_name(task), STEP_TYPE_TASK, layer)
        self.description = extract.task_description(task) if layer.settings.capture.on_span else None

    def _attributes(self, layer: Telemetry) -> Attributes:
        attrs = super()._attributes(layer)
        if self.description is not None:
            attrs[semconv.AGENTOTEL_STEP_DESCRIPTION] = self.description
        return attrs


class AgentRun(Agent):
    """One agent's execution of a task, or a standalone ``Agent.kickoff`` (``invoke_agent {role}``)."""

    __slots__ = ("key",)
    component = COMPONENT

    def __init__(self, agent: Any, task: Any, layer: Telemetry) -> None:
        super().__init__(extract.agent_role(agent), extract.agent_id(agent), None, layer)
        self.key = (agent, task)

    def _extend(self, ctx: otel_context.Context) -> otel_context.Context:
        ctx = super()._extend(ctx)
        # Only a task execution is retried inside itself (a kickoff has no task).
        return ctx if self.key[1] is None else otel_context.set_value(AGENT_KEY, self.key, ctx)


class ToolRun(Tool):
    """One run of a tool (``execute_tool {name the model calls it by}``). It claims the LLM's
    pending call of that name, so the next request, which carries its result, infers no second
    span. A ``ToolFailure`` it returns fails it (its message, which may quote the arguments, is
    the status description only with content capture on; its reason category otherwise)."""

    __slots__ = ()
    component = COMPONENT

    def __init__(self, tool: Any, arguments: Any, layer: Telemetry) -> None:
        name = extract.tool_name(str(getattr(tool, "name", "") or "tool"))
        super().__init__(
            name, semconv.TOOL_TYPE_FUNCTION, extract.tool_description(tool), None, arguments, layer
        )

    def _returned(self, value: Any) -> None:
        super()._returned(value)
        failure = extract.tool_failure(value)
        if failure is not None:
            reason, message = failure
            self.mark_error_result(
                semconv.TOOL_RESULT_ERROR, message if self.layer.settings.capture.on_span else reason
            )


class GuardRun(Guard):
    """One run of a task's (or a standalone agent's) guardrail: ``guardrail {name}``, allowed or
    blocked by its result. The rejection's message (the guardrail's, or an LLM guardrail's
    model's words) is its reason only with content capture on."""

    __slots__ = ()
    component = COMPONENT

    def _returned(self, value: Any) -> None:
        verdict = extract.guardrail_verdict(value)
        if verdict is None:
            return
        passed, message = verdict
        if passed:
            self.allow()
        else:
            self.block(message if message and self.layer.settings.capture.on_span else extract.REJECTED)


class HumanReview(Approval):
    """One answer of the human CrewAI asks to review an agent's final answer (a task with
    ``human_input=True``): ``approval {task name}`` by ``human``, approved when the human gives no
    feedback (CrewAI's "happy with the result"), denied when they give some (CrewAI hands it to the
    agent, which answers again and the human is asked again). The feedback, which is content, is
    the reason only with content capture on (``feedback`` otherwise)."""

    __slots__ = ()
    component = COMPONENT

    def __init__(self, task: Any, layer: Telemetry) -> None:
        super().__init__(extract.task_name(task), HUMAN, layer)

    def _returned(self, value: Any) -> None:
        feedback = extract.human_feedback(value)
        if feedback is None:
            return
        if feedback:
            self.deny(feedback if self.layer.settings.capture.on_span else FEEDBACK)
        else:
            self.approve()


# --- what each patched method opens (None: the call runs as it is) ---------------------------------
def _crew(layer: Telemetry, crew: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Block | None:
    # A streaming kickoff returns at once and runs the crew again, not streaming, on a thread of
    # its own (with the caller's context): that inner kickoff is the run.
    if getattr(crew, "stream", False) or otel_context.get_value(CREW_KEY) is crew:
        return None
    return CrewRun(crew, layer)


def _task(layer: Telemetry, task: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Block | None:
    return TaskStep(task, layer)


def _execution(layer: Telemetry, agent: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Block | None:
    task = args[0] if args else kwargs.get("task")
    current = otel_context.get_value(AGENT_KEY)
    if isinstance(current, tuple) and current[0] is agent and current[1] is task:
        return None  # CrewAI retries a failed execution inside the failed one: still one execution
    return AgentRun(agent, task, layer)


def _kickoff(layer: Telemetry, agent: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Block | None:
    return AgentRun(agent, None, layer)


def _sync_kickoff(
    layer: Telemetry, agent: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Block | None:
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return _kickoff(layer, agent, args, kwargs)
    return None  # inside an event loop ``kickoff`` returns ``kickoff_async(...)``, which is the run


def _tool(layer: Telemetry, tool: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Block | None:
    arguments = extract.tool_arguments(args, kwargs) if layer.settings.capture.on_span else None
    return ToolRun(tool, arguments, layer)


def _structured(layer: Telemetry, tool: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Block | None:
    # A structured tool made from a BaseTool runs that tool's ``_run`` (never its wrapped ``run``):
    # the BaseTool is the tool.
    original = getattr(tool, "_original_tool", None) or tool
    arguments = extract.invoke_arguments(args, kwargs) if layer.settings.capture.on_span else None
    return ToolRun(original, arguments, layer)


def _guardrail(layer: Telemetry, _module: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Block | None:
    guardrail = args[1] if len(args) > 1 else kwargs.get("guardrail")
    return GuardRun(extract.guardrail_name(guardrail), layer)


def _human(layer: Telemetry, _provider: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Block | None:
    # CrewAI asks while the agent works on the task: the (agent, task) of the open execution.
    current = otel_context.get_value(AGENT_KEY)
    return HumanReview(current[1] if isinstance(current, tuple) else None, layer)


# --- wrappers --------------------------------------------------------------------------------------
def _sync(opener: Opener) -> Callable[[Telemetry, Boundary], Wrapper]:
    def factory(layer: Telemetry, boundary: Boundary) -> Wrapper:
        def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
            block = boundary.call(None, opener, layer, instance, args, kwargs)
            if block is None:
                return wrapped(*args, **kwargs)
            with block:
                result = wrapped(*args, **kwargs)
                block._deliver(result)
            return result

        return wrapper

    return factory


def _async(opener: Opener) -> Callable[[Telemetry, Boundary], Wrapper]:
    def factory(layer: Telemetry, boundary: Boundary) -> Wrapper:
        async def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
            block = boundary.call(None, opener, layer, instance, args, kwargs)
            if block is None:
                return await wrapped(*args, **kwargs)
            async with block:
                result = await wrapped(*args, **kwargs)
                block._deliver(result)
            return result

        return wrapper

    return factory


def _ended_with(block: Block, future: Future[Any]) -> None:
    block._finish(None if future.cancelled() else future.exception())


def task_execute_async(layer: Telemetry, boundary: Boundary) -> Wrapper:
    """Wrapper of ``Task.execute_async``: the task runs on a thread CrewAI starts with a copy of
    the caller's context, made while the step's context is current; the step ends with the future."""

    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        block = boundary.call(None, _task, layer, instance, args, kwargs)
        if block is None or not block._start():
            return wrapped(*args, **kwargs)
        token = block._attach()
        try:
            future = wrapped(*args, **kwargs)
        except BaseException as exc:
            block._detach(token)
            block._finish(exc)
            raise
        block._detach(token)
        if boundary.call(False, future.add_done_callback, lambda done: _ended_with(block, done)) is False:
            block._finish(None)
        return future

    return wrapper


crew_kickoff = _sync(_crew)
crew_akickoff = _async(_crew)
task_execute_sync = _sync(_task)
task_aexecute_sync = _async(_task)
agent_execute_task = _sync(_execution)
agent_aexecute_task = _async(_execution)
agent_kickoff = _sync(_sync_kickoff)
agent_kickoff_async = _async(_kickoff)
tool_run = _sync(_tool)
tool_arun = _async(_tool)
structured_invoke = _sync(_structured)
structured_ainvoke = _async(_structured)
guardrail = _sync(_guardrail)
human_input = _sync(_human)
human_input_async = _async(_human)
