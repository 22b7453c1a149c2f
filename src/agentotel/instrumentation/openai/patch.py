"""The OpenAI operations: which SDK types, extractors and accumulator each one uses.

Imported only when ``openai`` is (it imports ``openai``). Nothing but bindings: the engine
(:class:`~agentotel.instrumentation._operation.Operation`) does the rest.
"""

from __future__ import annotations

from openai import AsyncStream, Stream
from openai._legacy_response import LegacyAPIResponse
from openai._response import APIResponse, AsyncAPIResponse

from agentotel._safe import Boundary
from agentotel._telemetry import Telemetry
from agentotel.instrumentation._operation import Operation, SdkTypes, server_of
from agentotel.instrumentation.openai import content, extract
from agentotel.instrumentation.openai.stream import ChatStreamAccumulator, ResponsesStreamAccumulator

SDK = SdkTypes(
    stream=Stream,
    async_stream=AsyncStream,
    raw=(LegacyAPIResponse, APIResponse),
    async_raw=(AsyncAPIResponse,),
    server=server_of(extract.server_attributes),
    sends=True,  # the span starts in the client's request method (patched in __init__)
)


def chat(telemetry: Telemetry, boundary: Boundary) -> Operation:
    """``chat.completions.create`` / ``parse``."""
    return Operation(
        telemetry,
        boundary,
        SDK,
        request=extract.chat_request_attributes,
        response=extract.chat_response_attributes,
        content_in=content.chat_request_content,
        content_out=content.chat_output_messages,
        accumulator=ChatStreamAccumulator,
        tool_results=content.chat_tool_results,
    )


def responses(telemetry: Telemetry, boundary: Boundary) -> Operation:
    """``responses.create`` / ``parse``."""
    return Operation(
        telemetry,
        boundary,
        SDK,
        request=extract.responses_request_attributes,
        response=extract.responses_response_attributes,
        content_in=content.responses_request_content,
        content_out=content.responses_output_messages,
        accumulator=ResponsesStreamAccumulator,
        tool_results=content.responses_tool_results,
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
