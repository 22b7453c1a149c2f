"""Errors to Sentry, tagged with and linked to the OpenTelemetry trace they happened in.

With the ``sentry`` extra and ``SENTRY_DSN`` set, ``opentelemetry-instrument`` start-up calls
:func:`configure_from_env`; in code, call :func:`init_sentry` instead of ``sentry_sdk.init``::

    from agentotel.integrations.sentry import init_sentry
    init_sentry(environment="prod")          # DSN from SENTRY_DSN; other options as sentry_sdk.init

Every error event then carries the tags ``otel.trace_id`` / ``otel.span_id`` (and
``gen_ai.conversation.id`` inside a session), and its ``trace`` context holds the same ids, which
is how Sentry links an error to a trace. The span is the innermost one the exception went through
(an exception that escapes an agent round and reaches ``sys.excepthook`` is reported with the LLM
call or tool span it failed), else the span current when the event was captured
(``logger.error(...)``, ``sentry_sdk.capture_exception()`` inside a span). An event with neither
is sent as Sentry would send it.

What stays as it was:

* **Tracing is OpenTelemetry's.** No ``traces_sample_rate``, and ``instrumenter="otel"`` makes
  the Sentry SDK's own spans no-ops; Sentry's OTLP integration is used for trace linking only
  (no exporter, no propagator). The global propagators (``OTEL_PROPAGATORS``, W3C by default)
  are not replaced, and Sentry adds no ``sentry-trace`` / ``baggage`` headers of its own.
* **No duplicate GenAI telemetry.** Sentry's OpenAI, Anthropic, LangChain, LangGraph and MCP
  integrations are disabled: agentotel instruments those libraries (they would also report every
  failed LLM call as an unhandled error, retried or not).
* **No prompt content.** PII off (Sentry's default, left unset), no local variables in stack
  frames (they hold prompts and replies), no request bodies, credential headers filtered.
* **No credentials.** Every string of the event (exception values, messages, breadcrumbs) is
  redacted like the spans (:mod:`agentotel._redact`): an SDK error repeating the API key is sent
  with ``[REDACTED]`` in its place.

Options given to :func:`init_sentry` are passed to ``sentry_sdk.init`` and win over these defaults,
except that request bodies are always dropped, the integrations above always disabled (more can
be added with ``disabled_integrations``) and a ``before_send`` of yours runs after ours.
"""

from __future__ import annotations

import logging
import os
import sys
import weakref
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

from opentelemetry import metrics, trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.semconv.attributes.exception_attributes import EXCEPTION_MESSAGE, EXCEPTION_TYPE
from opentelemetry.trace import StatusCode

from agentotel import config, semconv
from agentotel._redact import exception_message, redact, request_credentials
from agentotel._safe import Boundary
from agentotel._version import __version__
from agentotel.integrations import _correlation

if TYPE_CHECKING:
    from sentry_sdk.integrations import Integration

__all__ = [
    "SPAN_ID_TAG",
    "TRACE_ID_TAG",
    "FailedSpanMarker",
    "configure_from_env",
    "init_sentry",
    "redact_event",
    "scrub_request",
]

_log = logging.getLogger("agentotel")

TRACE_ID_TAG: Final = "otel.trace_id"
"""Sentry tag: the OpenTelemetry trace id (32 hex digits) of the span the error happened in."""
SPAN_ID_TAG: Final = "otel.span_id"
"""Sentry tag: that span's id (16 hex digits)."""

_DUPLICATES: Final = (
    ("openai", "OpenAIIntegration"),
    ("anthropic", "AnthropicIntegration"),
    ("langchain", "LangchainIntegration"),
    ("langgraph", "LanggraphIntegration"),
    ("mcp", "MCPIntegration"),
)
"""Sentry integrations that instrument what agentotel instruments (module, class)."""

_SENSITIVE_HEADER_PARTS: Final = ("auth", "key", "token", "secret", "cookie", "session", "password")
_FILTERED: Final = "[Filtered]"
_SPAN_MARK: Final = "__agentotel_span__"
"""Attribute set on an exception object: (trace id, span id, conversation id) of its innermost span."""

_marked_providers: weakref.WeakSet[Any] = weakref.WeakSet()


def _boundary() -> Boundary:
    return Boundary("sentry", metrics.get_meter(semconv.SCOPE_NAME, __version__))


# --- which span an exception belongs to -------------------------------------------------------
class FailedSpanMarker(SpanProcessor):
    """Marks an exception with the innermost span it failed, for the Sentry event reported later.

    A span ending with status ERROR while the exception it recorded is being handled (its
    ``with`` block or wrapper is unwinding) stores its ids on the exception object; spans further
    out find the mark and leave it. Nothing else is kept, so nothing outlives the exception.
    """

    def __init__(self, boundary: Boundary | None = None) -> None:
        self._boundary = boundary or _boundary()

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        pass

    def on_end(self, span: ReadableSpan) -> None:
        if span.status.status_code is not StatusCode.ERROR:
            return
        exc = sys.exc_info()[1]
        if exc is None:
            return
        try:
            _mark(span, exc)
        except Exception as bug:
            self._boundary.report(bug)

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def _mark(span: ReadableSpan, exc: BaseException) -> None:
    marks = vars(exc)
    if _SPAN_MARK in marks or span.context is None or not _recorded(span, exc):
        return
    attrs = span.attributes or {}
    conversation = attrs.get(semconv.GEN_AI_CONVERSATION_ID)
    marks[_SPAN_MARK] = (
        trace.format_trace_id(span.context.trace_id),
        trace.format_span_id(span.context.span_id),
        conversation if isinstance(conversation, str) else None,
    )


def _recorded(span: ReadableSpan, exc: BaseException) -> bool:
    """True if ``span`` recorded ``exc`` (rather than failing while another one was handled)."""
    name = type(exc).__qualname__
    message = exception_message(exc)  # as the span recorded it
    for event in span.events:
        attrs = event.attributes or {}
        recorded_type = attrs.get(EXCEPTION_TYPE)
        if (
            event.name == "exception"
            and isinstance(recorded_type, str)
            and recorded_type.endswith(name)
            and attrs.get(EXCEPTION_MESSAGE) == message
        ):
            return True
    return False


def _ids_of_event(hint: Mapping[str, Any]) -> _correlation.Correlation:
    exc_info = hint.get("exc_info")
    exc = exc_info[1] if isinstance(exc_info, tuple) and len(exc_info) == 3 else None
    mark = getattr(exc, "__dict__", {}).get(_SPAN_MARK) if exc is not None else None
    if mark is not None:
        trace_id, span_id, conversation = mark
        return _correlation.Correlation(trace_id, span_id, conversation or _current_conversation())
    return _correlation.current()


def _current_conversation() -> str | None:
    return _correlation.current().conversation_id


# --- before_send ------------------------------------------------------------------------------
def _tag(event: dict[str, Any], hint: Mapping[str, Any]) -> None:
    ids = _ids_of_event(hint)
    tags = event.setdefault("tags", {})
    if ids.trace_id is not None and ids.span_id is not None:
        tags[TRACE_ID_TAG] = ids.trace_id
        tags[SPAN_ID_TAG] = ids.span_id
        # Only these two: the propagation context Sentry filled in (parent, sampling context)
        # belongs to a trace of its own.
        event.setdefault("contexts", {})["trace"] = {"trace_id": ids.trace_id, "span_id": ids.span_id}
    if ids.conversation_id is not None:
        tags[semconv.GEN_AI_CONVERSATION_ID] = ids.conversation_id


def redact_event(event: Any, secrets: tuple[str, ...] = ()) -> Any:
    """``event`` with credentials redacted from every string in it (exception values, messages,
    breadcrumbs, stack frames...), in place; see :mod:`agentotel._redact`."""
    if isinstance(event, str):
        return redact(event, secrets)
    if isinstance(event, dict):
        for key, value in event.items():
            event[key] = redact_event(value, secrets)
    elif isinstance(event, list):
        for i, value in enumerate(event):
            event[i] = redact_event(value, secrets)
    return event


def _hint_credentials(hint: Mapping[str, Any]) -> tuple[str, ...]:
    exc_info = hint.get("exc_info")
    exc = exc_info[1] if isinstance(exc_info, tuple) and len(exc_info) == 3 else None
    return request_credentials(exc) if isinstance(exc, BaseException) else ()


def scrub_request(event: dict[str, Any]) -> None:
    """Drop the request body (it may hold a prompt) and filter credential-like header values."""
    request = event.get("request")
    if not isinstance(request, dict):
        return
    request.pop("data", None)
    headers = request.get("headers")
    if isinstance(headers, dict):
        for name in headers:
            if any(part in str(name).lower() for part in _SENSITIVE_HEADER_PARTS):
                headers[name] = _FILTERED


BeforeSend = Callable[[Any, Any], Any]


def _before_send(boundary: Boundary, user: BeforeSend | None) -> BeforeSend:
    def before_send(event: Any, hint: Any) -> Any:
        try:
            _tag(event, hint or {})
        except Exception as bug:
            boundary.report(bug)
        # Not behind the boundary: a failure here must not send the event.
        scrub_request(event)
        redact_event(event, _hint_credentials(hint or {}))
        return user(event, hint) if user is not None else event

    return before_send


# --- init -------------------------------------------------------------------------------------
def _duplicating_integrations() -> list[type[Integration]]:
    """The classes of :data:`_DUPLICATES` whose library is installed (the others cannot load)."""
    import importlib

    from sentry_sdk.integrations import DidNotEnable

    found: list[type[Integration]] = []
    for module, name in _DUPLICATES:
        try:
            found.append(getattr(importlib.import_module(f"sentry_sdk.integrations.{module}"), name))
        except (DidNotEnable, ImportError):
            continue
    return found


def _trace_linking() -> list[Integration]:
    """Sentry's OTLP integration, for linking only: it makes the current OpenTelemetry span the
    trace context of every event (logs and metrics too) and leaves outgoing propagation to the
    OpenTelemetry propagators. It needs the OTLP/HTTP exporter installed (it imports it)."""
    from sentry_sdk.integrations import DidNotEnable

    try:
        from sentry_sdk.integrations.otlp import OTLPIntegration
    except (DidNotEnable, ImportError):
        _log.debug("agentotel: Sentry's OTLP integration is unavailable; events are linked by tags only")
        return []
    return [
        OTLPIntegration(setup_otlp_traces_exporter=False, setup_propagator=False, capture_exceptions=False)
    ]


def _attach_marker(tracer_provider: Any, boundary: Boundary) -> None:
    provider = tracer_provider if tracer_provider is not None else trace.get_tracer_provider()
    add = getattr(provider, "add_span_processor", None)
    if add is None:
        _log.debug("agentotel: no SDK tracer provider yet; Sentry events use the current span only")
        return
    if provider in _marked_providers:
        return
    add(FailedSpanMarker(boundary))
    _marked_providers.add(provider)


def init_sentry(dsn: str | None = None, *, tracer_provider: Any = None, **options: Any) -> bool:
    """Initialise the Sentry SDK as described in :mod:`agentotel.integrations.sentry`.

    ``dsn`` defaults to ``SENTRY_DSN``; ``tracer_provider`` (default: the global one) gets the
    processor that remembers which span an exception failed. Returns False, doing nothing, without
    a DSN or without ``sentry-sdk`` installed (``pip install "agentotel[sentry]"``).
    """
    dsn = dsn or os.environ.get(config.SENTRY_DSN, "").strip()
    if not dsn:
        return False
    try:
        import sentry_sdk
    except ImportError:
        _log.warning(
            "agentotel: %s is set but sentry-sdk is not installed (pip install 'agentotel[sentry]')",
            config.SENTRY_DSN,
        )
        return False
    boundary = _boundary()
    settings: dict[str, Any] = {
        "instrumenter": "otel",
        "trace_propagation_targets": [],
        "include_local_variables": False,
        "max_request_body_size": "never",
        **options,
    }
    settings["before_send"] = _before_send(boundary, options.get("before_send"))
    settings["disabled_integrations"] = [
        *_duplicating_integrations(),
        *(options.get("disabled_integrations") or ()),
    ]
    settings["integrations"] = [*_trace_linking(), *(options.get("integrations") or ())]
    sentry_sdk.init(dsn=dsn, **settings)
    _attach_marker(tracer_provider, boundary)
    return True


def configure_from_env(environ: Mapping[str, str] | None = None, *, tracer_provider: Any = None) -> None:
    """Apply ``SENTRY_DSN``: :func:`init_sentry` when it is set and Sentry is not initialised yet
    (an app that initialised Sentry itself keeps its set-up). A DSN Sentry cannot parse raises
    :class:`~agentotel.ConfigError` naming the variable (not its value: a DSN holds a key)."""
    env = os.environ if environ is None else environ
    dsn = env.get(config.SENTRY_DSN, "").strip()
    if not dsn:
        return
    try:
        import sentry_sdk
        from sentry_sdk.utils import BadDsn, Dsn
    except ImportError:
        init_sentry(dsn)  # warns
        return
    try:
        Dsn(dsn)
    except BadDsn as exc:
        raise config.ConfigError(f"{config.SENTRY_DSN} is not a valid Sentry DSN: {exc}") from None
    if sentry_sdk.is_initialized():
        _log.debug("agentotel: Sentry is already initialised; %s left to it", config.SENTRY_DSN)
        return
    init_sentry(dsn, tracer_provider=tracer_provider)
