"""Anthropic instrumentor (entry point ``agentotel_anthropic``).

Usage::

    from agentotel.instrumentation.anthropic import AnthropicInstrumentor
    AnthropicInstrumentor().instrument(tracer_provider=tp, meter_provider=mp)

or zero-code with ``opentelemetry-instrument python app.py``.

Instrumented (sync and async): ``messages.create`` (stream and non-stream), ``messages.parse``,
the ``messages.stream(...)`` helper (every way to consume it), and the same on ``beta.messages``
(and on ``beta.prompt_caching.messages``, which only ``anthropic`` 0.40 has). Each method is wrapped
in the SDK versions that have it (``Patch.versions``; ``docs/integrations/anthropic.md`` says where
each appears).

The anthropic SDK (1.14.0 and later) makes its own ``anthropic.messages.create`` span whenever an
OTel SDK is configured. While this instrumentor is active, the SDK's span is switched off for the calls we
instrument (it gets a non-recording span carrying our context, so it still propagates
``traceparent``), so each HTTP call has exactly one LLM span:
ours, with the GenAI conventions and exactly-once stream ending. Other SDK calls keep the SDK's
spans; ``uninstrument()`` gives the SDK its spans back. ``ANTHROPIC_OPEN_TELEMETRY=false`` still
switches the SDK's tracing off altogether.

Token usage: ``gen_ai.usage.input_tokens`` is input + cache read + cache creation tokens, with
``gen_ai.usage.cache_read.input_tokens`` / ``cache_creation.input_tokens`` beside it; streamed
``message_delta`` usage is cumulative and replaces, never adds.
"""

from __future__ import annotations

from typing import Any

from agentotel.instrumentation._base import AgentotelInstrumentor, Patch
from agentotel.instrumentation.anthropic.package import _instruments

# Where each patched method lives, by ``anthropic`` version (docs/integrations/anthropic.md has the
# table). The packages, not their ``messages`` submodules: 0.40 has ``resources/messages.py`` (a
# module), 0.41.0 on ``resources/messages/messages.py`` re-exported by the package, so one name
# finds the one class on every version (two names would wrap it twice).
_MESSAGES = "anthropic.resources.messages"
_BETA = "anthropic.resources.beta.messages"
# The prompt caching beta: anthropic 0.40 only (removed in 0.41.0).
_PROMPT_CACHING = "anthropic.resources.beta.prompt_caching"


def _p() -> Any:
    """The wrappers' module, imported only when ``anthropic`` is (it imports ``anthropic``)."""
    from agentotel.instrumentation.anthropic import patch

    return patch


def _stream_check(telemetry: Any, boundary: Any) -> Any:
    return _p().stream_instance_check(telemetry, boundary)


def _resource(module: str, *, parse: str | None, stream: str, versions: str = "") -> list[Patch]:
    """``create`` and the ``stream()`` helper and ``parse`` of one resource, each wrapped in the SDK
    versions its specifier names ("": every supported version; ``parse=None``: never)."""
    found = [
        Patch(module, "Messages.create", lambda t, b: _p().messages(t, b).sync(), versions=versions),
        Patch(module, "AsyncMessages.create", lambda t, b: _p().messages(t, b).async_(), versions=versions),
        Patch(module, "Messages.stream", lambda t, b: _p().stream_helper(t, b, False), versions=stream),
        Patch(module, "AsyncMessages.stream", lambda t, b: _p().stream_helper(t, b, True), versions=stream),
    ]
    if parse is not None:
        found += [
            Patch(module, "Messages.parse", lambda t, b: _p().messages(t, b).sync(), versions=parse),
            Patch(module, "AsyncMessages.parse", lambda t, b: _p().messages(t, b).async_(), versions=parse),
        ]
    return found


def _request_reached(telemetry: Any, boundary: Any) -> Any:
    from agentotel.instrumentation._deferred import request_reached

    return request_reached()


def _patches() -> tuple[Patch, ...]:
    return (
        # Every request goes through the client's ``request`` (the retry loop that sends): a call's
        # span starts there, so a call the SDK refuses before sending (a missing argument, a
        # non-stream ``max_tokens`` it says needs streaming) makes none. One LLM span per HTTP call.
        Patch("anthropic._base_client", "SyncAPIClient.request", _request_reached),
        Patch("anthropic._base_client", "AsyncAPIClient.request", _request_reached),
        # The SDK's own tracing (anthropic >= 1.14.0): its span is switched off inside our calls.
        Patch(
            "anthropic._base_client",
            "start_api_call_span",
            lambda t, b: _p().sdk_span_switch(t, b),
            versions=">=1.14.0",
        ),
        # anthropic 0.x: Stream / AsyncStream's metaclass answers isinstance() itself (our proxies too).
        Patch("anthropic._streaming", "_SyncStreamMeta.__instancecheck__", _stream_check, versions="<1"),
        Patch("anthropic._streaming", "_AsyncStreamMeta.__instancecheck__", _stream_check, versions="<1"),
        *_resource(_MESSAGES, parse=">=0.77.0", stream=""),
        *_resource(_BETA, parse=">=0.73.0", stream=">=0.43.0"),
        *_resource(_PROMPT_CACHING, parse=None, stream="<0.41", versions="<0.41"),
    )


class AnthropicInstrumentor(AgentotelInstrumentor):
    """Spans and metrics for the ``anthropic`` SDK (see the module docstring)."""

    component = "anthropic"
    requirements = _instruments

    @property
    def patches(self) -> tuple[Patch, ...]:  # type: ignore[override]
        return _patches()


__all__ = ["AnthropicInstrumentor"]
