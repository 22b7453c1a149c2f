"""The CrewAI instrumentor's patch points in the installed CrewAI, and ``uninstrument()``."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import CREWAI_INSTALLED

if not CREWAI_INSTALLED:
    pytest.skip("crewai is not installed: nox -s 'majors(crewai)'", allow_module_level=True)

import wrapt
from crewai_helpers import ANSWER, LLM_SPAN, TOOL, TOOL_THEN_ANSWER, weather_crew
from helpers import instrumented

from agentotel.instrumentation.crewai import CrewAIInstrumentor
from agentotel.instrumentation.openai import OpenAIInstrumentor
from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture


def originals() -> dict[str, Any]:
    """Each patch point -> the object in its owner's own ``__dict__`` (each must exist there)."""
    found: dict[str, Any] = {}
    for patch in CrewAIInstrumentor().patches:
        assert patch.expected()
        target = patch.owner()
        assert target is not None, f"{patch.module}.{patch.name} missing from the installed crewai"
        owner, attr = target
        assert attr in vars(owner), f"{patch.name} is inherited, not defined on {owner!r}"
        found[f"{patch.module}:{patch.name}"] = vars(owner)[attr]
    return found


def test_every_patch_point_exists_and_uninstrument_restores_it(cap: TelemetryCapture) -> None:
    before = originals()
    assert len(before) == 19
    assert not any(isinstance(v, wrapt.FunctionWrapper) for v in before.values())

    with instrumented(cap, CrewAIInstrumentor):
        wrapped = originals()
        assert all(isinstance(v, wrapt.FunctionWrapper) for v in wrapped.values())

    assert originals() == before


def test_after_uninstrument_a_crew_makes_no_span_of_the_bridge(
    cap: TelemetryCapture, fake: FakeLLMServer
) -> None:
    with instrumented(cap, CrewAIInstrumentor):
        pass
    fake.script(TOOL_THEN_ANSWER)

    with instrumented(cap, OpenAIInstrumentor):
        result = weather_crew(fake).kickoff(inputs={"city": "Paris"})

    assert result.raw == ANSWER
    # The provider's spans only (the tool run inferred from the request that carries its result).
    assert [s.name for s in cap.spans()] == [LLM_SPAN, TOOL, LLM_SPAN]
