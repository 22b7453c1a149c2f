"""OpenAI embeddings: spans and metrics, driving the real SDK over HTTP.

Fake-server rules used below: input tokens are the words of ``input``; embeddings have 8
dimensions unless ``dimensions`` is given and return the request's model.
"""

from __future__ import annotations

from typing import Any

import openai
import pytest
from helpers import (
    DURATION,
    EMBEDDING_MODEL,
    QUESTION,
    TIME_PER_OUTPUT_CHUNK,
    TIME_TO_FIRST_CHUNK,
    TOKENS,
    priced,
    resolve,
    token_sums,
)
from openai.types import CreateEmbeddingResponse
from openai_helpers import assert_rate_limited, client_span, points
from opentelemetry.trace import StatusCode

from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture

pytestmark = pytest.mark.usefixtures("fresh_fake_llm")


@pytest.fixture
def embeddings_base(fake_llm: FakeLLMServer) -> dict[str, Any]:
    return {
        "gen_ai.operation.name": "embeddings",
        "gen_ai.request.model": EMBEDDING_MODEL,
        "gen_ai.provider.name": "openai",
        "server.address": "127.0.0.1",
        "server.port": fake_llm.port,
    }


@pytest.fixture
def embeddings_metric_base(embeddings_base: dict[str, Any]) -> dict[str, Any]:
    return {**embeddings_base, "gen_ai.response.model": EMBEDDING_MODEL}


# --------------------------------------------------------------------------- embeddings


async def test_embeddings_span(
    openai_instrumented: TelemetryCapture,
    client: Any,
    embeddings_base: dict[str, Any],
    embeddings_metric_base: dict[str, Any],
) -> None:
    result = await resolve(client.embeddings.create(model=EMBEDDING_MODEL, input="hello world"))

    assert type(result) is CreateEmbeddingResponse
    assert len(result.data[0].embedding) == 8
    span = client_span(openai_instrumented)
    assert span.name == "embeddings text-embedding-3-small"
    assert span.status.status_code is StatusCode.UNSET
    assert dict(span.attributes or {}) == priced(
        {
            **embeddings_base,
            "gen_ai.response.model": EMBEDDING_MODEL,
            "gen_ai.embeddings.dimension.count": 8,
            "gen_ai.usage.input_tokens": 2,
        }
    )
    assert points(openai_instrumented, TOKENS) == [
        ({**embeddings_metric_base, "gen_ai.token.type": "input"}, 1)
    ]
    assert token_sums(openai_instrumented) == {"input": 2}


def test_embeddings_metrics_have_no_output_tokens(
    openai_instrumented: TelemetryCapture,
    openai_client: openai.OpenAI,
    embeddings_metric_base: dict[str, Any],
) -> None:
    openai_client.embeddings.create(model=EMBEDDING_MODEL, input=["hello world", "bye"])

    cap = openai_instrumented
    assert points(cap, TOKENS) == [({**embeddings_metric_base, "gen_ai.token.type": "input"}, 1)]
    assert token_sums(cap) == {"input": 3}
    assert points(cap, DURATION) == [(embeddings_metric_base, 1)]
    assert cap.metric_points(TIME_TO_FIRST_CHUNK) == []
    assert cap.metric_points(TIME_PER_OUTPUT_CHUNK) == []


def test_embeddings_dimensions_and_encoding_format(
    openai_instrumented: TelemetryCapture, openai_client: openai.OpenAI, embeddings_base: dict[str, Any]
) -> None:
    result = openai_client.embeddings.create(
        model=EMBEDDING_MODEL, input=QUESTION, dimensions=3, encoding_format="float"
    )

    assert result.data[0].embedding == [0.001, 0.002, 0.003]
    assert dict(client_span(openai_instrumented).attributes or {}) == priced(
        {
            **embeddings_base,
            "gen_ai.request.encoding_formats": ("float",),
            "gen_ai.embeddings.dimension.count": 3,
            "gen_ai.response.model": EMBEDDING_MODEL,
            "gen_ai.usage.input_tokens": 6,
        }
    )


async def test_embeddings_rate_limit(
    openai_instrumented: TelemetryCapture, client: Any, embeddings_base: dict[str, Any]
) -> None:
    with pytest.raises(openai.RateLimitError) as info:
        await resolve(
            client.embeddings.create(model=EMBEDDING_MODEL, input=f"{QUESTION} [[scenario:rate_limit]]")
        )

    span = client_span(openai_instrumented)
    assert span.name == "embeddings text-embedding-3-small"
    assert_rate_limited(span, info.value, embeddings_base)
    assert openai_instrumented.metric_points(TOKENS) == []
