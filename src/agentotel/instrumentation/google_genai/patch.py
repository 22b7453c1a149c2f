"""The Google GenAI operations: which SDK types, extractors and accumulator each one uses.

Imported only when ``google.genai`` is (it imports ``google.genai``). Nothing but bindings: the
engine (:class:`~agentotel.instrumentation._operation.Operation`) does the rest. The SDK's streams
are plain generators (``Models._generate_content_stream``) and async generators (what awaiting
``AsyncModels._generate_content_stream`` returns); its resources keep their client in
``_api_client``.
"""

from __future__ import annotations

from operator import attrgetter
from types import AsyncGeneratorType, GeneratorType

from agentotel._safe import Boundary
from agentotel._telemetry import Telemetry
from agentotel.instrumentation._operation import Operation, SdkTypes
from agentotel.instrumentation.google_genai import content, extract
from agentotel.instrumentation.google_genai.stream import GenerateContentAccumulator

SDK = SdkTypes(
    stream=GeneratorType,
    async_stream=AsyncGeneratorType,
    raw=(),
    async_raw=(),
    server=extract.server_attributes,
    client=attrgetter("_api_client"),
)


def generate(telemetry: Telemetry, boundary: Boundary) -> Operation:
    """``Models._generate_content``: one ``generateContent`` request."""
    return Operation(
        telemetry,
        boundary,
        SDK,
        request=extract.request_attributes,
        response=extract.response_attributes,
        content_in=content.request_content,
        content_out=content.output_messages,
        accumulator=None,
        tool_results=content.tool_results,
    )


def stream(telemetry: Telemetry, boundary: Boundary) -> Operation:
    """``Models._generate_content_stream``: one ``streamGenerateContent`` request."""
    return Operation(
        telemetry,
        boundary,
        SDK,
        request=extract.stream_request_attributes,
        response=extract.response_attributes,
        content_in=content.request_content,
        content_out=content.output_messages,
        accumulator=GenerateContentAccumulator,
        tool_results=content.tool_results,
    )


def embed(telemetry: Telemetry, boundary: Boundary) -> Operation:
    """``embed_content``: one ``embedContent`` / ``batchEmbedContents`` / ``predict`` request."""
    return Operation(
        telemetry,
        boundary,
        SDK,
        request=extract.embed_request_attributes,
        response=extract.embed_response_attributes,
        content_in=content.embed_request_content,
        content_out=content.no_output,
        accumulator=None,
    )
