"""Pure functions of MCP requests, results and errors: what the MCP spans and metrics record.

They read the SDK's objects by attribute or key and never import ``mcp``, so a shape they do not
know gives ``None``/``False`` rather than an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace

from agentotel import semconv

# Protocol envelope of a result, not part of what the tool returned.
_ENVELOPE = ("_meta", "resultType")
_INVALID_PARAMS = "-32602"
"""The JSON-RPC code the SDK answers a request whose params fail validation with."""
_LOCAL_CODES = (-32000, -32001)
"""``CONNECTION_CLOSED`` and ``REQUEST_TIMEOUT``: the SDK raises them itself, no response carried them."""


@dataclass(frozen=True)
class Request:
    """What the spans need of one MCP request: its method and the target its params name."""

    method: str
    tool: str | None = None
    """``params.name`` of a ``tools/call``."""
    prompt: str | None = None
    """``params.name`` of a ``prompts/get``."""
    uri: str | None = None
    """``params.uri`` of a ``resources/read`` / ``subscribe`` / ``unsubscribe``."""
    arguments: Any = None
    """``params.arguments`` of a ``tools/call`` or ``prompts/get`` (recorded only with content
    capture on: ``gen_ai.tool.call.arguments``, ``gen_ai.prompt.variable.<name>``)."""

    @property
    def target(self) -> str | None:
        """The low-cardinality target of the span name (the tool's or the prompt's name)."""
        return self.tool if self.tool is not None else self.prompt

    @property
    def span_name(self) -> str:
        """``{mcp.method.name} {target}``, or the method alone without a target."""
        target = self.target
        return f"{self.method} {target}" if target is not None else self.method


def _read(params: Any, key: str) -> Any:
    if params is None:
        return None
    if isinstance(params, Mapping):
        return params.get(key)
    return getattr(params, key, None)


def request(method: Any, params: Any) -> Request:
    """The :class:`Request` of ``method`` with ``params`` (a typed params model on the client,
    the raw wire mapping on the server)."""
    if not isinstance(method, str):
        raise TypeError(f"MCP method is {type(method).__name__}, not str")
    name = _read(params, "name")
    name = name if isinstance(name, str) else None
    if method == semconv.MCP_TOOLS_CALL:
        return Request(method, tool=name, arguments=_read(params, "arguments"))
    if method == semconv.MCP_PROMPTS_GET:
        return Request(method, prompt=name, arguments=_read(params, "arguments"))
    if method in semconv.MCP_RESOURCE_METHODS:
        uri = _read(params, "uri")
        return Request(method, uri=str(uri) if uri is not None else None)
    return Request(method)


def client_request(typed: Any) -> Request:
    """The :class:`Request` of a typed request given to ``ClientSession.send_request``."""
    return request(getattr(typed, "method", None), getattr(typed, "params", None))


def session_server_name(session: Any) -> str | None:
    """The server's name as the client session learnt it (``initialize`` or ``server/discover``)."""
    name = getattr(getattr(session, "server_info", None), "name", None)
    return name if isinstance(name, str) and name else None


def negotiated_version(result: Any) -> str | None:
    """``protocolVersion`` of an ``initialize`` result (typed or wire dict)."""
    version = _read(result, "protocolVersion") if isinstance(result, Mapping) else None
    if version is None:
        version = getattr(result, "protocol_version", None)
    return version if isinstance(version, str) else None


def is_error_result(result: Any) -> bool:
    """True for a ``CallToolResult`` (model or wire dict) marked ``isError``."""
    if isinstance(result, Mapping):
        return result.get("isError") is True
    return getattr(result, "is_error", None) is True


def result_content(result: Any) -> Any:
    """A tool result as the wire shows it (``content``, ``structuredContent``, ``isError``),
    without the protocol envelope (``_meta``, ``resultType``)."""
    dump = getattr(result, "model_dump", None)
    if callable(dump):
        result = dump(by_alias=True, mode="json", exclude_none=True)
    if isinstance(result, Mapping):
        return {k: v for k, v in result.items() if k not in _ENVELOPE}
    return result


def jsonrpc_error(exc: BaseException) -> tuple[str, str] | None:
    """``(code, message)`` of the JSON-RPC error response an exception stands for: an
    ``MCPError``'s ``error``, or ``-32602`` for a pydantic ``ValidationError`` of the request's
    params (what the SDK answers with); None for any other exception, and for the SDK's own
    closed-connection and timeout errors (no response carried them: a transport error, recorded as
    any exception is)."""
    error = getattr(exc, "error", None)
    code, message = getattr(error, "code", None), getattr(error, "message", None)
    if isinstance(code, int) and not isinstance(code, bool):
        if code in _LOCAL_CODES:
            return None
        return str(code), message if isinstance(message, str) else ""
    kind = type(exc)
    if kind.__name__ == "ValidationError" and kind.__module__.startswith("pydantic"):
        return _INVALID_PARAMS, "Invalid request parameters"
    return None


def remote_parent(
    meta: Mapping[str, Any] | None, current: otel_context.Context
) -> otel_context.Context | None:
    """``current`` with the caller's span, extracted from the request's ``_meta`` by the
    configured propagators, as parent; None when ``_meta`` carries no valid span context."""
    if not meta:
        return None
    ctx = propagate.extract(meta, context=current)
    if not trace.get_current_span(ctx).get_span_context().is_valid:
        return None
    return ctx
