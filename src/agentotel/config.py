"""Settings read from the environment, once, into a frozen object.

Every variable agentotel reads is a documented constant here. A value that cannot be understood
raises :class:`ConfigError` naming the variable and the accepted values, except the content-capture
switch, which follows the OpenTelemetry GenAI instrumentations: an unknown value warns once and
means "no content".
"""

from __future__ import annotations

import enum
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

_log = logging.getLogger(__name__)

CAPTURE_MESSAGE_CONTENT: Final = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
"""What prompt/completion content is recorded: NO_CONTENT (default), SPAN_ONLY, EVENT_ONLY, SPAN_AND_EVENT."""
CONTENT_MAX_LENGTH: Final = "AGENTOTEL_CONTENT_MAX_LENGTH"
"""Characters kept of each captured content attribute (default 16384); longer values are cut."""
METRIC_CARDINALITY_LIMIT: Final = "AGENTOTEL_METRIC_CARDINALITY_LIMIT"
"""Distinct values kept per user-chosen metric attribute (tool, workflow, model names; default 100);
later values are reported as ``_OTHER``."""
TOOL_PENDING_MAX: Final = "AGENTOTEL_TOOL_PENDING_MAX"
"""Tool calls remembered while waiting for their result, for inferred tool spans (default 1000)."""
TOOL_PENDING_TTL: Final = "AGENTOTEL_TOOL_PENDING_TTL"
"""Seconds a pending tool call is remembered (default 600); older ones get no inferred span."""
SEMCONV_STABILITY_OPT_IN: Final = "OTEL_SEMCONV_STABILITY_OPT_IN"
"""Comma-separated opt-ins shared with the OpenTelemetry instrumentations; with
``gen_ai_latest_experimental`` among them, agentotel records the latest GenAI conventions instead
of those of semantic-conventions v1.41.1 (default: unset, v1.41.1). Other values are other
instrumentations' and are ignored. Read once, when agentotel's telemetry is set up."""
# --- audit log (agentotel.processors.AuditSpanProcessor) ----------------------------------------
AUDIT_PATH: Final = "AGENTOTEL_AUDIT_PATH"
"""JSON Lines audit file; setting it attaches the audit processor under opentelemetry-instrument."""
AUDIT_HMAC_KEY: Final = "AGENTOTEL_AUDIT_HMAC_KEY"
"""Key for HMAC-SHA-256 record hashes (plain SHA-256 without it). Never written anywhere."""
AUDIT_FSYNC: Final = "AGENTOTEL_AUDIT_FSYNC"
"""``batch`` (default): fsync after each written batch; ``record``: after each record; ``never``;
``sync``: a tool/guard/approval span's end returns once its record is on disk."""
AUDIT_ANCHOR_PATH: Final = "AGENTOTEL_AUDIT_ANCHOR_PATH"
"""File the audit log's checkpoints (seq, hash, time, hmac) are appended to (default: none)."""
AUDIT_ANCHOR_RECORDS: Final = "AGENTOTEL_AUDIT_ANCHOR_RECORDS"
"""Records between two audit checkpoints (default 1000)."""
AUDIT_ANCHOR_SECONDS: Final = "AGENTOTEL_AUDIT_ANCHOR_SECONDS"
"""Seconds after which the next written batch brings an audit checkpoint (default 60)."""
AUDIT_QUEUE_POLICY: Final = "AGENTOTEL_AUDIT_QUEUE_POLICY"
"""``block`` (default: back-pressure for at most ``AGENTOTEL_WRITER_BLOCK_TIMEOUT``) or ``drop``;
a dropped record is counted and written as an audit_gap record."""
AUDIT_QUEUE_SIZE: Final = "AGENTOTEL_AUDIT_QUEUE_SIZE"
"""Records waiting for the writer thread before the queue policy applies (default 10000)."""
AUDIT_MAX_BYTES: Final = "AGENTOTEL_AUDIT_MAX_BYTES"
"""Size at which the audit file is rotated (default 52428800, 50 MiB)."""
AUDIT_KEEP_FILES: Final = "AGENTOTEL_AUDIT_KEEP_FILES"
"""Rotated audit files kept besides the current one (default 10)."""
AUDIT_GUARD_CHECKS: Final = "AGENTOTEL_AUDIT_GUARD_CHECKS"
"""``true`` to also record allowed guard checks (``guard_check``); default ``false``."""
AUDIT_LLM_CALLS: Final = "AGENTOTEL_AUDIT_LLM_CALLS"
"""``true`` to also record LLM calls (``llm_call``); default ``false``."""
# --- run store (agentotel.processors.RunStoreSpanProcessor) ---------------------------------------
RUNS_DIR: Final = "AGENTOTEL_RUNS_DIR"
"""Folder of the run store; setting it attaches the run-store processor under opentelemetry-instrument."""
RUNS_KEEP: Final = "AGENTOTEL_RUNS_KEEP"
"""Newest runs kept in the run store (default 100)."""
RUNS_IDLE_GAP: Final = "AGENTOTEL_RUNS_IDLE_GAP"
"""Seconds without an open span after which an implicit run (code with no agent span) is over (default 30)."""
RUNS_QUEUE_SIZE: Final = "AGENTOTEL_RUNS_QUEUE_SIZE"
"""Span events waiting for the run-store writer thread before the queue policy applies (default 10000)."""
RUNS_QUEUE_POLICY: Final = "AGENTOTEL_RUNS_QUEUE_POLICY"
"""``block`` (default) or ``drop``: the run store's full-queue policy, as ``AGENTOTEL_AUDIT_QUEUE_POLICY``;
dropped spans are counted in the run's ``summary.json`` (``dropped_spans``)."""
# --- the writer threads of the audit log and the run store ---------------------------------------
WRITER_BLOCK_TIMEOUT: Final = "AGENTOTEL_WRITER_BLOCK_TIMEOUT"
"""Seconds the ``block`` policy waits for room in a full queue before it drops the record (default 5)."""
WRITER_SHUTDOWN_TIMEOUT: Final = "AGENTOTEL_WRITER_SHUTDOWN_TIMEOUT"
"""Seconds ``shutdown`` waits for the queue to be written (default 5), and ``force_flush`` while the
writer is failing; what is left is counted and logged."""
# --- operations --------------------------------------------------------------------------------
METRICS_SERVER: Final = "AGENTOTEL_METRICS_SERVER"
"""``host:port`` of agentotel's own /metrics, /healthz, /readyz endpoint (off by default)."""
METRICS_FILE: Final = "AGENTOTEL_METRICS_FILE"
"""Path of a node_exporter textfile (``.prom``) written atomically at an interval and at exit."""
METRICS_FILE_INTERVAL: Final = "AGENTOTEL_METRICS_FILE_INTERVAL"
"""Seconds between two writes of ``AGENTOTEL_METRICS_FILE`` (default 15)."""
SHUTDOWN_TIMEOUT: Final = "AGENTOTEL_SHUTDOWN_TIMEOUT"
"""Seconds all that agentotel does at exit and on SIGTERM may take (default 4, leaving the
interpreter's own teardown room within 5 s); what is not sent by then is dropped."""
PRICING_FILE: Final = "AGENTOTEL_PRICING_FILE"
"""JSON file overriding or extending the shipped model prices (USD per million tokens)."""
LOG_FORMAT: Final = "AGENTOTEL_LOG_FORMAT"
"""``json`` or ``text``: agentotel configures the root logger with trace-correlated records.
Unset (default): the host's logging is left alone."""
SENTRY_DSN: Final = "SENTRY_DSN"
"""With the ``sentry`` extra: errors go to Sentry, tagged with the OTel trace and span ids."""
ANTHROPIC_OPEN_TELEMETRY: Final = "ANTHROPIC_OPEN_TELEMETRY"
"""The anthropic SDK's own switch for its built-in spans (read by the SDK, not by us)."""

GEN_AI_LATEST_EXPERIMENTAL: Final = "gen_ai_latest_experimental"
"""The ``OTEL_SEMCONV_STABILITY_OPT_IN`` value that selects the latest GenAI conventions."""
DEFAULT_CONTENT_MAX_LENGTH: Final = 16384
DEFAULT_METRIC_CARDINALITY_LIMIT: Final = 100
DEFAULT_TOOL_PENDING_MAX: Final = 1000
DEFAULT_TOOL_PENDING_TTL: Final = 600
DEFAULT_SHUTDOWN_TIMEOUT: Final = 4.0
DEFAULT_WRITER_BLOCK_TIMEOUT: Final = 5.0
DEFAULT_WRITER_SHUTDOWN_TIMEOUT: Final = 5.0


class ConfigError(ValueError):
    """A configuration value that agentotel cannot use; the message names the variable."""


class CaptureMode(enum.Enum):
    """Where message content goes, per ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT``."""

    NO_CONTENT = "NO_CONTENT"
    SPAN_ONLY = "SPAN_ONLY"
    EVENT_ONLY = "EVENT_ONLY"
    SPAN_AND_EVENT = "SPAN_AND_EVENT"

    on_span: bool
    """Content goes on spans (``SPAN_ONLY``, ``SPAN_AND_EVENT``)."""
    on_event: bool
    """Content goes in log events (``EVENT_ONLY``, ``SPAN_AND_EVENT``)."""

    def __init__(self, value: str) -> None:
        # Plain attributes, set once per member: every instrumented call reads them (a property
        # was a Python call per read).
        self.on_span = value in ("SPAN_ONLY", "SPAN_AND_EVENT")
        self.on_event = value in ("EVENT_ONLY", "SPAN_AND_EVENT")


_LEGACY_CAPTURE: Final = {"TRUE": CaptureMode.SPAN_ONLY, "FALSE": CaptureMode.NO_CONTENT}
_warned: set[str] = set()


def _capture_mode(raw: str | None) -> CaptureMode:
    if raw is None or not raw.strip():
        return CaptureMode.NO_CONTENT
    value = raw.strip().upper()
    if value in _LEGACY_CAPTURE:
        return _LEGACY_CAPTURE[value]
    try:
        return CaptureMode(value)
    except ValueError:
        if value not in _warned:
            _warned.add(value)
            accepted = ", ".join(m.value for m in CaptureMode)
            _log.warning(
                "%s=%r is not understood; accepted values: %s (or legacy true/false). "
                "No content is captured.",
                CAPTURE_MESSAGE_CONTENT,
                raw,
                accepted,
            )
        return CaptureMode.NO_CONTENT


def gen_ai_latest(raw: str | None) -> bool:
    """True when the ``OTEL_SEMCONV_STABILITY_OPT_IN`` value ``raw`` (comma-separated, any case,
    spaces allowed) holds ``gen_ai_latest_experimental``."""
    if not raw:
        return False
    return any(part.strip().lower() == GEN_AI_LATEST_EXPERIMENTAL for part in raw.split(","))


def _positive_int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        value = 0
    if value < 1:
        raise ConfigError(f"{name}={raw!r} is not valid: expected a whole number of at least 1")
    return value


def positive_int(environ: Mapping[str, str], name: str, default: int) -> int:
    """``name`` as a whole number >= 1 (``default`` when unset); :class:`ConfigError` otherwise."""
    return _positive_int(environ, name, default)


def positive_seconds(environ: Mapping[str, str], name: str, default: float) -> float:
    """``name`` as a number of seconds > 0, decimals allowed (``default`` when unset)."""
    raw = environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw.strip())
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise ConfigError(f"{name}={raw!r} is not valid: expected a number of seconds greater than 0")
    return value


def choice(environ: Mapping[str, str], name: str, accepted: tuple[str, ...], default: str) -> str:
    """``name`` as one of ``accepted`` (case-insensitive; ``default`` when unset)."""
    raw = environ.get(name)
    if raw is None or not raw.strip():
        return default
    value = raw.strip().lower()
    if value not in accepted:
        raise ConfigError(f"{name}={raw!r} is not valid: expected one of {', '.join(accepted)}")
    return value


def flag(environ: Mapping[str, str], name: str, default: bool = False) -> bool:
    """``name`` as a boolean: true/false, 1/0, yes/no, on/off."""
    value = choice(environ, name, ("true", "false", "1", "0", "yes", "no", "on", "off"), "")
    return default if value == "" else value in ("true", "1", "yes", "on")


def sdk_disabled(environ: Mapping[str, str] | None = None) -> bool:
    """``OTEL_SDK_DISABLED=true``: agentotel then starts nothing (no file, port, thread or handler)."""
    from opentelemetry.sdk.environment_variables import OTEL_SDK_DISABLED

    env = os.environ if environ is None else environ
    return env.get(OTEL_SDK_DISABLED, "").strip().lower() == "true"


@dataclass(frozen=True)
class Settings:
    """The effective configuration of one instrumentor."""

    capture: CaptureMode = CaptureMode.NO_CONTENT
    content_max_length: int = DEFAULT_CONTENT_MAX_LENGTH
    cardinality_limit: int = DEFAULT_METRIC_CARDINALITY_LIMIT
    tool_pending_max: int = DEFAULT_TOOL_PENDING_MAX
    tool_pending_ttl: int = DEFAULT_TOOL_PENDING_TTL
    pricing_file: str | None = None
    gen_ai_latest: bool = False
    """The latest GenAI conventions (``OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental``)."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the settings; raises :class:`ConfigError` for a malformed value."""
        env = os.environ if environ is None else environ
        return cls(
            capture=_capture_mode(env.get(CAPTURE_MESSAGE_CONTENT)),
            content_max_length=_positive_int(env, CONTENT_MAX_LENGTH, DEFAULT_CONTENT_MAX_LENGTH),
            cardinality_limit=_positive_int(env, METRIC_CARDINALITY_LIMIT, DEFAULT_METRIC_CARDINALITY_LIMIT),
            tool_pending_max=_positive_int(env, TOOL_PENDING_MAX, DEFAULT_TOOL_PENDING_MAX),
            tool_pending_ttl=_positive_int(env, TOOL_PENDING_TTL, DEFAULT_TOOL_PENDING_TTL),
            pricing_file=env.get(PRICING_FILE) or None,
            gen_ai_latest=gen_ai_latest(env.get(SEMCONV_STABILITY_OPT_IN)),
        )
