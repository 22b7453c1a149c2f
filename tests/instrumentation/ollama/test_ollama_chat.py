"""``chat`` / ``generate`` / ``embed`` (``Client``, ``AsyncClient`` and the module-level functions)
through the real ``ollama`` SDK against the fake server over HTTP: one CLIENT span per request the
server sees, with exact attributes, usage, the server's timings, errors and metrics."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path
from typing import Any

import ollama
import pytest
import tomllib
from helpers import instrumented, resolve
from ollama_helpers import (
    API_KEY,
    API_KEY_ENV,
    CONNECT_ERROR,
    DIMENSIONS,
    EMBED_MODEL,
    MODEL,
    QUESTION,
    REPLY,
    THINKING,
    client,
    error_name,
    reply_attrs,
    request_attrs,
    user,
)
from opentelemetry.trace import SpanKind, StatusCode
from packaging.requirements import Requirement

from agentotel._registry import available
from agentotel.instrumentation.ollama import OllamaInstrumentor
from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture


async def test_chat_span(
    ollama_instrumented: TelemetryCapture, oclient: Any, fake_llm: FakeLLMServer
) -> None:
    response = await resolve(oclient.chat(model=MODEL, messages=user()))

    assert response.message.content == REPLY
    assert len(fake_llm.requests) == 1
    [span] = ollama_instrumented.spans()
    assert span.name == "chat llama3.2"
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    assert dict(span.attributes) == {**request_attrs(fake_llm), **reply_attrs()}


async def test_generate_is_text_completion(
    ollama_instrumented: TelemetryCapture, oclient: Any, fake_llm: FakeLLMServer
) -> None:
    response = await resolve(oclient.generate(model=MODEL, prompt=QUESTION, system="Be brief."))

    assert response.response == REPLY
    [span] = ollama_instrumented.spans()
    assert span.name == "text_completion llama3.2"
    assert dict(span.attributes) == {
        **request_attrs(fake_llm, "text_completion"),
        **reply_attrs(input_tokens=8),
    }


async def test_embed_span(
    ollama_instrumented: TelemetryCapture, oclient: Any, fake_llm: FakeLLMServer
) -> None:
    response = await resolve(oclient.embed(model=EMBED_MODEL, input=["a b c", "d e"]))

    assert [len(v) for v in response.embeddings] == [8, 8]
    [span] = ollama_instrumented.spans()
    assert span.name == "embeddings nomic-embed-text"
    assert dict(span.attributes) == {
        "gen_ai.operation.name": "embeddings",
        "gen_ai.provider.name": "ollama",
        "gen_ai.request.model": EMBED_MODEL,
        "server.address": "127.0.0.1",
        "server.port": fake_llm.port,
        "gen_ai.response.model": EMBED_MODEL,
        "gen_ai.usage.input_tokens": 5,
        "ollama.total_duration": 0.011,
        "ollama.load_duration": 0.005,
    }
    metric = {
        "gen_ai.operation.name": "embeddings",
        "gen_ai.provider.name": "ollama",
        "gen_ai.token.type": "input",
    }
    assert ollama_instrumented.metric_sum("gen_ai.client.token.usage", metric) == 5


@DIMENSIONS
async def test_embed_dimensions(ollama_instrumented: TelemetryCapture, oclient: Any) -> None:
    response = await resolve(oclient.embed(model=EMBED_MODEL, input="a b", dimensions=4))

    assert [len(v) for v in response.embeddings] == [4]
    [span] = ollama_instrumented.spans()
    assert span.attributes["gen_ai.embeddings.dimension.count"] == 4


async def test_legacy_embeddings_span(
    ollama_instrumented: TelemetryCapture, oclient: Any, fake_llm: FakeLLMServer
) -> None:
    response = await resolve(oclient.embeddings(model=EMBED_MODEL, prompt="a b c"))

    assert len(response.embedding) == 8
    [span] = ollama_instrumented.spans()
    assert dict(span.attributes) == {
        "gen_ai.operation.name": "embeddings",
        "gen_ai.provider.name": "ollama",
        "gen_ai.request.model": EMBED_MODEL,
        "server.address": "127.0.0.1",
        "server.port": fake_llm.port,
    }


async def test_options_give_request_attributes(
    ollama_instrumented: TelemetryCapture, oclient: Any, fake_llm: FakeLLMServer
) -> None:
    options = ollama.Options(
        temperature=0.25, top_p=0.5, top_k=40, num_predict=3, seed=7, stop=["END"],
        presence_penalty=0.1, frequency_penalty=0.2,
    )  # fmt: skip
    response = await resolve(oclient.chat(model=MODEL, messages=user(), options=options, format="json"))

    assert response.message.content == "Hello from the"
    [span] = ollama_instrumented.spans()
    assert dict(span.attributes) == {
        **request_attrs(fake_llm),
        **reply_attrs(output_tokens=3, reason="length"),
        "gen_ai.request.temperature": 0.25,
        "gen_ai.request.top_p": 0.5,
        "gen_ai.request.top_k": 40.0,
        "gen_ai.request.max_tokens": 3,
        "gen_ai.request.seed": 7,
        "gen_ai.request.stop_sequences": ("END",),
        "gen_ai.request.presence_penalty": 0.1,
        "gen_ai.request.frequency_penalty": 0.2,
        "gen_ai.output.type": "json",
    }


async def test_options_as_a_dict_and_no_limit(ollama_instrumented: TelemetryCapture, oclient: Any) -> None:
    await resolve(oclient.chat(model=MODEL, messages=user(), options={"temperature": 1, "num_predict": -1}))

    [span] = ollama_instrumented.spans()
    assert span.attributes["gen_ai.request.temperature"] == 1.0
    assert "gen_ai.request.max_tokens" not in span.attributes  # -1: no limit


@THINKING
async def test_thinking_counts_in_output_tokens(ollama_instrumented: TelemetryCapture, oclient: Any) -> None:
    response = await resolve(
        oclient.chat(model=MODEL, messages=user(f"{QUESTION} [[scenario:reasoning:3]]"), think=True)
    )

    assert response.message.thinking == "Let me think."
    [span] = ollama_instrumented.spans()
    assert span.attributes["gen_ai.usage.input_tokens"] == 7
    assert span.attributes["gen_ai.usage.output_tokens"] == 9
    assert "gen_ai.usage.reasoning.output_tokens" not in span.attributes  # Ollama reports no split


async def test_token_and_duration_metrics(
    ollama_instrumented: TelemetryCapture, oclient: Any, fake_llm: FakeLLMServer
) -> None:
    await resolve(oclient.chat(model=MODEL, messages=user()))
    await resolve(oclient.generate(model=MODEL, prompt="one two"))

    for operation, (input_tokens, output_tokens) in (("chat", (6, 6)), ("text_completion", (2, 6))):
        labels = {
            "gen_ai.operation.name": operation,
            "gen_ai.provider.name": "ollama",
            "gen_ai.request.model": MODEL,
            "gen_ai.response.model": MODEL,
            "server.address": "127.0.0.1",
            "server.port": fake_llm.port,
        }
        usage = "gen_ai.client.token.usage"
        assert ollama_instrumented.metric_sum(usage, {**labels, "gen_ai.token.type": "input"}) == input_tokens
        assert (
            ollama_instrumented.metric_sum(usage, {**labels, "gen_ai.token.type": "output"}) == output_tokens
        )
        [point] = [
            p
            for p in ollama_instrumented.metric_points("gen_ai.client.operation.duration")
            if p.attributes["gen_ai.operation.name"] == operation
        ]
        assert point.count == 1
        assert dict(point.attributes) == labels


def test_module_level_functions_are_instrumented(
    ollama_instrumented: TelemetryCapture, fresh_fake_llm: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``ollama.chat`` & co. are methods of a ``Client`` made when ``ollama`` was imported, bound
    before the instrumentor ran: they still make one span each."""
    fresh_fake_llm.clear()
    default = ollama._client
    # Its httpx client, on the fake server.
    monkeypatch.setattr(default, "_client", client(fresh_fake_llm)._client)
    assert ollama.chat.__self__ is default

    ollama.chat(model=MODEL, messages=user())
    ollama.generate(model=MODEL, prompt=QUESTION)
    ollama.embed(model=EMBED_MODEL, input="a b")

    names = [s.name for s in ollama_instrumented.spans()]
    assert names == ["chat llama3.2", "text_completion llama3.2", "embeddings nomic-embed-text"]
    assert len(fresh_fake_llm.requests) == 3


def test_default_host_gives_server_attributes(
    ollama_instrumented: TelemetryCapture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No ``host`` and no ``OLLAMA_HOST``: the SDK's default, ``127.0.0.1:11434`` (nothing listens:
    the call fails with the SDK's ``ConnectionError``, and the span says where it went)."""
    monkeypatch.delenv("OLLAMA_HOST", raising=False)
    with pytest.raises(Exception) as raised:
        ollama.Client().chat(model=MODEL, messages=user())

    assert error_name(type(raised.value)) == CONNECT_ERROR

    [span] = ollama_instrumented.spans()
    assert (span.attributes["server.address"], span.attributes["server.port"]) == ("127.0.0.1", 11434)
    assert span.attributes["error.type"] == CONNECT_ERROR


def test_ollama_host_gives_server_attributes(
    ollama_instrumented: TelemetryCapture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OLLAMA_HOST", "https://ollama.internal.example")
    seen = ollama.Client()._client.base_url
    assert (seen.host, seen.port) == ("ollama.internal.example", None)  # httpx drops the default port

    from agentotel.instrumentation.ollama.extract import server_attributes

    assert dict(server_attributes(seen.scheme, seen.host, seen.port)) == {
        "gen_ai.provider.name": "ollama",
        "server.address": "ollama.internal.example",
        "server.port": 443,
    }


async def test_model_not_found_is_a_response_error(
    ollama_instrumented: TelemetryCapture, oclient: Any, fake_llm: FakeLLMServer
) -> None:
    with pytest.raises(ollama.ResponseError) as raised:
        await resolve(oclient.chat(model="not-found-model", messages=user()))

    assert raised.value.status_code == 404
    assert raised.value.error == 'model "not-found-model" not found, try pulling it first'
    [span] = ollama_instrumented.spans()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == "ollama.ResponseError"
    assert span.attributes["gen_ai.request.model"] == "not-found-model"
    [point] = ollama_instrumented.metric_points("gen_ai.client.operation.duration")
    assert point.attributes["error.type"] == "ollama.ResponseError"
    assert ollama_instrumented.metric_points("gen_ai.client.token.usage") == []


@pytest.mark.parametrize(
    ("scenario", "status"),
    [("rate_limit", 429), ("server_error", 500), ("overloaded", 503), ("bad_request", 400)],
)
async def test_error_statuses(
    ollama_instrumented: TelemetryCapture, oclient: Any, scenario: str, status: int
) -> None:
    with pytest.raises(ollama.ResponseError) as raised:
        await resolve(oclient.chat(model=MODEL, messages=user(f"[[scenario:{scenario}]]")))

    assert raised.value.status_code == status
    [span] = ollama_instrumented.spans()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == error_name(ollama.ResponseError) == "ollama.ResponseError"


async def test_refused_call_makes_no_span(
    ollama_instrumented: TelemetryCapture, oclient: Any, fake_llm: FakeLLMServer
) -> None:
    """No model: the SDK refuses the call before it builds a request; nothing was sent, no span."""
    with pytest.raises(Exception) as raised:
        await resolve(oclient.chat(messages=user()))

    assert type(raised.value).__name__ == "ValidationError"
    assert fake_llm.requests == []
    assert ollama_instrumented.spans() == []


async def test_model_management_is_not_instrumented(
    ollama_instrumented: TelemetryCapture, oclient: Any, fake_llm: FakeLLMServer
) -> None:
    with pytest.raises(ollama.ResponseError):  # the fake server knows no /api/tags
        await resolve(oclient.list())

    assert len(fake_llm.requests) == 1
    assert ollama_instrumented.spans() == []


def test_uninstrument_removes_the_spans(cap: TelemetryCapture, fresh_fake_llm: FakeLLMServer) -> None:
    fresh_fake_llm.clear()
    with instrumented(cap, OllamaInstrumentor):
        client(fresh_fake_llm).chat(model=MODEL, messages=user())
    client(fresh_fake_llm).chat(model=MODEL, messages=user())

    assert len(cap.spans()) == 1
    assert len(fresh_fake_llm.requests) == 2


@API_KEY_ENV
def test_no_key_anywhere(
    ollama_instrumented: TelemetryCapture, fresh_fake_llm: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``OLLAMA_API_KEY`` (Ollama's cloud) goes to the ``Authorization`` header only: nothing
    recorded holds it, whatever the call does."""
    monkeypatch.setenv("OLLAMA_API_KEY", API_KEY)
    fresh_fake_llm.clear()
    c = client(fresh_fake_llm)
    c.chat(model=MODEL, messages=user())
    for _ in c.chat(model=MODEL, messages=user(), stream=True):
        pass
    with pytest.raises(ollama.ResponseError):
        c.chat(model="not-found", messages=user())

    assert "authorization" in fresh_fake_llm.requests[0].headers  # sent (the fake server records it redacted)
    recorded = repr([dict(s.attributes) for s in ollama_instrumented.spans()])
    recorded += repr([[e.attributes for e in s.events] for s in ollama_instrumented.spans()])
    recorded += repr(
        [p.attributes for p in ollama_instrumented.metric_points("gen_ai.client.operation.duration")]
    )
    recorded += repr([(r.body, r.attributes) for r in ollama_instrumented.logs()])
    assert len(ollama_instrumented.spans()) == 3
    assert API_KEY not in recorded
    assert API_KEY[:12] not in recorded


def test_entry_point_and_versions() -> None:
    """The entry point finds the instrumentor; the extra and the instrumentor state one range,
    and the installed SDK is in it."""
    assert available()["agentotel_ollama"] is OllamaInstrumentor
    pyproject = tomllib.loads((Path(__file__).parents[3] / "pyproject.toml").read_text())
    [extra] = pyproject["project"]["optional-dependencies"]["ollama"]
    [requirement] = OllamaInstrumentor().instrumentation_dependencies()
    assert Requirement(extra).specifier == Requirement(requirement.replace(" ", "")).specifier
    assert Requirement(extra).specifier.contains(version("ollama"))
