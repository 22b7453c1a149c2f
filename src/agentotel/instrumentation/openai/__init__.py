"""OpenAI instrumentor (entry point ``agentotel_openai``).

Usage::

    from agentotel.instrumentation.openai import OpenAIInstrumentor
    OpenAIInstrumentor().instrument(tracer_provider=tp, meter_provider=mp)

or zero-code with ``opentelemetry-instrument python app.py``.

Instrumented (sync and async, stream and non-stream, also through ``with_raw_response`` /
``with_streaming_response`` and the ``.stream()`` helpers, which call ``create``):
``chat.completions.create`` / ``.parse``, ``responses.create`` / ``.parse``, ``embeddings.create``;
on ``openai`` 1.50 to 1.91 also ``beta.chat.completions.parse`` (see the patch table for where each
lives by version: ``openai >= 1.40, < 4``). One span per HTTP request.

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

# Where each patched method lives, by ``openai`` version (docs/integrations/openai.md has the table):
# - ``openai.resources.chat.completions`` is a module up to 1.62 and, from 1.63.0, a package that
#   re-exports the classes of its ``.completions`` module: this one path reaches ``Completions`` in
#   both layouts (naming the inner module too would wrap the same method twice).
#   ``chat.completions.parse`` (and ``.stream``) appeared there in 1.92.0.
# - ``beta.chat.completions.parse`` (1.40 to 1.91): up to 1.49 it calls ``chat.completions.create``
#   (one span from ``create``); from 1.50.0 it sends its own request, so it is wrapped then only.
#   1.92.0 made ``beta.chat`` the ``chat`` resource itself.
# - The Responses API (``responses.create`` / ``.parse``) appeared in 1.66.0.
# Each entry names the versions it is wrapped in (``Patch.versions``); the tests check that every
# entry meant for the installed version exists there.
_CHAT = "openai.resources.chat.completions"
_BETA_CHAT = "openai.resources.beta.chat.completions"
_RESPONSES = "openai.resources.responses.responses"
_EMBEDDINGS = "openai.resources.embeddings"


def _p() -> Any:
    """The wrappers' module, imported only when ``openai`` is (it imports ``openai``)."""
    from agentotel.instrumentation.openai import patch

    return patch


def _request_reached(telemetry: Any, boundary: Any) -> Any:
    from agentotel.instrumentation._deferred import request_reached

    return request_reached()


def _patches() -> tuple[Patch, ...]:
    return (
        # Every request goes through the client's ``request`` (the retry loop that sends): a call's
        # span starts there, so a call the SDK refuses before sending (a missing argument, a refused
        # value) makes none. One LLM span per HTTP call.
        Patch("openai._base_client", "SyncAPIClient.request", _request_reached),
        Patch("openai._base_client", "AsyncAPIClient.request", _request_reached),
        Patch(_CHAT, "Completions.create", lambda t, b: _p().chat(t, b).sync()),
        Patch(_CHAT, "AsyncCompletions.create", lambda t, b: _p().chat(t, b).async_()),
        Patch(_CHAT, "Completions.parse", lambda t, b: _p().chat(t, b).sync(), versions=">=1.92"),
        Patch(_CHAT, "AsyncCompletions.parse", lambda t, b: _p().chat(t, b).async_(), versions=">=1.92"),
        # Sends its own request from 1.50.0 (before: through ``create``); 1.92.0 made it ``chat``'s.
        Patch(_BETA_CHAT, "Completions.parse", lambda t, b: _p().chat(t, b).sync(), versions=">=1.50,<1.92"),
        Patch(
            _BETA_CHAT,
            "AsyncCompletions.parse",
            lambda t, b: _p().chat(t, b).async_(),
            versions=">=1.50,<1.92",
        ),
        Patch(_RESPONSES, "Responses.create", lambda t, b: _p().responses(t, b).sync(), versions=">=1.66"),
        Patch(_RESPONSES, "Responses.parse", lambda t, b: _p().responses(t, b).sync(), versions=">=1.66"),
        Patch(
            _RESPONSES, "AsyncResponses.create", lambda t, b: _p().responses(t, b).async_(), versions=">=1.66"
        ),
        Patch(
            _RESPONSES, "AsyncResponses.parse", lambda t, b: _p().responses(t, b).async_(), versions=">=1.66"
        ),
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
