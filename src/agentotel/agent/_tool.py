"""``agentotel.tool``: one ``execute_tool {name}`` span per tool execution."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from opentelemetry import trace

from agentotel import semconv
from agentotel._content import dumps
from agentotel._lifecycle import AgentRound, Attributes, agent_round
from agentotel._telemetry import Telemetry
from agentotel.agent._span import SpanBlock


class Tool(SpanBlock):
    """A tool execution (see :func:`agentotel.tool`)."""

    __slots__ = (
        "_agent",
        "_arguments",
        "_has_result",
        "_result",
        "_signature",
        "call_id",
        "claim",
        "description",
        "name",
        "type",
    )
    operation = semconv.OP_EXECUTE_TOOL

    def __init__(
        self,
        name: str | None,
        type: str = semconv.TOOL_TYPE_FUNCTION,
        description: str | None = None,
        call_id: str | None = None,
        arguments: Any = None,
        layer: Telemetry | None = None,
        claim: bool = True,
    ) -> None:
        super().__init__(layer)
        self.claim = claim
        self.name = name
        self.type = type
        self.description = description
        self.call_id = call_id
        self._arguments = arguments
        self._result: Any = None
        self._has_result = False
        self._signature: inspect.Signature | None = None
        self._agent: AgentRound | None = None

    def set_result(self, result: Any) -> None:
        """The tool's result, recorded as ``gen_ai.tool.call.result`` when content capture is on."""
        self._result = result
        self._has_result = True

    # --- Block ---------------------------------------------------------------------------------
    def _fresh(self) -> Tool:
        fresh = Tool(self.name, self.type, self.description, self.call_id, None, self._layer)
        fresh._signature = self._signature
        return fresh

    def _decorating(self, fn: Callable[..., Any]) -> None:
        if self.name is None:
            self.name = getattr(fn, "__name__", None) or "tool"
        if self.description is None and fn.__doc__:
            self.description = inspect.cleandoc(fn.__doc__).partition("\n")[0]
        try:
            self._signature = inspect.signature(fn)
        except (TypeError, ValueError):
            self._signature = None

    def _called(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        if self.layer.settings.capture.on_span:
            self._arguments = _bound_arguments(self._signature, args, kwargs)

    def _returned(self, value: Any) -> None:
        if not self._has_result:
            self.set_result(value)

    # --- SpanBlock -----------------------------------------------------------------------------
    def _name(self) -> str:
        if self.name is None:
            raise TypeError("agentotel.tool() needs a name when used as a context manager")
        return f"{self.operation} {self.name}"

    def _attributes(self, layer: Telemetry) -> Attributes:
        name = str(self.name)
        pending = layer.pending
        if self.call_id is not None:
            pending.cover(self.call_id)
        elif self.claim and pending:
            trace_id = trace.get_current_span().get_span_context().trace_id
            self.call_id = pending.claim(name, trace_id)
        attrs: Attributes = {
            semconv.GEN_AI_OPERATION_NAME: self.operation,
            semconv.GEN_AI_TOOL_NAME: name,
            semconv.GEN_AI_TOOL_TYPE: self.type,
        }
        if self.call_id is not None:
            attrs[semconv.GEN_AI_TOOL_CALL_ID] = self.call_id
        if self.description:
            attrs[semconv.GEN_AI_TOOL_DESCRIPTION] = self.description
        if layer.conventions.latest and self.claim:
            # The agent running the tool (latest: gen_ai.agent.name, span and metric), which
            # counts it as one of its tool calls. A span that may not claim a call (an MCP
            # server's, executing a call its client span made) is not the agent's: the client
            # span counted it, even when the server runs in-process inside the agent's context.
            self._agent = agent_round()
            if self._agent is not None:
                self._agent.count_tool()
                if self._agent.name:
                    attrs[semconv.GEN_AI_AGENT_NAME] = self._agent.name
        if layer.settings.capture.on_span and self._arguments is not None:
            attrs[semconv.GEN_AI_TOOL_CALL_ARGUMENTS] = dumps(
                self._arguments, layer.settings.content_max_length
            )
        return attrs

    def _end_attributes(self, layer: Telemetry, failed: bool) -> Attributes | None:
        if layer.settings.capture.on_span and self._has_result:
            return {semconv.GEN_AI_TOOL_CALL_RESULT: dumps(self._result, layer.settings.content_max_length)}
        return None

    def _record(self, layer: Telemetry, seconds: float, etype: str | None) -> None:
        agent = self._agent
        agent_name = agent.name if agent is not None else None
        key = (self.name, self.type, agent_name)
        attrs = layer.tool_labels.get(key)
        if attrs is None:
            attrs = _tool_labels(layer, key)
        if etype is not None:
            attrs = {**attrs, semconv.ERROR_TYPE: etype}  # the kept labels are never changed
        layer.agent_instruments.tool_duration.record(seconds, attrs)


_TOOL_LABELS_MAX = 1024
"""How many (tool, type, agent) label sets a layer keeps made (a few per tool in practice)."""


def _tool_labels(layer: Telemetry, key: tuple[str | None, str, str | None]) -> dict[str, Any]:
    """The metric labels of a tool's executions, through the cardinality guard, kept for the next
    execution of the same tool (the guard's answer for a value never changes once given)."""
    name, type_, agent_name = key
    attrs: dict[str, Any] = {
        semconv.GEN_AI_TOOL_NAME: layer.cardinality(semconv.GEN_AI_TOOL_NAME, str(name)),
        semconv.GEN_AI_TOOL_TYPE: layer.cardinality(semconv.GEN_AI_TOOL_TYPE, type_),
    }
    if agent_name:
        attrs[semconv.GEN_AI_AGENT_NAME] = layer.cardinality(semconv.GEN_AI_AGENT_NAME, agent_name)
    if len(layer.tool_labels) < _TOOL_LABELS_MAX:
        layer.tool_labels[key] = attrs
    return attrs


def _bound_arguments(
    signature: inspect.Signature | None, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    """The call's arguments by parameter name (``self``/``cls`` left out); as given when they do
    not fit the signature (the call itself then raises the app's own ``TypeError``)."""
    try:
        bound = signature.bind_partial(*args, **kwargs) if signature is not None else None
    except TypeError:
        bound = None
    if bound is None:
        return {"args": list(args), "kwargs": kwargs}
    return {k: v for k, v in bound.arguments.items() if k not in ("self", "cls")}


def tool(
    name: str | None = None,
    *,
    type: str = semconv.TOOL_TYPE_FUNCTION,
    description: str | None = None,
    call_id: str | None = None,
    arguments: Any = None,
) -> Tool:
    """An ``execute_tool {name}`` span around one tool execution.

    As a decorator (sync, async, generator), the name defaults to the function's name and the
    description to the first line of its docstring; as a context manager, give the name::

        @agentotel.tool()
        def get_weather(city: str) -> str: ...

        with agentotel.tool("search", call_id=tool_call.id, arguments=args) as t:
            t.set_result(run_search(**args))

    ``gen_ai.tool.call.id`` is ``call_id`` when given; otherwise the id of the oldest tool call of
    this name that an instrumented LLM response returned in the same trace (or, outside any span,
    in the process) and that no tool span has claimed yet. Arguments and result are recorded only
    with content capture on (``SPAN_ONLY`` / ``SPAN_AND_EVENT``).
    """
    return Tool(name, type, description, call_id, arguments)
