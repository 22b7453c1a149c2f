"""A call LiteLLM refuses before any request makes no LLM span (when agentotel can know it).

LiteLLM resolves a call's provider first (``get_llm_provider``): a model it cannot route ("LLM
Provider NOT provided") raises ``BadRequestError`` before anything is sent. The instrumentor reads
the same route, so such a call makes no span, no metric point and nothing for the audit log or the
run store, and the app gets LiteLLM's exception as it is. Errors LiteLLM raises later but still
before sending (a provider handler's missing API key, an unsupported parameter) keep a failed span:
see ``docs/integrations/litellm.md``, "Calls refused before a request".
"""

from __future__ import annotations

import litellm
import pytest
from helpers import (
    QUESTION,
    StartedSpans,
    araised_by,
    assert_raised_outside_agentotel,
    instrumented,
    recorded_metrics,
    user,
)
from litellm_helpers import KEY, complete, openai_kw

from agentotel.instrumentation.litellm import LiteLLMInstrumentor
from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture

UNROUTABLE = "no-such-model-xyz"


async def test_a_model_litellm_cannot_route_makes_no_span(
    cap: TelemetryCapture, started: StartedSpans, flavour: str, fresh_server: FakeLLMServer
) -> None:
    def call() -> object:
        return complete(flavour, model=UNROUTABLE, messages=user(QUESTION), api_key=KEY)

    bare = await araised_by(call)  # type: ignore[arg-type]
    with instrumented(cap, LiteLLMInstrumentor):
        exc = await araised_by(call)  # type: ignore[arg-type]

    assert type(exc) is type(bare) is litellm.BadRequestError
    assert str(exc) == str(bare)
    assert "LLM Provider NOT provided" in str(exc)
    assert_raised_outside_agentotel(exc)
    assert fresh_server.requests == []
    assert started.names == []
    assert cap.spans() == []
    assert recorded_metrics(cap) == []


async def test_a_refused_call_then_a_sent_one_has_one_span(
    cap: TelemetryCapture, started: StartedSpans, flavour: str, fresh_server: FakeLLMServer
) -> None:
    with instrumented(cap, LiteLLMInstrumentor):
        with pytest.raises(litellm.BadRequestError):
            await complete(flavour, model=UNROUTABLE, messages=user(QUESTION), api_key=KEY)
        await complete(flavour, messages=user(QUESTION), **openai_kw(fresh_server))

    assert len(fresh_server.requests) == 1
    assert started.names == ["chat gpt-4o"]
    assert [s.name for s in cap.spans()] == ["chat gpt-4o"]
