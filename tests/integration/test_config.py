"""Settings.from_env: every variable, every accepted value, and the errors for the rest."""

from __future__ import annotations

import logging

import pytest

import agentotel
from agentotel import config
from agentotel.config import (
    CAPTURE_MESSAGE_CONTENT,
    CONTENT_MAX_LENGTH,
    DEFAULT_CONTENT_MAX_LENGTH,
    CaptureMode,
    ConfigError,
    Settings,
)


@pytest.fixture(autouse=True)
def _fresh_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The "unknown value" warning is once per process and value; give each test its own memory."""
    monkeypatch.setattr(config, "_warned", set())


def test_names_of_the_variables() -> None:
    assert CAPTURE_MESSAGE_CONTENT == "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
    assert CONTENT_MAX_LENGTH == "AGENTOTEL_CONTENT_MAX_LENGTH"
    assert DEFAULT_CONTENT_MAX_LENGTH == 16384
    assert agentotel.ConfigError is ConfigError
    assert agentotel.Settings is Settings
    assert agentotel.CaptureMode is CaptureMode
    assert issubclass(ConfigError, ValueError)


def test_defaults_with_an_empty_environment() -> None:
    settings = Settings.from_env({})
    assert settings == Settings(capture=CaptureMode.NO_CONTENT, content_max_length=16384)
    assert settings.capture is CaptureMode.NO_CONTENT
    assert Settings() == settings


def test_from_env_reads_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CAPTURE_MESSAGE_CONTENT, "SPAN_AND_EVENT")
    monkeypatch.setenv(CONTENT_MAX_LENGTH, "77")
    assert Settings.from_env() == Settings(CaptureMode.SPAN_AND_EVENT, 77)
    monkeypatch.delenv(CAPTURE_MESSAGE_CONTENT)
    monkeypatch.delenv(CONTENT_MAX_LENGTH)
    assert Settings.from_env() == Settings(CaptureMode.NO_CONTENT, 16384)


def test_an_explicit_mapping_wins_over_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CAPTURE_MESSAGE_CONTENT, "SPAN_ONLY")
    assert Settings.from_env({}).capture is CaptureMode.NO_CONTENT


@pytest.mark.parametrize(
    ("raw", "mode", "on_span", "on_event"),
    [
        ("NO_CONTENT", CaptureMode.NO_CONTENT, False, False),
        ("SPAN_ONLY", CaptureMode.SPAN_ONLY, True, False),
        ("EVENT_ONLY", CaptureMode.EVENT_ONLY, False, True),
        ("SPAN_AND_EVENT", CaptureMode.SPAN_AND_EVENT, True, True),
        # case and surrounding whitespace do not matter
        ("span_only", CaptureMode.SPAN_ONLY, True, False),
        ("  Event_Only\n", CaptureMode.EVENT_ONLY, False, True),
        # legacy booleans of the older GenAI instrumentations
        ("true", CaptureMode.SPAN_ONLY, True, False),
        ("TRUE", CaptureMode.SPAN_ONLY, True, False),
        ("True", CaptureMode.SPAN_ONLY, True, False),
        ("false", CaptureMode.NO_CONTENT, False, False),
        ("FALSE", CaptureMode.NO_CONTENT, False, False),
        # unset-like values
        ("", CaptureMode.NO_CONTENT, False, False),
        ("   ", CaptureMode.NO_CONTENT, False, False),
    ],
)
def test_each_accepted_capture_value(
    raw: str, mode: CaptureMode, on_span: bool, on_event: bool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="agentotel")
    settings = Settings.from_env({CAPTURE_MESSAGE_CONTENT: raw})
    assert settings.capture is mode
    assert settings.capture.on_span is on_span
    assert settings.capture.on_event is on_event
    assert settings.content_max_length == DEFAULT_CONTENT_MAX_LENGTH
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


@pytest.mark.parametrize("raw", ["banana", "1", "yes", "SPAN", "SPAN-ONLY", "on"])
def test_unknown_capture_value_warns_once_and_captures_nothing(
    raw: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="agentotel")
    for _ in range(3):
        assert Settings.from_env({CAPTURE_MESSAGE_CONTENT: raw}).capture is CaptureMode.NO_CONTENT

    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    [record] = warnings
    assert record.levelno == logging.WARNING
    assert record.name == "agentotel.config"
    message = record.getMessage()
    assert message == (
        f"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT={raw!r} is not understood; accepted values: "
        "NO_CONTENT, SPAN_ONLY, EVENT_ONLY, SPAN_AND_EVENT (or legacy true/false). No content is captured."
    )


def test_unknown_capture_values_warn_once_each(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="agentotel")
    for raw in ("banana", "cherry", "banana", "BANANA", "cherry"):
        Settings.from_env({CAPTURE_MESSAGE_CONTENT: raw})
    # "banana" and "BANANA" are the same value once normalised.
    assert [r.getMessage().split(" is not", 1)[0] for r in caplog.records] == [
        f"{CAPTURE_MESSAGE_CONTENT}='banana'",
        f"{CAPTURE_MESSAGE_CONTENT}='cherry'",
    ]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", 1), ("50", 50), (" 50 ", 50), ("16384", 16384), ("1000000", 1000000), ("", 16384), ("  ", 16384)],
)
def test_content_max_length_accepted(raw: str, expected: int) -> None:
    assert Settings.from_env({CONTENT_MAX_LENGTH: raw}).content_max_length == expected


@pytest.mark.parametrize("raw", ["abc", "0", "-1", "-50", "1.5", "1e3", "50 chars", "0x10", "∞"])
def test_content_max_length_rejected(raw: str) -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env({CONTENT_MAX_LENGTH: raw})
    message = str(info.value)
    assert (
        message == f"AGENTOTEL_CONTENT_MAX_LENGTH={raw!r} is not valid: expected a whole number of at least 1"
    )
    assert "AGENTOTEL_CONTENT_MAX_LENGTH" in message
    assert "whole number of at least 1" in message


def test_content_max_length_error_names_the_variable_for_abc_and_zero() -> None:
    for raw in ("abc", "0"):
        with pytest.raises(agentotel.ConfigError, match=r"^AGENTOTEL_CONTENT_MAX_LENGTH=") as info:
            Settings.from_env({CONTENT_MAX_LENGTH: raw, CAPTURE_MESSAGE_CONTENT: "SPAN_ONLY"})
        assert "expected a whole number of at least 1" in str(info.value)
        assert isinstance(info.value, ValueError)


def test_settings_are_frozen() -> None:
    settings = Settings.from_env({})
    with pytest.raises(AttributeError):
        settings.capture = CaptureMode.SPAN_ONLY  # type: ignore[misc]


def test_instrumenting_with_a_bad_max_length_raises_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """A malformed value is an operator error, reported at instrument() time, not silently ignored."""
    from opentelemetry.sdk.trace import TracerProvider

    from agentotel.instrumentation.openai import OpenAIInstrumentor

    monkeypatch.setenv(CONTENT_MAX_LENGTH, "abc")
    instrumentor = OpenAIInstrumentor()
    try:
        with pytest.raises(ConfigError, match="AGENTOTEL_CONTENT_MAX_LENGTH='abc'"):
            instrumentor.instrument(tracer_provider=TracerProvider())
        assert not instrumentor.is_instrumented_by_opentelemetry
    finally:
        if instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.uninstrument()
