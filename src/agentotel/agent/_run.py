"""Runs: ``agentotel.workflow``, ``agentotel.plan``, ``agentotel.step`` and ``agentotel.agent``.

Workflows, plans and agent rounds share ``agentotel.workflow.active`` (told apart by
``gen_ai.operation.name``) and sum the token usage of the LLM calls below them onto their span.
Their duration is ``agentotel.workflow.duration`` in v1.41.1 mode (which has no such metric); in
latest mode a workflow records ``gen_ai.invoke_workflow.duration``, an agent round
``gen_ai.invoke_agent.duration`` with ``gen_ai.invoke_agent.inference_calls`` / ``.tool_calls``,
and a plan (no convention metric) still ``agentotel.workflow.duration``.
Workflows and plans count the steps started directly or indirectly inside them
(``agentotel.plan.step_count``); an agent round counts as one message of its session.
"""

from __future__ import annotations

import threading
from typing import Any

from opentelemetry import context as otel_context

from agentotel import semconv
from agentotel._lifecycle import USAGE_SINK_KEY, AgentRound, Attributes, UsageSink
from agentotel._telemetry import Telemetry
from agentotel.agent._session_state import current_session
from agentotel.agent._span import SpanBlock

STEP_COUNTER_KEY = otel_context.create_key("agentotel-step-counter")


class _Counter:
    """Steps started below one workflow or plan, also counted by the runs enclosing it."""

    __slots__ = ("_lock", "parent", "value")

    def __init__(self, parent: _Counter | None) -> None:
        self.parent = parent
        self.value = 0
        self._lock = threading.Lock()

    def add(self) -> None:
        counter: _Counter | None = self
        while counter is not None:
            with counter._lock:
                counter.value += 1
            counter = counter.parent


class _Run(SpanBlock):
    """A workflow, plan or agent round: duration, active count and summed usage."""

    __slots__ = ("_metric", "_sink", "_steps", "name")
    name_key: str = semconv.GEN_AI_WORKFLOW_NAME
    counts_steps = True

    def __init__(self, name: str | None, layer: Telemetry | None = None) -> None:
        super().__init__(layer)
        self.name = name
        self._sink: UsageSink | None = None
        self._steps: _Counter | None = None
        self._metric: dict[str, Any] | None = None
        """The metric attributes the run was counted active with (its end uses them again)."""

    def _name(self) -> str:
        return f"{self.operation} {self.name}" if self.name else self.operation

    def _attributes(self, layer: Telemetry) -> Attributes:
        attrs: Attributes = {semconv.GEN_AI_OPERATION_NAME: self.operation}
        if self.name:
            attrs[self.name_key] = self.name
        return attrs

    def _metric_attributes(self, layer: Telemetry) -> dict[str, Any]:
        attrs: dict[str, Any] = {semconv.GEN_AI_OPERATION_NAME: self.operation}
        if self.name:
            attrs[self.name_key] = layer.cardinality(self.name_key, self.name)
        return attrs

    def _open(self, layer: Telemetry) -> None:
        super()._open(layer)
        try:
            self._metric = self._metric_attributes(layer)
            layer.agent_instruments.workflow_active.add(1, self._metric)
        except BaseException:
            # Not counted as active, so not to be closed (and decremented) later: end it now.
            if self._life is not None:
                self._life.close()
            raise

    def _agent_round(self) -> AgentRound | None:
        """A new agent round for the calls below (an agent round's), else None (the enclosing one's)."""
        return None

    def _extend(self, ctx: otel_context.Context) -> otel_context.Context:
        parent = otel_context.get_value(USAGE_SINK_KEY, ctx)
        self._sink = UsageSink(parent, self._agent_round())  # type: ignore[arg-type]
        ctx = otel_context.set_value(USAGE_SINK_KEY, self._sink, ctx)
        if self.counts_steps:
            parent = otel_context.get_value(STEP_COUNTER_KEY, ctx)
            self._steps = _Counter(parent if isinstance(parent, _Counter) else None)
            ctx = otel_context.set_value(STEP_COUNTER_KEY, self._steps, ctx)
        return ctx

    def _end_attributes(self, layer: Telemetry, failed: bool) -> Attributes | None:
        attrs: Attributes = {}
        sink = self._sink
        if sink is not None and (sink.input_tokens or sink.output_tokens):
            attrs[semconv.GEN_AI_USAGE_INPUT_TOKENS] = sink.input_tokens
            attrs[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] = sink.output_tokens
        if sink is not None and sink.cost_usd is not None:
            attrs[semconv.AGENTOTEL_USAGE_COST_USD] = sink.cost_usd
        if self._steps is not None:
            attrs[semconv.AGENTOTEL_PLAN_STEP_COUNT] = self._steps.value
        return attrs

    def _record(self, layer: Telemetry, seconds: float, etype: str | None) -> None:
        metric = self._metric
        attrs = self._metric_attributes(layer) if metric is None else {**metric}
        layer.agent_instruments.workflow_active.add(-1, attrs)
        if not (layer.conventions.latest and self._record_latest(layer, seconds, etype, attrs)):
            if etype is not None:
                attrs[semconv.ERROR_TYPE] = etype
            layer.agent_instruments.workflow_duration.record(seconds, attrs)

    def _record_latest(
        self, layer: Telemetry, seconds: float, etype: str | None, attrs: dict[str, Any]
    ) -> bool:
        """Latest mode: record the run's convention metrics; False if it has none (a plan)."""
        return False


class Workflow(_Run):
    """A workflow run (see :func:`agentotel.workflow`)."""

    __slots__ = ()
    operation = semconv.OP_INVOKE_WORKFLOW

    def _fresh(self) -> Workflow:
        return Workflow(self.name, self._layer)

    def _record_latest(
        self, layer: Telemetry, seconds: float, etype: str | None, attrs: dict[str, Any]
    ) -> bool:
        histogram = layer.agent_instruments.invoke_workflow_duration
        if histogram is None:
            return False
        # The conventions' attributes: gen_ai.workflow.name and error.type (no operation name).
        attrs.pop(semconv.GEN_AI_OPERATION_NAME, None)
        if etype is not None:
            attrs[semconv.ERROR_TYPE] = etype
        histogram.record(seconds, attrs)
        return True


class Plan(_Run):
    """A plan run (see :func:`agentotel.plan`)."""

    __slots__ = ()
    operation = semconv.OP_PLAN
    name_key = semconv.GEN_AI_AGENT_NAME

    def _fresh(self) -> Plan:
        return Plan(self.name, self._layer)


class Agent(_Run):
    """One agent round (see :func:`agentotel.agent`)."""

    __slots__ = ("_round", "agent_id", "description")
    operation = semconv.OP_INVOKE_AGENT
    name_key = semconv.GEN_AI_AGENT_NAME
    counts_steps = False

    def __init__(
        self,
        name: str,
        agent_id: str | None = None,
        description: str | None = None,
        layer: Telemetry | None = None,
    ) -> None:
        super().__init__(name, layer)
        self.agent_id = agent_id
        self.description = description
        self._round: AgentRound | None = None

    def _fresh(self) -> Agent:
        return Agent(str(self.name), self.agent_id, self.description, self._layer)

    def _attributes(self, layer: Telemetry) -> Attributes:
        attrs = super()._attributes(layer)
        if self.agent_id is not None:
            # gen_ai.agent.id in v1.41.1; latest mode has none on the in-process span (#242).
            attrs[layer.conventions.agent_id] = self.agent_id
        if self.description is not None:
            attrs[semconv.GEN_AI_AGENT_DESCRIPTION] = self.description
        return attrs

    def _agent_round(self) -> AgentRound | None:
        self._round = AgentRound(self.name)
        return self._round

    def _end_attributes(self, layer: Telemetry, failed: bool) -> Attributes | None:
        attrs = super()._end_attributes(layer, failed)
        sink = self._sink
        # v1.41.1 requires gen_ai.provider.name on the span (latest removed it, #289): known when
        # every LLM call of the round had the same provider.
        if not layer.conventions.latest and sink is not None and sink.providers == 1 and sink.provider:
            attrs = {**(attrs or {}), semconv.GEN_AI_PROVIDER_NAME: sink.provider}
        return attrs

    def _record_latest(
        self, layer: Telemetry, seconds: float, etype: str | None, attrs: dict[str, Any]
    ) -> bool:
        instruments = layer.agent_instruments
        if instruments.invoke_agent_duration is None:
            return False
        # The conventions' attributes: gen_ai.agent.name (and error.type on the duration).
        named = {k: v for k, v in attrs.items() if k == semconv.GEN_AI_AGENT_NAME}
        timed = named if etype is None else {**named, semconv.ERROR_TYPE: etype}
        instruments.invoke_agent_duration.record(seconds, timed)
        calls = self._round
        if instruments.agent_inference_calls is not None and instruments.agent_tool_calls is not None:
            instruments.agent_inference_calls.record(calls.inference_calls if calls else 0, named)
            instruments.agent_tool_calls.record(calls.tool_calls if calls else 0, named)
        return True

    def _open(self, layer: Telemetry) -> None:
        super()._open(layer)
        state = current_session()
        if state is not None:
            state.add_round()


class Step(SpanBlock):
    """A step of a workflow or plan (see :func:`agentotel.step`)."""

    __slots__ = ("name", "type")
    operation = semconv.OP_STEP

    def __init__(self, name: str, type: str | None = None, layer: Telemetry | None = None) -> None:
        super().__init__(layer)
        self.name = name
        self.type = type

    def _fresh(self) -> Step:
        return Step(self.name, self.type, self._layer)

    def _name(self) -> str:
        return f"{self.operation} {self.name}"

    def _attributes(self, layer: Telemetry) -> Attributes:
        counter = otel_context.get_value(STEP_COUNTER_KEY)
        if isinstance(counter, _Counter):
            counter.add()
        attrs: Attributes = {
            semconv.GEN_AI_OPERATION_NAME: self.operation,
            semconv.AGENTOTEL_STEP_NAME: self.name,
        }
        if self.type is not None:
            attrs[semconv.AGENTOTEL_STEP_TYPE] = self.type
        return attrs

    def _record(self, layer: Telemetry, seconds: float, etype: str | None) -> None:
        attrs: dict[str, Any] = {}
        if self.type is not None:
            attrs[semconv.AGENTOTEL_STEP_TYPE] = layer.cardinality(semconv.AGENTOTEL_STEP_TYPE, self.type)
        if etype is not None:
            attrs[semconv.ERROR_TYPE] = etype
        layer.agent_instruments.step_duration.record(seconds, attrs)


def workflow(name: str) -> Workflow:
    """An ``invoke_workflow {name}`` span around a workflow run::

    @agentotel.workflow("research")
    def research(topic: str) -> str: ...
    """
    return Workflow(name)


def plan(agent: str | None = None) -> Plan:
    """A ``plan {agent}`` span around making and running a plan; ``agentotel.plan.step_count``
    tells how many :func:`step` blocks ran inside it."""
    return Plan(agent)


def step(name: str, *, type: str | None = None) -> Step:
    """A ``step {name}`` span for one step of a workflow or plan."""
    return Step(name, type)


def agent(name: str, *, agent_id: str | None = None, description: str | None = None) -> Agent:
    """An ``invoke_agent {name}`` span around one agent round (one user turn).

    The token usage of every LLM call below it is summed onto it (``gen_ai.usage.*``)::

        with agentotel.agent("planner"):
            reply = client.chat.completions.create(...)
    """
    return Agent(name, agent_id, description)
