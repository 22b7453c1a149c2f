"""Fixtures of the integration tests: a fake LLM server of the test's own, its clients, an OTLP receiver."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from helpers import FAKE_ANTHROPIC_KEY, FAKE_OPENAI_KEY
from otlp_receiver import OTLPReceiver

from agentotel.testing import FakeLLMServer


@pytest.fixture
def own_fake_llm() -> Iterator[FakeLLMServer]:
    """A fake LLM server of the test's own: its ids and scripted replies shared with no other test."""
    with FakeLLMServer() as server:
        yield server


@pytest.fixture
def own_openai(own_fake_llm: FakeLLMServer):  # type: ignore[no-untyped-def]
    import openai

    url = own_fake_llm.openai_base_url
    with openai.OpenAI(base_url=url, api_key=FAKE_OPENAI_KEY, max_retries=0) as client:
        yield client


@pytest.fixture
def own_anthropic(own_fake_llm: FakeLLMServer):  # type: ignore[no-untyped-def]
    import anthropic

    url = own_fake_llm.anthropic_base_url
    with anthropic.Anthropic(base_url=url, api_key=FAKE_ANTHROPIC_KEY, max_retries=0) as client:
        yield client


@pytest.fixture
def receiver() -> Iterator[OTLPReceiver]:
    with OTLPReceiver() as rx:
        yield rx
