"""The demo's one call per other provider (``agentotel.cli._demo_providers``): Gemini
``generate_content``, Bedrock ``converse``, Mistral, Cohere, Ollama and Groq chat, and LiteLLM
``completion``, offline against the fake server, one span and one request each; a provider whose
SDK is missing is one line, no traceback.

Token arithmetic of the fake server: one token per word; the question and the default reply
("Hello from the fake LLM server.") are 6 words each.
"""

from __future__ import annotations

import os
import re
import socket
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from helpers import BEDROCK_INSTALLED, GEMINI_INSTALLED, LITELLM_INSTALLED, sdk_installed

import agentotel
from agentotel.cli._demo_providers import import_litellm, offline_calls, run_offline
from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture

REPLY = "Hello from the fake LLM server."
MORE = ("mistralai", "cohere", "ollama", "groq")
HAS_ALL = GEMINI_INSTALLED and BEDROCK_INSTALLED and LITELLM_INSTALLED and all(map(sdk_installed, MORE))
needs_all = pytest.mark.skipif(
    not HAS_ALL,
    reason="the extras of the providers (google-genai ... litellm) are not all installed",
)


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Connections anywhere but the loopback fake server fail the test."""
    real_connect = socket.socket.connect

    def connect(sock: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else address
        if host not in ("127.0.0.1", "::1", "localhost") and sock.family in (socket.AF_INET, socket.AF_INET6):
            raise AssertionError(f"the demo tried to reach the network: {address!r}")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)


@pytest.fixture
def everything(cap: TelemetryCapture) -> Iterator[TelemetryCapture]:
    """Every installed instrumentor on ``cap``, as the demo has them."""
    agentotel.instrument(**cap.providers)
    try:
        yield cap
    finally:
        agentotel.uninstrument()


@needs_all
def test_one_span_and_one_request_per_provider(
    everything: TelemetryCapture, fresh_fake_llm: FakeLLMServer
) -> None:
    fresh_fake_llm.clear()
    said: list[str] = []

    calls = offline_calls(
        fresh_fake_llm.base_url, fresh_fake_llm.openai_base_url, said.append, announce=said.append
    )
    # Imports and clients first (the demo's workflow span then times the calls, not the imports).
    assert (len(calls), said, fresh_fake_llm.requests, everything.spans()) == (
        7,
        ["importing litellm (it takes a few seconds)"],
        [],
        [],
    )
    for call in calls:
        call()

    names = ("gemini", "bedrock", "mistral", "cohere", "ollama", "groq", "litellm")
    assert said[1:] == [f"{name}: {REPLY}" for name in names]
    gemini, bedrock, *others = [r.path for r in fresh_fake_llm.requests]
    # The Gemini API version in the path is the installed SDK's default (v1beta, or v1 on 3.x).
    assert re.fullmatch(r"/v1(beta)?/models/gemini-2\.5-flash:generateContent", gemini), gemini
    assert (bedrock, others) == (
        "/model/amazon.nova-lite-v1%3A0/converse",
        [
            "/mistral/v1/chat/completions",
            "/v2/chat",
            "/api/chat",
            "/openai/v1/chat/completions",
            "/v1/chat/completions",
        ],
    )
    spans = everything.spans()
    found = [
        (
            s.name,
            (s.attributes or {}).get("gen_ai.provider.name"),
            (s.attributes or {}).get("gen_ai.usage.input_tokens"),
            (s.attributes or {}).get("gen_ai.usage.output_tokens"),
        )
        for s in spans
    ]
    assert found == [
        ("generate_content gemini-2.5-flash", "gcp.gemini", 6, 6),
        ("chat amazon.nova-lite-v1:0", "aws.bedrock", 6, 6),
        ("chat mistral-small-latest", "mistral_ai", 6, 6),
        ("chat command-r-08-2024", "cohere", 6, 6),
        ("chat llama3.2", "ollama", 6, 6),
        ("chat llama-3.3-70b-versatile", "groq", 6, 6),
        ("chat gpt-4o-mini", "openai", 6, 6),  # LiteLLM's span; the openai SDK call in it makes none
    ]
    sums = {
        (dict(p.attributes)["gen_ai.provider.name"], dict(p.attributes)["gen_ai.token.type"]): p.sum
        for p in everything.metric_points("gen_ai.client.token.usage")
    }
    assert sums == {
        (provider, kind): 6
        for provider in ("gcp.gemini", "aws.bedrock", "mistral_ai", "cohere", "ollama", "groq", "openai")
        for kind in ("input", "output")
    }


@needs_all
def test_the_litellm_import_leaves_the_environment_as_it_was(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LITELLM_LOCAL_MODEL_COST_MAP", raising=False)
    import_litellm()
    assert "LITELLM_LOCAL_MODEL_COST_MAP" not in os.environ


def test_a_missing_sdk_is_one_line_naming_its_extra(
    monkeypatch: pytest.MonkeyPatch, fresh_fake_llm: FakeLLMServer
) -> None:
    # (``mistralai.client`` too: the demo imports it, and a submodule imported before stays found.)
    for module in (
        "google.genai",
        "boto3",
        "litellm",
        "mistralai",
        "mistralai.client",
        "cohere",
        "ollama",
        "groq",
    ):
        monkeypatch.setitem(sys.modules, module, None)  # what ``import`` finds: ImportError
    fresh_fake_llm.clear()
    said: list[str] = []

    run_offline(fresh_fake_llm.base_url, fresh_fake_llm.openai_base_url, said.append, announce=said.append)

    assert said == [
        "gemini: skipped (google-genai is not installed: pip install 'agentotel[google-genai]')",
        "bedrock: skipped (bedrock is not installed: pip install 'agentotel[bedrock]')",
        "mistral: skipped (mistralai is not installed: pip install 'agentotel[mistralai]')",
        "cohere: skipped (cohere is not installed: pip install 'agentotel[cohere]')",
        "ollama: skipped (ollama is not installed: pip install 'agentotel[ollama]')",
        "groq: skipped (groq is not installed: pip install 'agentotel[groq]')",
        "litellm: skipped (litellm is not installed: pip install 'agentotel[litellm]')",
    ]
    assert fresh_fake_llm.requests == []


@needs_all
def test_the_offline_bedrock_client_ignores_the_users_aws_profile_and_leaves_the_environment(
    monkeypatch: pytest.MonkeyPatch, fresh_fake_llm: FakeLLMServer
) -> None:
    from agentotel.cli._demo_providers import BEDROCK_MODEL, bedrock_client, run_bedrock

    monkeypatch.setenv("AWS_PROFILE", "a-profile-this-machine-lacks")
    monkeypatch.delenv("AWS_EC2_METADATA_DISABLED", raising=False)
    fresh_fake_llm.clear()
    said: list[str] = []

    run_bedrock(bedrock_client(fresh_fake_llm.base_url), BEDROCK_MODEL, said.append)

    assert said == [f"bedrock: {REPLY}"]
    assert [r.path for r in fresh_fake_llm.requests] == ["/model/amazon.nova-lite-v1%3A0/converse"]
    assert os.environ["AWS_PROFILE"] == "a-profile-this-machine-lacks"
    assert "AWS_EC2_METADATA_DISABLED" not in os.environ
