"""LiteLLM instrumentor, non-streamed calls: ``completion`` / ``acompletion`` / ``embedding`` /
``aembedding`` through LiteLLM's OpenAI and Anthropic routes, over HTTP to the fake server.

Token arithmetic of the fake server: one token per whitespace word of the message texts; the
default reply "Hello from the fake LLM server." is 6 tokens, the question 6.
"""

from __future__ import annotations

import litellm
import pytest
import wrapt
from helpers import (
    DURATION,
    QUESTION,
    REPLY,
    TELEMETRY_ERRORS,
    attrs_of,
    only_span,
    priced,
    user,
)
from litellm_helpers import (
    CLAUDE,
    EMBEDDING,
    GPT,
    KEY,
    MAX_TOKENS,
    anthropic_kw,
    complete,
    embed,
    openai_kw,
    route_attrs,
    tokens,
)
from opentelemetry.trace import SpanKind, StatusCode

from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture

pytestmark = pytest.mark.usefixtures("fresh_server")


async def test_openai_route_span(
    litellm_instrumented: TelemetryCapture, flavour: str, fake_llm: FakeLLMServer
) -> None:
    response = await complete(flavour, messages=user(QUESTION), temperature=0.5, **openai_kw(fake_llm))

    assert response.choices[0].message.content == REPLY
    span = only_span(litellm_instrumented)
    assert span.name == f"chat {GPT}"
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    assert attrs_of(span) == priced(
        {
            **route_attrs(fake_llm, "openai", GPT),
            "gen_ai.request.temperature": 0.5,
            "gen_ai.response.id": "chatcmpl-1",
            "gen_ai.response.model": "gpt-4o-2024-08-06",
            "gen_ai.response.finish_reasons": ("stop",),
            "gen_ai.usage.input_tokens": 6,
            "gen_ai.usage.output_tokens": 6,
        }
    )


async def test_anthropic_route_span(
    litellm_instrumented: TelemetryCapture, flavour: str, fake_llm: FakeLLMServer
) -> None:
    response = await complete(flavour, messages=user(QUESTION), **anthropic_kw(fake_llm))

    assert response.choices[0].message.content == REPLY
    span = only_span(litellm_instrumented)
    assert span.name == f"chat {CLAUDE}"
    assert attrs_of(span) == priced(
        {
            **route_attrs(fake_llm, "anthropic", CLAUDE),
            "gen_ai.request.max_tokens": MAX_TOKENS,
            # LiteLLM gives every response an OpenAI-style id of its own: the one the app sees.
            "gen_ai.response.id": response.id,
            "gen_ai.response.model": CLAUDE,
            "gen_ai.response.finish_reasons": ("stop",),
            "gen_ai.usage.input_tokens": 6,
            "gen_ai.usage.output_tokens": 6,
        }
    )


async def test_anthropic_cache_tokens(
    litellm_instrumented: TelemetryCapture, flavour: str, fake_llm: FakeLLMServer
) -> None:
    # 8 words: the API reports input_tokens=3, cache read 2, cache creation 3; LiteLLM's
    # prompt_tokens is all of them.
    text = f"{QUESTION} [[scenario:cached:2]] [[scenario:cache_write:3]]"
    await complete(flavour, messages=user(text), **anthropic_kw(fake_llm))

    attrs = attrs_of(only_span(litellm_instrumented))
    assert attrs["gen_ai.usage.input_tokens"] == 8
    assert attrs["gen_ai.usage.cache_read.input_tokens"] == 2
    assert attrs["gen_ai.usage.cache_creation.input_tokens"] == 3
    assert tokens(litellm_instrumented) == {"input": 8, "output": 6}


async def test_metrics(litellm_instrumented: TelemetryCapture, flavour: str, fake_llm: FakeLLMServer) -> None:
    await complete(flavour, messages=user(QUESTION), **openai_kw(fake_llm))
    await complete(flavour, messages=user(QUESTION), **anthropic_kw(fake_llm))

    cap = litellm_instrumented
    openai_point = {**route_attrs(fake_llm, "openai", GPT), "gen_ai.response.model": "gpt-4o-2024-08-06"}
    claude_point = {**route_attrs(fake_llm, "anthropic", CLAUDE), "gen_ai.response.model": CLAUDE}
    assert cap.metric_sum("gen_ai.client.token.usage", openai_point) == 12
    assert cap.metric_sum("gen_ai.client.token.usage", claude_point) == 12
    assert cap.metric_count(DURATION, openai_point) == 1
    assert cap.metric_count(DURATION, claude_point) == 1


def test_positional_model_and_messages(
    litellm_instrumented: TelemetryCapture, fake_llm: FakeLLMServer
) -> None:
    kw = openai_kw(fake_llm)
    model = kw.pop("model")
    response = litellm.completion(model, user(QUESTION), **kw)

    assert response.choices[0].message.content == REPLY
    attrs = attrs_of(only_span(litellm_instrumented))
    assert attrs["gen_ai.request.model"] == GPT
    assert attrs["gen_ai.usage.input_tokens"] == 6


async def test_custom_llm_provider_keeps_the_model(
    litellm_instrumented: TelemetryCapture, flavour: str, fake_llm: FakeLLMServer
) -> None:
    kw = openai_kw(fake_llm, model=GPT, custom_llm_provider="openai")
    await complete(flavour, messages=user(QUESTION), **kw)

    attrs = attrs_of(only_span(litellm_instrumented))
    assert attrs["gen_ai.request.model"] == GPT
    assert attrs["gen_ai.provider.name"] == "openai"


async def test_tool_calls(
    litellm_instrumented: TelemetryCapture, flavour: str, fake_llm: FakeLLMServer
) -> None:
    tools = [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "parameters": {
                    "type": "object",
                    "properties": {"city": {"type": "string"}},
                    "required": ["city"],
                },
            },
        }
    ]
    response = await complete(flavour, messages=user(QUESTION), tools=tools, **openai_kw(fake_llm))

    [call] = response.choices[0].message.tool_calls
    attrs = attrs_of(only_span(litellm_instrumented))
    assert attrs["gen_ai.response.finish_reasons"] == ("tool_calls",)
    assert attrs["agentotel.response.tool_calls.names"] == ("get_weather",)
    assert attrs["agentotel.response.tool_calls.ids"] == (call.id,)


async def test_embedding_span(
    litellm_instrumented: TelemetryCapture, flavour: str, fake_llm: FakeLLMServer
) -> None:
    kw = openai_kw(fake_llm, model=f"openai/{EMBEDDING}")
    response = await embed(flavour, input=["embed this text"], **kw)

    assert len(response.data) == 1
    span = only_span(litellm_instrumented)
    assert span.name == f"embeddings {EMBEDDING}"
    assert attrs_of(span) == priced(
        {
            **route_attrs(fake_llm, "openai", EMBEDDING, "embeddings"),
            "gen_ai.response.model": EMBEDDING,
            "gen_ai.embeddings.dimension.count": len(response.data[0]["embedding"]),
            "gen_ai.usage.input_tokens": 3,
        }
    )
    assert tokens(litellm_instrumented) == {"input": 3}


ERRORS = [
    pytest.param("rate_limit", litellm.RateLimitError, id="rate_limit"),
    pytest.param("server_error", litellm.InternalServerError, id="server_error"),
    pytest.param("bad_request", litellm.BadRequestError, id="bad_request"),
]


@pytest.mark.parametrize("route", ["openai", "anthropic"])
@pytest.mark.parametrize(("scenario", "error"), ERRORS)
async def test_errors_are_litellm_classes(
    litellm_instrumented: TelemetryCapture,
    flavour: str,
    fake_llm: FakeLLMServer,
    route: str,
    scenario: str,
    error: type[Exception],
) -> None:
    kw = openai_kw(fake_llm) if route == "openai" else anthropic_kw(fake_llm)
    with pytest.raises(error) as raised:
        await complete(flavour, messages=user(f"{QUESTION} [[scenario:{scenario}]]"), **kw)

    assert type(raised.value) is error
    span = only_span(litellm_instrumented)
    assert span.status.status_code is StatusCode.ERROR
    attrs = attrs_of(span)
    assert attrs["error.type"] == f"litellm.{error.__name__}"
    assert KEY not in str(span.events)
    assert litellm_instrumented.metric_sum(TELEMETRY_ERRORS) == 0
    assert tokens(litellm_instrumented) == {}
    assert len(fake_llm.requests) == 1


async def test_connection_error(litellm_instrumented: TelemetryCapture, flavour: str) -> None:
    from helpers import closed_port

    kw = {"model": f"openai/{GPT}", "api_base": f"http://127.0.0.1:{closed_port()}/v1", "api_key": KEY}
    with pytest.raises(litellm.InternalServerError):
        await complete(flavour, messages=user(QUESTION), max_retries=0, **kw)

    attrs = attrs_of(only_span(litellm_instrumented))
    assert attrs["error.type"] == "litellm.InternalServerError"


def test_no_callbacks_turned_on(litellm_instrumented: TelemetryCapture, fake_llm: FakeLLMServer) -> None:
    litellm.completion(messages=user(QUESTION), **openai_kw(fake_llm))

    assert litellm.callbacks == []
    assert litellm.success_callback == []
    assert litellm.failure_callback == []
    assert litellm.input_callback == []


def test_uninstrument_restores_the_functions(cap: TelemetryCapture, fake_llm: FakeLLMServer) -> None:
    from helpers import instrumented

    from agentotel.instrumentation.litellm import LiteLLMInstrumentor

    with instrumented(cap, LiteLLMInstrumentor):
        assert isinstance(litellm.completion, wrapt.FunctionWrapper)
    litellm.completion(messages=user(QUESTION), **openai_kw(fake_llm))

    assert not isinstance(litellm.completion, wrapt.FunctionWrapper)
    assert cap.spans() == []


def test_api_key_never_recorded(litellm_instrumented: TelemetryCapture, fake_llm: FakeLLMServer) -> None:
    litellm.completion(messages=user(QUESTION), **openai_kw(fake_llm))

    assert KEY not in repr(attrs_of(only_span(litellm_instrumented)))
