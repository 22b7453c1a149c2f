"""Google GenAI instrumentor (entry point ``agentotel_google_genai``), for ``from google import genai``.

Usage::

    from agentotel.instrumentation.google_genai import GoogleGenAIInstrumentor
    GoogleGenAIInstrumentor().instrument(tracer_provider=tp, meter_provider=mp)

or zero-code with ``opentelemetry-instrument python app.py``.

Instrumented (sync and ``client.aio``): every ``generateContent`` and ``streamGenerateContent``
request and every embeddings request, one CLIENT span each. The wrapped methods are the SDK's
one-request methods, ``Models._generate_content``, ``_generate_content_stream`` and
``_embed_content`` (``embed_content`` itself before 1.64.0, where it sent the request), not the
public ``generate_content``: that one may send several requests (automatic function calling,
automatic continuation), and chats (``chats.create(...).send_message`` /
``send_message_stream``) call it. So a chat message is one span, and an automatic function
calling loop is one span per model call with an inferred ``execute_tool`` span per function the
SDK ran in between.

``gen_ai.operation.name`` is ``generate_content`` (the conventions' name for Gemini's
``generateContent``, chats included) or ``embeddings``; ``gen_ai.provider.name`` is
``gcp.vertex_ai`` for a client built with ``vertexai=True``, else ``gcp.gemini``. Usage and the
tool-call ids are described in :mod:`.extract`; ``docs/integrations/google-genai.md`` has the rest.
"""

from __future__ import annotations

from typing import Any

from agentotel.instrumentation._base import AgentotelInstrumentor, Patch
from agentotel.instrumentation.google_genai.package import _instruments

_MODELS = "google.genai.models"
# ``google`` is a namespace package: the hook waits for ``google.genai``.
_TRIGGER = "google.genai"
_DIST = "google-genai"
# ``embed_content`` sends its request itself before 1.64.0; from 1.64.0 it calls ``_embed_content``.
_EMBED_SPLIT = "1.64.0"


def _p() -> Any:
    """The wrappers' module, imported only when ``google.genai`` is (it imports it)."""
    from agentotel.instrumentation.google_genai import patch

    return patch


def _patch(name: str, factory: Any, versions: str = "") -> Patch:
    return Patch(_MODELS, name, factory, trigger=_TRIGGER, versions=versions, distribution=_DIST)


def _patches() -> tuple[Patch, ...]:
    return (
        _patch("Models._generate_content", lambda t, b: _p().generate(t, b).sync()),
        _patch("AsyncModels._generate_content", lambda t, b: _p().generate(t, b).async_()),
        _patch("Models._generate_content_stream", lambda t, b: _p().stream(t, b).sync()),
        _patch("AsyncModels._generate_content_stream", lambda t, b: _p().stream(t, b).async_()),
        _patch("Models._embed_content", lambda t, b: _p().embed(t, b).sync(), f">={_EMBED_SPLIT}"),
        _patch("AsyncModels._embed_content", lambda t, b: _p().embed(t, b).async_(), f">={_EMBED_SPLIT}"),
        _patch("Models.embed_content", lambda t, b: _p().embed(t, b).sync(), f"<{_EMBED_SPLIT}"),
        _patch("AsyncModels.embed_content", lambda t, b: _p().embed(t, b).async_(), f"<{_EMBED_SPLIT}"),
    )


class GoogleGenAIInstrumentor(AgentotelInstrumentor):
    """Spans and metrics for the ``google-genai`` SDK (see the module docstring)."""

    component = "google_genai"
    requirements = _instruments

    @property
    def patches(self) -> tuple[Patch, ...]:  # type: ignore[override]
        return _patches()


__all__ = ["GoogleGenAIInstrumentor"]
