"""Mistral instrumentor (entry point ``agentotel_mistralai``), for ``from mistralai.client import Mistral``.

Usage::

    from agentotel.instrumentation.mistralai import MistralInstrumentor
    MistralInstrumentor().instrument(tracer_provider=tp, meter_provider=mp)

or zero-code with ``opentelemetry-instrument python app.py``.

Instrumented (``mistralai >= 2.9.2, < 4``; the SDK lives in ``mistralai.client`` from 2.0, and 2.9.2 is
the first that installs beside this package's OpenTelemetry):
``chat.complete`` / ``complete_async`` and ``chat.stream`` / ``stream_async`` (``chat.parse`` and
``parse_stream`` call them), ``embeddings.create`` / ``create_async``. One CLIENT span
``{operation} {model}`` per call with the GenAI semantic-convention attributes,
``gen_ai.provider.name`` = ``mistral_ai``, plus the ``gen_ai.client.*`` metrics. The span starts
when the SDK sends (``BaseSDK.do_request``, which every request of the SDK goes through): a call
the SDK refuses before sending (an argument its request model rejects) makes none. The SDK's
retries happen inside ``do_request``: a retried call is one span. The SDK's own tracing
(``MISTRAL_SDK_TELEMETRY`` / ``configure_telemetry`` from 3.x; any global tracer provider on 2.x)
starts no span inside ours: one LLM span per HTTP call.

Environment: ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`` (NO_CONTENT by default),
``AGENTOTEL_CONTENT_MAX_LENGTH``; ``OTEL_PYTHON_DISABLED_INSTRUMENTATIONS=agentotel_mistralai``
disables it. ``docs/integrations/mistralai.md`` has the rest.
"""

from __future__ import annotations

from typing import Any

from agentotel.instrumentation._base import AgentotelInstrumentor, Patch
from agentotel.instrumentation.mistralai.package import _instruments

# ``mistralai`` is a namespace package from 2.0: the hook waits for ``mistralai.client``.
_TRIGGER = "mistralai.client"
_CHAT = "mistralai.client.chat"
_EMBEDDINGS = "mistralai.client.embeddings"
_BASE = "mistralai.client.basesdk"
_SDK_TRACING = "mistralai.client._hooks.tracing"


def _p() -> Any:
    """The wrappers' module, imported only when ``mistralai`` is (it imports it)."""
    from agentotel.instrumentation.mistralai import patch

    return patch


def _request_reached(telemetry: Any, boundary: Any) -> Any:
    from agentotel.instrumentation._deferred import request_reached

    return request_reached()


def _sdk_tracing_off(telemetry: Any, boundary: Any) -> Any:
    from agentotel.instrumentation._sdk_hooks import sdk_tracing_off

    return sdk_tracing_off("tracing_enabled")


def _patch(module: str, name: str, factory: Any) -> Patch:
    return Patch(module, name, factory, trigger=_TRIGGER)


def _patches() -> tuple[Patch, ...]:
    return (
        # Every request goes through ``do_request`` (the retry loop that sends): a call's span
        # starts there, so a call the SDK refuses before sending makes none.
        _patch(_BASE, "BaseSDK.do_request", _request_reached),
        _patch(_BASE, "BaseSDK.do_request_async", _request_reached),
        # The SDK's own GenAI span (opt-in from 3.x, on whenever a global tracer provider is set on
        # 2.x) is not started inside ours: one LLM span per HTTP call.
        _patch(_SDK_TRACING, "get_traced_request_and_span", _sdk_tracing_off),
        _patch(_CHAT, "Chat.complete", lambda t, b: _p().chat(t, b).sync()),
        _patch(_CHAT, "Chat.complete_async", lambda t, b: _p().chat(t, b).async_()),
        _patch(_CHAT, "Chat.stream", lambda t, b: _p().stream(t, b).sync()),
        _patch(_CHAT, "Chat.stream_async", lambda t, b: _p().stream(t, b).async_()),
        _patch(_EMBEDDINGS, "Embeddings.create", lambda t, b: _p().embeddings(t, b).sync()),
        _patch(_EMBEDDINGS, "Embeddings.create_async", lambda t, b: _p().embeddings(t, b).async_()),
    )


class MistralInstrumentor(AgentotelInstrumentor):
    """Spans and metrics for the ``mistralai`` SDK (see the module docstring)."""

    component = "mistralai"
    requirements = _instruments

    @property
    def patches(self) -> tuple[Patch, ...]:  # type: ignore[override]
        return _patches()


__all__ = ["MistralInstrumentor"]
