"""Ollama instrumentor (entry point ``agentotel_ollama``), for the ``ollama`` SDK.

Usage::

    from agentotel.instrumentation.ollama import OllamaInstrumentor
    OllamaInstrumentor().instrument(tracer_provider=tp, meter_provider=mp)

or zero-code with ``opentelemetry-instrument python app.py``.

Instrumented (``Client``, ``AsyncClient`` and the module-level ``ollama.chat`` / ``generate`` /
``embed`` / ``embeddings``): every ``/api/chat``, ``/api/generate``, ``/api/embed`` and
``/api/embeddings`` request, streamed or not, one CLIENT span each. The wrapped method is the
SDK's one request method, ``Client._request`` / ``AsyncClient._request`` (see :mod:`.patch`):
the module-level functions are methods of a client made when ``ollama`` is imported, and they
reach it too. Model management (``pull``, ``list``, ``show``, ...) is not instrumented.

``gen_ai.operation.name`` is ``chat``, ``text_completion`` (``/api/generate``) or ``embeddings``;
``gen_ai.provider.name`` is ``ollama`` (not yet in the conventions' registry); ``server.address``
and ``server.port`` are the client's host (``OLLAMA_HOST``, ``127.0.0.1:11434`` by default). The
server's timings are ``ollama.*`` attributes in seconds; usage and tool-call ids are described in
:mod:`.extract`; ``docs/integrations/ollama.md`` has the rest.
"""

from __future__ import annotations

from typing import Any

from agentotel.instrumentation._base import AgentotelInstrumentor, Patch
from agentotel.instrumentation.ollama.package import _instruments

_CLIENT = "ollama._client"


def _p() -> Any:
    """The wrappers' module, imported only when ``ollama`` is (it imports it)."""
    from agentotel.instrumentation.ollama import patch

    return patch


def _patches() -> tuple[Patch, ...]:
    return (
        Patch(_CLIENT, "Client._request", lambda t, b: _p().requests(t, b, is_async=False)),
        Patch(_CLIENT, "AsyncClient._request", lambda t, b: _p().requests(t, b, is_async=True)),
    )


class OllamaInstrumentor(AgentotelInstrumentor):
    """Spans and metrics for the ``ollama`` SDK (see the module docstring)."""

    component = "ollama"
    requirements = _instruments

    @property
    def patches(self) -> tuple[Patch, ...]:  # type: ignore[override]
        return _patches()


__all__ = ["OllamaInstrumentor"]
