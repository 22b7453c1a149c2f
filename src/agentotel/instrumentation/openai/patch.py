"""The OpenAI operations: which extractors, accumulators and SDK types each one uses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from openai import AsyncStream, Stream
from openai._legacy_response import LegacyAPIResponse
from openai._response import APIResponse, AsyncAPIResponse

from agentotel._invocation import Telemetry
from agentotel.instrumentation._operation import Operation, SdkTypes, server_of
from agentotel.instrumentation.openai import extract
from agentotel.instrumentation.openai.stream import ChatStreamAccumulator, ResponsesStreamAccumulator

SDK = SdkTypes(
    stream=Stream,
    async_stream=AsyncStream,
    raw=(LegacyAPIResponse, APIResponse),
    async_raw=(AsyncAPIResponse,),
    server=server_of(extract.server_attributes),
)


def _chat_input(kw: Mapping[str, Any]) -> dict[str, Any]:
    return {"inputs": extract.chat_input_messages(kw.get("messages") or ()), "tools": kw.get("tools")}


def _responses_input(kw: Mapping[str, Any]) -> dict[str, Any]:
    instructions = kw.get("instructions")
    system = [{"type": "text", "content": instructions}] if isinstance(instructions, str) else None
    return {
        "system": system,
        "inputs": extract.responses_input_messages(kw.get("input")),
        "tools": kw.get("tools"),
    }


def _embeddings_input(kw: Mapping[str, Any]) -> dict[str, Any]:
    return {"inputs": [{"role": "user", "parts": [{"type": "text", "content": kw.get("input")}]}]}


def _no_output(_: Any) -> None:
    return None


def chat(telemetry: Telemetry) -> Operation:
    """``chat.completions.create`` / ``parse``."""
    return Operation(
        telemetry,
        SDK,
        extract.chat_request_attributes,
        extract.chat_response_attributes,
        _chat_input,
        extract.chat_output_messages,
        ChatStreamAccumulator,
        extract.chat_tool_results,
    )


def responses(telemetry: Telemetry) -> Operation:
    """``responses.create`` / ``parse``."""
    return Operation(
        telemetry,
        SDK,
        extract.responses_request_attributes,
        extract.responses_response_attributes,
        _responses_input,
        extract.responses_output_messages,
        ResponsesStreamAccumulator,
        extract.responses_tool_results,
    )


def embeddings(telemetry: Telemetry) -> Operation:
    """``embeddings.create``."""
    return Operation(
        telemetry,
        SDK,
        extract.embeddings_request_attributes,
        extract.embeddings_response_attributes,
        _embeddings_input,
        _no_output,
        None,
    )
