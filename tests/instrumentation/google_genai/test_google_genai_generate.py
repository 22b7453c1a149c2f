"""``models.generate_content`` / ``embed_content`` (sync and ``client.aio``), chats and the
function-calling loop through the real ``google-genai`` SDK against the fake server over HTTP:
one CLIENT span per request the server sees, with exact attributes, usage, errors and metrics."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import tomllib
from google.genai import errors, types
from google_genai_helpers import (
    EMBED_MODEL,
    MODEL,
    QUESTION,
    REPLY,
    SPAN_NAME,
    WEATHER_TOOL,
    gemini_client,
    get_weather,
    is_async,
    reply_attrs,
    request_attrs,
    response_ids,
)
from helpers import instrumented, resolve
from opentelemetry.trace import SpanKind, StatusCode
from packaging.requirements import Requirement

from agentotel._registry import available
from agentotel.instrumentation.google_genai import GoogleGenAIInstrumentor
from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture

NO_AFC = types.AutomaticFunctionCallingConfig(disable=True)


def llm_spans(cap: TelemetryCapture) -> list[Any]:
    return [s for s in cap.spans() if s.kind is SpanKind.CLIENT]


async def test_generate_content_span(
    genai_instrumented: TelemetryCapture, models: Any, fake_llm: FakeLLMServer
) -> None:
    response = await resolve(models.generate_content(model=MODEL, contents=QUESTION))

    assert response.text == REPLY
    assert len(fake_llm.requests) == 1
    [span] = genai_instrumented.spans()
    assert span.name == SPAN_NAME
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    assert dict(span.attributes) == {**request_attrs(fake_llm), **reply_attrs("resp_1")}


async def test_config_gives_request_attributes(
    genai_instrumented: TelemetryCapture, models: Any, fake_llm: FakeLLMServer
) -> None:
    config = types.GenerateContentConfig(
        temperature=0.25,
        top_p=0.5,
        top_k=40,
        max_output_tokens=100,
        stop_sequences=["END"],
        seed=7,
        presence_penalty=0.1,
        frequency_penalty=0.2,
        response_mime_type="application/json",
    )
    await resolve(models.generate_content(model=MODEL, contents=QUESTION, config=config))

    [span] = genai_instrumented.spans()
    assert dict(span.attributes) == {
        **request_attrs(fake_llm),
        **reply_attrs("resp_1"),
        "gen_ai.request.temperature": 0.25,
        "gen_ai.request.top_p": 0.5,
        "gen_ai.request.top_k": 40.0,
        "gen_ai.request.max_tokens": 100,
        "gen_ai.request.stop_sequences": ("END",),
        "gen_ai.request.seed": 7,
        "gen_ai.request.presence_penalty": 0.1,
        "gen_ai.request.frequency_penalty": 0.2,
        "gen_ai.output.type": "json",
    }


async def test_config_as_a_dict(genai_instrumented: TelemetryCapture, models: Any) -> None:
    config = {"max_output_tokens": 3, "temperature": 1}
    response = await resolve(models.generate_content(model=MODEL, contents=QUESTION, config=config))

    assert response.text == "Hello from the"
    [span] = genai_instrumented.spans()
    assert span.attributes["gen_ai.request.max_tokens"] == 3
    assert span.attributes["gen_ai.request.temperature"] == 1.0
    assert span.attributes["gen_ai.response.finish_reasons"] == ("max_tokens",)
    assert span.attributes["gen_ai.usage.output_tokens"] == 3


async def test_cached_and_thought_tokens(
    genai_instrumented: TelemetryCapture, models: Any, fake_llm: FakeLLMServer
) -> None:
    text = f"{QUESTION} [[scenario:cached:4]] [[scenario:reasoning:3]]"
    response = await resolve(models.generate_content(model=MODEL, contents=text))

    usage = response.usage_metadata
    assert (usage.prompt_token_count, usage.cached_content_token_count) == (8, 4)
    assert (usage.candidates_token_count, usage.thoughts_token_count) == (6, 3)
    [span] = genai_instrumented.spans()
    assert dict(span.attributes) == {
        **request_attrs(fake_llm),
        **reply_attrs("resp_1", input_tokens=8, output_tokens=9),
        "gen_ai.usage.cache_read.input_tokens": 4,
        "gen_ai.usage.reasoning.output_tokens": 3,
    }
    metric = {"gen_ai.operation.name": "generate_content", "gen_ai.provider.name": "gcp.gemini"}
    assert (
        genai_instrumented.metric_sum("gen_ai.client.token.usage", {**metric, "gen_ai.token.type": "input"})
        == 8
    )
    assert (
        genai_instrumented.metric_sum("gen_ai.client.token.usage", {**metric, "gen_ai.token.type": "output"})
        == 9
    )
    assert genai_instrumented.metric_count("gen_ai.client.operation.duration", metric) == 1


HTTP_ERRORS = [
    pytest.param("[[scenario:rate_limit]]", errors.ClientError, 429, "RESOURCE_EXHAUSTED", id="429"),
    pytest.param("[[scenario:bad_request]]", errors.ClientError, 400, "INVALID_ARGUMENT", id="400"),
    pytest.param("[[scenario:server_error]]", errors.ServerError, 500, "INTERNAL", id="500"),
    pytest.param("[[scenario:overloaded]]", errors.ServerError, 503, "UNAVAILABLE", id="503"),
]


@pytest.mark.parametrize(("marker", "error", "code", "status"), HTTP_ERRORS)
async def test_http_error(
    genai_instrumented: TelemetryCapture,
    models: Any,
    fake_llm: FakeLLMServer,
    marker: str,
    error: type[Exception],
    code: int,
    status: str,
) -> None:
    with pytest.raises(error) as raised:
        await resolve(models.generate_content(model=MODEL, contents=f"{QUESTION} {marker}"))

    assert type(raised.value) is error
    assert (raised.value.code, raised.value.status) == (code, status)
    assert len(fake_llm.requests) == 1  # no retry by default: one request, one span
    [span] = genai_instrumented.spans()
    error_type = f"google.genai.errors.{error.__name__}"
    assert span.status.status_code is StatusCode.ERROR
    assert dict(span.attributes) == {**request_attrs(fake_llm), "error.type": error_type}
    [event] = span.events
    assert event.name == "exception"
    assert event.attributes["exception.type"] == error_type
    metric = {"gen_ai.operation.name": "generate_content", "error.type": error_type}
    assert genai_instrumented.metric_count("gen_ai.client.operation.duration", metric) == 1
    assert genai_instrumented.metric_count("gen_ai.client.token.usage") == 0


async def test_vertex_ai_client(genai_instrumented: TelemetryCapture, fresh_fake_llm: FakeLLMServer) -> None:
    """Vertex AI in express mode (an API key): the SDK's Vertex paths, provider ``gcp.vertex_ai``."""
    fresh_fake_llm.clear()
    client = gemini_client(fresh_fake_llm, vertexai=True)
    client.models.generate_content(model=MODEL, contents=QUESTION)
    await client.aio.models.generate_content(model=MODEL, contents=QUESTION)

    assert [r.path for r in fresh_fake_llm.requests] == [
        f"/v1beta1/publishers/google/models/{MODEL}:generateContent"
    ] * 2
    spans = genai_instrumented.spans()
    assert [dict(s.attributes) for s in spans] == [
        {**request_attrs(fresh_fake_llm, provider="gcp.vertex_ai"), **reply_attrs(f"resp_{n}", vertex=True)}
        for n in (1, 2)
    ]


@pytest.mark.parametrize("contents", [["one two three"], ["one two", "three"]], ids=["one", "batch"])
async def test_embed_content(
    genai_instrumented: TelemetryCapture, models: Any, fake_llm: FakeLLMServer, contents: list[str]
) -> None:
    config = types.EmbedContentConfig(output_dimensionality=4)
    result = await resolve(models.embed_content(model=EMBED_MODEL, contents=contents, config=config))

    assert [len(e.values) for e in result.embeddings] == [4] * len(contents)
    assert len(fake_llm.requests) == 1
    [span] = genai_instrumented.spans()
    assert span.name == f"embeddings {EMBED_MODEL}"
    assert dict(span.attributes) == {
        "gen_ai.operation.name": "embeddings",
        "gen_ai.provider.name": "gcp.gemini",
        "gen_ai.request.model": EMBED_MODEL,
        "gen_ai.embeddings.dimension.count": 4,
        "server.address": "127.0.0.1",
        "server.port": fake_llm.port,
    }


async def test_embed_content_error(genai_instrumented: TelemetryCapture, models: Any) -> None:
    with pytest.raises(errors.ClientError):
        await resolve(models.embed_content(model=EMBED_MODEL, contents=["[[scenario:bad_request]]"]))
    [span] = genai_instrumented.spans()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == "google.genai.errors.ClientError"


async def test_chat_send_message_is_one_span_per_send(
    genai_instrumented: TelemetryCapture, gclient: Any, fake_llm: FakeLLMServer
) -> None:
    for chats in (gclient.chats, gclient.aio.chats):
        chat = chats.create(model=MODEL)
        await resolve(chat.send_message(QUESTION))
        await resolve(chat.send_message("And tomorrow?"))

    assert len(fake_llm.requests) == 4
    spans = genai_instrumented.spans()
    assert [s.name for s in spans] == [SPAN_NAME] * 4
    # The second message of a chat sends the history: 6 + 6 + 2 words.
    assert [s.attributes["gen_ai.usage.input_tokens"] for s in spans] == [6, 14, 6, 14]
    assert [s.attributes.get("gen_ai.response.id") for s in spans] == response_ids(1, 2, 3, 4)


async def test_automatic_function_calling_is_one_span_per_model_call(
    genai_instrumented: TelemetryCapture, models: Any, fake_llm: FakeLLMServer
) -> None:
    """The SDK calls the model, runs the function, calls the model again: two LLM spans, and the
    function's run between them as an inferred ``execute_tool`` span joined by the call id."""
    config = types.GenerateContentConfig(tools=[get_weather])
    response = await resolve(models.generate_content(model=MODEL, contents=QUESTION, config=config))

    assert response.text == REPLY
    assert len(fake_llm.requests) == 2
    first, tool, second = genai_instrumented.spans()
    assert first.name == second.name == SPAN_NAME
    call_ids = first.attributes["agentotel.response.tool_calls.ids"]
    assert first.attributes["agentotel.response.tool_calls.names"] == ("get_weather",)
    assert len(call_ids) == 1 and call_ids[0].startswith("get_weather:") and call_ids[0].endswith(":0")
    assert tool.name == "execute_tool get_weather"
    assert dict(tool.attributes) == {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "get_weather",
        "gen_ai.tool.call.id": call_ids[0],
        "gen_ai.tool.type": "function",
        "agentotel.tool.inferred": True,
    }
    assert tool.status.status_code is StatusCode.UNSET
    assert first.end_time <= tool.start_time <= tool.end_time <= second.start_time
    assert "agentotel.response.tool_calls.ids" not in second.attributes


def _call_turn(models: Any) -> Any:
    return models.generate_content(
        model=MODEL,
        contents=QUESTION,
        config=types.GenerateContentConfig(tools=[WEATHER_TOOL], automatic_function_calling=NO_AFC),
    )


@pytest.mark.parametrize(
    ("result", "failed"), [({"output": "sunny"}, False), ({"error": "no such city"}, True)]
)
async def test_function_response_sent_back_gives_an_inferred_tool_span(
    genai_instrumented: TelemetryCapture, models: Any, result: dict[str, str], failed: bool
) -> None:
    """The app's own tool loop: it sends the model turn back with a ``function_response`` part."""
    first = await resolve(_call_turn(models))
    [call] = first.function_calls
    assert (call.name, call.args, call.id) == ("get_weather", {"city": "Paris"}, None)
    history = [
        types.Content(role="user", parts=[types.Part.from_text(text=QUESTION)]),
        first.candidates[0].content,
        types.Content(
            role="user", parts=[types.Part.from_function_response(name="get_weather", response=result)]
        ),
    ]
    second = await resolve(models.generate_content(model=MODEL, contents=history))
    assert second.text == REPLY

    llm_first, tool, llm_second = genai_instrumented.spans()
    [call_id] = llm_first.attributes["agentotel.response.tool_calls.ids"]
    assert tool.attributes["gen_ai.tool.call.id"] == call_id
    assert tool.attributes["gen_ai.tool.name"] == "get_weather"
    if failed:
        assert tool.status.status_code is StatusCode.ERROR
        assert tool.attributes["error.type"] == "tool_error"
    else:
        assert tool.status.status_code is StatusCode.UNSET
    assert [llm_second.attributes.get("gen_ai.response.id")] == response_ids(2)


async def test_function_response_without_the_model_turn_gives_no_tool_span(
    genai_instrumented: TelemetryCapture, models: Any
) -> None:
    """The join needs the model turn that asked for the call in the history: without it, no span."""
    await resolve(_call_turn(models))
    response = types.Part.from_function_response(name="get_weather", response={"output": "sunny"})
    await resolve(
        models.generate_content(model=MODEL, contents=[types.Content(role="user", parts=[response])])
    )

    assert [s.name for s in genai_instrumented.spans()] == [SPAN_NAME, SPAN_NAME]


def test_registered_entry_point_and_supported_range() -> None:
    """``agentotel.instrument()`` finds the instrumentor through its entry point."""
    assert available()["agentotel_google_genai"] is GoogleGenAIInstrumentor
    assert GoogleGenAIInstrumentor().instrumentation_dependencies() == ("google-genai >= 1.10.0, < 4",)
    # ``pip install agentotel[google-genai]`` allows exactly the versions the instrumentor patches.
    project = tomllib.loads((Path(__file__).parents[3] / "pyproject.toml").read_text())["project"]
    [extra] = project["optional-dependencies"]["google-genai"]
    assert Requirement(extra).specifier == Requirement("google-genai >= 1.10.0, < 4").specifier


async def test_uninstrument_stops_the_spans(cap: TelemetryCapture, gclient: Any) -> None:
    instrumentor = GoogleGenAIInstrumentor()
    instrumentor.instrument(**cap.providers)
    gclient.models.generate_content(model=MODEL, contents=QUESTION)
    instrumentor.uninstrument()
    gclient.models.generate_content(model=MODEL, contents=QUESTION)
    await gclient.aio.models.generate_content(model=MODEL, contents=QUESTION)
    assert len(cap.spans()) == 1


def test_is_async_helper(gclient: Any) -> None:
    assert is_async(gclient.aio.models) and not is_async(gclient.models)


def test_every_patch_point_meant_for_the_installed_sdk_exists() -> None:
    """Each method the patch table means for the installed ``google-genai`` exists; outside its
    versions (``embed_content`` sends its own request before 1.64.0) it is left alone."""
    patches = GoogleGenAIInstrumentor().patches
    names = sorted(f"{p.name} {p.versions}".strip() for p in patches)
    assert names == [
        "AsyncModels._embed_content >=1.64.0",
        "AsyncModels._generate_content",
        "AsyncModels._generate_content_stream",
        "AsyncModels.embed_content <1.64.0",
        "Models._embed_content >=1.64.0",
        "Models._generate_content",
        "Models._generate_content_stream",
        "Models.embed_content <1.64.0",
    ]
    expected = [p for p in patches if p.expected()]
    assert len(expected) == 6
    for patch in expected:
        assert patch.owner() is not None, patch.name
        assert patch.trigger_package == "google.genai"


def test_a_gemini_api_call_gets_the_shipped_price(cap: TelemetryCapture, gclient: Any) -> None:
    """Gemini 2.5 Flash ships priced for the Gemini API ($0.30 input, $2.50 output per million
    tokens): the response's ``modelVersion`` (``gemini-2.5-flash-001``) resolves to it."""
    with instrumented(cap, GoogleGenAIInstrumentor):
        gclient.models.generate_content(model=MODEL, contents=QUESTION)
    [span] = cap.spans()
    assert span.attributes["gen_ai.response.model"] == "gemini-2.5-flash-001"
    # 6 prompt tokens, 6 output tokens.
    assert span.attributes["agentotel.usage.cost_usd"] == pytest.approx((6 * 0.3 + 6 * 2.5) / 1e6, rel=1e-12)
    labels = {"gen_ai.provider.name": "gcp.gemini", "gen_ai.request.model": MODEL}
    inputs = cap.metric_sum("agentotel.llm.cost.usd", {**labels, "gen_ai.token.type": "input"})
    outputs = cap.metric_sum("agentotel.llm.cost.usd", {**labels, "gen_ai.token.type": "output"})
    assert (inputs, outputs) == (
        pytest.approx(6 * 0.3 / 1e6, rel=1e-12),
        pytest.approx(6 * 2.5 / 1e6, rel=1e-12),
    )
    assert cap.metric_sum("agentotel.llm.cost.unpriced") == 0


def test_a_vertex_ai_call_of_the_same_model_ships_unpriced(
    cap: TelemetryCapture, fresh_fake_llm: Any
) -> None:
    """Vertex AI's own prices could not be read: the Gemini API's price is not used for its calls."""
    fresh_fake_llm.clear()
    client = gemini_client(fresh_fake_llm, vertexai=True)
    with instrumented(cap, GoogleGenAIInstrumentor):
        client.models.generate_content(model=MODEL, contents=QUESTION)
    [span] = cap.spans()
    assert "agentotel.usage.cost_usd" not in span.attributes
    assert cap.metric_sum("agentotel.llm.cost.unpriced", {"gen_ai.provider.name": "gcp.vertex_ai"}) == 1


def test_cost_from_a_pricing_file(
    cap: TelemetryCapture, gclient: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """With a price (``AGENTOTEL_PRICING_FILE``; these numbers are the test's own), the cost counts
    the cached part of ``prompt_token_count`` at the cache price and the thoughts as output."""
    prices = {"models": {MODEL: {"input": 1.0, "output": 10.0, "cache_read": 0.1}}}
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(prices))
    monkeypatch.setenv("AGENTOTEL_PRICING_FILE", str(path))
    text = f"{QUESTION} [[scenario:cached:4]] [[scenario:reasoning:3]]"
    with instrumented(cap, GoogleGenAIInstrumentor):
        gclient.models.generate_content(model=MODEL, contents=text)

    [span] = cap.spans()
    # 8 prompt tokens of which 4 cached, 6 + 3 output tokens.
    assert span.attributes["agentotel.usage.cost_usd"] == pytest.approx((4 * 1.0 + 4 * 0.1 + 9 * 10.0) / 1e6)
