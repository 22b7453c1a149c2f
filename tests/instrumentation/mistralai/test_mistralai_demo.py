"""The demo's Mistral call (``agentotel.cli._demo_mistralai``) on the fake server: one request, one
``chat mistral-small-latest`` span, the reply said."""

from __future__ import annotations

from helpers import instrumented

from agentotel.cli import _demo_mistralai
from agentotel.instrumentation.mistralai import MistralInstrumentor
from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture


def test_demo_call(cap: TelemetryCapture, fake: FakeLLMServer) -> None:
    said: list[str] = []
    with instrumented(cap, MistralInstrumentor):
        _demo_mistralai.run(_demo_mistralai.client(fake.base_url), _demo_mistralai.MODEL, said.append)

    assert said == ["mistral: Hello from the fake LLM server."]
    assert [r.path for r in fake.requests] == ["/mistral/v1/chat/completions"]
    [span] = cap.spans()
    attrs = dict(span.attributes or {})
    assert span.name == "chat mistral-small-latest"
    assert (
        attrs["gen_ai.provider.name"],
        attrs["gen_ai.usage.input_tokens"],
        attrs["gen_ai.usage.output_tokens"],
    ) == (
        "mistral_ai",
        6,
        6,
    )
    assert _demo_mistralai.FAKE_KEY not in repr(attrs)
