"""The LlamaIndex bridge against real ``llama-index-core`` agents (``FunctionAgent``,
``ReActAgent``, ``AgentWorkflow``) whose ``OpenAI`` LLM class calls the fake LLM server through the
real ``openai`` SDK with our OpenAI instrumentor on: the LLM spans come from it alone, one per
HTTP request the server received."""

from __future__ import annotations

import pytest
from helpers import LLAMA_INDEX_INSTALLED, QUESTION, attrs_of, token_sums

if not LLAMA_INDEX_INSTALLED:
    pytest.skip("llama-index-core and llama-index-llms-openai are not installed", allow_module_level=True)

from li_helpers import (
    AGENT,
    ANSWER,
    CLIENT,
    INTERNAL,
    LLM,
    TOOL,
    TOOL_RUN_TOKENS,
    TOOL_THEN_ANSWER,
    llm_requests,
    named,
    run,
    tree,
    weather_agent,
)

from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture

TOOL_RUN_TREE = [(AGENT, None, INTERNAL), (LLM, AGENT, CLIENT), (TOOL, AGENT, INTERNAL), (LLM, AGENT, CLIENT)]


def test_a_function_agent_run_is_one_agent_span_over_its_llm_calls_and_tool_call(
    bridged: TelemetryCapture, fake: FakeLLMServer
) -> None:
    fake.script(TOOL_THEN_ANSWER)

    result = run(weather_agent(fake), QUESTION)

    assert str(result) == ANSWER
    assert tree(bridged) == TOOL_RUN_TREE
    assert llm_requests(fake) == 2
    assert token_sums(bridged) == TOOL_RUN_TOKENS
    [agent] = named(bridged, AGENT)
    assert attrs_of(agent)["gen_ai.usage.input_tokens"] == TOOL_RUN_TOKENS["input"]
    assert attrs_of(agent)["gen_ai.usage.output_tokens"] == TOOL_RUN_TOKENS["output"]
