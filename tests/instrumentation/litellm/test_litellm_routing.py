"""One LLM span per model call when LiteLLM routes through an SDK agentotel also instruments, and
the Router's retries and fallbacks: one LLM span per attempt under one ``step`` span.

LiteLLM's ``openai/*`` route calls the ``openai`` SDK: with the OpenAI instrumentor on too, the
LiteLLM span is the only LLM span (the engine makes none inside another LLM call of ours), and the
tokens are counted once. Checked by counting the requests the fake server received.
"""

from __future__ import annotations

from typing import Any

import litellm
import openai
import pytest
from helpers import FAKE_OPENAI_KEY, QUESTION, REPLY, attrs_of, closed_port, instrumented, user
from litellm_helpers import (
    CLAUDE,
    EMBEDDING,
    GPT,
    KEY,
    anthropic_kw,
    azure_kw,
    complete,
    embed,
    openai_kw,
    tokens,
)
from opentelemetry.trace import SpanKind, StatusCode

from agentotel.instrumentation.anthropic import AnthropicInstrumentor
from agentotel.instrumentation.litellm import LiteLLMInstrumentor
from agentotel.instrumentation.openai import OpenAIInstrumentor
from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture

pytestmark = pytest.mark.usefixtures("fresh_server")

ALL = (LiteLLMInstrumentor, OpenAIInstrumentor, AnthropicInstrumentor)


def llm_spans(cap: TelemetryCapture) -> list[Any]:
    return [s for s in cap.spans() if s.kind is SpanKind.CLIENT]


async def test_one_llm_span_per_request_with_every_instrumentor_on(
    cap: TelemetryCapture, flavour: str, fake_llm: FakeLLMServer
) -> None:
    with instrumented(cap, *ALL):
        await complete(flavour, messages=user(QUESTION), **openai_kw(fake_llm))
        stream = await complete(
            flavour,
            messages=user(QUESTION),
            stream=True,
            stream_options={"include_usage": True},
            **openai_kw(fake_llm),
        )
        if flavour == "async":
            [c async for c in stream]
        else:
            list(stream)
        await complete(flavour, messages=user(QUESTION), **anthropic_kw(fake_llm))
        # With encoding_format, LiteLLM sends it through the openai SDK's embeddings.create
        # (which the OpenAI instrumentor wraps); without, through the SDK client's post().
        kw = openai_kw(fake_llm, model=f"openai/{EMBEDDING}")
        await embed(flavour, input=["embed this text"], encoding_format="float", **kw)
        await embed(flavour, input=["embed this text"], **kw)

    spans = llm_spans(cap)
    assert len(fake_llm.requests) == 5
    assert len(spans) == 5
    assert all(s.parent is None for s in spans)
    assert [attrs_of(s)["gen_ai.request.model"] for s in spans] == [GPT, GPT, CLAUDE, EMBEDDING, EMBEDDING]
    # 6 + 6 in, 6 + 6 out (openai, twice), 6 + 6 (anthropic), 3 + 3 in (embeddings): each once.
    assert tokens(cap) == {"input": 24, "output": 18}


async def test_azure_through_the_openai_sdk_is_one_span_per_request(
    cap: TelemetryCapture, flavour: str, fake_llm: FakeLLMServer
) -> None:
    with instrumented(cap, *ALL):
        response = await complete(flavour, messages=user(QUESTION), **azure_kw(fake_llm))
        stream = await complete(
            flavour,
            messages=user(QUESTION),
            stream=True,
            stream_options={"include_usage": True},
            **azure_kw(fake_llm),
        )
        if flavour == "async":
            [c async for c in stream]
        else:
            list(stream)
        with pytest.raises(litellm.RateLimitError):
            await complete(
                flavour, messages=user(f"{QUESTION} [[scenario:rate_limit]]"), **azure_kw(fake_llm)
            )

    assert response.choices[0].message.content == REPLY
    assert [r.path.split("?")[0] for r in fake_llm.requests] == [
        "/openai/deployments/gpt-4o/chat/completions"
    ] * 3
    spans = llm_spans(cap)
    assert [s.name for s in spans] == [f"chat {GPT}"] * 3
    assert [attrs_of(s)["gen_ai.provider.name"] for s in spans] == ["azure.ai.openai"] * 3
    assert attrs_of(spans[2])["error.type"] == "litellm.RateLimitError"
    assert tokens(cap) == {"input": 12, "output": 12}


def test_openai_sdk_called_directly_keeps_its_span(cap: TelemetryCapture, fake_llm: FakeLLMServer) -> None:
    client = openai.OpenAI(base_url=fake_llm.openai_base_url, api_key=FAKE_OPENAI_KEY, max_retries=0)
    with instrumented(cap, *ALL):
        client.chat.completions.create(model=GPT, messages=user(QUESTION))
        litellm.completion(messages=user(QUESTION), **openai_kw(fake_llm))

    assert len(fake_llm.requests) == 2
    assert [s.name for s in llm_spans(cap)] == [f"chat {GPT}", f"chat {GPT}"]
    assert tokens(cap) == {"input": 12, "output": 12}


def deployments(server: FakeLLMServer, first_base: str) -> list[dict[str, Any]]:
    return [
        {
            "model_name": "main",
            "litellm_params": {
                "model": f"openai/{GPT}",
                "api_base": first_base,
                "api_key": KEY,
                "max_retries": 0,
            },
        },
        {
            "model_name": "backup",
            "litellm_params": {
                "model": f"anthropic/{CLAUDE}",
                "api_base": server.anthropic_base_url,
                "api_key": KEY,
                "max_retries": 0,
            },
        },
    ]


async def route(router: litellm.Router, flavour: str, model: str) -> Any:
    if flavour == "async":
        return await router.acompletion(model=model, messages=user(QUESTION))
    return router.completion(model=model, messages=user(QUESTION))


async def test_router_call_is_a_step_over_its_llm_span(
    litellm_instrumented: TelemetryCapture, flavour: str, fake_llm: FakeLLMServer
) -> None:
    router = litellm.Router(model_list=deployments(fake_llm, fake_llm.openai_base_url))
    response = await route(router, flavour, "main")

    assert response.choices[0].message.content == REPLY
    step, llm = sorted(litellm_instrumented.spans(), key=lambda s: s.kind is SpanKind.CLIENT)
    assert step.name == "step main"
    assert step.kind is SpanKind.INTERNAL
    assert attrs_of(step)["agentotel.step.type"] == "litellm_router"
    assert llm.name == f"chat {GPT}"
    assert llm.parent is not None and llm.parent.span_id == step.context.span_id
    assert len(fake_llm.requests) == 1


async def test_router_retries_and_fallback_one_span_per_attempt(
    litellm_instrumented: TelemetryCapture, flavour: str, fake_llm: FakeLLMServer
) -> None:
    # The first deployment refuses connections: 1 try + 1 retry, then the fallback answers.
    router = litellm.Router(
        model_list=deployments(fake_llm, f"http://127.0.0.1:{closed_port()}/v1"),
        num_retries=1,
        retry_after=0,
        fallbacks=[{"main": ["backup"]}],
    )
    response = await route(router, flavour, "main")

    assert response.choices[0].message.content == REPLY
    spans = litellm_instrumented.spans()
    [step] = [s for s in spans if s.kind is SpanKind.INTERNAL]
    attempts = [s for s in spans if s.kind is SpanKind.CLIENT]
    assert step.name == "step main"
    assert step.status.status_code is StatusCode.UNSET
    assert [s.name for s in attempts] == [f"chat {GPT}", f"chat {GPT}", f"chat {CLAUDE}"]
    assert {s.parent.span_id for s in attempts if s.parent} == {step.context.span_id}
    assert [attrs_of(s).get("error.type") for s in attempts] == [
        "litellm.InternalServerError",
        "litellm.InternalServerError",
        None,
    ]
    assert [attrs_of(s)["gen_ai.provider.name"] for s in attempts] == ["openai", "openai", "anthropic"]
    assert len(fake_llm.requests) == 1  # the two failed attempts never reached the server
    assert tokens(litellm_instrumented) == {"input": 6, "output": 6}


async def test_router_embedding(
    litellm_instrumented: TelemetryCapture, flavour: str, fake_llm: FakeLLMServer
) -> None:
    router = litellm.Router(
        model_list=[
            {
                "model_name": "vectors",
                "litellm_params": {
                    "model": f"openai/{EMBEDDING}",
                    "api_base": fake_llm.openai_base_url,
                    "api_key": KEY,
                },
            }
        ]
    )
    if flavour == "async":
        await router.aembedding(model="vectors", input=["embed this text"])
    else:
        router.embedding(model="vectors", input=["embed this text"])

    names = sorted(s.name for s in litellm_instrumented.spans())
    assert names == [f"embeddings {EMBEDDING}", "step vectors"]
    assert tokens(litellm_instrumented) == {"input": 3}


async def test_router_failure_marks_the_step(
    litellm_instrumented: TelemetryCapture, flavour: str, fake_llm: FakeLLMServer
) -> None:
    router = litellm.Router(model_list=deployments(fake_llm, f"http://127.0.0.1:{closed_port()}/v1"))
    with pytest.raises(litellm.InternalServerError):
        await route(router, flavour, "main")

    [step] = [s for s in litellm_instrumented.spans() if s.kind is SpanKind.INTERNAL]
    assert step.status.status_code is StatusCode.ERROR
    assert attrs_of(step)["error.type"] == "litellm.InternalServerError"
