"""``chat.complete`` / ``complete_async`` and ``embeddings.create`` / ``create_async`` through the
real ``mistralai`` SDK against the fake server over HTTP: one CLIENT span per call, with exact
attributes, usage, errors in Mistral's format, and metrics."""

from __future__ import annotations

import inspect
import json
from typing import Any

import pytest
from helpers import DURATION, TOKENS, instrumented, token_sums
from mistralai.client import errors, models, utils
from mistralai.client.chat import Chat
from mistralai.client.utils import eventstreaming
from mistralai_helpers import (
    API_KEY,
    EMBED_MODEL,
    MESSAGES,
    MODEL,
    QUESTION,
    REPLY,
    SPAN_NAME,
    WEATHER_TOOL,
    complete,
    embed,
    mistral_client,
    reply_attrs,
    request_attrs,
    stream_all,
)
from opentelemetry.trace import SpanKind, StatusCode

from agentotel._safe import error_type
from agentotel.instrumentation.mistralai import MistralInstrumentor
from agentotel.testing import FakeLLMServer, Reply
from agentotel.testing._capture import TelemetryCapture

# The HTTP library of the installed SDK (httpx2 from mistralai 3.x, httpx before).
httpx: Any = eventstreaming.httpx


# ``top_k`` is an argument of ``chat.complete`` from mistralai 3.x.
TOP_K: dict[str, Any] = {"top_k": 40} if "top_k" in inspect.signature(Chat.complete).parameters else {}


def error_name(cls: type[BaseException]) -> str:
    """``error.type`` of an exception of class ``cls``, as the engine names it."""
    return error_type(cls.__new__(cls))


async def test_complete_span(
    mistral_instrumented: TelemetryCapture, client: Any, mode: str, fake: FakeLLMServer
) -> None:
    response = await complete(client, mode, model=MODEL, messages=MESSAGES)

    assert response.choices[0].message.content == REPLY
    assert len(fake.requests) == 1
    [span] = mistral_instrumented.spans()
    assert span.name == SPAN_NAME
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    assert dict(span.attributes or {}) == {**request_attrs(fake), **reply_attrs("cmpl-fake1")}


async def test_request_options(
    mistral_instrumented: TelemetryCapture, client: Any, mode: str, fake: FakeLLMServer
) -> None:
    await complete(
        client,
        mode,
        model=MODEL,
        messages=MESSAGES,
        temperature=0.25,
        top_p=0.5,
        max_tokens=100,
        stop=["END"],
        random_seed=7,
        presence_penalty=0.1,
        frequency_penalty=0.2,
        response_format={"type": "json_object"},
        **TOP_K,
    )

    [span] = mistral_instrumented.spans()
    assert dict(span.attributes or {}) == {
        **request_attrs(fake),
        **reply_attrs("cmpl-fake1"),
        "gen_ai.request.temperature": 0.25,
        "gen_ai.request.top_p": 0.5,
        "gen_ai.request.max_tokens": 100,
        "gen_ai.request.stop_sequences": ("END",),
        "gen_ai.request.seed": 7,
        "gen_ai.request.presence_penalty": 0.1,
        "gen_ai.request.frequency_penalty": 0.2,
        "gen_ai.output.type": "json",
        **({"gen_ai.request.top_k": 40.0} if TOP_K else {}),
    }


async def test_choice_count_and_stop_string(
    mistral_instrumented: TelemetryCapture, client: Any, mode: str, fake: FakeLLMServer
) -> None:
    await complete(client, mode, model=MODEL, messages=MESSAGES, n=2, stop="END")

    [span] = mistral_instrumented.spans()
    attrs = dict(span.attributes or {})
    assert attrs["gen_ai.request.choice.count"] == 2
    assert attrs["gen_ai.request.stop_sequences"] == ("END",)
    assert attrs["gen_ai.response.finish_reasons"] == ("stop", "stop")
    assert attrs["gen_ai.usage.output_tokens"] == 12


async def test_tool_call_names_and_ids(
    mistral_instrumented: TelemetryCapture, client: Any, mode: str, fake: FakeLLMServer
) -> None:
    response = await complete(client, mode, model=MODEL, messages=MESSAGES, tools=[WEATHER_TOOL])

    [call] = response.choices[0].message.tool_calls
    assert (call.id, call.function.name) == ("fakecall1", "get_weather")
    [span] = mistral_instrumented.spans()
    attrs = dict(span.attributes or {})
    assert attrs["gen_ai.response.finish_reasons"] == ("tool_calls",)
    assert attrs["agentotel.response.tool_calls.names"] == ("get_weather",)
    assert attrs["agentotel.response.tool_calls.ids"] == ("fakecall1",)


async def test_sdk_message_models_are_read(
    mistral_instrumented: TelemetryCapture, client: Any, mode: str, fake: FakeLLMServer
) -> None:
    """Messages given as the SDK's models (not dicts) work the same."""
    messages = [models.SystemMessage(content="Be brief."), models.UserMessage(content=QUESTION)]
    await complete(client, mode, model=MODEL, messages=messages)

    [span] = mistral_instrumented.spans()
    assert dict(span.attributes or {}) == {**request_attrs(fake), **reply_attrs("cmpl-fake1", 8, 6)}


async def test_metrics(mistral_instrumented: TelemetryCapture, client: Any, mode: str) -> None:
    await complete(client, mode, model=MODEL, messages=MESSAGES)
    await complete(client, mode, model=MODEL, messages=[{"role": "user", "content": "[[words:3]]"}])

    assert token_sums(mistral_instrumented) == {"input": 6 + 1, "output": 6 + 3}
    [point] = mistral_instrumented.metric_points(DURATION)
    assert point.count == 2
    assert dict(point.attributes) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "mistral_ai",
        "gen_ai.request.model": MODEL,
        "gen_ai.response.model": MODEL,
        "server.address": "127.0.0.1",
        "server.port": point.attributes["server.port"],
    }
    assert sorted(
        dict(p.attributes)["gen_ai.token.type"] for p in mistral_instrumented.metric_points(TOKENS)
    ) == [
        "input",
        "output",
    ]


# --- errors in Mistral's format -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("scenario", "status"),
    [("rate_limit", 429), ("bad_request", 400), ("server_error", 500), ("overloaded", 503)],
)
async def test_error_statuses(
    mistral_instrumented: TelemetryCapture,
    client: Any,
    mode: str,
    fake: FakeLLMServer,
    scenario: str,
    status: int,
) -> None:
    with pytest.raises(errors.SDKError) as raised:
        await complete(
            client, mode, model=MODEL, messages=[{"role": "user", "content": f"[[scenario:{scenario}]]"}]
        )

    assert raised.value.status_code == status
    assert json.loads(raised.value.body)["object"] == "error"
    assert len(fake.requests) == 1
    [span] = mistral_instrumented.spans()
    assert span.status.status_code is StatusCode.ERROR
    attrs = dict(span.attributes or {})
    assert attrs["error.type"] == error_name(errors.SDKError)
    assert "gen_ai.usage.input_tokens" not in attrs
    [point] = mistral_instrumented.metric_points(DURATION)
    assert dict(point.attributes)["error.type"] == error_name(errors.SDKError)
    assert mistral_instrumented.metric_points(TOKENS) == []


async def test_validation_error_422(
    mistral_instrumented: TelemetryCapture, client: Any, mode: str, fake: FakeLLMServer
) -> None:
    """The API's 422 (a body it rejects) is the SDK's ``HTTPValidationError``: an ERROR span."""
    with pytest.raises(errors.HTTPValidationError):
        await complete(client, mode, model=MODEL, messages=[])

    assert len(fake.requests) == 1
    [span] = mistral_instrumented.spans()
    assert span.status.status_code is StatusCode.ERROR
    assert dict(span.attributes or {})["error.type"] == error_name(errors.HTTPValidationError)


async def test_refused_call_makes_no_span(
    mistral_instrumented: TelemetryCapture, client: Any, mode: str, fake: FakeLLMServer
) -> None:
    """A call the SDK refuses before sending (its request model rejects a message) makes no span,
    no metric point: no HTTP request was made. The app's exception is the SDK's, unchanged."""
    with pytest.raises(Exception) as raised:
        await complete(client, mode, model=MODEL, messages=[{"role": "nobody", "content": "x"}])

    assert type(raised.value).__module__.startswith("pydantic")
    assert fake.requests == []
    assert mistral_instrumented.spans() == []
    assert mistral_instrumented.metric_points(DURATION) == []


async def test_retried_call_is_one_span(
    mistral_instrumented: TelemetryCapture, fake: FakeLLMServer, mode: str
) -> None:
    """The SDK's retries run inside ``do_request``: one span for the call, whatever it took."""
    retry = utils.RetryConfig("backoff", utils.BackoffStrategy(1, 1, 1.0, 1000), False)
    client = mistral_client(fake, retry_config=retry)
    fake.script([Reply.error("rate_limit"), REPLY])

    response = await complete(client, mode, model=MODEL, messages=MESSAGES)

    assert response.choices[0].message.content == REPLY
    assert len(fake.requests) == 2
    [span] = mistral_instrumented.spans()
    assert span.status.status_code is StatusCode.UNSET
    assert dict(span.attributes or {}) == {**request_attrs(fake), **reply_attrs("cmpl-fake1")}


async def test_connection_error(mistral_instrumented: TelemetryCapture, mode: str) -> None:
    from helpers import closed_port

    client = mistral_client_at(f"http://127.0.0.1:{closed_port()}")
    with pytest.raises(Exception) as raised:
        await complete(client, mode, model=MODEL, messages=MESSAGES)

    [span] = mistral_instrumented.spans()
    assert span.status.status_code is StatusCode.ERROR
    assert dict(span.attributes or {})["error.type"] == error_type(raised.value)


def mistral_client_at(url: str) -> Any:
    from mistralai.client import Mistral

    return Mistral(api_key=API_KEY, server_url=url)


# --- embeddings ---------------------------------------------------------------------------------
async def test_embeddings_span(
    mistral_instrumented: TelemetryCapture, client: Any, mode: str, fake: FakeLLMServer
) -> None:
    result = await embed(client, mode, model=EMBED_MODEL, inputs=["a b", "c"], output_dimension=4)

    assert len(result.data) == 2
    [span] = mistral_instrumented.spans()
    assert span.name == f"embeddings {EMBED_MODEL}"
    assert dict(span.attributes or {}) == {
        "gen_ai.operation.name": "embeddings",
        "gen_ai.provider.name": "mistral_ai",
        "gen_ai.request.model": EMBED_MODEL,
        "server.address": "127.0.0.1",
        "server.port": fake.port,
        "gen_ai.embeddings.dimension.count": 4,
        "gen_ai.response.model": EMBED_MODEL,
        "gen_ai.usage.input_tokens": 3,
    }
    assert token_sums(mistral_instrumented) == {"input": 3}


# --- the client and the server ------------------------------------------------------------------
async def test_named_server_gives_its_host(mistral_instrumented: TelemetryCapture, mode: str) -> None:
    """A client on a named server (``server="eu"``) reports that host. (Its transport here refuses
    to connect: no network; the connection error is the span's.)"""
    from mistralai.client import Mistral

    def refuse(request: Any) -> Any:
        raise httpx.ConnectError("no network in tests", request=request)

    transport = httpx.MockTransport(refuse)
    client = Mistral(
        api_key=API_KEY,
        server="eu",
        client=httpx.Client(transport=transport),
        async_client=httpx.AsyncClient(transport=transport),
    )
    with pytest.raises(httpx.ConnectError):
        await complete(client, mode, model=MODEL, messages=MESSAGES)

    [span] = mistral_instrumented.spans()
    attrs = dict(span.attributes or {})
    assert (attrs["server.address"], attrs["server.port"]) == ("api.eu.mistral.ai", 443)
    assert attrs["error.type"] == error_name(httpx.ConnectError)


def test_uninstrument_restores(cap: TelemetryCapture, fake: FakeLLMServer) -> None:
    client = mistral_client(fake)
    with instrumented(cap, MistralInstrumentor):
        client.chat.complete(model=MODEL, messages=MESSAGES)
    client.chat.complete(model=MODEL, messages=MESSAGES)

    assert len(fake.requests) == 2
    assert len(cap.spans()) == 1


def test_key_appears_nowhere(
    cap: TelemetryCapture, fake: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With content capture on (spans and events), nothing recorded holds the API key, even
    content that repeats it."""
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "SPAN_AND_EVENT")
    client = mistral_client(fake)
    with instrumented(cap, MistralInstrumentor):
        client.chat.complete(model=MODEL, messages=[{"role": "user", "content": f"my key is {API_KEY}"}])
        list(client.chat.stream(model=MODEL, messages=MESSAGES, tools=[WEATHER_TOOL]))
        client.embeddings.create(model=EMBED_MODEL, inputs=[API_KEY])
        with pytest.raises(errors.SDKError):
            client.chat.complete(
                model=MODEL, messages=[{"role": "user", "content": "[[scenario:rate_limit]]"}]
            )

    recorded = repr([(s.name, dict(s.attributes or {}), s.events, s.status) for s in cap.spans()])
    recorded += repr([(log.body, dict(log.attributes or {})) for log in cap.logs()])
    recorded += repr([(p.attributes,) for name in (DURATION, TOKENS) for p in cap.metric_points(name)])
    assert len(cap.spans()) == 4
    assert "my key is" in recorded  # the content was captured ...
    assert API_KEY not in recorded  # ... with the key redacted


# --- lifecycle ----------------------------------------------------------------------------------
def test_every_patch_point_exists_and_uninstrument_restores_it() -> None:
    import wrapt

    from agentotel._registry import available

    assert available()["agentotel_mistralai"] is MistralInstrumentor
    patches = MistralInstrumentor().patches
    assert sorted(f"{p.module}:{p.name}" for p in patches) == [
        "mistralai.client._hooks.tracing:get_traced_request_and_span",
        "mistralai.client.basesdk:BaseSDK.do_request",
        "mistralai.client.basesdk:BaseSDK.do_request_async",
        "mistralai.client.chat:Chat.complete",
        "mistralai.client.chat:Chat.complete_async",
        "mistralai.client.chat:Chat.stream",
        "mistralai.client.chat:Chat.stream_async",
        "mistralai.client.embeddings:Embeddings.create",
        "mistralai.client.embeddings:Embeddings.create_async",
    ]
    originals = []
    for p in patches:
        assert p.expected()
        found = p.owner()
        assert found is not None, f"{p.module}:{p.name} missing"
        owner, attr = found
        originals.append((owner, attr, vars(owner)[attr]))
    instrumentor = MistralInstrumentor()
    instrumentor.instrument(tracer_provider=TelemetryCapture().tracer_provider)
    try:
        for owner, attr, original in originals:
            assert isinstance(vars(owner)[attr], wrapt.FunctionWrapper)
            assert vars(owner)[attr].__wrapped__ is original
    finally:
        instrumentor.uninstrument()
    for owner, attr, original in originals:
        assert vars(owner)[attr] is original


# --- the SDK's own tracing ------------------------------------------------------------------------
async def test_sdk_own_tracing_makes_no_second_span(
    cap: TelemetryCapture, fake: FakeLLMServer, mode: str
) -> None:
    """The SDK traces its requests itself when told to (``configure_telemetry``,
    ``MISTRAL_SDK_TELEMETRY``; on 2.x whenever a global tracer provider is set). Inside our call it
    records nothing: one LLM span per HTTP request. Without agentotel its span is there."""
    from mistralai.extra.observability.telemetry import configure_telemetry

    client = mistral_client(fake)
    configure_telemetry(client, provider=cap.tracer_provider)
    await complete(client, mode, model=MODEL, messages=MESSAGES)
    [sdk_span] = cap.spans()  # the SDK's own span
    assert sdk_span.instrumentation_scope is not None
    assert not sdk_span.instrumentation_scope.name.startswith("agentotel")

    with instrumented(cap, MistralInstrumentor):
        await complete(client, mode, model=MODEL, messages=MESSAGES)
        await stream_all(client, mode, model=MODEL, messages=MESSAGES)

    assert len(fake.requests) == 3
    first, *spans = cap.spans()
    assert first is not None and first.context.span_id == sdk_span.context.span_id
    assert [(s.name, s.instrumentation_scope.name if s.instrumentation_scope else None) for s in spans] == [
        (SPAN_NAME, "agentotel"),
        (SPAN_NAME, "agentotel"),
    ]
