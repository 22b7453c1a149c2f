"""Where ``agentotel top`` and ``agentotel tools report`` read from: a ``/metrics`` URL or a run store.

``--url`` reads any process (or Collector) exposing our metrics in the Prometheus text format.
``--runs DIR`` rebuilds the same numbers from the spans a run store recorded
(:mod:`agentotel.processors.runstore`): each LLM call, tool call and workflow/plan/agent span counts
once, its duration bucketed with the bounds the metrics use (so quantiles are computed the same
way); token counts and costs come from the LLM spans; the active workflows are the runs still
running, by their root. Counts cover the runs the store kept at the first read and every run seen
since: a run the store deletes (``AGENTOTEL_RUNS_KEEP``) keeps counting, and so does a run that
cannot be read this time (being rewritten), with what it had; so counts never go down and rates
stay right once the store is full.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from agentotel import semconv
from agentotel.cli._board import Targets
from agentotel.cli._scrape import Histogram, ScrapeError, Snapshot, parse
from agentotel.cli._text import shown
from agentotel.processors import runstore
from agentotel.processors.runstore import RUNNING, RunStoreError, is_llm_span

DEFAULT_URL = "http://127.0.0.1:9464/metrics"
"""Where the OpenTelemetry Prometheus exporter listens by default."""
TIMEOUT_S = 2.0
_WORKFLOW_OPS = (semconv.OP_INVOKE_WORKFLOW, semconv.OP_PLAN, semconv.OP_INVOKE_AGENT)


class SourceError(Exception):
    """The source could not be read this time; the message is one line."""


class Source(Protocol):
    label: str

    def snapshot(self) -> Snapshot: ...


def fail(message: str) -> int:
    """Print ``error: message`` on stderr; exit code 1."""
    sys.stderr.write(f"error: {shown(_one_line(message))}\n")
    return 1


def _one_line(value: object) -> str:
    return " ".join(str(value).split())


class UrlSource:
    """A Prometheus ``/metrics`` page."""

    def __init__(self, url: str, timeout: float = TIMEOUT_S, clock: Callable[[], float] = time.time) -> None:
        self.label = url
        self._timeout = timeout
        self._clock = clock

    def snapshot(self) -> Snapshot:
        url = self.label
        try:
            with urllib.request.urlopen(url, timeout=self._timeout) as response:
                text = response.read().decode("utf-8", errors="replace")
        except urllib.error.HTTPError as exc:
            raise SourceError(f"cannot scrape {url}: HTTP {exc.code} {_one_line(exc.reason)}") from None
        except urllib.error.URLError as exc:
            raise SourceError(f"cannot scrape {url}: {_one_line(exc.reason)}") from None
        except (OSError, ValueError) as exc:
            raise SourceError(f"cannot scrape {url}: {_one_line(exc)}") from None
        try:
            return parse(text, self._clock())
        except ScrapeError as exc:
            raise SourceError(f"cannot read {url}: {_one_line(exc)}") from None


# --- the run store --------------------------------------------------------------------------------
def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _number(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def run_snapshot(
    summary: Mapping[str, Any] | None, events: Sequence[Mapping[str, Any]], at: float
) -> Snapshot:
    """What one run adds to the board (see the module docstring)."""
    llm: dict[tuple[str, str, str], list[float]] = {}
    tools: dict[tuple[str, str], list[float]] = {}
    workflows: dict[tuple[str, str, str], list[float]] = {}
    snap = Snapshot(time=at)
    for event in events:
        attrs: Mapping[str, Any] = event.get("attributes") or {}
        duration = _number(event.get("duration_ms")) / 1000
        error = _str(attrs.get(semconv.ERROR_TYPE))
        operation = attrs.get(semconv.GEN_AI_OPERATION_NAME)
        if is_llm_span(attrs):
            provider = _str(attrs.get(semconv.GEN_AI_PROVIDER_NAME))
            model = _str(attrs.get(semconv.GEN_AI_REQUEST_MODEL))
            model = model or _str(attrs.get(semconv.GEN_AI_RESPONSE_MODEL))
            llm.setdefault((provider, model, error), []).append(duration)
            for token_type, key in (
                (semconv.TOKEN_INPUT, semconv.GEN_AI_USAGE_INPUT_TOKENS),
                (semconv.TOKEN_OUTPUT, semconv.GEN_AI_USAGE_OUTPUT_TOKENS),
            ):
                if key in attrs:
                    tk = (provider, model, token_type)
                    snap.tokens[tk] = snap.tokens.get(tk, 0.0) + _number(attrs[key])
            if semconv.AGENTOTEL_USAGE_COST_USD in attrs:
                cost = _number(attrs[semconv.AGENTOTEL_USAGE_COST_USD])
                snap.cost[(provider, model)] = snap.cost.get((provider, model), 0.0) + cost
        elif operation == semconv.OP_EXECUTE_TOOL:
            tools.setdefault((_str(attrs.get(semconv.GEN_AI_TOOL_NAME)), error), []).append(duration)
        elif operation in _WORKFLOW_OPS:
            name = _str(attrs.get(semconv.GEN_AI_WORKFLOW_NAME)) or _str(attrs.get(semconv.GEN_AI_AGENT_NAME))
            workflows.setdefault((str(operation), name, error), []).append(duration)
    snap.llm = {k: Histogram.of(v, semconv.DURATION_BUCKETS) for k, v in llm.items()}
    snap.tools = {k: Histogram.of(v, semconv.AGENT_DURATION_BUCKETS) for k, v in tools.items()}
    snap.workflows = {k: Histogram.of(v, semconv.AGENT_DURATION_BUCKETS) for k, v in workflows.items()}
    root = (summary or {}).get("root") or {}
    operation = _str(root.get("operation"))
    if (summary or {}).get("status") == RUNNING and operation in _WORKFLOW_OPS:
        name = _str(root.get("name")).removeprefix(f"{operation} ")
        snap.active[(operation, name)] = 1.0
    return snap


class RunStoreSource:
    """The runs of a run store; a run whose ``events.jsonl`` did not change is not read again, and
    the counts of a run the store deleted stay in (see the module docstring)."""

    def __init__(self, root: Path, clock: Callable[[], float] = time.time) -> None:
        self.label = str(root)
        self._root = root
        self._clock = clock
        self._cache: dict[str, tuple[tuple[int, ...], Snapshot]] = {}
        self._deleted = Snapshot(time=0.0)  # what the runs deleted since the first read counted

    def snapshot(self) -> Snapshot:
        now = self._clock()
        if not self._root.is_dir():
            raise SourceError(f"no runs directory at {self._root}")
        try:
            ids = runstore.list_runs(self._root)
        except RunStoreError as exc:
            raise SourceError(_one_line(exc)) from None
        for gone in set(self._cache) - set(ids):
            # Deleted by the store's retention: its calls happened and keep counting; it runs no more.
            part = dataclasses.replace(self._cache.pop(gone)[1], active={})
            self._deleted = self._deleted.merged(part)
        total = self._deleted
        for rid in ids:
            folder = self._root / rid
            stamp = runstore.run_stamp(folder)
            cached = self._cache.get(rid)
            if cached is None or cached[0] != stamp:
                try:
                    part = run_snapshot(runstore.read_summary(folder), runstore.read_events(folder), now)
                except RunStoreError:
                    if cached is None:
                        continue  # being written or damaged: left out until it can be read
                    part = cached[1]  # being rewritten: what it had at the last read
                else:
                    self._cache[rid] = (stamp, part)
            else:
                part = cached[1]
            total = total.merged(part)
        return dataclasses.replace(total, time=now)


# --- arguments ------------------------------------------------------------------------------------
def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--url`` / ``--runs`` and ``--p95-target``."""
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--url", default=None, help=f"a Prometheus /metrics URL (default {DEFAULT_URL})")
    where.add_argument("--runs", metavar="DIR", type=Path, default=None, help="read a run store instead")
    parser.add_argument(
        "--p95-target",
        action="append",
        default=[],
        metavar="[TOOL=]SECONDS",
        help="p95 latency target of one tool, or of every tool (repeatable); default: the tool's own p95",
    )


def from_args(args: argparse.Namespace) -> tuple[Source, Targets]:
    """The source and the p95 targets the arguments name; ValueError for a bad target."""
    targets = Targets.parse(args.p95_target)
    if args.runs is not None:
        return RunStoreSource(args.runs), targets
    return UrlSource(args.url or DEFAULT_URL), targets
