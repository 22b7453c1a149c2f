"""Groq instrumentor (entry point ``agentotel_groq``), for the ``groq`` SDK (``Groq``, ``AsyncGroq``).

Usage::

    from agentotel.instrumentation.groq import GroqInstrumentor
    GroqInstrumentor().instrument(tracer_provider=tp, meter_provider=mp)

or zero-code with ``opentelemetry-instrument python app.py``.

Instrumented (sync and async, stream and non-stream, also through ``with_raw_response`` /
``with_streaming_response``): ``chat.completions.create`` (``groq >= 0.9, < 2``). One CLIENT span
``chat {model}`` per HTTP request, ``gen_ai.provider.name`` ``groq``, with the GenAI
semantic-convention attributes and the ``gen_ai.client.*`` metrics; Groq's own: the time the
request waited in Groq's queue (``groq.usage.queue_time``, seconds) and Groq's request id
(``groq.request.id``, ``x_groq.id``). A stream's usage is read from its last chunk's
``x_groq.usage``. Not instrumented: audio (transcriptions, translations, speech), embeddings,
files, batches, models. An app calling Groq through the ``openai`` SDK (``base_url`` at
``api.groq.com``) is traced by the OpenAI instrumentor instead, also as ``groq``.

Environment: ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`` (NO_CONTENT by default),
``AGENTOTEL_CONTENT_MAX_LENGTH``; ``OTEL_PYTHON_DISABLED_INSTRUMENTATIONS=agentotel_groq`` disables it.
"""

from __future__ import annotations

from typing import Any

from agentotel.instrumentation._base import AgentotelInstrumentor, Patch
from agentotel.instrumentation.groq.package import _instruments

_CHAT = "groq.resources.chat.completions"
_CLIENT = "groq._base_client"


def _p() -> Any:
    """The wrappers' module, imported only when ``groq`` is (it imports ``groq``)."""
    from agentotel.instrumentation.groq import patch

    return patch


def _request_reached(telemetry: Any, boundary: Any) -> Any:
    from agentotel.instrumentation._deferred import request_reached

    return request_reached()


def _patches() -> tuple[Patch, ...]:
    return (
        # Every request goes through the client's ``request`` (the retry loop that sends): a call's
        # span starts there, so a call the SDK refuses before sending makes none. One LLM span per
        # HTTP call.
        Patch(_CLIENT, "SyncAPIClient.request", _request_reached),
        Patch(_CLIENT, "AsyncAPIClient.request", _request_reached),
        Patch(_CHAT, "Completions.create", lambda t, b: _p().chat(t, b).sync()),
        Patch(_CHAT, "AsyncCompletions.create", lambda t, b: _p().chat(t, b).async_()),
    )


class GroqInstrumentor(AgentotelInstrumentor):
    """Spans and metrics for the ``groq`` SDK (see the module docstring)."""

    component = "groq"
    requirements = _instruments

    @property
    def patches(self) -> tuple[Patch, ...]:  # type: ignore[override]
        return _patches()


__all__ = ["GroqInstrumentor"]
