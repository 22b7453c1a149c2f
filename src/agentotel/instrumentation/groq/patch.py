"""The Groq operation: which SDK types, extractors and accumulator it uses.

Imported only when ``groq`` is (it imports ``groq``). Nothing but bindings: the engine
(:class:`~agentotel.instrumentation._operation.Operation`) does the rest.
"""

from __future__ import annotations

from groq import AsyncStream, Stream
from groq._response import APIResponse, AsyncAPIResponse

from agentotel._safe import Boundary
from agentotel._telemetry import Telemetry
from agentotel.instrumentation._operation import Operation, PlainStreams, SdkTypes, server_of
from agentotel.instrumentation.groq import content, extract
from agentotel.instrumentation.groq.stream import ChatStreamAccumulator, LastChunksAccumulator

SDK = SdkTypes(
    stream=Stream,
    async_stream=AsyncStream,
    raw=(APIResponse,),
    async_raw=(AsyncAPIResponse,),
    server=server_of(extract.server_attributes),
    sends=True,  # the span starts in the client's request method (patched in __init__)
)


def chat(telemetry: Telemetry, boundary: Boundary) -> Operation:
    """``chat.completions.create``."""
    return PlainStreams(
        telemetry,
        boundary,
        SDK,
        request=extract.request_attributes,
        response=extract.response_attributes,
        content_in=content.request_content,
        content_out=content.output_messages,
        accumulator=ChatStreamAccumulator,
        tool_results=content.tool_results,
        # A stream of one choice that cannot call a tool, content capture off, is read from its
        # first and last two chunks; any other chunk by chunk.
        plain=extract.one_plain_choice,
        last=LastChunksAccumulator,
    )
