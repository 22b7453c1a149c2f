"""Pure functions of MCP requests and results: what the ``execute_tool`` spans record.

They read the SDK's objects by attribute or key and never import ``mcp``, so a shape they do not
know gives ``None``/``False`` rather than an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace

TOOLS_CALL = "tools/call"
"""The JSON-RPC method of a tool call."""

# Protocol envelope of a result, not part of what the tool returned.
_ENVELOPE = ("_meta", "resultType")


def client_call(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> tuple[str, Any]:
    """``(name, arguments)`` of a ``ClientSession.call_tool(name, arguments=None, ...)`` call."""

    def _bind(name: str, arguments: Any = None, *_: Any, **__: Any) -> tuple[str, Any]:
        return name, arguments

    name, arguments = _bind(*args, **kwargs)
    if not isinstance(name, str):
        raise TypeError(f"tool name is {type(name).__name__}, not str")
    return name, arguments


def server_call(params: Any) -> tuple[str, Any]:
    """``(name, arguments)`` of the validated ``tools/call`` params a server handler receives."""
    name = getattr(params, "name", None)
    if not isinstance(name, str):
        raise TypeError(f"tool name is {type(name).__name__}, not str")
    return name, getattr(params, "arguments", None)


def session_server_name(session: Any) -> str | None:
    """The server's name as the client session learnt it (``initialize`` or ``server/discover``)."""
    name = getattr(getattr(session, "server_info", None), "name", None)
    return name if isinstance(name, str) and name else None


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


def remote_parent(
    meta: Mapping[str, Any] | None, current: otel_context.Context
) -> otel_context.Context | None:
    """The context to run a server-side tool span in, from the request's ``_meta``.

    ``current`` with the caller's span (extracted by the configured propagators) as parent; None
    when ``_meta`` carries no valid span context, or when the current span is already in the
    caller's trace (the SDK's own SERVER span for the request): the tool span then nests under it.
    """
    if not meta:
        return None
    ctx = propagate.extract(meta, context=current)
    remote = trace.get_current_span(ctx).get_span_context()
    if not remote.is_valid:
        return None
    local = trace.get_current_span(current).get_span_context()
    if local.is_valid and local.trace_id == remote.trace_id:
        return None
    return ctx
