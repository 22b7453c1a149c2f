"""The model labels of LLM metric points, call after call: the cardinality guard decides each one
(agentotel keeps the labels it made for a model, so this pins that a kept label is the guard's)."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import DURATION

from agentotel import config
from agentotel.instrumentation.openai import OpenAIInstrumentor
from agentotel.testing._capture import TelemetryCapture

pytestmark = pytest.mark.usefixtures("fresh_fake_llm")


def test_a_model_past_the_limit_is_other_on_every_call_and_an_admitted_one_keeps_its_name(
    cap: TelemetryCapture, monkeypatch: pytest.MonkeyPatch, openai_client: Any
) -> None:
    monkeypatch.setenv(config.METRIC_CARDINALITY_LIMIT, "1")
    instrumentor = OpenAIInstrumentor()
    instrumentor.instrument(**cap.providers)
    try:
        for model in ("gpt-4o", "gpt-4o-mini", "gpt-4o-mini", "gpt-4o", "gpt-4o-mini"):
            openai_client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Hi"}])
    finally:
        instrumentor.uninstrument()

    counts = {
        (dict(p.attributes)["gen_ai.request.model"], dict(p.attributes)["gen_ai.response.model"]): p.count
        for p in cap.metric_points(DURATION)
    }
    # The response model (the fake's dated snapshot) is limited like the request's, on its own.
    assert counts == {("gpt-4o", "gpt-4o-2024-08-06"): 2, ("_OTHER", "_OTHER"): 3}
