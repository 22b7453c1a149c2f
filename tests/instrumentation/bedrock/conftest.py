"""Fixtures of the Bedrock tests: the instrumentor on ``cap``, a ``bedrock-runtime`` client and an
S3 client on the fake server (static fake credentials, no network, no instance metadata)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from bedrock_helpers import make_client
from helpers import instrumented

from agentotel.instrumentation.bedrock import BedrockInstrumentor
from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture


@pytest.fixture(autouse=True)
def _no_aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No instance metadata, no profile or credentials of the machine: only the test's."""
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    for name in (
        "AWS_PROFILE",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_BEARER_TOKEN_BEDROCK",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def bedrock_instrumented(cap: TelemetryCapture) -> Iterator[TelemetryCapture]:
    """The Bedrock instrumentor active on ``cap``'s providers."""
    with instrumented(cap, BedrockInstrumentor):
        yield cap


@pytest.fixture
def bedrock(fresh_fake_llm: FakeLLMServer) -> Any:
    """A ``bedrock-runtime`` client on the fake server (no retries); the server's ids start at 1
    and its list of received requests is empty."""
    fresh_fake_llm.clear()
    return make_client(fresh_fake_llm)
