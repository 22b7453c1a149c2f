"""``embed`` and ``rerank`` (sync and async): one CLIENT span each, ``embeddings`` with the billed
input tokens, ``rerank`` (an operation name of ours: the conventions have none) with the billed
search units and no tokens."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cohere
import pytest
from cohere_helpers import EMBED_MODEL, RERANK_MODEL
from helpers import resolve
from opentelemetry.trace import SpanKind, StatusCode

from agentotel.processors import AuditSpanProcessor
from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture

DOCUMENTS = ["Paris is the capital of France", "Berlin is in Germany", "The capital of Italy is Rome"]


def server_attrs(server: FakeLLMServer) -> dict[str, Any]:
    return {"gen_ai.provider.name": "cohere", "server.address": "127.0.0.1", "server.port": server.port}


async def test_embed(co_instrumented: TelemetryCapture, client: Any, fresh_fake_llm: FakeLLMServer) -> None:
    response = await resolve(
        client.embed(
            model=EMBED_MODEL,
            texts=["one two three", "four"],
            input_type="search_document",
            embedding_types=["float", "int8"],
            output_dimension=4,
        )
    )

    assert [len(v) for v in response.embeddings.float_] == [4, 4]
    assert [r.path for r in fresh_fake_llm.requests] == ["/v2/embed"]
    [span] = co_instrumented.spans()
    assert span.name == f"embeddings {EMBED_MODEL}"
    assert span.kind is SpanKind.CLIENT
    assert dict(span.attributes) == {
        **server_attrs(fresh_fake_llm),
        "gen_ai.operation.name": "embeddings",
        "gen_ai.request.model": EMBED_MODEL,
        "gen_ai.embeddings.dimension.count": 4,
        "gen_ai.request.encoding_formats": ("float", "int8"),
        "gen_ai.response.id": "embed_1",
        "gen_ai.usage.input_tokens": 4,
    }
    metric = {"gen_ai.operation.name": "embeddings", "gen_ai.token.type": "input"}
    assert co_instrumented.metric_sum("gen_ai.client.token.usage", metric) == 4
    assert co_instrumented.metric_count("gen_ai.client.token.usage") == 1


async def test_rerank(co_instrumented: TelemetryCapture, client: Any, fresh_fake_llm: FakeLLMServer) -> None:
    response = await resolve(
        client.rerank(model=RERANK_MODEL, query="capital of France", documents=DOCUMENTS, top_n=2)
    )

    assert [r.index for r in response.results] == [0, 2]
    [span] = co_instrumented.spans()
    assert span.name == f"rerank {RERANK_MODEL}"
    assert span.status.status_code is StatusCode.UNSET
    assert dict(span.attributes) == {
        **server_attrs(fresh_fake_llm),
        "gen_ai.operation.name": "rerank",
        "gen_ai.request.model": RERANK_MODEL,
        "gen_ai.response.id": "rerank_1",
        "cohere.usage.search_units": 1,
    }
    # No tokens reported, so no token metric point; one duration point.
    assert co_instrumented.metric_count("gen_ai.client.token.usage") == 0
    assert (
        co_instrumented.metric_count("gen_ai.client.operation.duration", {"gen_ai.operation.name": "rerank"})
        == 1
    )


async def test_rerank_error(
    co_instrumented: TelemetryCapture, client: Any, fresh_fake_llm: FakeLLMServer
) -> None:
    with pytest.raises(cohere.BadRequestError):
        await resolve(client.rerank(model=RERANK_MODEL, query="q", documents=[]))

    [span] = co_instrumented.spans()
    assert span.attributes["error.type"] == "cohere.BadRequestError"
    assert len(fresh_fake_llm.requests) == 1


async def test_embed_and_rerank_are_llm_call_audit_records(
    co_instrumented: TelemetryCapture, client: Any, fresh_fake_llm: FakeLLMServer, tmp_path: Path
) -> None:
    """With ``llm_calls`` on, a rerank is an ``llm_call`` record as an embed is (both are calls of
    a Cohere model), its action the operation ``rerank``; a refused rerank is a failure."""
    audit = AuditSpanProcessor(tmp_path / "audit.jsonl", llm_calls=True, fsync="never")
    co_instrumented.tracer_provider.add_span_processor(audit)
    await resolve(
        client.embed(model=EMBED_MODEL, texts=["one two three", "four"], input_type="search_document")
    )
    await resolve(client.rerank(model=RERANK_MODEL, query="capital of France", documents=DOCUMENTS))
    with pytest.raises(cohere.BadRequestError):
        await resolve(client.rerank(model=RERANK_MODEL, query="q", documents=[]))
    audit.shutdown()

    records = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    server = {"gen_ai.provider.name": "cohere", "server.address": "127.0.0.1"}
    assert [(r["event_type"], r["action"], r["resource"], r["outcome"], r["metadata"]) for r in records] == [
        ("llm_call", "embeddings", EMBED_MODEL, "success", {**server, "gen_ai.usage.input_tokens": 4}),
        ("llm_call", "rerank", RERANK_MODEL, "success", server),
        ("llm_call", "rerank", RERANK_MODEL, "failure", {**server, "error.type": "cohere.BadRequestError"}),
    ]
