"""Fixtures of the LlamaIndex tests: real ``llama-index-core`` agents whose ``OpenAI`` LLM class
calls the fake LLM server through the real ``openai`` SDK, with the OpenAI instrumentor on.

LlamaIndex's OpenAI LLM class needs ``openai<3``: these tests run in the ``llama_index`` row of
``noxfile.py`` (and ``/work/venv-llama-index``), and skip where it is not installed (``.venv``).
Nothing here imports LlamaIndex at collection.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from helpers import instrumented

from agentotel.instrumentation.llama_index import LlamaIndexInstrumentor
from agentotel.instrumentation.openai import OpenAIInstrumentor
from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture


@pytest.fixture
def fake(fresh_fake_llm: FakeLLMServer) -> FakeLLMServer:
    """The fake server with ids from 1, no script left and no request recorded."""
    fresh_fake_llm.clear()
    return fresh_fake_llm


@pytest.fixture
def bridged(cap: TelemetryCapture) -> Iterator[TelemetryCapture]:
    """The LlamaIndex bridge and the OpenAI instrumentor on ``cap``."""
    with instrumented(cap, OpenAIInstrumentor, LlamaIndexInstrumentor):
        yield cap


@pytest.fixture
def providers_only(cap: TelemetryCapture) -> Iterator[TelemetryCapture]:
    """The OpenAI instrumentor alone: what the bridge is compared with."""
    with instrumented(cap, OpenAIInstrumentor):
        yield cap
