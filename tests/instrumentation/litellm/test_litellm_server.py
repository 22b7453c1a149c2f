"""``server.address`` / ``server.port``: the host each request actually goes to, and LiteLLM's
route read once per (model, provider, base URL, key), not once per call.

LiteLLM sends an ``openai/*`` or ``azure/*`` request through the ``openai`` SDK client the app
passes as ``client=``, whatever ``api_base`` says: the server is that client's base URL. A Router
deployment's ``api_base`` (in its ``litellm_params``) is the server of its attempts. The route is
cached: the same model name sent to another base URL, provider or client still gets its own
server, provider and request model, and every request is still one LLM span.
"""

from __future__ import annotations

from typing import Any

import litellm
import openai
import pytest
from helpers import QUESTION, REPLY, attrs_of, closed_port, instrumented, user
from litellm_helpers import CLAUDE, GPT, KEY, anthropic_kw, azure_kw, complete, openai_kw, tokens
from opentelemetry.trace import SpanKind

from agentotel.instrumentation.anthropic import AnthropicInstrumentor
from agentotel.instrumentation.litellm import LiteLLMInstrumentor
from agentotel.instrumentation.litellm import patch as litellm_patch
from agentotel.instrumentation.openai import OpenAIInstrumentor
from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture

pytestmark = pytest.mark.usefixtures("fresh_server")

ALL = (LiteLLMInstrumentor, OpenAIInstrumentor, AnthropicInstrumentor)


def llm_spans(cap: TelemetryCapture) -> list[Any]:
    return [s for s in cap.spans() if s.kind is SpanKind.CLIENT]


def server(span: Any) -> tuple[Any, Any]:
    a = attrs_of(span)
    return a.get("server.address"), a.get("server.port")


def sdk_client(flavour: str, base_url: str) -> Any:
    """An ``openai`` SDK client (the flavour's) for ``client=``."""
    cls = openai.AsyncOpenAI if flavour == "async" else openai.OpenAI
    return cls(base_url=base_url, api_key=KEY, max_retries=0)


async def test_client_without_api_base_is_the_server(
    litellm_instrumented: TelemetryCapture, flavour: str, fake_llm: FakeLLMServer
) -> None:
    client = sdk_client(flavour, fake_llm.openai_base_url)
    response = await complete(flavour, model=f"openai/{GPT}", messages=user(QUESTION), client=client)

    assert response.choices[0].message.content == REPLY
    assert len(fake_llm.requests) == 1
    [span] = llm_spans(litellm_instrumented)
    assert server(span) == ("127.0.0.1", fake_llm.port)
    assert attrs_of(span)["gen_ai.provider.name"] == "openai"


async def test_client_wins_over_api_base(
    litellm_instrumented: TelemetryCapture, flavour: str, fake_llm: FakeLLMServer
) -> None:
    # LiteLLM uses the client it is given as is: api_base is not where the request goes.
    client = sdk_client(flavour, fake_llm.openai_base_url)
    unused = f"http://localhost:{closed_port()}/v1"
    await complete(flavour, model=f"openai/{GPT}", messages=user(QUESTION), client=client, api_base=unused)

    assert len(fake_llm.requests) == 1
    [span] = llm_spans(litellm_instrumented)
    assert server(span) == ("127.0.0.1", fake_llm.port)


async def test_same_model_other_client_other_server(
    litellm_instrumented: TelemetryCapture, flavour: str, fake_llm: FakeLLMServer
) -> None:
    dead = closed_port()
    for base in (fake_llm.openai_base_url, f"http://127.0.0.1:{dead}/v1", fake_llm.openai_base_url):
        client = sdk_client(flavour, base)
        try:
            await complete(flavour, model=f"openai/{GPT}", messages=user(QUESTION), client=client)
        except litellm.InternalServerError:
            assert base.endswith(f":{dead}/v1")

    assert len(fake_llm.requests) == 2
    assert [server(s) for s in llm_spans(litellm_instrumented)] == [
        ("127.0.0.1", fake_llm.port),
        ("127.0.0.1", dead),
        ("127.0.0.1", fake_llm.port),
    ]


async def test_same_model_name_routed_differently(
    litellm_instrumented: TelemetryCapture, flavour: str, fake_llm: FakeLLMServer
) -> None:
    dead = closed_port()
    await complete(flavour, messages=user(QUESTION), **openai_kw(fake_llm))
    with pytest.raises(litellm.InternalServerError):
        await complete(
            flavour, messages=user(QUESTION), **openai_kw(fake_llm, api_base=f"http://localhost:{dead}/v1")
        )
    await complete(flavour, messages=user(QUESTION), **azure_kw(fake_llm))
    # The model without its prefix, the provider given apart.
    given_apart = openai_kw(fake_llm, model=GPT, custom_llm_provider="openai")
    await complete(flavour, messages=user(QUESTION), **given_apart)
    await complete(flavour, messages=user(QUESTION), **openai_kw(fake_llm))

    spans = llm_spans(litellm_instrumented)
    assert [
        (attrs_of(s)["gen_ai.provider.name"], attrs_of(s)["gen_ai.request.model"], *server(s)) for s in spans
    ] == [
        ("openai", GPT, "127.0.0.1", fake_llm.port),
        ("openai", GPT, "localhost", dead),
        ("azure.ai.openai", GPT, "127.0.0.1", fake_llm.port),
        ("openai", GPT, "127.0.0.1", fake_llm.port),
        ("openai", GPT, "127.0.0.1", fake_llm.port),
    ]
    assert len(fake_llm.requests) == 4


def test_the_route_cache_is_bounded(fake_llm: FakeLLMServer) -> None:
    litellm_patch.ROUTES.clear()
    for port in range(1, 1001):
        litellm_patch.route({"model": f"openai/{GPT}", "api_base": f"http://127.0.0.1:{port}/v1"})
    assert 0 < len(litellm_patch.ROUTES) <= litellm_patch.ROUTES_MAX


async def read(flavour: str, stream: Any) -> None:
    if flavour == "async":
        [c async for c in stream]
    else:
        list(stream)


async def test_one_llm_span_per_request_on_repeated_calls(
    cap: TelemetryCapture, flavour: str, fake_llm: FakeLLMServer
) -> None:
    # The second round takes every route from the cache: still one LLM span per request.
    usage = {"stream_options": {"include_usage": True}}
    with instrumented(cap, *ALL):
        for _ in range(2):
            for kw in (openai_kw(fake_llm), azure_kw(fake_llm), anthropic_kw(fake_llm)):
                await complete(flavour, messages=user(QUESTION), **kw)
                stream = await complete(flavour, messages=user(QUESTION), stream=True, **usage, **kw)
                await read(flavour, stream)

    spans = llm_spans(cap)
    assert len(fake_llm.requests) == 12
    assert len(spans) == 12
    assert all(s.parent is None for s in spans)
    assert [attrs_of(s)["gen_ai.provider.name"] for s in spans] == [
        p for p in ("openai", "azure.ai.openai", "anthropic") for _ in range(2)
    ] * 2
    assert [server(s) for s in spans] == [("127.0.0.1", fake_llm.port)] * 12
    # 6 in and 6 out per call, but 3 out for an Anthropic stream (what LiteLLM reports: see
    # test_anthropic_stream_exhausted), each counted once.
    assert tokens(cap) == {"input": 72, "output": 66}


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


async def test_router_deployment_api_base_is_the_server(
    cap: TelemetryCapture, flavour: str, fake_llm: FakeLLMServer
) -> None:
    # Retries and a fallback, twice over (the second call from the route cache): one LLM span per
    # attempt under one step span per Router call, each naming its deployment's server.
    dead = closed_port()
    router = litellm.Router(
        model_list=deployments(fake_llm, f"http://localhost:{dead}/v1"),
        num_retries=1,
        retry_after=0,
        fallbacks=[{"main": ["backup"]}],
    )
    with instrumented(cap, *ALL):
        for _ in range(2):
            if flavour == "async":
                await router.acompletion(model="main", messages=user(QUESTION))
            else:
                router.completion(model="main", messages=user(QUESTION))

    spans = cap.spans()
    steps = [s for s in spans if s.kind is SpanKind.INTERNAL]
    attempts = llm_spans(cap)
    assert [s.name for s in steps] == ["step main", "step main"]
    assert len(attempts) == 6
    assert [server(s) for s in attempts] == [("localhost", dead)] * 2 + [("127.0.0.1", fake_llm.port)] + [
        ("localhost", dead)
    ] * 2 + [("127.0.0.1", fake_llm.port)]
    for step in steps:
        under = [s for s in attempts if s.parent is not None and s.parent.span_id == step.context.span_id]
        assert len(under) == 3
    assert len(fake_llm.requests) == 2


async def test_base_url_is_the_server_and_wins_over_api_base(
    litellm_instrumented: TelemetryCapture, flavour: str, fake_llm: FakeLLMServer
) -> None:
    # completion(base_url=...) is LiteLLM's other name for api_base, and wins over it (CrewAI
    # passes api_base=None, base_url=<its endpoint>): the request goes to base_url.
    unused = f"http://localhost:{closed_port()}/v1"
    for given in ({}, {"api_base": unused}):
        response = await complete(
            flavour,
            model=f"openai/{GPT}",
            messages=user(QUESTION),
            api_key=KEY,
            base_url=fake_llm.openai_base_url,
            **given,
        )
        assert response.choices[0].message.content == REPLY

    assert len(fake_llm.requests) == 2
    assert [server(span) for span in llm_spans(litellm_instrumented)] == [("127.0.0.1", fake_llm.port)] * 2
