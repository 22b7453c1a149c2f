"""The MCP spans and their metrics (semantic-conventions-genai ``docs/gen-ai/mcp.md``).

One span per MCP request on each side: :class:`MCPRequest` for every method, and
:class:`MCPToolCall` for a ``tools/call`` that is itself the ``execute_tool`` operation (the agent
layer's ``Tool``: tool-call id claimed from the LLM's response, ``agentotel.tool.duration``, audit
record, content capture). Both are agent-layer blocks, so a bug of ours is counted under ``mcp``
and never reaches the app; the app's exceptions propagate unchanged.

While a block is open its context carries it under :data:`MCP_CALL_KEY`, so the SDK's own span for
the same request can be switched off (:meth:`MCPCall.covers`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.metrics import Histogram, Meter
from opentelemetry.trace import Link, SpanKind

from agentotel import semconv
from agentotel._content import dumps
from agentotel._lifecycle import Attributes, SpanLifecycle
from agentotel._redact import redact
from agentotel._telemetry import Telemetry
from agentotel.agent._span import SpanBlock
from agentotel.agent._tool import Tool
from agentotel.instrumentation.mcp import extract
from agentotel.instrumentation.mcp.extract import Request

MCP_CALL_KEY = otel_context.create_key("agentotel-mcp-call")
"""Context key of the open :class:`MCPCall` (the SDK's span for its request is switched off)."""

_RESULT_ERROR_STATUS = "the tool result is marked isError"


class MCPInstruments:
    """The four MCP histograms, with the conventions' unit and bucket boundaries."""

    __slots__ = ("client_operation", "client_session", "server_operation", "server_session")

    def __init__(self, meter: Meter) -> None:
        def histogram(name: str, description: str) -> Histogram:
            return meter.create_histogram(
                name,
                unit="s",
                description=description,
                explicit_bucket_boundaries_advisory=semconv.MCP_DURATION_BUCKETS,
            )

        self.client_operation = histogram(
            semconv.MCP_CLIENT_OPERATION_DURATION,
            "The duration of the MCP request as observed on the sender until the response is received.",
        )
        self.server_operation = histogram(
            semconv.MCP_SERVER_OPERATION_DURATION,
            "MCP request duration as observed on the receiver until the result is sent.",
        )
        self.client_session = histogram(
            semconv.MCP_CLIENT_SESSION_DURATION,
            "The duration of the MCP session as observed on the MCP client.",
        )
        self.server_session = histogram(
            semconv.MCP_SERVER_SESSION_DURATION,
            "The duration of the MCP session as observed on the MCP server.",
        )


@dataclass(frozen=True)
class Peer:
    """What a span knows of its connection when it starts."""

    server_name: str | None = None
    protocol_version: str | None = None
    session_id: str | None = None
    transport: str | None = None


def session_attributes(protocol_version: str | None, transport: str | None) -> dict[str, str]:
    """The recommended attributes of the session-duration metrics that agentotel knows."""
    attrs: dict[str, str] = {}
    if protocol_version is not None:
        attrs[semconv.MCP_PROTOCOL_VERSION] = protocol_version
    if transport is not None:
        attrs[semconv.NETWORK_TRANSPORT] = transport
    return attrs


def _prompt_variables(arguments: Mapping[Any, Any], limit: int) -> Attributes:
    """``gen_ai.prompt.variable.<name>``: each argument of a ``prompts/get``, as a string
    (model/mcp/spans.yaml: content, so only with content capture on), redacted and cut."""
    return {
        f"{semconv.GEN_AI_PROMPT_VARIABLE}.{name}": redact(value)[:limit]
        if isinstance(value, str)
        else dumps(value, limit)
        for name, value in arguments.items()
    }


class MCPCall(SpanBlock):
    """The MCP part of both span kinds: name, kind, attributes, errors, the operation metric.

    No ``__slots__`` of its own (its state lives in the instance dict), so that
    :class:`MCPToolCall` can also be a ``Tool``.
    """

    component = "mcp"
    request: Request
    side: SpanKind
    peer: Peer
    instruments: MCPInstruments
    parent: otel_context.Context | None
    links: Sequence[Link]
    request_id: str | None
    protocol_version: str | None
    status_code: str | None
    sdk_span_covered: bool

    def _mcp_init(
        self,
        request: Request,
        side: SpanKind,
        peer: Peer,
        instruments: MCPInstruments,
        parent: otel_context.Context | None,
        links: Sequence[Link],
        request_id: str | None,
    ) -> None:
        self.request = request
        self.side = side
        self.peer = peer
        self.instruments = instruments
        self.parent = parent
        self.links = links
        self.request_id = request_id
        self.protocol_version = peer.protocol_version
        self.status_code = None
        self.sdk_span_covered = False

    def _gen_ai_attributes(self, layer: Telemetry) -> Attributes:
        return {}

    # --- what the wrappers tell the block ---------------------------------------------------------
    def returned(self, result: Any) -> None:
        """Read the request's result (only a tool call's result can be an error)."""

    def covers(self, kind: Any, attributes: Mapping[str, Any] | None) -> bool:
        """Whether the SDK's own span about to start (``kind``, ``attributes``) is this block's
        request: then it is switched off, and the request id it names is recorded here."""
        attributes = attributes or {}
        if self.sdk_span_covered or kind is not self.side:
            return False
        if attributes.get(semconv.MCP_METHOD_NAME) != self.request.method:
            return False
        self.sdk_span_covered = True
        request_id = attributes.get(semconv.JSONRPC_REQUEST_ID)
        if self.request_id is None and isinstance(request_id, str):
            self.request_id = request_id
            self.set_attribute(semconv.JSONRPC_REQUEST_ID, request_id)
        return True

    def learn_session_id(self, session_id: str | None) -> None:
        """The session id, once the request (``initialize``) has opened the session."""
        if session_id is not None and self.peer.session_id is None:
            self.set_attribute(semconv.MCP_SESSION_ID, session_id)

    def learn_protocol_version(self, version: str | None) -> None:
        """The protocol version, once the request (``initialize``) has negotiated it."""
        if version is not None and version != self.protocol_version:
            self.protocol_version = version
            self.set_attribute(semconv.MCP_PROTOCOL_VERSION, version)

    # --- SpanBlock ---------------------------------------------------------------------------------
    def _name(self) -> str:
        return self.request.span_name

    def _attributes(self, layer: Telemetry) -> Attributes:
        request, peer = self.request, self.peer
        attrs = self._gen_ai_attributes(layer)
        attrs[semconv.MCP_METHOD_NAME] = request.method
        if request.tool is not None:
            attrs[semconv.GEN_AI_TOOL_NAME] = request.tool
        if request.prompt is not None:
            attrs[semconv.GEN_AI_PROMPT_NAME] = request.prompt
            if layer.settings.capture.on_span and isinstance(request.arguments, Mapping):
                attrs.update(_prompt_variables(request.arguments, layer.settings.content_max_length))
        if request.uri is not None:
            attrs[semconv.MCP_RESOURCE_URI] = request.uri
        if self.request_id is not None:
            attrs[semconv.JSONRPC_REQUEST_ID] = self.request_id
        if self.protocol_version is not None:
            attrs[semconv.MCP_PROTOCOL_VERSION] = self.protocol_version
        if peer.session_id is not None:
            attrs[semconv.MCP_SESSION_ID] = peer.session_id
        if peer.transport is not None:
            attrs[semconv.NETWORK_TRANSPORT] = peer.transport
        if peer.server_name is not None:
            attrs[semconv.AGENTOTEL_MCP_SERVER_NAME] = peer.server_name
        return attrs

    def _open(self, layer: Telemetry) -> None:
        span = layer.tracer.start_span(
            self._name(),
            context=self.parent,
            kind=self.side,
            attributes=self._attributes(layer),
            links=self.links,
        )
        self._life = SpanLifecycle(span)
        self._ctx = otel_context.set_value(MCP_CALL_KEY, self, trace.set_span_in_context(span, self.parent))

    def _close(self, layer: Telemetry, exc: BaseException | None) -> None:
        error = extract.jsonrpc_error(exc) if exc is not None else None
        if error is not None:
            # A JSON-RPC error response: rpc.response.status_code is its code; on the client every
            # code is an error, on the server not those of a request it could not serve
            # (model/mcp/common.yaml, mcp.client/server.status.attributes). An error's error.type
            # is its code, the status description its message.
            code, message = error
            self.status_code = code
            self.set_attribute(semconv.RPC_RESPONSE_STATUS_CODE, code)
            if self.side is SpanKind.CLIENT or code not in semconv.MCP_CALLER_FAULT_CODES:
                self._error_result = (code, message)
            exc = None
        super()._close(layer, exc)

    def _record(self, layer: Telemetry, seconds: float, etype: str | None) -> None:
        super()._record(layer, seconds, etype)
        request = self.request
        attrs: dict[str, Any] = {semconv.MCP_METHOD_NAME: request.method}
        if request.method == semconv.MCP_TOOLS_CALL:
            attrs[semconv.GEN_AI_OPERATION_NAME] = semconv.OP_EXECUTE_TOOL
        if request.tool is not None:
            attrs[semconv.GEN_AI_TOOL_NAME] = layer.cardinality(semconv.GEN_AI_TOOL_NAME, request.tool)
        if request.prompt is not None:
            attrs[semconv.GEN_AI_PROMPT_NAME] = layer.cardinality(semconv.GEN_AI_PROMPT_NAME, request.prompt)
        attrs.update(session_attributes(self.protocol_version, self.peer.transport))
        if etype is not None:
            attrs[semconv.ERROR_TYPE] = etype
        if self.status_code is not None:
            attrs[semconv.RPC_RESPONSE_STATUS_CODE] = self.status_code
        histogram = (
            self.instruments.client_operation
            if self.side is SpanKind.CLIENT
            else self.instruments.server_operation
        )
        histogram.record(seconds, attrs)


class MCPRequest(MCPCall):
    """Any MCP request's span, also a ``tools/call`` whose ``execute_tool`` span is the app's."""

    def __init__(
        self,
        request: Request,
        side: SpanKind,
        peer: Peer,
        instruments: MCPInstruments,
        layer: Telemetry,
        parent: otel_context.Context | None = None,
        links: Sequence[Link] = (),
        request_id: str | None = None,
    ) -> None:
        super().__init__(layer)
        self._mcp_init(request, side, peer, instruments, parent, links, request_id)


class MCPToolCall(MCPCall, Tool):
    """A ``tools/call`` that is the ``execute_tool`` operation: an ``extension`` tool, failed
    (ERROR, ``error.type`` = ``tool_error``) when its result says ``isError`` (the result is still
    returned, not raised)."""

    def __init__(
        self,
        request: Request,
        side: SpanKind,
        peer: Peer,
        instruments: MCPInstruments,
        layer: Telemetry,
        parent: otel_context.Context | None = None,
        links: Sequence[Link] = (),
        request_id: str | None = None,
    ) -> None:
        # The client span may answer an LLM's tool call: it takes its id like agentotel.tool;
        # the server side never does (its client span did).
        Tool.__init__(
            self,
            request.tool,
            semconv.TOOL_TYPE_EXTENSION,
            arguments=request.arguments,
            layer=layer,
            claim=side is SpanKind.CLIENT,
        )
        self._mcp_init(request, side, peer, instruments, parent, links, request_id)

    def _gen_ai_attributes(self, layer: Telemetry) -> Attributes:
        return Tool._attributes(self, layer)

    def returned(self, result: Any) -> None:
        """Read the call's result: its ``isError`` flag, and its content when capture is on."""
        if extract.is_error_result(result):
            self.mark_error_result(semconv.TOOL_RESULT_ERROR, _RESULT_ERROR_STATUS)
        if self.layer.settings.capture.on_span:
            self.set_result(extract.result_content(result))
