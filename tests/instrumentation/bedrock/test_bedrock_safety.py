"""Bedrock instrumentor, the safety boundary: each extract function, each content function, each
accumulator method and each piece of the patch raising leaves every call untouched (same result,
same number of requests), counted in ``agentotel.telemetry.errors``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from bedrock_helpers import CLAUDE, NOVA, WEATHER_TOOL, anthropic_body, make_client, said
from helpers import TELEMETRY_ERRORS, instrumented

from agentotel.instrumentation.bedrock import content, extract, invoke, patch
from agentotel.instrumentation.bedrock.stream import ConverseStreamAccumulator, InvokeStreamAccumulator
from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture

CAPTURE = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
QUESTION = "What is the weather in Paris?"
TOOLS = {"tools": [WEATHER_TOOL]}


class TelemetryBug(RuntimeError):
    """Stands for any bug in our own code."""


def _boom(*_args: Any, **_kwargs: Any) -> Any:
    raise TelemetryBug("agentotel bug (simulated)")


def _plain(response: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}


def workload(client: Any) -> list[Any]:
    """Every instrumented operation, a tool loop through each of the two APIs, every result read."""
    out: list[Any] = []
    first = client.converse(modelId=NOVA, messages=said(QUESTION), toolConfig=TOOLS)
    use = first["output"]["message"]["content"][0]["toolUse"]
    out.append(_plain(first))
    loop = [
        *said(QUESTION),
        {"role": "assistant", "content": [{"toolUse": use}]},
        {
            "role": "user",
            "content": [{"toolResult": {"toolUseId": use["toolUseId"], "content": [{"text": "Sunny"}]}}],
        },
    ]
    out.append(_plain(client.converse(modelId=NOVA, messages=loop, toolConfig=TOOLS)))
    out.append(
        list(client.converse_stream(modelId=NOVA, messages=said(QUESTION), toolConfig=TOOLS)["stream"])
    )
    tools = [{"name": "get_weather", "input_schema": WEATHER_TOOL["toolSpec"]["inputSchema"]["json"]}]
    body = json.loads(
        client.invoke_model(modelId=CLAUDE, body=anthropic_body(QUESTION, tools=tools))["body"].read()
    )
    out.append(body)
    messages = [
        {"role": "user", "content": QUESTION},
        {"role": "assistant", "content": body["content"]},
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": body["content"][0]["id"], "content": "Sunny"}],
        },
    ]
    again = json.dumps({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 100, "messages": messages})
    out.append(client.invoke_model(modelId=CLAUDE, body=again)["body"].read())
    stream = client.invoke_model_with_response_stream(modelId=CLAUDE, body=anthropic_body(QUESTION))
    out.append([e["chunk"]["bytes"] for e in stream["body"]])
    with pytest.raises(client.exceptions.ThrottlingException) as info:
        client.converse(modelId=NOVA, messages=said("[[scenario:rate_limit]]"))
    out.append(str(info.value))
    return out


@pytest.fixture
def plain_run(fresh_fake_llm: FakeLLMServer) -> Iterator[tuple[list[Any], int]]:
    """The workload's outcome and request count, uninstrumented."""
    fresh_fake_llm.clear()
    outcome = workload(make_client(fresh_fake_llm))
    yield outcome, len(fresh_fake_llm.requests)


TARGETS = [
    *[
        (extract, name)
        for name in (
            "converse_request_attributes",
            "converse_stream_request_attributes",
            "converse_response_attributes",
            "server_attributes",
        )
    ],
    *[
        (invoke, name)
        for name in (
            "invoke_request_attributes",
            "invoke_stream_request_attributes",
            "invoke_response_attributes",
        )
    ],
    *[
        (content, name)
        for name in (
            "converse_request_content",
            "invoke_request_content",
            "converse_output_messages",
            "invoke_output_messages",
            "converse_tool_results",
            "invoke_tool_results",
        )
    ],
    *[
        (acc, name)
        for acc in (ConverseStreamAccumulator, InvokeStreamAccumulator)
        for name in (
            "__init__",
            "process",
            "outcome",
            "output_messages",
        )
    ],
    (patch, "_resource"),
    (patch._Client, "__init__"),
    (patch._Stored, "__init__"),
]


@pytest.mark.parametrize(
    ("owner", "name"), TARGETS, ids=[f"{getattr(o, '__name__', o)}.{n}" for o, n in TARGETS]
)
def test_our_bug_leaves_every_call_untouched(
    cap: TelemetryCapture,
    fresh_fake_llm: FakeLLMServer,
    plain_run: tuple[list[Any], int],
    monkeypatch: pytest.MonkeyPatch,
    owner: Any,
    name: str,
) -> None:
    monkeypatch.setenv(CAPTURE, "SPAN_AND_EVENT")
    monkeypatch.setattr(owner, name, _boom)
    fresh_fake_llm.state.reset()
    fresh_fake_llm.clear()
    with instrumented(cap, patch_module_instrumentor()):
        traced = workload(make_client(fresh_fake_llm))

    assert traced == plain_run[0]
    assert len(fresh_fake_llm.requests) == plain_run[1]
    [point] = cap.metric_points(TELEMETRY_ERRORS)
    assert dict(point.attributes) == {
        "agentotel.component": "bedrock",
        "error.type": "test_bedrock_safety.TelemetryBug",
    }
    assert point.value >= 1


def patch_module_instrumentor() -> Any:
    from agentotel.instrumentation.bedrock import BedrockInstrumentor

    return BedrockInstrumentor
