"""instrument() / uninstrument(): idempotent, exactly reversible, discoverable through entry points."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterator
from importlib.metadata import entry_points
from typing import Any

import anthropic
import openai
import pytest
import wrapt
from helpers import CLAUDE, FAKE_OPENAI_KEY, GPT, INSTRUMENTORS

import agentotel
from agentotel import _registry
from agentotel.instrumentation._base import AgentotelInstrumentor, Patch
from agentotel.instrumentation.anthropic import AnthropicInstrumentor
from agentotel.instrumentation.langchain import LangChainInstrumentor
from agentotel.instrumentation.mcp import MCPInstrumentor
from agentotel.instrumentation.openai import OpenAIInstrumentor
from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture


@pytest.fixture(autouse=True)
def _clean_state() -> Iterator[None]:
    """Every test starts and ends with nothing of ours instrumented."""
    for cls in INSTRUMENTORS:
        if cls().is_instrumented_by_opentelemetry:  # left over by a failed test elsewhere
            cls().uninstrument()
    yield
    agentotel.uninstrument()
    for cls in INSTRUMENTORS:
        if cls().is_instrumented_by_opentelemetry:
            cls().uninstrument()


def _originals(cls: type[AgentotelInstrumentor]) -> dict[tuple[str, str], tuple[Any, str, Any]]:
    """(module, name) -> (owner, attribute, the object stored in the owner's own __dict__), for
    every patch meant for the installed SDK version (each must exist there)."""
    found: dict[tuple[str, str], tuple[Any, str, Any]] = {}
    for patch in cls().patches:
        if not patch.expected():
            continue
        target = patch.owner()
        assert target is not None, f"{patch.module}.{patch.name} missing from the installed SDK"
        owner, attr = target
        assert attr in vars(owner), f"{patch.name} is inherited, not defined on {owner!r}"
        found[(patch.module, patch.name)] = (owner, attr, vars(owner)[attr])
    return found


def _chat(client: openai.OpenAI) -> Any:
    return client.chat.completions.create(model=GPT, messages=[{"role": "user", "content": "hi"}])


def _claude(client: anthropic.Anthropic) -> Any:
    return client.messages.create(model=CLAUDE, max_tokens=32, messages=[{"role": "user", "content": "hi"}])


# --- patch points ------------------------------------------------------------------------------
def test_every_patch_point_exists_in_the_installed_sdks() -> None:
    assert sorted(f"{p.module}:{p.name}" for p in OpenAIInstrumentor().patches) == sorted(
        [
            "openai._base_client:SyncAPIClient.request",
            "openai._base_client:AsyncAPIClient.request",
            "openai.resources.chat.completions:Completions.create",
            "openai.resources.chat.completions:Completions.parse",
            "openai.resources.chat.completions:AsyncCompletions.create",
            "openai.resources.chat.completions:AsyncCompletions.parse",
            "openai.resources.beta.chat.completions:Completions.parse",
            "openai.resources.beta.chat.completions:AsyncCompletions.parse",
            "openai.resources.responses.responses:Responses.create",
            "openai.resources.responses.responses:Responses.parse",
            "openai.resources.responses.responses:AsyncResponses.create",
            "openai.resources.responses.responses:AsyncResponses.parse",
            "openai.resources.embeddings:Embeddings.create",
            "openai.resources.embeddings:AsyncEmbeddings.create",
        ]
    )
    anthropic_names = sorted(f"{p.module}:{p.name}" for p in AnthropicInstrumentor().patches)
    assert len(anthropic_names) == 21  # 15, beta.prompt_caching's 4 (0.40), 0.x Stream metaclasses' 2
    assert "anthropic._base_client:SyncAPIClient.request" in anthropic_names
    assert "anthropic._base_client:start_api_call_span" in anthropic_names
    for cls in INSTRUMENTORS:
        assert len(_originals(cls)) == len([p for p in cls().patches if p.expected()])


@pytest.mark.parametrize("cls", INSTRUMENTORS, ids=lambda c: c.__name__)
def test_uninstrument_restores_every_original_object(cls: type[AgentotelInstrumentor]) -> None:
    before = _originals(cls)
    for owner, attr, original in before.values():
        assert not isinstance(original, wrapt.ObjectProxy), f"{owner!r}.{attr} already wrapped"

    instrumentor = cls()
    instrumentor.instrument(tracer_provider=TelemetryCapture().tracer_provider)
    for owner, attr, original in before.values():
        current = vars(owner)[attr]
        assert isinstance(current, wrapt.FunctionWrapper), f"{owner!r}.{attr} not wrapped"
        assert current.__wrapped__ is original

    instrumentor.uninstrument()
    for (module, name), (owner, attr, original) in before.items():
        assert vars(owner)[attr] is original, f"{module}:{name} not restored"


def test_uninstrument_restores_openai_chat_create_by_identity() -> None:
    from openai.resources.chat import AsyncCompletions, Completions  # the module moved in 1.x

    sync_create = Completions.__dict__["create"]
    async_create = AsyncCompletions.__dict__["create"]
    OpenAIInstrumentor().instrument()
    assert Completions.__dict__["create"] is not sync_create
    OpenAIInstrumentor().uninstrument()
    assert Completions.__dict__["create"] is sync_create
    assert AsyncCompletions.__dict__["create"] is async_create


def test_instrument_uninstrument_cycles_leave_no_nested_wrappers() -> None:
    before = {**_originals(OpenAIInstrumentor), **_originals(AnthropicInstrumentor)}
    for _ in range(3):
        for cls in INSTRUMENTORS:
            cls().instrument()
        for owner, attr, original in before.values():
            assert vars(owner)[attr].__wrapped__ is original  # one layer, not three
        for cls in INSTRUMENTORS:
            cls().uninstrument()
    for owner, attr, original in before.values():
        assert vars(owner)[attr] is original


class _EmbeddingsOnly(AgentotelInstrumentor):
    """An instrumentor of one real method, wrapped only in the SDK versions its patch names."""

    component = "openai"
    requirements = ()
    patches: Any = ()


@pytest.mark.parametrize(
    ("versions", "wrapped"),
    [("", True), (f"=={openai.__version__}", True), (f">={openai.__version__},<99", True), ("<1.0", False)],
)
def test_a_patch_is_applied_only_in_the_sdk_versions_it_names(versions: str, wrapped: bool) -> None:
    from openai.resources.embeddings import Embeddings

    patch = Patch(
        "openai.resources.embeddings", "Embeddings.create", lambda t, b: _pass_through, versions=versions
    )
    original = Embeddings.__dict__["create"]
    instrumentor = _EmbeddingsOnly()
    instrumentor.patches = (patch,)
    assert patch.expected() is wrapped
    instrumentor.instrument()
    try:
        assert (Embeddings.__dict__["create"] is not original) is wrapped
    finally:
        instrumentor.uninstrument()
    assert Embeddings.__dict__["create"] is original


def _pass_through(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
    return wrapped(*args, **kwargs)


# --- behaviour ---------------------------------------------------------------------------------
def test_instrument_twice_is_harmless(
    cap: TelemetryCapture, openai_client: openai.OpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    instrumentor = OpenAIInstrumentor()
    assert OpenAIInstrumentor() is instrumentor  # one instance per class
    instrumentor.instrument(**cap.providers)
    other = TelemetryCapture()
    try:
        OpenAIInstrumentor().instrument(**other.providers)  # second call: a no-op
        assert [r.getMessage() for r in caplog.records] == [
            "Attempting to instrument while already instrumented"
        ]

        _chat(openai_client)
        _chat(openai_client)
        assert [s.name for s in cap.spans()] == [f"chat {GPT}", f"chat {GPT}"]  # one per call, not two
        assert other.spans() == []  # the first providers stay in use
        assert cap.metric_count("gen_ai.client.operation.duration") == 2
    finally:
        instrumentor.uninstrument()
        other.shutdown()


def test_after_uninstrument_no_spans_and_no_metrics(
    cap: TelemetryCapture, openai_client: openai.OpenAI, anthropic_client: anthropic.Anthropic
) -> None:
    for cls in INSTRUMENTORS:
        cls().instrument(**cap.providers)
    _chat(openai_client)
    _claude(anthropic_client)
    assert [s.name for s in cap.spans()] == [f"chat {GPT}", f"chat {CLAUDE}"]

    for cls in INSTRUMENTORS:
        cls().uninstrument()
    cap.span_exporter.clear()
    reply = _chat(openai_client)
    message = _claude(anthropic_client)
    stream = openai_client.chat.completions.create(
        model=GPT, messages=[{"role": "user", "content": "hi"}], stream=True
    )
    chunks = list(stream)
    assert type(stream) is openai.Stream  # the SDK's own object, no proxy
    assert type(reply).__name__ == "ChatCompletion"
    assert type(message) is anthropic.types.Message
    assert len(chunks) == 8
    assert cap.spans() == []
    assert cap.metric_count("gen_ai.client.operation.duration") == 2  # only the two instrumented calls


def test_uninstrument_twice_is_harmless(caplog: pytest.LogCaptureFixture) -> None:
    before = _originals(OpenAIInstrumentor)
    OpenAIInstrumentor().instrument()
    OpenAIInstrumentor().uninstrument()
    caplog.set_level(logging.WARNING)
    OpenAIInstrumentor().uninstrument()
    assert [r.getMessage() for r in caplog.records] == [
        "Attempting to uninstrument while already uninstrumented"
    ]
    for owner, attr, original in before.values():
        assert vars(owner)[attr] is original


def test_reinstrument_after_uninstrument_uses_the_new_providers(openai_client: openai.OpenAI) -> None:
    first, second = TelemetryCapture(), TelemetryCapture()
    try:
        OpenAIInstrumentor().instrument(**first.providers)
        _chat(openai_client)
        OpenAIInstrumentor().uninstrument()
        OpenAIInstrumentor().instrument(**second.providers)
        _chat(openai_client)
        OpenAIInstrumentor().uninstrument()
        assert len(first.spans()) == 1
        assert len(second.spans()) == 1
    finally:
        first.shutdown()
        second.shutdown()


def test_clients_created_before_and_after_instrument_are_both_covered(
    cap: TelemetryCapture, fake_llm: FakeLLMServer
) -> None:
    """Wrapping is per SDK class: every client, also one created before instrument(), is covered."""
    early = openai.OpenAI(base_url=fake_llm.openai_base_url, api_key=FAKE_OPENAI_KEY, max_retries=0)
    OpenAIInstrumentor().instrument(**cap.providers)
    late = openai.OpenAI(base_url=fake_llm.openai_base_url, api_key=FAKE_OPENAI_KEY, max_retries=0)
    _chat(early)
    _chat(late)
    OpenAIInstrumentor().uninstrument()
    assert len(cap.spans()) == 2


@pytest.mark.skipif(
    not hasattr(anthropic._base_client, "start_api_call_span"),
    reason="the SDK's own tracing: anthropic>=1.14.0",
)
def test_anthropic_uninstrument_gives_the_sdk_span_switch_back() -> None:
    import anthropic._base_client as base_client

    original = vars(base_client)["start_api_call_span"]
    AnthropicInstrumentor().instrument()
    assert vars(base_client)["start_api_call_span"].__wrapped__ is original
    AnthropicInstrumentor().uninstrument()
    assert vars(base_client)["start_api_call_span"] is original


# --- registry ----------------------------------------------------------------------------------
ENTRY_POINTS = {
    "agentotel_anthropic": "agentotel.instrumentation.anthropic:AnthropicInstrumentor",
    "agentotel_bedrock": "agentotel.instrumentation.bedrock:BedrockInstrumentor",
    "agentotel_cohere": "agentotel.instrumentation.cohere:CohereInstrumentor",
    "agentotel_crewai": "agentotel.instrumentation.crewai:CrewAIInstrumentor",
    "agentotel_google_genai": "agentotel.instrumentation.google_genai:GoogleGenAIInstrumentor",
    "agentotel_groq": "agentotel.instrumentation.groq:GroqInstrumentor",
    "agentotel_langchain": "agentotel.instrumentation.langchain:LangChainInstrumentor",
    "agentotel_litellm": "agentotel.instrumentation.litellm:LiteLLMInstrumentor",
    "agentotel_llama_index": "agentotel.instrumentation.llama_index:LlamaIndexInstrumentor",
    "agentotel_mcp": "agentotel.instrumentation.mcp:MCPInstrumentor",
    "agentotel_mistralai": "agentotel.instrumentation.mistralai:MistralInstrumentor",
    "agentotel_ollama": "agentotel.instrumentation.ollama:OllamaInstrumentor",
    "agentotel_openai": "agentotel.instrumentation.openai:OpenAIInstrumentor",
    "agentotel_openai_agents": "agentotel.instrumentation.openai_agents:OpenAIAgentsInstrumentor",
    "agentotel_pydantic_ai": "agentotel.instrumentation.pydantic_ai:PydanticAIInstrumentor",
}


def _installed_sdk(target: str) -> bool:
    """Whether the SDK the instrumentor at ``target`` supports is installed, in its range."""
    from opentelemetry.instrumentation.dependencies import get_dependency_conflicts

    module, _, name = target.partition(":")
    return get_dependency_conflicts(getattr(importlib.import_module(module), name)().requirements) is None


# Every instrumentor whose SDK this environment has (the SDK-major rows of noxfile.py lack some).
ALL = sorted(ep for ep, target in ENTRY_POINTS.items() if _installed_sdk(target))


def test_registry_instruments_both_and_uninstruments_both(
    cap: TelemetryCapture, openai_client: openai.OpenAI, anthropic_client: anthropic.Anthropic
) -> None:
    before = {**_originals(OpenAIInstrumentor), **_originals(AnthropicInstrumentor)}
    assert agentotel.instrument(**cap.providers) == ALL
    assert OpenAIInstrumentor().is_instrumented_by_opentelemetry
    assert AnthropicInstrumentor().is_instrumented_by_opentelemetry
    _chat(openai_client)
    _claude(anthropic_client)
    assert [(s.name, s.attributes["gen_ai.provider.name"]) for s in cap.spans()] == [
        (f"chat {GPT}", "openai"),
        (f"chat {CLAUDE}", "anthropic"),
    ]

    # Calling it again is harmless: same names, still one span per call.
    assert agentotel.instrument(**cap.providers) == ALL
    _chat(openai_client)
    assert len(cap.spans()) == 3

    agentotel.uninstrument()
    assert not OpenAIInstrumentor().is_instrumented_by_opentelemetry
    assert not AnthropicInstrumentor().is_instrumented_by_opentelemetry
    assert _registry._active == {}
    for owner, attr, original in before.values():
        assert vars(owner)[attr] is original
    _chat(openai_client)
    _claude(anthropic_client)
    assert len(cap.spans()) == 3


def test_registry_available_lists_every_instrumentor() -> None:
    available = {name: f"{cls.__module__}:{cls.__name__}" for name, cls in _registry.available().items()}
    assert available == {name: ENTRY_POINTS[name] for name in ALL}
    assert {"agentotel_anthropic", "agentotel_langchain", "agentotel_mcp", "agentotel_openai"} <= set(ALL)


def test_registry_uninstrument_without_instrument_is_a_no_op() -> None:
    agentotel.uninstrument()
    assert _registry._active == {}


# --- entry points ------------------------------------------------------------------------------
def test_entry_points_are_registered() -> None:
    ours = {
        ep.name: ep
        for ep in entry_points(group="opentelemetry_instrumentor")
        if ep.name.startswith("agentotel")
    }
    assert {name: ep.value for name, ep in ours.items()} == ENTRY_POINTS  # whatever is installed
    assert ours["agentotel_mcp"].load() is MCPInstrumentor
    assert ours["agentotel_langchain"].load() is LangChainInstrumentor
    assert ours["agentotel_openai"].value == "agentotel.instrumentation.openai:OpenAIInstrumentor"
    assert ours["agentotel_anthropic"].value == "agentotel.instrumentation.anthropic:AnthropicInstrumentor"
    assert ours["agentotel_openai"].load() is OpenAIInstrumentor
    assert ours["agentotel_anthropic"].load() is AnthropicInstrumentor
    assert ours["agentotel_openai"].dist is not None and ours["agentotel_openai"].dist.name == "agentotel"


def test_distro_and_configurator_entry_points() -> None:
    from agentotel.distro import AgentotelConfigurator, AgentotelDistro

    [distro] = [ep for ep in entry_points(group="opentelemetry_distro") if ep.name == "agentotel"]
    [configurator] = [ep for ep in entry_points(group="opentelemetry_configurator") if ep.name == "agentotel"]
    assert distro.load() is AgentotelDistro
    assert configurator.load() is AgentotelConfigurator


def test_instrumentation_dependencies_match_the_installed_sdks() -> None:
    from opentelemetry.instrumentation.dependencies import get_dependency_conflicts

    assert OpenAIInstrumentor().instrumentation_dependencies() == ("openai >= 1.40, < 4",)
    assert AnthropicInstrumentor().instrumentation_dependencies() == ("anthropic >= 0.40, < 3",)
    for cls in INSTRUMENTORS:
        assert get_dependency_conflicts(cls().instrumentation_dependencies()) is None


def test_the_extras_install_what_the_instrumentors_support() -> None:
    """``pip install agentotel[openai]`` allows exactly the versions the instrumentor patches."""
    from pathlib import Path

    import tomllib
    from packaging.requirements import Requirement

    project = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    for cls, extra in ((OpenAIInstrumentor, "openai"), (AnthropicInstrumentor, "anthropic")):
        [supported] = cls().instrumentation_dependencies()
        [installed] = extras[extra]
        assert Requirement(installed).specifier == Requirement(supported).specifier
