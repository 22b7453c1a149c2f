"""The Mistral operations: which SDK types, extractors and accumulator each one uses.

Imported only when ``mistralai`` is (it imports ``mistralai.client``). Nothing but bindings: the
engine (:class:`~agentotel.instrumentation._operation.Operation`) does the rest. The SDK's streams
are its ``EventStream`` / ``EventStreamAsync``; a resource's client is read from its
``sdk_configuration`` (:func:`.extract.client_of`).
"""

from __future__ import annotations

from mistralai.client.utils.eventstreaming import EventStream, EventStreamAsync

from agentotel._safe import Boundary
from agentotel._telemetry import Telemetry
from agentotel.instrumentation._operation import Operation, PlainStreams, SdkTypes
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


def stream(telemetry: Telemetry, boundary: Boundary) -> Operation:
    """``chat.stream``: a request of one choice that cannot call a tool (:func:`.extract.one_plain_choice`),
    content capture off, is read from its last two events; any other event by event."""
    return PlainStreams(
        telemetry,
        boundary,
        SDK,
        request=extract.stream_request_attributes,
        response=extract.chat_response_attributes,
        content_in=content.chat_request_content,
        content_out=content.chat_output_messages,
        accumulator=ChatStreamAccumulator,
        tool_results=content.tool_results,
        # A request of one choice that cannot call a tool, content capture off, is read from
        # its last two events (``.stream.LastEventsAccumulator``).
        plain=extract.one_plain_choice,
        last=LastEventsAccumulator,
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
