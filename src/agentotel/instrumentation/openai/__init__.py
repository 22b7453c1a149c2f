"""OpenAI instrumentor (entry point ``agentotel_openai``).

Usage::

    from agentotel.instrumentation.openai import OpenAIInstrumentor
    OpenAIInstrumentor().instrument(tracer_provider=tp, meter_provider=mp)

or zero-code with ``opentelemetry-instrument python app.py``.

Instrumented (sync and async, stream and non-stream, also through ``with_raw_response`` /
``with_streaming_response`` and the ``.stream()`` helpers, which call ``create``):
``chat.completions.create`` / ``.parse``, ``responses.create`` / ``.parse``, ``embeddings.create``.

Each call is one CLIENT span ``{operation} {model}`` with the GenAI semantic-convention attributes,
plus the ``gen_ai.client.*`` metrics. OpenAI-compatible providers reached through ``base_url``
(Azure OpenAI, Groq, DeepSeek, xAI, Mistral, Gemini, Perplexity) get their own
``gen_ai.provider.name``; any other host stays ``openai`` with ``server.address`` telling where.

Environment: ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`` (NO_CONTENT by default),
``AGENTOTEL_CONTENT_MAX_LENGTH``; ``OTEL_PYTHON_DISABLED_INSTRUMENTATIONS=agentotel_openai`` disables it.
"""

from __future__ import annotations

from typing import Any

from agentotel.instrumentation._base import AgentotelInstrumentor, Patch
from agentotel.instrumentation.openai.package import _instruments

_CHAT = "openai.resources.chat.completions.completions"
_RESPONSES = "openai.resources.responses.responses"
_EMBEDDINGS = "openai.resources.embeddings"


def _p() -> Any:
    """The wrappers' module, imported only when ``openai`` is (it imports ``openai``)."""
    from agentotel.instrumentation.openai import patch

    return patch


def _patches() -> tuple[Patch, ...]:
    return (
        Patch(_CHAT, "Completions.create", lambda t, b: _p().chat(t, b).sync()),
        Patch(_CHAT, "Completions.parse", lambda t, b: _p().chat(t, b).sync()),
        Patch(_CHAT, "AsyncCompletions.create", lambda t, b: _p().chat(t, b).async_()),
        Patch(_CHAT, "AsyncCompletions.parse", lambda t, b: _p().chat(t, b).async_()),
        Patch(_RESPONSES, "Responses.create", lambda t, b: _p().responses(t, b).sync()),
        Patch(_RESPONSES, "Responses.parse", lambda t, b: _p().responses(t, b).sync()),
        Patch(_RESPONSES, "AsyncResponses.create", lambda t, b: _p().responses(t, b).async_()),
        Patch(_RESPONSES, "AsyncResponses.parse", lambda t, b: _p().responses(t, b).async_()),
        Patch(_EMBEDDINGS, "Embeddings.create", lambda t, b: _p().embeddings(t, b).sync()),
        Patch(_EMBEDDINGS, "AsyncEmbeddings.create", lambda t, b: _p().embeddings(t, b).async_()),
    )


class OpenAIInstrumentor(AgentotelInstrumentor):
    """Spans and metrics for the ``openai`` SDK (see the module docstring)."""

    component = "openai"
    requirements = _instruments

    @property
    def patches(self) -> tuple[Patch, ...]:  # type: ignore[override]
        return _patches()


__all__ = ["OpenAIInstrumentor"]
