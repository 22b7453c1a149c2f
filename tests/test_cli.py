"""The ``agentotel`` command: the demo prints the whole trace; doctor reports configuration."""

from __future__ import annotations

import re

import pytest

from agentotel.cli import main


def test_demo_prints_one_trace_with_every_call(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "agent: Hello from the fake LLM server." in out
    assert "agent (streamed): " + " ".join(f"w{i}" for i in range(1, 21)) in " ".join(out.split())
    assert "agent: rate limited (429), carrying on" in out
    assert "claude: w1 w2 w3 w4 w5" in out
    spans = re.findall(r"── (.+?)  \d+\.\d ms(.*)", out)
    assert [(name, rest.strip()) for name, rest in spans] == [
        ("demo agent run", ""),
        ("chat gpt-4o-mini", "tokens in=6 out=2  tool calls: get_weather"),
        ("chat gpt-4o-mini", "tokens in=12 out=6"),
        ("chat gpt-4o-mini", "tokens in=8 out=20  stream exhausted"),
        ("chat gpt-4o-mini", "ERROR openai.RateLimitError"),
        ("embeddings text-embedding-3-small", "tokens in=20 out=-"),
        ("chat claude-opus-5", "tokens in=6 out=5  stream exhausted"),
    ]
    assert out.count("trace ") == 2  # the rule line and one trace: every call under the root


def test_demo_leaves_the_sdks_uninstrumented(capsys: pytest.CaptureFixture[str]) -> None:
    from openai.resources.chat.completions.completions import Completions

    original = Completions.__dict__["create"]
    assert main(["demo"]) == 0
    assert Completions.__dict__["create"] is original


def test_doctor_lists_instrumentors_and_configuration(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "span_only")
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "instrumentors: agentotel_anthropic, agentotel_openai" in out
    assert re.search(r"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT\s*│\s*SPAN_ONLY", out)


def test_doctor_fails_on_a_bad_value_and_names_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENTOTEL_CONTENT_MAX_LENGTH", "lots")
    assert main(["doctor"]) == 1
    out = " ".join(capsys.readouterr().out.split())
    assert "AGENTOTEL_CONTENT_MAX_LENGTH='lots' is not valid: expected a whole number of at least 1" in out
