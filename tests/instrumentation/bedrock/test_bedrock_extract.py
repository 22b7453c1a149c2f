"""Bedrock instrumentor, the pure parts without an exporter: request/response extractors of each
API and family, the stream accumulators on hand-made events, the patch point, and the cost of a
priced Bedrock model id."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import botocore.client
import pytest
import wrapt
from bedrock_helpers import NOVA, requires_converse_cache, said
from helpers import attrs_of, instrumented, only_span

from agentotel.instrumentation.bedrock import BedrockInstrumentor, extract, invoke
from agentotel.instrumentation.bedrock.stream import ConverseStreamAccumulator, InvokeStreamAccumulator
from agentotel.testing._capture import TelemetryCapture


def test_server_attributes_of_an_aws_endpoint() -> None:
    assert extract.server_attributes("https://bedrock-runtime.eu-west-3.amazonaws.com") == (
        ("gen_ai.provider.name", "aws.bedrock"),
        ("server.address", "bedrock-runtime.eu-west-3.amazonaws.com"),
        ("server.port", 443),
    )


def test_converse_request_ignores_values_of_the_wrong_type() -> None:
    attrs = extract.converse_request_attributes(
        {"modelId": NOVA, "inferenceConfig": {"maxTokens": True, "temperature": "hot", "stopSequences": [1]}}
    )
    assert attrs == {"gen_ai.operation.name": "chat", "gen_ai.request.model": NOVA}


def test_converse_response_without_usage() -> None:
    assert extract.converse_response_attributes({"stopReason": "end_turn", "output": {}}) == (
        {"gen_ai.response.finish_reasons": ["end_turn"]},
        None,
        None,
        None,
    )


@pytest.mark.parametrize(
    "usage",
    [
        {"inputTokens": 5, "outputTokens": 2},
        {"inputTokens": 5, "outputTokens": 2, "cacheReadInputTokens": 0, "cacheWriteInputTokens": 0},
        {"inputTokens": 5, "outputTokens": 2, "cacheReadInputTokens": 30, "cacheWriteInputTokens": 7},
        {"inputTokens": 5, "outputTokens": 2, "cacheReadInputTokens": 30},
        {"inputTokens": 5, "outputTokens": 2, "cacheReadInputTokens": -1, "cacheWriteInputTokens": 0},
        {"inputTokens": -4, "outputTokens": 2},
        {"inputTokens": 5, "outputTokens": 2.0, "cacheReadInputTokens": 0, "cacheWriteInputTokens": 0},
        {"inputTokens": True, "outputTokens": 2},
        {"outputTokens": 2},
        {},
        None,
        [5, 2],
    ],
)
def test_converse_usage_reads_every_usage_as_the_general_reader_does(usage: Any) -> None:
    # The dict fast path of every call against the reader of any usage: the same attributes, in
    # the same order, and the same token numbers.
    expected: dict[str, Any] = {}
    general = extract.Usage()
    general.update(usage, extract.CONVERSE_USAGE)
    tokens = general.put(expected)
    found: dict[str, Any] = {}

    assert extract.converse_usage(found, usage) == tokens
    assert list(found.items()) == list(expected.items())


def test_converse_response_tool_uses_among_text_blocks() -> None:
    message = {
        "role": "assistant",
        "content": [
            {"text": "Let me look."},
            {"toolUse": {"toolUseId": "t1", "name": "get_weather", "input": {"city": "Paris"}}},
            "not a block",
            {"toolUse": {"toolUseId": "t2", "name": "get_time", "input": {}}},
        ],
    }
    attrs, i, o, model = extract.converse_response_attributes(
        {
            "output": {"message": message},
            "stopReason": "tool_use",
            "usage": {"inputTokens": 9, "outputTokens": 4},
        }
    )

    assert attrs == {
        "gen_ai.response.finish_reasons": ["tool_use"],
        "agentotel.response.tool_calls.names": ["get_weather", "get_time"],
        "agentotel.response.tool_calls.ids": ["t1", "t2"],
        "gen_ai.usage.input_tokens": 9,
        "gen_ai.usage.output_tokens": 4,
    }
    assert (i, o, model) == (9, 4, None)


def test_invoke_request_never_reads_a_file_body(tmp_path: Path) -> None:
    with (tmp_path / "b.json").open("wb+") as body:
        body.write(b'{"max_tokens": 5}')
        body.seek(0)
        attrs = invoke.invoke_request_attributes({"modelId": "anthropic.claude-x", "body": body})
        assert body.tell() == 0
    assert attrs == {"gen_ai.operation.name": "chat", "gen_ai.request.model": "anthropic.claude-x"}


def test_invoke_request_cross_region_profile_is_read_by_its_family() -> None:
    body = json.dumps({"max_tokens": 7, "top_k": 3})
    attrs = invoke.invoke_request_attributes(
        {"modelId": "us.anthropic.claude-3-7-sonnet-20250219-v1:0", "body": body}
    )
    assert attrs["gen_ai.request.max_tokens"] == 7
    assert attrs["gen_ai.request.top_k"] == 3.0


def test_invoke_response_headers_give_the_tokens_of_any_family() -> None:
    response = {
        "body": b"not json",
        "ResponseMetadata": {
            "HTTPHeaders": {
                "x-amzn-bedrock-input-token-count": "12",
                "x-amzn-bedrock-output-token-count": "3",
            }
        },
    }
    assert invoke.invoke_response_attributes(response) == (
        {"gen_ai.usage.input_tokens": 12, "gen_ai.usage.output_tokens": 3},
        12,
        3,
        None,
    )


def _chunk(data: dict[str, Any]) -> dict[str, Any]:
    return {"chunk": {"bytes": json.dumps(data).encode()}}


def test_converse_stream_accumulator_keeps_no_text_without_capture() -> None:
    acc = ConverseStreamAccumulator(False)
    acc.process({"contentBlockDelta": {"delta": {"text": "hi"}, "contentBlockIndex": 0}})
    acc.process({"messageStop": {"stopReason": "max_tokens"}})
    acc.process({"metadata": {"usage": {"inputTokens": 4, "outputTokens": 1, "totalTokens": 5}}})

    assert acc.outcome() == (
        {
            "gen_ai.response.finish_reasons": ["max_tokens"],
            "gen_ai.usage.input_tokens": 4,
            "gen_ai.usage.output_tokens": 1,
        },
        4,
        1,
        None,
    )
    assert acc.output_messages() == []


def test_invoke_stream_accumulator_anthropic_usage_replaces_never_adds() -> None:
    acc = InvokeStreamAccumulator(True)
    acc.process(
        _chunk(
            {
                "type": "message_start",
                "message": {"id": "m1", "model": "claude", "usage": {"input_tokens": 9, "output_tokens": 1}},
            }
        )
    )
    acc.process(
        _chunk({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}})
    )
    acc.process(
        _chunk({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi"}})
    )
    acc.process(
        _chunk({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 2}})
    )
    acc.process(
        _chunk({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 4}})
    )
    acc.process(
        _chunk(
            {
                "type": "message_stop",
                "amazon-bedrock-invocationMetrics": {"inputTokenCount": 9, "outputTokenCount": 4},
            }
        )
    )

    attrs, i, o, model = acc.outcome()
    assert (i, o, model) == (9, 4, "claude")
    assert attrs["gen_ai.response.id"] == "m1"
    assert acc.output_messages() == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Hi"}], "finish_reason": "end_turn"}
    ]


def test_invoke_stream_accumulator_unknown_family_uses_the_invocation_metrics() -> None:
    acc = InvokeStreamAccumulator(False)
    acc.process(_chunk({"outputText": "x"}))
    acc.process(
        _chunk(
            {
                "outputText": "y",
                "amazon-bedrock-invocationMetrics": {"inputTokenCount": 3, "outputTokenCount": 2},
            }
        )
    )

    assert acc.outcome()[1:3] == (3, 2)


def test_the_one_patch_point_exists_and_is_restored() -> None:
    [patch] = BedrockInstrumentor().patches
    assert (patch.module, patch.name) == ("botocore.client", "BaseClient._make_api_call")
    assert patch.owner() == (botocore.client.BaseClient, "_make_api_call")
    original = vars(botocore.client.BaseClient)["_make_api_call"]
    instrumentor = BedrockInstrumentor()
    instrumentor.instrument(tracer_provider=TelemetryCapture().tracer_provider)
    assert isinstance(vars(botocore.client.BaseClient)["_make_api_call"], wrapt.FunctionWrapper)
    instrumentor.uninstrument()
    assert vars(botocore.client.BaseClient)["_make_api_call"] is original


@requires_converse_cache
def test_a_priced_bedrock_model_id_gets_its_cost(
    cap: TelemetryCapture, bedrock: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps({"models": {NOVA: {"input": 0.8, "output": 3.2, "cache_read": 0.2}}}))
    monkeypatch.setenv("AGENTOTEL_PRICING_FILE", str(prices))
    with instrumented(cap, BedrockInstrumentor):
        bedrock.converse(modelId=NOVA, messages=said("What is the weather in Paris? [[scenario:cached:2]]"))

    attrs = attrs_of(only_span(cap))
    # 7 input tokens (2 of them cached) and 6 output tokens.
    assert attrs["gen_ai.usage.input_tokens"] == 7
    assert attrs["agentotel.usage.cost_usd"] == pytest.approx((5 * 0.8 + 2 * 0.2 + 6 * 3.2) / 1e6, rel=1e-12)


@pytest.mark.parametrize(
    "model_id",
    [NOVA, f"us.{NOVA}", f"arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.{NOVA}"],
)
def test_a_nova_converse_call_gets_the_shipped_price(
    cap: TelemetryCapture, bedrock: Any, model_id: str
) -> None:
    """Nova Pro ships priced ($0.80 input, $3.20 output per million tokens, us-east-1), under its
    model id, its US cross-region inference profile and their ARNs."""
    with instrumented(cap, BedrockInstrumentor):
        bedrock.converse(modelId=model_id, messages=said("What is the weather in Paris?"))

    attrs = attrs_of(only_span(cap))
    assert attrs["gen_ai.request.model"] == model_id
    # 6 input tokens and 6 output tokens.
    assert (attrs["gen_ai.usage.input_tokens"], attrs["gen_ai.usage.output_tokens"]) == (6, 6)
    assert attrs["agentotel.usage.cost_usd"] == pytest.approx((6 * 0.8 + 6 * 3.2) / 1e6, rel=1e-12)
    labels = {"gen_ai.provider.name": "aws.bedrock", "gen_ai.request.model": model_id}
    assert cap.metric_sum("agentotel.llm.cost.usd", labels) == pytest.approx(
        (6 * 0.8 + 6 * 3.2) / 1e6, rel=1e-12
    )
    assert cap.metric_sum("agentotel.llm.cost.unpriced") == 0


@pytest.mark.parametrize(
    "model_id", [f"eu.{NOVA}", f"global.{NOVA}", "anthropic.claude-sonnet-4-5-20250929-v1:0"]
)
def test_bedrock_calls_without_a_read_price_stay_unpriced(
    cap: TelemetryCapture, bedrock: Any, model_id: str
) -> None:
    """Other geographies' profiles, the global one and Claude on Bedrock cost otherwise than the
    prices shipped (us-east-1 Nova, Anthropic's direct list): no cost, a count."""
    with instrumented(cap, BedrockInstrumentor):
        bedrock.converse(modelId=model_id, messages=said("What is the weather in Paris?"))

    assert "agentotel.usage.cost_usd" not in attrs_of(only_span(cap))
    assert cap.metric_sum("agentotel.llm.cost.unpriced", {"gen_ai.request.model": model_id}) == 1


def test_the_extra_pins_the_instrumentor_range() -> None:
    import tomllib
    from packaging.requirements import Requirement

    project = tomllib.loads((Path(__file__).parents[3] / "pyproject.toml").read_text())["project"]
    [supported] = BedrockInstrumentor().instrumentation_dependencies()
    pinned = {
        Requirement(r).name: Requirement(r).specifier for r in project["optional-dependencies"]["bedrock"]
    }
    assert pinned["botocore"] == Requirement(supported).specifier
    assert str(pinned["boto3"]) == ">=1.34.116"
    assert "bedrock" in project["optional-dependencies"]["all"][0]
    entry = project["entry-points"]["opentelemetry_instrumentor"]["agentotel_bedrock"]
    assert entry == "agentotel.instrumentation.bedrock:BedrockInstrumentor"
