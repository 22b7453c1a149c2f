"""Cohere instrumentor (entry point ``agentotel_cohere``), for the ``cohere`` SDK's v2 API.

Usage::

    from agentotel.instrumentation.cohere import CohereInstrumentor
    CohereInstrumentor().instrument(tracer_provider=tp, meter_provider=mp)

or zero-code with ``opentelemetry-instrument python app.py``.

Instrumented (``ClientV2`` / ``AsyncClientV2``, and ``Client(...).v2``, also through
``with_raw_response``): ``chat``, ``chat_stream``, ``embed`` and ``rerank``, one CLIENT span per
call. The wrapped methods are those of the SDK's raw v2 client (``RawV2Client.chat``, ...: every
v2 call goes through them, and the client's own ``chat`` is an instance attribute the SDK binds
when the client is built, which a class patch would miss for a client built before
instrumenting). ``chat_stream`` is wrapped where the request is sent: the raw client's
``chat_stream`` context manager, entered when the app reads the first event.

A call's span starts when the SDK sends: when its ``HttpClient`` hands the request to ``httpx``
(``httpx.Client.send`` / ``AsyncClient.send``, which every request and stream of the SDK reaches;
the SDK's own ``HttpClient.request`` is too early: it serialises the body inside, so a value it
cannot serialise would fail there, unsent). So a call the SDK refuses before sending (a missing
argument, a value it cannot serialise, a ``response_format`` its warning hook cannot read) makes
no span. ``httpx`` is wrapped only once ``cohere`` is imported, and the wrapper does nothing but
for a Cohere call waiting to send. One span per call; the SDK's own retries (429, 5xx) stay
inside it.

``gen_ai.operation.name`` is ``chat``, ``embeddings`` or ``rerank`` (a value of ours: the
conventions have no rerank operation); ``gen_ai.provider.name`` is ``cohere``. Usage is Cohere's
``billed_units`` (see :mod:`.extract`); ``docs/integrations/cohere.md`` has the rest.
"""

from __future__ import annotations

from typing import Any

from agentotel.instrumentation._base import AgentotelInstrumentor, Patch
from agentotel.instrumentation.cohere.package import _instruments

_RAW = "cohere.v2.raw_client"
_DIST = "cohere"


def _p() -> Any:
    """The wrappers' module, imported only when ``cohere`` is (it imports ``cohere``)."""
    from agentotel.instrumentation.cohere import patch

    return patch


def _request_reached(telemetry: Any, boundary: Any) -> Any:
    from agentotel.instrumentation._deferred import request_reached

    return request_reached()


def _patches() -> tuple[Patch, ...]:
    return (
        # Where every request of the SDK is sent (a request, a retry, a stream): a call's span
        # starts there, so a call the SDK refuses before sending makes none. Applied when
        # ``cohere`` is imported; a no-op but for a Cohere call waiting to send.
        Patch("httpx", "Client.send", _request_reached, trigger=_DIST, distribution=_DIST),
        Patch("httpx", "AsyncClient.send", _request_reached, trigger=_DIST, distribution=_DIST),
        Patch(_RAW, "RawV2Client.chat", lambda t, b: _p().chat(t, b).sync()),
        Patch(_RAW, "AsyncRawV2Client.chat", lambda t, b: _p().chat(t, b).async_()),
        Patch(_RAW, "RawV2Client.chat_stream", lambda t, b: _p().chat_stream(t, b, False)),
        Patch(_RAW, "AsyncRawV2Client.chat_stream", lambda t, b: _p().chat_stream(t, b, True)),
        Patch(_RAW, "RawV2Client.embed", lambda t, b: _p().embed(t, b).sync()),
        Patch(_RAW, "AsyncRawV2Client.embed", lambda t, b: _p().embed(t, b).async_()),
        Patch(_RAW, "RawV2Client.rerank", lambda t, b: _p().rerank(t, b).sync()),
        Patch(_RAW, "AsyncRawV2Client.rerank", lambda t, b: _p().rerank(t, b).async_()),
    )


class CohereInstrumentor(AgentotelInstrumentor):
    """Spans and metrics for the ``cohere`` SDK's v2 client (see the module docstring)."""

    component = "cohere"
    requirements = _instruments

    @property
    def patches(self) -> tuple[Patch, ...]:  # type: ignore[override]
        return _patches()


__all__ = ["CohereInstrumentor"]
