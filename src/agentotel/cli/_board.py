"""What ``agentotel top`` and ``agentotel tools report`` show, computed from :class:`Snapshot`\\ s.

Counts, success rates and latency quantiles cover everything the process exported since it started
(the cumulative histograms); rates (``/s``) are the increase between an earlier snapshot and the
latest one divided by the seconds between them. Quantiles are estimated from the histogram buckets
by linear interpolation, as PromQL's ``histogram_quantile`` (see :mod:`agentotel.cli._quantiles`).

**Tool reliability score** (0 to 1)::

    reliability = 0.8 * success_rate + 0.2 * speed
    success_rate = calls without error.type / calls
    speed = min(1, target_p95 / observed_p95)      (1 when there is no observed p95)

* ``target_p95`` is the tool's p95 target: the one given (``--p95-target NAME=SECONDS``, or
  ``--p95-target SECONDS`` for every tool), else the tool's own p95 over its whole history;
* ``observed_p95`` is the tool's p95 over the recent window (the calls made since the earlier
  snapshot), or over its whole history when there is no earlier snapshot or no call in the window.

So a tool that meets its target (or, without one, is no slower lately than it has been) has speed
1, and one whose p95 is twice its target has speed 0.5. Without a target and with a single
snapshot (``tools report``, ``top --once``) speed is 1 and the score is ``0.8 * success + 0.2``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from agentotel import semconv
from agentotel.cli._scrape import Histogram, ModelKey, Snapshot, increase

SUCCESS_WEIGHT = 0.8
SPEED_WEIGHT = 0.2


@dataclass(frozen=True)
class Targets:
    """p95 latency targets of tools, in seconds."""

    default: float | None = None
    per_tool: Mapping[str, float] = field(default_factory=dict)

    def for_tool(self, name: str) -> float | None:
        """The tool's own target, else the default one, else None."""
        return self.per_tool.get(name, self.default)

    @classmethod
    def parse(cls, values: Iterable[str]) -> Targets:
        """From ``--p95-target`` values: ``NAME=SECONDS`` (one tool) or ``SECONDS`` (every tool);
        ValueError names a bad one."""
        default: float | None = None
        per_tool: dict[str, float] = {}
        for value in values:
            name, sep, number = value.rpartition("=")
            try:
                seconds = float(number)
            except ValueError:
                seconds = -1.0
            if seconds <= 0 or (sep and not name):
                raise ValueError(f"bad --p95-target {value!r}: use NAME=SECONDS or SECONDS (> 0)")
            if sep:
                per_tool[name] = seconds
            else:
                default = seconds
        return cls(default, per_tool)


def speed_score(target_p95: float | None, observed_p95: float | None) -> float:
    """``min(1, target_p95 / observed_p95)``; 1 without an observed p95 (or target)."""
    if observed_p95 is None or target_p95 is None or observed_p95 <= 0:
        return 1.0
    return min(1.0, target_p95 / observed_p95)


def reliability(success_rate: float, speed: float) -> float:
    """``0.8 * success_rate + 0.2 * speed`` (computed as ``(4 * success + speed) / 5``, exact for
    the values one writes in a test)."""
    return (4 * success_rate + speed) / 5


# --- rows -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ModelRow:
    """One (provider, request model): calls of every outcome, tokens, cost, latency."""

    provider: str
    model: str
    requests: float
    errors: float
    requests_per_s: float | None
    input_tokens: float
    output_tokens: float
    tokens_per_s: float | None
    cost_usd: float | None
    p50: float | None
    p95: float | None


@dataclass(frozen=True)
class ToolRow:
    """One tool: calls, success rate, latency quantiles, speed and reliability score."""

    name: str
    calls: float
    failures: float
    calls_per_s: float | None
    success_rate: float
    p50: float | None
    p95: float | None
    p99: float | None
    target_p95: float | None
    observed_p95: float | None
    speed: float
    reliability: float

    def as_json(self) -> dict[str, object]:
        """The ``tools report --json`` object (durations in seconds)."""
        return {
            "tool": self.name,
            "calls": int(self.calls),
            "failures": int(self.failures),
            "calls_per_s": self.calls_per_s,
            "success_rate": self.success_rate,
            "p50_s": self.p50,
            "p95_s": self.p95,
            "p99_s": self.p99,
            "target_p95_s": self.target_p95,
            "observed_p95_s": self.observed_p95,
            "speed": self.speed,
            "reliability": self.reliability,
        }


@dataclass(frozen=True)
class WorkflowRow:
    """One workflow, plan or agent (by operation and name): running now, finished, latency."""

    operation: str
    name: str
    active: float
    runs: float
    failures: float
    p50: float | None
    p95: float | None


@dataclass(frozen=True)
class ErrorRow:
    """A count of one error type of one model, tool, workflow or agentotel component."""

    source: str
    """``llm``, ``tool``, ``workflow`` or ``agentotel`` (agentotel's own errors)."""
    subject: str
    """The model, tool, workflow/agent or agentotel component."""
    error_type: str
    count: float
    at: float | None = None
    """When it was seen (the snapshot's time); None for the counts found at the first snapshot."""


def _total(histograms: Iterable[Histogram]) -> Histogram:
    result = Histogram()
    for histogram in histograms:
        result = result + histogram
    return result


def _rate(now: float, before: float | None, elapsed: float | None) -> float | None:
    if elapsed is None or elapsed <= 0:
        return None
    return increase(now, before) / elapsed


def _elapsed(now: Snapshot, before: Snapshot | None) -> float | None:
    return now.time - before.time if before is not None and now.time > before.time else None


def model_rows(now: Snapshot, before: Snapshot | None = None) -> list[ModelRow]:
    """One row per (provider, request model), the busiest first."""
    elapsed = _elapsed(now, before)
    keys: set[ModelKey] = {(p, m) for p, m, _ in now.llm} | {(p, m) for p, m, _ in now.tokens}
    keys |= set(now.cost)
    rows = []
    for key in keys:
        histogram = _total(h for k, h in now.llm.items() if k[:2] == key)
        tokens = {t: v for (p, m, t), v in now.tokens.items() if (p, m) == key}
        earlier_tokens: float | None = None
        earlier_requests: float | None = None
        if before is not None:
            earlier_requests = _total(h for k, h in before.llm.items() if k[:2] == key).count
            earlier_tokens = sum(v for (p, m, _), v in before.tokens.items() if (p, m) == key)
        rows.append(
            ModelRow(
                provider=key[0],
                model=key[1],
                requests=histogram.count,
                errors=sum(h.count for k, h in now.llm.items() if k[:2] == key and k[2]),
                requests_per_s=_rate(histogram.count, earlier_requests, elapsed),
                input_tokens=tokens.get(semconv.TOKEN_INPUT, 0.0),
                output_tokens=tokens.get(semconv.TOKEN_OUTPUT, 0.0),
                tokens_per_s=_rate(sum(tokens.values()), earlier_tokens, elapsed),
                cost_usd=now.cost.get(key),
                p50=histogram.quantile(0.5),
                p95=histogram.quantile(0.95),
            )
        )
    return sorted(rows, key=lambda r: (-r.requests, r.provider, r.model))


def tool_rows(now: Snapshot, before: Snapshot | None = None, targets: Targets | None = None) -> list[ToolRow]:
    """One row per tool, the most called first (see the module docstring for the score)."""
    targets = targets or Targets()
    elapsed = _elapsed(now, before)
    rows = []
    for name in {n for n, _ in now.tools}:
        histogram = _total(h for (n, _), h in now.tools.items() if n == name)
        ok = sum(h.count for (n, e), h in now.tools.items() if n == name and not e)
        earlier = _total(h for (n, _), h in before.tools.items() if n == name) if before else None
        recent = histogram.since(earlier)
        observed = recent.quantile(0.95) if earlier is not None and recent.count > 0 else None
        if observed is None:
            observed = histogram.quantile(0.95)
        target = targets.for_tool(name)
        if target is None:
            target = histogram.quantile(0.95)
        success = ok / histogram.count if histogram.count else 0.0
        speed = speed_score(target, observed)
        rows.append(
            ToolRow(
                name=name,
                calls=histogram.count,
                failures=histogram.count - ok,
                calls_per_s=_rate(histogram.count, earlier.count if earlier else None, elapsed),
                success_rate=success,
                p50=histogram.quantile(0.5),
                p95=histogram.quantile(0.95),
                p99=histogram.quantile(0.99),
                target_p95=target,
                observed_p95=observed,
                speed=speed,
                reliability=reliability(success, speed),
            )
        )
    return sorted(rows, key=lambda r: (-r.calls, r.name))


def workflow_rows(now: Snapshot) -> list[WorkflowRow]:
    """One row per (operation, workflow or agent name), those running first."""
    keys = set(now.active) | {(o, n) for o, n, _ in now.workflows}
    rows = []
    for key in keys:
        histogram = _total(h for k, h in now.workflows.items() if k[:2] == key)
        rows.append(
            WorkflowRow(
                operation=key[0],
                name=key[1],
                active=now.active.get(key, 0.0),
                runs=histogram.count,
                failures=sum(h.count for k, h in now.workflows.items() if k[:2] == key and k[2]),
                p50=histogram.quantile(0.5),
                p95=histogram.quantile(0.95),
            )
        )
    return sorted(rows, key=lambda r: (-r.active, -r.runs, r.operation, r.name))


def _error_counts(snap: Snapshot) -> dict[tuple[str, str, str], float]:
    counts: dict[tuple[str, str, str], float] = {}

    def add(key: tuple[str, str, str], value: float) -> None:
        counts[key] = counts.get(key, 0.0) + value

    for (_, model, error), h in snap.llm.items():
        if error:
            add(("llm", model, error), h.count)
    for (tool, error), h in snap.tools.items():
        if error:
            add(("tool", tool, error), h.count)
    for (_, name, error), h in snap.workflows.items():
        if error:
            add(("workflow", name, error), h.count)
    for (component, error), value in snap.telemetry_errors.items():
        add(("agentotel", component, error), value)
    return counts


def error_totals(snap: Snapshot) -> list[ErrorRow]:
    """Every error count of ``snap``, the largest first."""
    rows = [ErrorRow(*key, count) for key, count in _error_counts(snap).items() if count > 0]
    return sorted(rows, key=lambda r: (-r.count, r.source, r.subject, r.error_type))


def new_errors(now: Snapshot, before: Snapshot) -> list[ErrorRow]:
    """The errors counted between ``before`` and ``now``, seen at ``now.time``."""
    earlier = _error_counts(before)
    rows = [
        ErrorRow(*key, grown, at=now.time)
        for key, count in _error_counts(now).items()
        if (grown := increase(count, earlier.get(key, 0.0))) > 0
    ]
    return sorted(rows, key=lambda r: (-r.count, r.source, r.subject, r.error_type))


# --- the board ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Board:
    """Everything one dashboard frame shows."""

    source: str
    time: float
    window_s: float | None
    models: Sequence[ModelRow]
    tools: Sequence[ToolRow]
    workflows: Sequence[WorkflowRow]
    errors: Sequence[ErrorRow]
    status: str | None = None
    """A problem to show above the tables (the source could not be read this time)."""

    @property
    def requests_per_s(self) -> float | None:
        return _sum_or_none(r.requests_per_s for r in self.models)

    @property
    def tokens_per_s(self) -> float | None:
        return _sum_or_none(r.tokens_per_s for r in self.models)

    @property
    def cost_usd(self) -> float | None:
        return _sum_or_none(r.cost_usd for r in self.models)

    @property
    def active(self) -> float:
        return sum(r.active for r in self.workflows)


def _sum_or_none(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def board(
    now: Snapshot,
    before: Snapshot | None = None,
    *,
    source: str,
    targets: Targets | None = None,
    errors: Sequence[ErrorRow] | None = None,
    status: str | None = None,
) -> Board:
    """The board of ``now``, with rates since ``before``; ``errors`` defaults to every error count."""
    return Board(
        source=source,
        time=now.time,
        window_s=_elapsed(now, before),
        models=model_rows(now, before),
        tools=tool_rows(now, before, targets),
        workflows=workflow_rows(now),
        errors=error_totals(now) if errors is None else errors,
        status=status,
    )
