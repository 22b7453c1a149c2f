"""The fake LLM API, pure (no sockets, no sleeping): one module per wire format and a router.

:func:`handle_request` maps one HTTP request to a :class:`FakeResponse`. The only mutable input
is an optional :class:`FakeLLM` holding per-owner id counters and the scripted replies, so the
same request sequence against a fresh state always yields byte-identical output. Markers in
the request steer the reply (see the docstring of :mod:`agentotel.testing`).

Modules:

* ``_state``: :class:`FakeResponse`, :class:`FakeLLM`, :func:`count_tokens`.
* ``_core``: what every wire format shares: the ``[[scenario:...]]`` markers
  (``Scenarios``), the reply model (``answer()`` → ``Answer``: the scripted reply, else a call
  of the offered tool with arguments from its JSON schema, else the ``[[words:N]]`` text),
  body and SSE helpers, and the interface below (``Wire``, ``Route``, ``ErrorFormat``).
* ``_router``: path → wire → builder; 404 / 405 / unparsable JSON, error markers and scripted
  errors, ``disconnect``, ``malformed`` and ``slow`` for every wire format alike.
* One module per wire format: ``openai_chat``, ``openai_responses``, ``openai_embeddings``
  (sharing ``_openai``: error format, dated model names), ``anthropic_messages``.

Recipe: adding a wire format (say ``cohere_chat``, ``POST /v2/chat``)
---------------------------------------------------------------------

1. Write ``_fake/cohere_chat.py``, the others as models. It holds:

   * ``_offered_tool(req) -> (name, json_schema) | None``: the tool the model calls when no
     reply is scripted (``None`` once the request carries a tool's result, or tools are off);
     usually ``first_tool(req.get("tools"), read)`` with ``read(tool)`` knowing the
     provider's tool shape.
   * a builder ``(ctx: Ctx) -> FakeResponse``: collect the prompt's texts (``texts()``),
     take ``reply = answer(ctx, prompt, _offered_tool(req), output_limit)``, then write the
     provider's body from ``reply.calls`` / ``reply.text`` / ``reply.visible_tokens`` /
     ``reply.reason(calls=..., truncated=..., done=...)`` plus ``ctx.sc.reasoning``,
     ``.cached``, ``.cache_write`` (``json_response()``), or, when ``ctx.stream``, its SSE
     events (``sse()``, ``pieces()`` for text deltas, ``split_json()`` for argument deltas)
     in a ``FakeResponse`` with ``content-type: SSE_CT``. Ids come from
     ``ctx.state.next_id(kind)``; raise ``BadRequest`` for an invalid request.
   * its ``ErrorFormat`` (or the provider's, e.g. ``_openai.ERRORS``): the error body
     ``(status, type, message, code, request_id) -> FakeResponse``, the four error
     scenarios (``rate_limit``, ``server_error``, ``overloaded``, ``bad_request``) as
     ``(status, type, code, message)``, and the torn SSE event ``malformed`` sends.
   * ``WIRE = Wire(routes={"/path": Route(builder)}, errors=ERRORS)``: paths without the
     ``/v1`` prefix; ``Route(builder, replies=False)`` for an endpoint that is not a model
     reply (it never streams and never takes a scripted reply, like embeddings).

2. Add ``cohere_chat.WIRE`` to ``WIRES`` in ``_router.py``. Two wire formats serving
   the same path fail at import.

3. Tests in ``tests/integration/test_fake_server*.py`` drive the provider's real SDK against it.

Limits of the router today: paths match exactly (after dropping the query, a trailing ``/``
and a ``/v1`` prefix), and a reply route streams when the body says ``"stream": true``. A
provider with the model in the path (Gemini ``/v1beta/models/{model}:generateContent``,
Bedrock ``/model/{id}/converse``), a stream chosen by the path, or a stream that is not SSE
(Bedrock's ``application/vnd.amazon.eventstream``, see ``FakeResponse.is_stream``) first
extends ``_router._route`` / ``Route`` / ``FakeResponse`` once, with a test.
"""

from __future__ import annotations

from ._router import handle_request
from ._state import FakeLLM, FakeResponse, count_tokens

__all__ = ["FakeLLM", "FakeResponse", "count_tokens", "handle_request"]
