"""The metrics of one LLM call in latest mode (``OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental``).

The latest GenAI conventions split the v1.41.1 ``gen_ai.client.operation.duration`` and
``gen_ai.client.token.usage`` by operation:

* inference (``chat``, ``generate_content``, ``text_completion``; client-inference.md):
  ``gen_ai.client.inference.duration``, ``.time_to_first_chunk``, ``.time_per_output_chunk``, the
  five usage counters ``gen_ai.client.inference.usage.*`` (with ``gen_ai.token.modality``) and the
  two per-call histograms ``gen_ai.client.inference.operation.{input,output}_tokens``. The token
  metrics are recorded for failed calls too, with ``0`` ("or `0` if the response was not received or
  did not contain token usage", gen-ai-token-metrics.md);
* embeddings (client-embeddings.md): ``gen_ai.client.embeddings.duration`` and
  ``gen_ai.client.embeddings.operation.input_tokens``;
* any other operation: ``gen_ai.client.operation.duration`` (gen-ai-metrics.md: it stays for
  operations that are neither).

No provider agentotel instruments breaks usage down by modality, so every usage counter point has
``gen_ai.token.modality=unknown`` (the value the conventions give for "not broken down").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry.metrics import Meter
from opentelemetry.util.types import AttributeValue

from agentotel import semconv

_INFERENCE = frozenset((semconv.OP_CHAT, semconv.OP_GENERATE_CONTENT, semconv.OP_TEXT_COMPLETION))


class InferenceMetrics:
    """The latest conventions' LLM-call instruments of one meter, and how a call records them."""

    def __init__(self, meter: Meter) -> None:
        def seconds(name: str, description: str) -> Any:
            return meter.create_histogram(
                name,
                unit="s",
                description=description,
                explicit_bucket_boundaries_advisory=semconv.DURATION_BUCKETS,
            )

        def tokens(name: str, description: str) -> Any:
            return meter.create_histogram(
                name,
                unit="{token}",
                description=description,
                explicit_bucket_boundaries_advisory=semconv.TOKEN_USAGE_BUCKETS,
            )

        def counter(name: str, description: str) -> Any:
            return meter.create_counter(name, unit="{token}", description=description)

        self.duration = seconds(semconv.GEN_AI_CLIENT_INFERENCE_DURATION, "GenAI inference duration.")
        self.time_to_first_chunk = seconds(
            semconv.GEN_AI_CLIENT_INFERENCE_TIME_TO_FIRST_CHUNK,
            "Time from the request to the first chunk of a streamed response.",
        )
        self.time_per_output_chunk = seconds(
            semconv.GEN_AI_CLIENT_INFERENCE_TIME_PER_OUTPUT_CHUNK,
            "Mean time between output chunks after the first, one point per stream.",
        )
        self.usage = (
            counter(
                semconv.GEN_AI_CLIENT_INFERENCE_USAGE_INPUT_TOKENS, "Input tokens used, cached ones included."
            ),
            counter(
                semconv.GEN_AI_CLIENT_INFERENCE_USAGE_OUTPUT_TOKENS, "Output tokens used, reasoning included."
            ),
            counter(
                semconv.GEN_AI_CLIENT_INFERENCE_USAGE_CACHE_READ_INPUT_TOKENS,
                "Input tokens served from a provider-managed cache.",
            ),
            counter(
                semconv.GEN_AI_CLIENT_INFERENCE_USAGE_CACHE_WRITE_INPUT_TOKENS,
                "Input tokens written to a provider-managed cache.",
            ),
            counter(
                semconv.GEN_AI_CLIENT_INFERENCE_USAGE_REASONING_OUTPUT_TOKENS,
                "Output tokens used for reasoning.",
            ),
        )
        self.operation_input_tokens = tokens(
            semconv.GEN_AI_CLIENT_INFERENCE_OPERATION_INPUT_TOKENS, "Input tokens per inference operation."
        )
        self.operation_output_tokens = tokens(
            semconv.GEN_AI_CLIENT_INFERENCE_OPERATION_OUTPUT_TOKENS, "Output tokens per inference operation."
        )
        self.embeddings_duration = seconds(
            semconv.GEN_AI_CLIENT_EMBEDDINGS_DURATION, "GenAI embeddings duration."
        )
        self.embeddings_input_tokens = tokens(
            semconv.GEN_AI_CLIENT_EMBEDDINGS_OPERATION_INPUT_TOKENS, "Input tokens per embeddings operation."
        )
        self.operation_duration = seconds(
            semconv.GEN_AI_CLIENT_OPERATION_DURATION, "GenAI operation duration."
        )

    def record(
        self,
        attributes: dict[str, Any],
        seconds: float,
        chunk_times: tuple[float | None, float | None],
        input_tokens: int | None,
        output_tokens: int | None,
        usage: Mapping[str, AttributeValue] | None,
        error_type: str | None,
    ) -> None:
        """Record one call: ``attributes`` are the call's metric attributes (no ``error.type``),
        ``usage`` its checked response attributes (v1.41.1 keys, as extractors write them)."""
        failed = attributes if error_type is None else {**attributes, semconv.ERROR_TYPE: error_type}
        operation = attributes.get(semconv.GEN_AI_OPERATION_NAME)
        if operation == semconv.OP_EMBEDDINGS:
            self.embeddings_duration.record(seconds, failed)
            if input_tokens is not None:
                self.embeddings_input_tokens.record(input_tokens, attributes)
            return
        if operation not in _INFERENCE:
            self.operation_duration.record(seconds, failed)
            return
        self.duration.record(seconds, failed)
        first_chunk, per_chunk = chunk_times
        if first_chunk is not None:
            self.time_to_first_chunk.record(first_chunk, attributes)
        if per_chunk is not None:
            self.time_per_output_chunk.record(per_chunk, attributes)
        get = usage.get if usage else _nothing
        values = (
            input_tokens,
            output_tokens,
            get(semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS),
            get(semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS),
            get(semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS),
        )
        by_modality = {**attributes, semconv.GEN_AI_TOKEN_MODALITY: semconv.TOKEN_MODALITY_UNKNOWN}
        for counter, value in zip(self.usage, values, strict=True):
            counter.add(value if type(value) is int else 0, by_modality)
        self.operation_input_tokens.record(input_tokens or 0, failed)
        self.operation_output_tokens.record(output_tokens or 0, failed)


def _nothing(_key: str) -> None:
    return None


def span_attributes(attributes: Mapping[str, AttributeValue]) -> Mapping[str, AttributeValue]:
    """An LLM span's attributes as the latest conventions name and type them: the v1.41.1
    ``gen_ai.usage.cache_creation.input_tokens`` becomes ``gen_ai.usage.cache_write.input_tokens``
    (#440), and ``gen_ai.request.top_k`` an int (#217). ``attributes`` itself is left as it is."""
    written = semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS
    top_k = attributes.get(semconv.GEN_AI_REQUEST_TOP_K)
    if written not in attributes and top_k is None:
        return attributes
    renamed = {
        (semconv.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS if k == written else k): v
        for k, v in attributes.items()
    }
    if isinstance(top_k, float) and top_k.is_integer():
        renamed[semconv.GEN_AI_REQUEST_TOP_K] = int(top_k)
    return renamed


def request_attributes(attributes: dict[str, Any]) -> None:
    """Latest mode, at the start of an LLM span: ``gen_ai.request.top_k`` an int (#217), in place."""
    top_k = attributes.get(semconv.GEN_AI_REQUEST_TOP_K)
    if isinstance(top_k, float) and top_k.is_integer():
        attributes[semconv.GEN_AI_REQUEST_TOP_K] = int(top_k)
