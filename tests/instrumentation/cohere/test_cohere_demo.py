"""The demo module's Cohere call (``agentotel.cli._demo_cohere``), offline on the fake server: one
request, one span with the billed usage and its cost."""

from __future__ import annotations

from cohere_helpers import reply_attrs, request_attrs

from agentotel.cli import _demo_cohere
from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture


def test_demo_call(co_instrumented: TelemetryCapture, fresh_fake_llm: FakeLLMServer) -> None:
    fresh_fake_llm.clear()
    said: list[str] = []
    _demo_cohere.run(_demo_cohere.client(fresh_fake_llm.base_url), _demo_cohere.MODEL, said.append)

    assert said == ["cohere: Hello from the fake LLM server."]
    assert [r.path for r in fresh_fake_llm.requests] == ["/v2/chat"]
    [span] = co_instrumented.spans()
    assert span.name == "chat command-r-08-2024"
    assert dict(span.attributes) == {**request_attrs(fresh_fake_llm), **reply_attrs("chat_1")}
