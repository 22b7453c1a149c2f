"""AWS Bedrock Runtime instrumentor (entry point ``agentotel_bedrock``), for ``boto3`` / ``botocore``.

Usage::

    from agentotel.instrumentation.bedrock import BedrockInstrumentor
    BedrockInstrumentor().instrument(tracer_provider=tp, meter_provider=mp)

or zero-code with ``opentelemetry-instrument python app.py``.

Instrumented, on a ``bedrock-runtime`` client: ``converse``, ``converse_stream``, ``invoke_model``
and ``invoke_model_with_response_stream``, one CLIENT span per call (botocore's retries are inside
it). botocore builds its client classes at run time, so the patch point is
``botocore.client.BaseClient._make_api_call``; every other AWS call passes through it untouched
after one dictionary lookup of its operation name. The span starts when botocore builds the
request of a validated call (its ``request-created`` event, on ``bedrock-runtime`` clients only): a
call botocore refuses (``ParamValidationError``) makes none.

``gen_ai.provider.name`` is ``aws.bedrock``; ``gen_ai.request.model`` the ``modelId``;
``server.address`` / ``server.port`` the client's endpoint. Token usage: Converse's
``inputTokens`` plus its cache read / write tokens (the conventions' total input), from the
response or the stream's ``metadata`` event; ``invoke_model`` bodies are read for the Anthropic
Messages, Amazon Nova and Meta Llama families, any other model gets the token counts Bedrock puts
in the response headers (streams: ``amazon-bedrock-invocationMetrics``). The credentials (secret
key, session token, and a Bedrock API key: the bearer token botocore takes from
``AWS_BEARER_TOKEN_BEDROCK``) are redacted from everything recorded; SigV4 headers are never read.
"""

from __future__ import annotations

from typing import Any

from agentotel.instrumentation._base import AgentotelInstrumentor, Patch
from agentotel.instrumentation.bedrock.package import _instruments


def _p() -> Any:
    """The wrappers' module, imported only when ``botocore`` is (it imports ``botocore``)."""
    from agentotel.instrumentation.bedrock import patch

    return patch


def _patches() -> tuple[Patch, ...]:
    return (Patch("botocore.client", "BaseClient._make_api_call", lambda t, b: _p().make_api_call(t, b)),)


class BedrockInstrumentor(AgentotelInstrumentor):
    """Spans and metrics for Amazon Bedrock Runtime through ``botocore`` (see the module docstring)."""

    component = "bedrock"
    requirements = _instruments

    @property
    def patches(self) -> tuple[Patch, ...]:  # type: ignore[override]
        return _patches()


__all__ = ["BedrockInstrumentor"]
