"""``AGENTOTEL_LOG_FORMAT``: JSON (and text) log lines carrying the trace, span, conversation and
run ids of where they were logged.

Decided here: every JSON line has every field, an unknown id being ``null`` (outside any span,
session or run); the text format shows only the ids it has. Unset, the root logger is untouched.
"""

from __future__ import annotations

import io
import json
import logging
import re
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import trace
from runstore_helpers import run_ids, run_store

import agentotel
from agentotel import ConfigError
from agentotel.integrations.logs import configure_from_env, configure_logging
from agentotel.testing._capture import TelemetryCapture

FIELDS = [
    "timestamp",
    "level",
    "logger",
    "message",
    "trace_id",
    "span_id",
    "conversation_id",
    "run_id",
    "exception",
]
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
NO_IDS = {"trace_id": None, "span_id": None, "conversation_id": None, "run_id": None}
log = logging.getLogger("test.app")


class AppError(Exception):
    """An application's own exception type."""


@pytest.fixture(autouse=True)
def root_logger() -> Iterator[logging.Logger]:
    """The root logger at INFO for the test, its handlers and level restored afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    root.setLevel(logging.INFO)
    yield root
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def out() -> io.StringIO:
    return io.StringIO()


def lines(out: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def only_line(out: io.StringIO) -> dict[str, Any]:
    [line] = lines(out)
    return line


def ids_of(span: trace.Span) -> dict[str, str]:
    ctx = span.get_span_context()
    return {"trace_id": trace.format_trace_id(ctx.trace_id), "span_id": trace.format_span_id(ctx.span_id)}


def ours(root: logging.Logger) -> list[logging.Handler]:
    return [h for h in root.handlers if type(h).__name__ == "_AgentotelHandler"]


# --------------------------------------------------------------------------- JSON fields
def test_a_json_line_inside_a_span_carries_its_trace_and_span_ids(
    out: io.StringIO, cap: TelemetryCapture
) -> None:
    configure_logging("json", stream=out)
    with cap.tracer_provider.get_tracer("test").start_as_current_span("work") as span:
        log.info("planning %d steps", 3)

    line = only_line(out)
    assert list(line) == FIELDS
    assert line == {
        "timestamp": line["timestamp"],
        "level": "INFO",
        "logger": "test.app",
        "message": "planning 3 steps",
        **ids_of(span),
        "conversation_id": None,
        "run_id": None,
        "exception": None,
    }


def test_outside_any_span_the_ids_are_null(out: io.StringIO) -> None:
    configure_logging("json", stream=out)
    log.warning("no span here")

    line = only_line(out)
    assert list(line) == FIELDS
    assert {k: line[k] for k in NO_IDS} == NO_IDS
    assert (line["level"], line["message"], line["exception"]) == ("WARNING", "no span here", None)


def test_the_timestamp_is_utc_rfc3339_with_milliseconds(out: io.StringIO) -> None:
    configure_logging("json", stream=out)
    before = time.time()
    log.info("now")
    after = time.time()

    stamp = only_line(out)["timestamp"]
    assert RFC3339.match(stamp)
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    assert before - 0.001 <= moment <= after


def test_records_inside_a_plan_share_its_trace_conversation_and_run(
    out: io.StringIO, agent_layer: TelemetryCapture, tmp_path: Path
) -> None:
    configure_logging("json", stream=out)
    with run_store(agent_layer, tmp_path) as store:
        with agentotel.session("conv-7"), agentotel.plan("planner"):
            plan_span = trace.get_current_span()
            log.info("making the plan")
            with agentotel.step("search", type="tool"):
                step_span = trace.get_current_span()
                log.info("searching")
            log.info("plan done")
        store.force_flush()

    [run_id] = run_ids(tmp_path)
    shared = {"conversation_id": "conv-7", "run_id": run_id}
    assert [{k: line[k] for k in ("message", *NO_IDS)} for line in lines(out)] == [
        {"message": "making the plan", **ids_of(plan_span), **shared},
        {"message": "searching", **ids_of(step_span), **shared},
        {"message": "plan done", **ids_of(plan_span), **shared},
    ]
    assert run_id.endswith("_" + ids_of(plan_span)["trace_id"][:16])


def test_a_session_without_a_span_gives_the_conversation_only(
    out: io.StringIO, agent_layer: TelemetryCapture
) -> None:
    configure_logging("json", stream=out)
    with agentotel.session("conv-8"):
        log.info("between rounds")

    assert {k: only_line(out)[k] for k in NO_IDS} == {**NO_IDS, "conversation_id": "conv-8"}


def test_records_logged_in_a_thread_carry_that_threads_context(
    out: io.StringIO, cap: TelemetryCapture
) -> None:
    configure_logging("json", stream=out)
    worker = threading.Thread(target=log.info, args=("from a thread",))
    with cap.tracer_provider.get_tracer("test").start_as_current_span("work"):
        worker.start()  # a new thread starts with an empty context
        worker.join()

    assert {k: only_line(out)[k] for k in NO_IDS} == NO_IDS


def test_an_exception_is_a_field_with_type_message_and_stacktrace(out: io.StringIO) -> None:
    configure_logging("json", stream=out)
    try:
        raise AppError("the tool broke")
    except AppError:
        log.exception("step failed")

    exception = only_line(out)["exception"]
    assert list(exception) == ["type", "message", "stacktrace"]
    assert exception["type"] == "test_json_logs.AppError"
    assert exception["message"] == "the tool broke"
    assert exception["stacktrace"].startswith("Traceback (most recent call last):\n")
    assert exception["stacktrace"].endswith("test_json_logs.AppError: the tool broke")


def test_builtin_exceptions_are_named_without_a_module(out: io.StringIO) -> None:
    configure_logging("json", stream=out)
    log.error("bad value", exc_info=ValueError("negative"))

    assert only_line(out)["exception"] == {
        "type": "ValueError",
        "message": "negative",
        "stacktrace": "ValueError: negative",
    }


def test_extra_fields_follow_and_never_replace_ours(out: io.StringIO) -> None:
    configure_logging("json", stream=out)
    log.info("with extras", extra={"order_id": 42, "where": Path("/tmp/x"), "trace_id": "mine"})

    line = only_line(out)
    assert list(line) == [*FIELDS, "order_id", "where"]
    assert (line["order_id"], line["where"], line["trace_id"]) == (42, "/tmp/x", None)


# --------------------------------------------------------------------------- text
def test_text_lines_append_the_ids_they_have(out: io.StringIO, cap: TelemetryCapture) -> None:
    configure_logging("text", stream=out)
    log.info("outside")
    with cap.tracer_provider.get_tracer("test").start_as_current_span("work") as span:
        log.info("inside")

    first, second = out.getvalue().splitlines()
    ids = ids_of(span)
    assert RFC3339.match(first.split(" ", 1)[0])
    assert first.split(" ", 1)[1] == "INFO test.app: outside"
    assert (
        second.split(" ", 1)[1]
        == f"INFO test.app: inside trace_id={ids['trace_id']} span_id={ids['span_id']}"
    )


def test_text_lines_are_followed_by_the_traceback(out: io.StringIO) -> None:
    configure_logging("text", stream=out)
    try:
        raise AppError("boom")
    except AppError:
        log.exception("failed")

    first, *traceback_lines = out.getvalue().splitlines()
    assert first.split(" ", 1)[1] == "ERROR test.app: failed"
    assert traceback_lines[0] == "Traceback (most recent call last):"
    assert traceback_lines[-1] == "test_json_logs.AppError: boom"


# --------------------------------------------------------------------------- set-up
def test_configuring_again_replaces_the_handler(out: io.StringIO, root_logger: logging.Logger) -> None:
    configure_logging("json", stream=io.StringIO())
    configure_logging("json", stream=io.StringIO())
    configure_logging("text", stream=out)
    log.info("once")

    assert len(ours(root_logger)) == 1
    assert out.getvalue().splitlines()[0].split(" ", 1)[1] == "INFO test.app: once"


def test_other_handlers_and_the_level_are_left_alone(out: io.StringIO, root_logger: logging.Logger) -> None:
    theirs = logging.StreamHandler(io.StringIO())
    root_logger.addHandler(theirs)
    root_logger.setLevel(logging.WARNING)
    configure_logging("json", stream=out)
    log.info("filtered by the root level")
    log.warning("kept")

    assert root_logger.level == logging.WARNING
    assert theirs in root_logger.handlers
    assert theirs.stream.getvalue() == "kept\n"  # type: ignore[attr-defined]
    assert [line["message"] for line in lines(out)] == ["kept"]


def test_unset_the_root_logger_is_untouched(root_logger: logging.Logger) -> None:
    before = list(root_logger.handlers)
    configure_from_env({})
    configure_from_env({"AGENTOTEL_LOG_FORMAT": "  "})

    assert root_logger.handlers == before


def test_the_variable_configures_json_on_stderr(
    root_logger: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_from_env({"AGENTOTEL_LOG_FORMAT": "JSON"})
    log.info("to stderr")

    assert len(ours(root_logger)) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert json.loads(line)["message"] == "to stderr"


def test_a_bad_value_names_the_variable(root_logger: logging.Logger) -> None:
    before = list(root_logger.handlers)
    with pytest.raises(
        ConfigError, match=r"^AGENTOTEL_LOG_FORMAT='xml' is not valid: expected one of json, text$"
    ):
        configure_from_env({"AGENTOTEL_LOG_FORMAT": "xml"})
    assert root_logger.handlers == before


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="log format 'yaml' is not one of json, text"):
        configure_logging("yaml")
