"""The Anthropic operations, the ``messages.stream()`` helper, and the SDK's own tracing switch.

``messages.stream(...)`` returns a manager that sends the request only on ``__enter__`` and wraps
the raw event stream in a ``MessageStream``. We proxy the manager; on enter the call goes through
the same start/result lifecycle as ``create``, and the ``MessageStream``'s raw stream is replaced by
our stream proxy, so every way of consuming it (iteration, ``text_stream``, ``until_done``,
``get_final_message``, ``close``, ``with`` exit, abandonment) ends the span exactly once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import wrapt
from anthropic import AsyncStream, Stream
from anthropic._response import APIResponse, AsyncAPIResponse
from opentelemetry import context as otel_context
from opentelemetry import trace

from agentotel._invocation import Invocation, Telemetry
from agentotel._lifecycle import LLM_CALL_KEY
from agentotel._safe import async_wrapper, sync_wrapper
from agentotel._streams import AsyncStreamProxy, SyncStreamProxy
from agentotel.instrumentation._operation import Operation, SdkTypes, server_of
from agentotel.instrumentation.anthropic import extract
from agentotel.instrumentation.anthropic.stream import MessageStreamAccumulator

SDK = SdkTypes(
    stream=Stream,
    async_stream=AsyncStream,
    raw=(APIResponse,),
    async_raw=(AsyncAPIResponse,),
    server=server_of(extract.server_attributes),
)


def _content_in(kw: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "system": extract.system_instructions(kw.get("system")),
        "inputs": extract.input_messages(kw.get("messages") or ()),
        "tools": kw.get("tools") if isinstance(kw.get("tools"), list) else None,
    }


def messages(telemetry: Telemetry) -> Operation:
    """``messages.create`` / ``parse`` (and ``beta.messages``)."""
    return Operation(
        telemetry,
        SDK,
        extract.request_attributes,
        extract.response_attributes,
        _content_in,
        extract.output_messages,
        MessageStreamAccumulator,
        extract.tool_results,
    )


class _StreamHelper:
    """The start/result pair for ``messages.stream()``: ``instance`` is (resource, request kwargs)."""

    def __init__(self, op: Operation) -> None:
        self.op = op

    def start(self, pair: tuple[Any, Mapping[str, Any]], args: Any, kwargs: Any) -> Invocation:
        resource, request = pair
        return self.op.start(resource, (), {**request, "stream": True})

    def attach(self, inv: Invocation, message_stream: Any) -> Any:
        raw = message_stream._raw_stream
        acc = MessageStreamAccumulator(inv, inv.secrets)
        proxy = AsyncStreamProxy(raw, acc) if isinstance(raw, AsyncStream) else SyncStreamProxy(raw, acc)
        message_stream._raw_stream = proxy
        return message_stream


class _ManagerProxy(wrapt.ObjectProxy):  # type: ignore[type-arg]
    def __init__(self, manager: Any, enter: Callable[..., Any], pair: tuple[Any, Mapping[str, Any]]) -> None:
        super().__init__(manager)
        self._self_enter = enter
        self._self_pair = pair

    def __enter__(self) -> Any:
        return self._self_enter(self.__wrapped__.__enter__, self._self_pair, (), {})

    def __exit__(self, *exc_info: Any) -> Any:
        return self.__wrapped__.__exit__(*exc_info)


class _AsyncManagerProxy(_ManagerProxy):
    async def __aenter__(self) -> Any:
        return await self._self_enter(self.__wrapped__.__aenter__, self._self_pair, (), {})

    async def __aexit__(self, *exc_info: Any) -> Any:
        return await self.__wrapped__.__aexit__(*exc_info)


def stream_helper(telemetry: Telemetry, is_async: bool) -> Callable[..., Any]:
    """Wrapper for ``messages.stream``: returns the SDK's manager behind our proxy."""
    helper = _StreamHelper(messages(telemetry))
    boundary = telemetry.boundary
    factory = async_wrapper if is_async else sync_wrapper
    enter = factory(boundary, helper.start, helper.attach)
    proxy_cls = _AsyncManagerProxy if is_async else _ManagerProxy

    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        manager = wrapped(*args, **kwargs)
        try:
            return proxy_cls(manager, enter, (instance, kwargs))
        except Exception as bug:
            boundary.report(bug)
            return manager

    return wrapper


def sdk_span_switch(_: Telemetry) -> Callable[..., Any]:
    """Wrapper for the SDK's ``start_api_call_span``: no SDK span inside one of our LLM calls.

    Calls we do not instrument (files, models, batches...) keep the SDK's spans.
    """

    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        if otel_context.get_value(LLM_CALL_KEY):
            # A non-recording span with our span's context: the SDK records nothing but still
            # sends the trace context (traceparent) as it would have without us.
            ctx = trace.get_current_span().get_span_context()
            if kwargs.get("propagation", True) and ctx.is_valid:
                return trace.NonRecordingSpan(ctx)
            return None
        return wrapped(*args, **kwargs)

    return wrapper
