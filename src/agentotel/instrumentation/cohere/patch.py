"""The Cohere operations: which SDK types, extractors and accumulator each one uses.

Imported only when ``cohere`` is (from the patch table). Nothing but
bindings: the engine (:class:`~agentotel.instrumentation._operation.Operation`) does the rest. The
raw client's ``chat_stream`` is a context manager that sends the request when entered and returns
an ``HttpResponse`` keeping the event generator in ``_data``: it is bound with
:func:`~agentotel.instrumentation._sdk_hooks.entered_stream`, which puts the engine's stream proxy
there. The raw client keeps its SDK client (key, base URL) in ``_client_wrapper``.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from types import AsyncGeneratorType, GeneratorType
from typing import Any

from agentotel._safe import Boundary
from agentotel._telemetry import Telemetry
from agentotel.instrumentation._operation import Operation, SdkTypes
from agentotel.instrumentation._sdk_hooks import entered_stream
from agentotel.instrumentation.cohere import content, extract
from agentotel.instrumentation.cohere.stream import ChatStreamAccumulator

SDK = SdkTypes(
    stream=GeneratorType,
    async_stream=AsyncGeneratorType,
    raw=(),
    async_raw=(),
    server=attrgetter("server"),  # a ClientView's server attributes, read once per client
    client=extract.client_of,
    sends=True,  # the span starts in httpx's Client.send / AsyncClient.send (patched in __init__)
)


def chat(telemetry: Telemetry, boundary: Boundary) -> Operation:
    """``RawV2Client.chat``: one ``/v2/chat`` request."""
    return Operation(
        telemetry,
        boundary,
        SDK,
        request=extract.chat_request_attributes,
        response=extract.chat_response_attributes,
        content_in=content.chat_request_content,
        content_out=content.chat_output_messages,
        accumulator=None,
        tool_results=content.tool_results,
    )


def chat_stream(telemetry: Telemetry, boundary: Boundary, is_async: bool) -> Callable[..., Any]:
    """``RawV2Client.chat_stream``: one streamed ``/v2/chat`` request, opened when entered."""
    op = Operation(
        telemetry,
        boundary,
        SDK,
        request=extract.chat_stream_request_attributes,
        response=extract.chat_response_attributes,
        content_in=content.chat_request_content,
        content_out=content.chat_output_messages,
        accumulator=ChatStreamAccumulator,
        tool_results=content.tool_results,
    )
    return entered_stream(op, "_data", is_async)


def embed(telemetry: Telemetry, boundary: Boundary) -> Operation:
    """``RawV2Client.embed``: one ``/v2/embed`` request."""
    return Operation(
        telemetry,
        boundary,
        SDK,
        request=extract.embed_request_attributes,
        response=extract.meta_response_attributes,
        content_in=content.embed_request_content,
        content_out=content.no_output,
        accumulator=None,
    )


def rerank(telemetry: Telemetry, boundary: Boundary) -> Operation:
    """``RawV2Client.rerank``: one ``/v2/rerank`` request."""
    return Operation(
        telemetry,
        boundary,
        SDK,
        request=extract.rerank_request_attributes,
        response=extract.meta_response_attributes,
        content_in=content.rerank_request_content,
        content_out=content.no_output,
        accumulator=None,
    )
