"""A call botocore refuses before sending any HTTP request makes no LLM span.

One LLM span per HTTP call: botocore validates a call's parameters against the service model
before it builds the request (``ParamValidationError``: a missing required parameter, a value of
the wrong type). Such a call sends nothing, so it makes no span, no metric point and nothing for
the audit log or the run store, and the app gets botocore's exception as it is. A call that was
sent keeps its span however it fails (``test_bedrock_calls.py``: HTTP errors, retries).
"""

from __future__ import annotations

from typing import Any

import pytest
from bedrock_helpers import CLAUDE, said
from botocore.exceptions import ParamValidationError
from botocore.validate import ParamValidationDecorator
from helpers import (
    QUESTION,
    StartedSpans,
    instrumented,
    raised_by,
    recorded_metrics,
)

from agentotel.instrumentation.bedrock import BedrockInstrumentor
from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture


def converse_without_model(client: Any) -> Any:
    return client.converse(messages=said(QUESTION))


def converse_with_messages_of_the_wrong_type(client: Any) -> Any:
    return client.converse(modelId=CLAUDE, messages="not a list")


def converse_stream_without_model(client: Any) -> Any:
    return client.converse_stream(messages=said(QUESTION))


def invoke_model_without_body(client: Any) -> Any:
    return client.invoke_model(modelId=CLAUDE, body=12)


CALLS = [
    pytest.param(converse_without_model, id="converse_missing_model"),
    pytest.param(converse_with_messages_of_the_wrong_type, id="converse_wrong_type"),
    pytest.param(converse_stream_without_model, id="converse_stream_missing_model"),
    pytest.param(invoke_model_without_body, id="invoke_model_wrong_body"),
]


@pytest.mark.parametrize("call", CALLS)
def test_a_call_refused_before_any_request_makes_no_span(
    cap: TelemetryCapture,
    started: StartedSpans,
    bedrock: Any,
    fresh_fake_llm: FakeLLMServer,
    monkeypatch: pytest.MonkeyPatch,
    call: Any,
) -> None:
    bare = raised_by(lambda: call(bedrock))
    validate = ParamValidationDecorator.serialize_to_request
    refused: list[BaseException] = []

    def watched(self: Any, parameters: Any, operation_model: Any) -> Any:
        # Observes botocore's validator (it still runs): the exception object it raises.
        try:
            return validate(self, parameters, operation_model)
        except BaseException as exc:
            refused.append(exc)
            raise

    monkeypatch.setattr(ParamValidationDecorator, "serialize_to_request", watched)
    with instrumented(cap, BedrockInstrumentor):
        exc = raised_by(lambda: call(bedrock))

    assert type(exc) is type(bare) is ParamValidationError
    assert str(exc) == str(bare)
    assert refused == [exc] and refused[0] is exc  # the same object, as botocore raised it
    assert fresh_fake_llm.requests == []
    assert fresh_fake_llm.requests == []
    assert started.names == []
    assert cap.spans() == []
    assert recorded_metrics(cap) == []


def test_a_refused_call_then_a_sent_one_has_one_span(
    cap: TelemetryCapture, started: StartedSpans, bedrock: Any, fresh_fake_llm: FakeLLMServer
) -> None:
    with instrumented(cap, BedrockInstrumentor):
        raised_by(lambda: converse_without_model(bedrock))
        bedrock.converse(modelId=CLAUDE, messages=said(QUESTION))

    assert len(fresh_fake_llm.requests) == 1
    assert started.names == [f"chat {CLAUDE}"]
    assert [s.name for s in cap.spans()] == [f"chat {CLAUDE}"]
