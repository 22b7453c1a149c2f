"""The Anthropic operations: which SDK types, extractors and accumulator each one uses.

Imported only when ``anthropic`` is (it imports ``anthropic``). Nothing but bindings: the engine
(:class:`~agentotel.instrumentation._operation.Operation`, :mod:`~agentotel.instrumentation._sdk_hooks`)
does the rest. Three patch-point specials: ``messages.stream()`` (a manager that sends the request
when entered and keeps the raw stream in ``MessageStream._raw_stream``), the SDK's own
``start_api_call_span``, switched off inside our calls (one LLM span per HTTP call), and, on 0.x,
the instance check of the ``Stream`` / ``AsyncStream`` metaclass (see :func:`stream_instance_check`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from anthropic import AsyncStream, Stream
from anthropic._response import APIResponse, AsyncAPIResponse

from agentotel._safe import Boundary
from agentotel._telemetry import Telemetry
from agentotel.instrumentation import _sdk_hooks
from agentotel.instrumentation._operation import Operation, SdkTypes, server_of
from agentotel.instrumentation._streams import AsyncStreamProxy, SyncStreamProxy
from agentotel.instrumentation.anthropic import content, extract
from agentotel.instrumentation.anthropic.stream import MessageStreamAccumulator


def _legacy_raw() -> tuple[type, ...]:
    """``with_raw_response`` of ``anthropic`` 0.x returns a ``LegacyAPIResponse`` (its ``parse()`` is
    sync on the async client too); 1.0.0 removed it (``APIResponse`` / ``AsyncAPIResponse`` since)."""
    try:
        legacy = importlib.import_module("anthropic._legacy_response")
    except ImportError:
        return ()
    return (legacy.LegacyAPIResponse,)


SDK = SdkTypes(
    stream=Stream,
    async_stream=AsyncStream,
    raw=(APIResponse, *_legacy_raw()),
    async_raw=(AsyncAPIResponse,),
    server=server_of(extract.server_attributes),
    sends=True,  # the span starts in the client's request method (patched in __init__)
)


def messages(telemetry: Telemetry, boundary: Boundary) -> Operation:
    """``messages.create`` / ``parse`` (and ``beta.messages``)."""
    return Operation(
        telemetry,
        boundary,
        SDK,
        request=extract.request_attributes,
        response=extract.response_attributes,
        content_in=content.request_content,
        content_out=content.output_messages,
        accumulator=MessageStreamAccumulator,
        tool_results=content.tool_results,
    )


def stream_helper(telemetry: Telemetry, boundary: Boundary, is_async: bool) -> Callable[..., Any]:
    """``messages.stream(...)``: the stream proxy goes in ``MessageStream._raw_stream`` on enter."""
    return _sdk_hooks.entered_stream(messages(telemetry, boundary), "_raw_stream", is_async)


def sdk_span_switch(telemetry: Telemetry, boundary: Boundary) -> Callable[..., Any]:
    """The SDK's ``start_api_call_span``: no SDK span inside one of our LLM calls."""
    return _sdk_hooks.sdk_span_switch()


def _proxies_stream_of(cls: type, instance: Any) -> bool:
    return isinstance(instance, (SyncStreamProxy, AsyncStreamProxy)) and isinstance(instance.__wrapped__, cls)


def stream_instance_check(telemetry: Telemetry, boundary: Boundary) -> Callable[..., Any]:
    """``__instancecheck__`` of anthropic 0.x's ``Stream`` / ``AsyncStream`` metaclass.

    It answers true only for ``MessageStream`` (a back-compat shim), so only the exact class passes
    ``isinstance()`` (Python's own shortcut): our stream proxy of an SDK stream is made to pass too,
    as it does on 1.x and 2.x (plain classes, whose check sees the proxy's ``__class__``).
    """

    def wrapper(wrapped: Callable[..., Any], cls: type, args: Any, kwargs: Any) -> Any:
        result = wrapped(*args, **kwargs)
        if result or len(args) != 1:
            return result
        return boundary.call(False, _proxies_stream_of, cls, args[0])

    return wrapper
