"""The Mistral operations: which SDK types, extractors and accumulator each one uses.

Imported only when ``mistralai`` is (it imports ``mistralai.client``). Nothing but bindings: the
engine (:class:`~agentotel.instrumentation._operation.Operation`) does the rest. The SDK's streams
are its ``EventStream`` / ``EventStreamAsync``; a resource's client is read from its
``sdk_configuration`` (:func:`.extract.client_of`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mistralai.client.utils.eventstreaming import EventStream, EventStreamAsync

from agentotel._safe import Boundary
from agentotel._telemetry import Telemetry
from agentotel.instrumentation._invocation import Invocation
from agentotel.instrumentation._operation import Operation, SdkTypes
from agentotel.instrumentation._streams import AsyncStreamProxy, SyncStreamProxy
from agentotel.instrumentation.mistralai import content, extract
from agentotel.instrumentation.mistralai.stream import ChatStreamAccumulator, LastEventsAccumulator

SDK = SdkTypes(
    stream=EventStream,
    async_stream=EventStreamAsync,
    raw=(),
    async_raw=(),
    server=extract.server_of,
    client=extract.client_of,
    secrets=extract.secrets_of,
    sends=True,  # the span starts in BaseSDK.do_request / do_request_async (patched in __init__)
)


def chat(telemetry: Telemetry, boundary: Boundary) -> Operation:
    """``chat.complete``."""
    return Operation(
        telemetry,
        boundary,
        SDK,
        request=extract.chat_request_attributes,
        response=extract.chat_response_attributes,
        content_in=content.chat_request_content,
        content_out=content.chat_output_messages,
        accumulator=ChatStreamAccumulator,
        tool_results=content.tool_results,
    )


class _ChatStream(Operation):
    """``chat.stream``: a request of one choice that cannot call a tool
    (:func:`.extract.one_plain_choice`), content capture off, is read with
    :class:`~.stream.LastEventsAccumulator` (nothing of ours runs per event); any other with
    :class:`~.stream.ChatStreamAccumulator`."""

    # What ``start`` found for its call, read by ``stream`` for that same call only (``is inv``):
    # a call of another thread or task started in between leaves another invocation here, and
    # this one is read event by event. (One invocation is kept until the next call at most.)
    _plain: tuple[Invocation, bool] | None = None

    def start(self, instance: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Invocation | None:
        plain = extract.one_plain_choice(kwargs)  # before the span: if it raises, no span is left open
        inv = super().start(instance, args, kwargs)
        if inv is not None:
            self._plain = (inv, plain)
        return inv

    def stream(self, inv: Invocation, stream: Any) -> Any:
        plain, self._plain = self._plain, None
        if plain is None or plain[0] is not inv or not plain[1] or inv.secrets is not None:
            return super().stream(inv, stream)
        if isinstance(stream, EventStreamAsync):
            return AsyncStreamProxy(stream, LastEventsAccumulator(False), inv)
        return SyncStreamProxy(stream, LastEventsAccumulator(False), inv)


def stream(telemetry: Telemetry, boundary: Boundary) -> Operation:
    """``chat.stream``."""
    return _ChatStream(
        telemetry,
        boundary,
        SDK,
        request=extract.stream_request_attributes,
        response=extract.chat_response_attributes,
        content_in=content.chat_request_content,
        content_out=content.chat_output_messages,
        accumulator=ChatStreamAccumulator,
        tool_results=content.tool_results,
    )


def embeddings(telemetry: Telemetry, boundary: Boundary) -> Operation:
    """``embeddings.create``."""
    return Operation(
        telemetry,
        boundary,
        SDK,
        request=extract.embeddings_request_attributes,
        response=extract.embeddings_response_attributes,
        content_in=content.embeddings_request_content,
        content_out=content.no_output,
        accumulator=None,
    )
