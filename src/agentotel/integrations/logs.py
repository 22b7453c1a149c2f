"""Trace-correlated log lines: ``AGENTOTEL_LOG_FORMAT=json`` or ``text``.

Off by default: agentotel never touches the host's logging unless asked. Asked (the variable set
under ``opentelemetry-instrument``, or a call to :func:`configure_logging`), it adds one handler to
the root logger, writing to stderr::

    AGENTOTEL_LOG_FORMAT=json opentelemetry-instrument python agent.py

    {"timestamp": "2026-11-21T10:15:02.123Z", "level": "INFO", "logger": "agent.planner",
     "message": "planning 3 steps", "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
     "span_id": "00f067aa0ba902b7", "conversation_id": "conv-42",
     "run_id": "20261121T101502.120Z_4bf92f3577b34da6", "exception": null}

``text`` is the same line for people: ``2026-11-21T10:15:02.123Z INFO agent.planner: planning 3
steps trace_id=4bf9... span_id=00f0... conversation_id=conv-42 run_id=2026...``, then the traceback.

The fields:

* ``trace_id`` / ``span_id``: the span current where the record was logged (hex), so every line
  logged inside a plan, an agent round or a tool carries that trace and its innermost span;
* ``conversation_id``: the open :func:`agentotel.session`; ``run_id``: the run-store run of that
  span (only with a run-store processor attached, see ``AGENTOTEL_RUNS_DIR``);
* ``exception``: ``{"type", "message", "stacktrace"}`` for ``logger.exception(...)`` /
  ``exc_info=``, ``type`` spelled like the spans' ``error.type`` (``openai.RateLimitError``);
* then the record's ``extra=`` fields, values JSON-encoded (``str()`` for the rest).

Credentials are redacted from the message, the exception's message and stack trace and string
``extra`` values, in both formats (see :mod:`agentotel._redact`): an SDK error that repeats the
API key ("Incorrect API key provided: sk-...") is written with ``[REDACTED]`` in its place.

Every JSON line has every field: an id that is unknown (outside any span, session or run) is
``null``, not missing, so queries and log pipelines see one schema. The text format shows only the
ids it has. The ids are read when the record is formatted, which for the handler installed here
(and for a ``QueueHandler`` given these formatters) is on the thread and in the context that logged.

Levels are not changed: the root logger's level still decides what is written. Other handlers
(an OTLP ``LoggingHandler``, the app's own) are left as they are. Calling again replaces the
handler added before, so there is only ever one.

No JSON logging library is used. The line is a flat object of nine fields plus ``extra``, written
with :func:`json.dumps`: python-json-logger (considered, 4.2) would do the same in about as many
lines of subclassing, but would make ``AGENTOTEL_LOG_FORMAT=json`` depend on an optional package,
so a deployment could fail at start-up over a log format.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any, Final, TextIO

from agentotel import config
from agentotel._redact import exception_message, redact, request_credentials
from agentotel._safe import error_type
from agentotel.integrations import _correlation

__all__ = ["FORMATS", "JsonFormatter", "TextFormatter", "configure_from_env", "configure_logging"]

FORMATS: Final = ("json", "text")
"""Accepted values of ``AGENTOTEL_LOG_FORMAT`` (and of :func:`configure_logging`)."""

_RESERVED: Final = frozenset(
    vars(logging.LogRecord("", logging.INFO, "", 0, "", None, None)).keys()
    | {"message", "asctime", "taskName"}
)
_OTEL_RECORD_FIELDS: Final = frozenset({"otelTraceID", "otelSpanID", "otelTraceSampled", "otelServiceName"})
"""Added by opentelemetry-instrumentation-logging; already given as ``trace_id`` / ``span_id``."""
_lock = threading.Lock()


def _timestamp(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(record.msecs):03d}Z"


class _Formatter(logging.Formatter):
    def _stacktrace(self, record: logging.LogRecord) -> str:
        if not record.exc_text and record.exc_info:
            record.exc_text = self.formatException(record.exc_info)
        return redact(record.exc_text or "", _request_credentials(record))


def _request_credentials(record: logging.LogRecord) -> tuple[str, ...]:
    exc = record.exc_info[1] if record.exc_info else None
    return request_credentials(exc) if exc is not None else ()


class JsonFormatter(_Formatter):
    """One JSON object per record, with the correlation ids (see :mod:`agentotel.integrations.logs`)."""

    def format(self, record: logging.LogRecord) -> str:
        ids = _correlation.current()
        line: dict[str, Any] = {
            "timestamp": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
            "trace_id": ids.trace_id,
            "span_id": ids.span_id,
            "conversation_id": ids.conversation_id,
            "run_id": ids.run_id,
            "exception": self._exception(record),
        }
        if record.stack_info:
            line["stack_info"] = self.formatStack(record.stack_info)
        for key, value in _extra(record).items():
            line.setdefault(key, redact(value) if isinstance(value, str) else value)
        return json.dumps(line, ensure_ascii=False, default=lambda v: redact(str(v)))

    def _exception(self, record: logging.LogRecord) -> dict[str, str] | None:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is None:
            return None
        return {
            "type": error_type(exc),
            "message": exception_message(exc),
            "stacktrace": self._stacktrace(record),
        }


class TextFormatter(_Formatter):
    """``<time> <LEVEL> <logger>: <message> trace_id=... span_id=...``, then any traceback."""

    def format(self, record: logging.LogRecord) -> str:
        ids = _correlation.current()
        text = f"{_timestamp(record)} {record.levelname} {record.name}: {redact(record.getMessage())}"
        for key, value in vars(ids).items():
            if value is not None:
                text += f" {key}={value}"
        if record.exc_info and record.exc_info[1] is not None:
            text += "\n" + self._stacktrace(record)
        if record.stack_info:
            text += "\n" + self.formatStack(record.stack_info)
        return text


def _extra(record: logging.LogRecord) -> Mapping[str, Any]:
    return {
        key: value
        for key, value in vars(record).items()
        if key not in _RESERVED and key not in _OTEL_RECORD_FIELDS and not key.startswith("_")
    }


class _AgentotelHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The one handler :func:`configure_logging` adds to the root logger (found again by type)."""


_FORMATTERS: Final[Mapping[str, type[logging.Formatter]]] = {"json": JsonFormatter, "text": TextFormatter}


def configure_logging(fmt: str, *, stream: TextIO | None = None) -> logging.Handler:
    """Make the root logger write ``fmt`` (``json`` or ``text``) lines to ``stream`` (stderr).

    Adds one handler, replacing the one an earlier call added; other handlers and the levels are
    left alone. Returns the handler. ``ValueError`` for an unknown format.
    """
    formatter_class = _FORMATTERS.get(fmt.strip().lower())
    if formatter_class is None:
        raise ValueError(f"log format {fmt!r} is not one of {', '.join(FORMATS)}")
    handler = _AgentotelHandler(sys.stderr if stream is None else stream)
    handler.setFormatter(formatter_class())
    root = logging.getLogger()
    with _lock:
        for old in [h for h in root.handlers if isinstance(h, _AgentotelHandler)]:
            root.removeHandler(old)
        root.addHandler(handler)
    return handler


def configure_from_env(environ: Mapping[str, str] | None = None) -> None:
    """Apply ``AGENTOTEL_LOG_FORMAT``: nothing when unset; :class:`~agentotel.ConfigError` naming
    the variable for a value other than ``json`` / ``text``."""
    env = os.environ if environ is None else environ
    fmt = config.choice(env, config.LOG_FORMAT, FORMATS, "")
    if fmt:
        configure_logging(fmt)
