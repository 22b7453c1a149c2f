"""Deterministic fake OpenAI / Anthropic APIs for tests and benchmarks.

Two ways to use it, both driving the *real* ``openai`` / ``anthropic`` SDKs:

* Over real HTTP (streams use chunked encoding, so disconnects are real)::

      from agentotel.testing import FakeLLMServer

      with FakeLLMServer() as srv:
          client = openai.OpenAI(base_url=srv.openai_base_url, api_key="sk-test")
          claude = anthropic.Anthropic(base_url=srv.anthropic_base_url, api_key="sk-test")
          ...
          srv.requests  # list[RecordedRequest], credentials redacted

  ``python -m agentotel.testing [--port N]`` runs it in the foreground.

* In-process, without sockets (importing this package imports no HTTP library; only
  ``fake_transport`` does), through the client of the HTTP library the SDK major is built on
  (``httpx2`` for ``openai`` 3.x and ``anthropic`` 1.x/2.x, ``httpx`` for ``openai`` 1.x/2.x and
  ``anthropic`` 0.x: the one transport serves both)::

      from agentotel.testing import fake_transport

      client = openai.OpenAI(base_url="http://fake/v1", api_key="sk-test",
                             http_client=httpx2.Client(transport=fake_transport()))

Endpoints: ``POST /v1/chat/completions``, ``/v1/responses``, ``/v1/embeddings`` (OpenAI),
``/v1/messages``, ``/v1/messages/count_tokens`` (Anthropic). ``stream: true`` is supported
for chat, responses and messages.

Determinism: tokens are whitespace words (``count_tokens``). Input tokens are the words
of every message text (tool definitions excluded). The reply is
``"Hello from the fake LLM server."`` (6 tokens) unless the request text contains
``[[words:N]]`` (reply ``"w1 w2 ... wN"``). Scenario markers anywhere in the raw body:
``[[scenario:rate_limit]]``, ``server_error``, ``overloaded``, ``bad_request``,
``malformed``, ``disconnect``, ``slow:SECONDS``, ``cached:N``, ``cache_write:N``,
``reasoning:N`` (several may be combined).

Tool calls: the first tool a request offers is called with arguments generated from its JSON
schema (every required property, with a value of the right type; see ``_schema_args``).

Scripted replies: ``FakeLLMServer(script=[...])``, ``server.script([...])``, ``FakeLLM(script=...)``
or ``fake_transport(script=...)`` queue :class:`Reply` objects (``Reply.text``,
``Reply.tool_call``, ``Reply.tool_calls``, ``Reply.error``; a plain string is a text reply),
consumed one per chat completion / response / message request, streamed or not; once the queue is
empty, the markers decide again::

      with FakeLLMServer(script=[Reply.tool_call("lookup_stock", {"sku": "A-1"}), "2 in stock."]) as srv:
          ...

In-memory OpenTelemetry providers to export to: ``with capture_telemetry() as cap:`` gives a
:class:`TelemetryCapture` (``cap.providers``, ``cap.spans()``, ``cap.metric_sum(...)``, ...).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._capture import TelemetryCapture, capture_telemetry
from ._fake import FakeLLM, count_tokens
from ._script import Reply, ToolCall
from ._server import FakeLLMServer, RecordedRequest

if TYPE_CHECKING:
    from ._transport import fake_transport

__all__ = [
    "FakeLLM",
    "FakeLLMServer",
    "RecordedRequest",
    "Reply",
    "TelemetryCapture",
    "ToolCall",
    "capture_telemetry",
    "count_tokens",
    "fake_transport",
]


def __getattr__(name: str) -> object:
    if name == "fake_transport":
        from ._transport import fake_transport

        return fake_transport
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
