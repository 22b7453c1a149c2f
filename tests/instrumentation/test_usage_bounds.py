"""Usage numbers out of range, and ``error.type`` past the cardinality limit.

A token count is a whole number in [0, 2**63-1]. A response reporting anything else for a usage
field (negative, not a whole number, beyond int64) records no tokens and no cost for that field: the
span leaves the attribute out and names it in ``agentotel.usage.invalid``, and the call is counted in
``agentotel.telemetry.errors``. The cost counter therefore never goes down.

The usage comes from a tiny local server that answers like the providers with the usage the prompt
asks for (a JSON object); the real SDKs call it over HTTP.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import anthropic
import openai
import pytest
from helpers import (
    CLAUDE,
    GPT,
    LocalHTTPServer,
    QuietHandler,
    attrs_of,
    instrumented,
    serve_in_background,
    stop_serving,
    user,
)

import agentotel
from agentotel import semconv
from agentotel.agent import configure
from agentotel.agent._layer import reset
from agentotel.config import METRIC_CARDINALITY_LIMIT
from agentotel.instrumentation.anthropic import AnthropicInstrumentor
from agentotel.instrumentation.openai import OpenAIInstrumentor
from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture

COST = "agentotel.llm.cost.usd"
TOKENS = "gen_ai.client.token.usage"
ERRORS = "agentotel.telemetry.errors"
INVALID = "agentotel.usage.invalid"
INT64_MAX = 2**63 - 1
# gpt-4o and claude-haiku-4-5 list prices, USD per token.
GPT_IN, GPT_OUT = 2.5e-6, 10e-6
CLAUDE_OUT, CLAUDE_CACHE_READ = 5e-6, 0.1e-6


# --------------------------------------------------------------------------- the usage server
class _UsageHandler(QuietHandler):
    """Answers a chat completion / Anthropic message with the usage its prompt gives as JSON."""

    def do_POST(self) -> None:
        request = json.loads(self.read_body())
        usage = json.loads(request["messages"][0]["content"])
        if self.path.startswith("/v1/messages"):
            body = {
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "model": "claude-haiku-4-5-20251001",
                "content": [{"type": "text", "text": "ok"}],
                "stop_reason": "end_turn",
                "stop_sequence": None,
                "usage": usage,
            }
            self.reply(200, "application/json", json.dumps(body).encode())
            return
        base = {"id": "chatcmpl-1", "created": 1, "model": "gpt-4o-2024-08-06"}
        if request.get("stream"):
            choice = {"index": 0, "delta": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}
            chunks = [
                {**base, "object": "chat.completion.chunk", "choices": [choice]},
                {**base, "object": "chat.completion.chunk", "choices": [], "usage": usage},
            ]
            data = b"".join(b"data: " + json.dumps(c).encode() + b"\n\n" for c in chunks)
            self.reply(200, "text/event-stream", data + b"data: [DONE]\n\n")
            return
        message = {"role": "assistant", "content": "ok"}
        body = {
            **base,
            "object": "chat.completion",
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": usage,
        }
        self.reply(200, "application/json", json.dumps(body).encode())


@pytest.fixture(scope="module")
def usage_server() -> Iterator[str]:
    server = LocalHTTPServer(_UsageHandler)
    thread = serve_in_background(server, "usage")
    yield f"http://127.0.0.1:{server.server_address[1]}"
    stop_serving(server, thread)


@pytest.fixture
def oai(usage_server: str, cap: TelemetryCapture) -> Iterator[openai.OpenAI]:
    with instrumented(cap, OpenAIInstrumentor):
        yield openai.OpenAI(base_url=f"{usage_server}/v1", api_key="sk-test-usage-0123456789", max_retries=0)


@pytest.fixture
def claude(usage_server: str, cap: TelemetryCapture) -> Iterator[anthropic.Anthropic]:
    with instrumented(cap, AnthropicInstrumentor):
        yield anthropic.Anthropic(
            base_url=usage_server, api_key="sk-ant-test-usage-0123456789", max_retries=0
        )


def chat(client: openai.OpenAI, **usage: Any) -> None:
    client.chat.completions.create(model=GPT, messages=user(json.dumps(usage)))


def tokens(cap: TelemetryCapture) -> dict[str, tuple[int, float]]:
    """(count, sum) of the token histogram by token type."""
    return {dict(p.attributes)["gen_ai.token.type"]: (p.count, p.sum) for p in cap.metric_points(TOKENS)}


def usage_errors(cap: TelemetryCapture, component: str) -> float:
    return cap.metric_sum(ERRORS, {"agentotel.component": component, "error.type": "agentotel.InvalidUsage"})


# --------------------------------------------------------------------------- usage out of range
def test_negative_usage_is_not_recorded_and_the_cost_counter_never_goes_down(
    cap: TelemetryCapture, oai: openai.OpenAI
) -> None:
    chat(oai, prompt_tokens=10, completion_tokens=5)
    first = cap.metric_sum(COST)
    chat(oai, prompt_tokens=-5, completion_tokens=5)
    second = cap.metric_sum(COST)

    assert first == pytest.approx(10 * GPT_IN + 5 * GPT_OUT, rel=1e-12)
    assert second == pytest.approx(first + 5 * GPT_OUT, rel=1e-12)  # output priced, input not
    bad = attrs_of(cap.spans()[1])
    assert "gen_ai.usage.input_tokens" not in bad
    assert bad["gen_ai.usage.output_tokens"] == 5
    assert bad[INVALID] == ("gen_ai.usage.input_tokens",)
    assert bad["agentotel.usage.cost_usd"] == pytest.approx(5 * GPT_OUT, rel=1e-12)
    assert INVALID not in attrs_of(cap.spans()[0])
    assert tokens(cap) == {"input": (1, 10), "output": (2, 10)}
    assert usage_errors(cap, "openai") == 1


def test_usage_beyond_int64_is_not_recorded(cap: TelemetryCapture, oai: openai.OpenAI) -> None:
    chat(oai, prompt_tokens=10, completion_tokens=2**64)

    span = attrs_of(cap.spans()[0])
    assert span["gen_ai.usage.input_tokens"] == 10
    assert "gen_ai.usage.output_tokens" not in span
    assert span[INVALID] == ("gen_ai.usage.output_tokens",)
    assert cap.metric_sum(COST) == pytest.approx(10 * GPT_IN, rel=1e-12)
    assert tokens(cap) == {"input": (1, 10)}
    assert usage_errors(cap, "openai") == 1


@pytest.mark.parametrize("value", [7.5, "7"], ids=["fraction", "string"])
def test_usage_that_is_not_a_whole_number_is_not_recorded(
    cap: TelemetryCapture, oai: openai.OpenAI, value: Any
) -> None:
    chat(oai, prompt_tokens=10, completion_tokens=value)

    span = attrs_of(cap.spans()[0])
    assert span["gen_ai.usage.input_tokens"] == 10
    assert "gen_ai.usage.output_tokens" not in span
    assert span[INVALID] == ("gen_ai.usage.output_tokens",)
    assert span["agentotel.usage.cost_usd"] == pytest.approx(10 * GPT_IN, rel=1e-12)
    assert cap.metric_sum(COST) == pytest.approx(10 * GPT_IN, rel=1e-12)
    assert tokens(cap) == {"input": (1, 10)}
    assert usage_errors(cap, "openai") == 1


def test_the_largest_int64_is_valid_usage(cap: TelemetryCapture, oai: openai.OpenAI) -> None:
    chat(oai, prompt_tokens=0, completion_tokens=INT64_MAX)

    span = attrs_of(cap.spans()[0])
    assert span["gen_ai.usage.output_tokens"] == INT64_MAX
    assert span["gen_ai.usage.input_tokens"] == 0
    assert INVALID not in span
    assert usage_errors(cap, "openai") == 0


def test_out_of_range_usage_details_are_left_out_too(cap: TelemetryCapture, oai: openai.OpenAI) -> None:
    chat(
        oai,
        prompt_tokens=10,
        completion_tokens=5,
        prompt_tokens_details={"cached_tokens": -3},
        completion_tokens_details={"reasoning_tokens": 2**70},
    )

    span = attrs_of(cap.spans()[0])
    assert span[INVALID] == ("gen_ai.usage.cache_read.input_tokens", "gen_ai.usage.reasoning.output_tokens")
    assert "gen_ai.usage.cache_read.input_tokens" not in span
    assert "gen_ai.usage.reasoning.output_tokens" not in span
    assert span["gen_ai.usage.input_tokens"] == 10
    assert cap.metric_sum(COST) == pytest.approx(10 * GPT_IN + 5 * GPT_OUT, rel=1e-12)
    assert usage_errors(cap, "openai") == 1  # one count per call


def test_a_streamed_negative_usage_is_not_recorded(cap: TelemetryCapture, oai: openai.OpenAI) -> None:
    stream = oai.chat.completions.create(
        model=GPT,
        messages=user(json.dumps({"prompt_tokens": 4, "completion_tokens": -1})),
        stream=True,
        stream_options={"include_usage": True},
    )
    for _ in stream:
        pass

    span = attrs_of(cap.spans()[0])
    assert span[INVALID] == ("gen_ai.usage.output_tokens",)
    assert cap.metric_sum(COST) == pytest.approx(4 * GPT_IN, rel=1e-12)
    assert tokens(cap) == {"input": (1, 4)}


@pytest.mark.parametrize(
    ("usage", "cost"),
    [
        ({"input_tokens": -50, "output_tokens": 7, "cache_read_input_tokens": 0}, 7 * CLAUDE_OUT),
        # A negative part is not hidden in the sum with the cache count; the valid fields keep
        # their cost (the cache reads and the output).
        (
            {"input_tokens": -10, "output_tokens": 7, "cache_read_input_tokens": 20},
            20 * CLAUDE_CACHE_READ + 7 * CLAUDE_OUT,
        ),
    ],
    ids=["negative input", "negative input part beside a cache count"],
)
def test_negative_anthropic_usage_is_not_recorded(
    cap: TelemetryCapture, claude: anthropic.Anthropic, usage: dict[str, int], cost: float
) -> None:
    claude.messages.create(model=CLAUDE, max_tokens=16, messages=user(json.dumps(usage)))

    span = attrs_of(cap.spans()[0])
    assert span[INVALID] == ("gen_ai.usage.input_tokens",)
    assert "gen_ai.usage.input_tokens" not in span
    assert span["gen_ai.usage.cache_read.input_tokens"] == usage["cache_read_input_tokens"]
    assert span["gen_ai.usage.output_tokens"] == 7
    assert cap.metric_sum(COST) == pytest.approx(cost, rel=1e-12)
    assert usage_errors(cap, "anthropic") == 1


def test_anthropic_usage_that_is_not_a_whole_number_is_not_recorded(
    cap: TelemetryCapture, claude: anthropic.Anthropic
) -> None:
    usage = {"input_tokens": 10, "output_tokens": 7, "cache_read_input_tokens": 2.5}
    claude.messages.create(model=CLAUDE, max_tokens=16, messages=user(json.dumps(usage)))

    span = attrs_of(cap.spans()[0])
    # The cache reads are part of the input: neither is a count any more.
    assert span[INVALID] == ("gen_ai.usage.input_tokens", "gen_ai.usage.cache_read.input_tokens")
    assert "gen_ai.usage.input_tokens" not in span
    assert "gen_ai.usage.cache_read.input_tokens" not in span
    assert span["gen_ai.usage.output_tokens"] == 7
    assert cap.metric_sum(COST) == pytest.approx(7 * CLAUDE_OUT, rel=1e-12)
    assert tokens(cap) == {"output": (1, 7)}
    assert usage_errors(cap, "anthropic") == 1


@pytest.mark.parametrize(
    ("calls", "expected"),
    [
        pytest.param([(10, 5), (-5, 5)], (10, 10), id="only_valid_usage"),
        # saturated, not dropped by OTLP
        pytest.param([(1, INT64_MAX), (1, INT64_MAX)], (2, INT64_MAX), id="stays_in_the_int64_range"),
    ],
)
def test_an_agent_round_sums_usage(
    agent_layer: TelemetryCapture, oai: openai.OpenAI, calls: list[tuple[int, int]], expected: tuple[int, int]
) -> None:
    """The round's usage is the sum of its calls' valid usage, at most the largest int64."""
    with agentotel.agent("planner"):
        for prompt_tokens, completion_tokens in calls:
            chat(oai, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens)

    [round_] = [s for s in agent_layer.spans() if s.name == "invoke_agent planner"]
    assert attrs_of(round_)["gen_ai.usage.input_tokens"] == expected[0]
    assert attrs_of(round_)["gen_ai.usage.output_tokens"] == expected[1]


# --------------------------------------------------------------------------- error.type cardinality
def _error_classes(count: int) -> list[type[Exception]]:
    return [type(f"Failure{i:03d}", (Exception,), {}) for i in range(count)]


def test_error_type_is_bounded_by_the_cardinality_guard(
    cap: TelemetryCapture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(METRIC_CARDINALITY_LIMIT, "20")
    configure(tracer_provider=cap.tracer_provider, meter_provider=cap.meter_provider)
    try:
        for cls in _error_classes(150):
            with pytest.raises(cls), agentotel.tool("lookup"):
                raise cls("boom")
    finally:
        reset()

    series = {dict(p.attributes).get("error.type") for p in cap.metric_points("agentotel.tool.duration")}
    assert len(series) == 21  # 20 error types, then _OTHER
    assert semconv.OTHER_VALUE in series
    assert cap.metric_count("agentotel.tool.duration", {"error.type": semconv.OTHER_VALUE}) == 130
    # The spans keep the real error type.
    assert len({attrs_of(s)["error.type"] for s in cap.spans()}) == 150


def test_llm_error_type_is_bounded_by_the_cardinality_guard(
    cap: TelemetryCapture, monkeypatch: pytest.MonkeyPatch, fake_llm: FakeLLMServer
) -> None:
    monkeypatch.setenv(METRIC_CARDINALITY_LIMIT, "1")
    client = openai.OpenAI(
        base_url=fake_llm.openai_base_url, api_key="sk-test-usage-0123456789", max_retries=0
    )
    with instrumented(cap, OpenAIInstrumentor):
        for scenario in ("rate_limit", "server_error", "rate_limit"):
            with pytest.raises(openai.APIStatusError):
                client.chat.completions.create(model=GPT, messages=user(f"[[scenario:{scenario}]]"))

    counts = {
        dict(p.attributes)["error.type"]: p.count
        for p in cap.metric_points("gen_ai.client.operation.duration")
    }
    assert counts == {"openai.RateLimitError": 2, semconv.OTHER_VALUE: 1}
    assert [attrs_of(s)["error.type"] for s in cap.spans()] == [
        "openai.RateLimitError",
        "openai.InternalServerError",
        "openai.RateLimitError",
    ]
