"""Our metrics read back from a Prometheus text exposition (a ``/metrics`` page), as a
:class:`Snapshot`.

Any process that exports agentotel's metrics through Prometheus (the OpenTelemetry Prometheus
exporter, or a Collector's ``prometheus`` exporter) can be read: the names are the OpenTelemetry
names translated the way those exporters do (``.`` to ``_``, the unit as a suffix, ``_total`` on
counters), e.g. ``agentotel.tool.duration`` in seconds is ``agentotel_tool_duration_seconds``.
Series that differ only in labels we do not show (server, response model, scope, job) are added
together, as ``sum by (...)`` would.

Both convention modes are read (docs/conventions.md): the v1.41.1 names agentotel exports by
default and those of ``OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental`` (LLM calls from
``gen_ai.client.inference.duration`` and ``gen_ai.client.embeddings.duration``, tokens from the
``gen_ai.client.inference.usage.*`` counters and the embeddings input-token histogram, tools from
``gen_ai.execute_tool.duration``, workflows and agent rounds from ``gen_ai.invoke_workflow.duration``
and ``gen_ai.invoke_agent.duration``, plans still from ``agentotel.workflow.duration``). A page of
agents of both modes (a Collector's) adds them up: one call is in one mode's series only.

Everything here is pure: text in, :class:`Snapshot` out. Rates come from two snapshots: the
increase of a counter (or of each histogram bucket) divided by the seconds between them, a
counter that went down counting as restarted from zero (as PromQL's ``rate`` does).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from agentotel import semconv
from agentotel.cli._quantiles import Bucket, cumulative, histogram_quantile, normalize

_NAME_RE = re.compile(r"[^a-zA-Z0-9:]+")
_LABEL_RE = re.compile(r"[^a-zA-Z0-9]+")
_UNITS = {"s": "seconds", "ms": "milliseconds", "By": "bytes", "1": ""}

K = TypeVar("K")


class ScrapeError(Exception):
    """A page that is not a Prometheus text exposition; the message is one line."""


def prom_name(name: str, unit: str = "") -> str:
    """The Prometheus name of metric ``name`` with ``unit``, as the OpenTelemetry exporters write
    it (without a counter's ``_total``): ``prom_name(semconv.TOOL_DURATION, "s")`` is
    ``agentotel_tool_duration_seconds``; units in braces (``{token}``) add nothing."""
    base = _NAME_RE.sub("_", name)
    suffix = _UNITS.get(unit, _LABEL_RE.sub("_", re.sub(r"\{.*\}", "", unit)).strip("_"))
    return f"{base}_{suffix}" if suffix and not base.endswith(f"_{suffix}") else base


def label(attribute: str) -> str:
    """The Prometheus label of an attribute: ``gen_ai.request.model`` is ``gen_ai_request_model``."""
    return _LABEL_RE.sub("_", attribute)


@dataclass(frozen=True)
class Histogram:
    """Cumulative bucket counts (``+Inf`` last) and the sum of the observations."""

    buckets: tuple[Bucket, ...] = ()
    sum: float = 0.0

    @classmethod
    def of(cls, observations: Iterable[float], bounds: Iterable[float]) -> Histogram:
        """The histogram of ``observations`` with bucket upper ``bounds``."""
        values = list(observations)
        return cls(tuple(cumulative(values, bounds)), float(sum(values)))

    @property
    def count(self) -> float:
        """Number of observations (the ``+Inf`` bucket)."""
        return self.buckets[-1][1] if self.buckets else 0.0

    def quantile(self, q: float) -> float | None:
        """See :func:`agentotel.cli._quantiles.histogram_quantile`."""
        return histogram_quantile(q, self.buckets)

    def __add__(self, other: Histogram) -> Histogram:
        """Both histograms together (same bucket bounds, as the series of one metric have)."""
        return Histogram(tuple(normalize((*self.buckets, *other.buckets))), self.sum + other.sum)

    def since(self, earlier: Histogram | None) -> Histogram:
        """The observations made after ``earlier`` was taken; all of them after a restart."""
        if earlier is None:
            return self
        before = dict(earlier.buckets)
        buckets = [(bound, count - before.get(bound, 0.0)) for bound, count in self.buckets]
        if any(count < 0 for _, count in buckets) or self.sum < earlier.sum:
            return self
        return Histogram(tuple(buckets), self.sum - earlier.sum)


V = TypeVar("V", float, Histogram)

ModelKey = tuple[str, str]
"""``(provider, request model)``."""


@dataclass
class Snapshot:
    """Our metrics at one moment, keyed by what the dashboard groups them by."""

    time: float
    """When it was taken (seconds since the epoch)."""
    llm: dict[tuple[str, str, str], Histogram] = field(default_factory=dict)
    """LLM call durations by (provider, model, error type; "" = success)."""
    tokens: dict[tuple[str, str, str], float] = field(default_factory=dict)
    """Token sums by (provider, model, ``input`` / ``output``)."""
    cost: dict[ModelKey, float] = field(default_factory=dict)
    """``agentotel.llm.cost.usd`` by (provider, model)."""
    tools: dict[tuple[str, str], Histogram] = field(default_factory=dict)
    """Tool durations by (tool name, error type; "" = success)."""
    workflows: dict[tuple[str, str, str], Histogram] = field(default_factory=dict)
    """Workflow, plan and agent-round durations by (operation, workflow or agent name, error type)."""
    active: dict[tuple[str, str], float] = field(default_factory=dict)
    """``agentotel.workflow.active`` by (operation, workflow or agent name)."""
    telemetry_errors: dict[tuple[str, str], float] = field(default_factory=dict)
    """``agentotel.telemetry.errors`` by (component, error type)."""

    def merged(self, other: Snapshot) -> Snapshot:
        """Both snapshots added together (the later time)."""
        return Snapshot(
            time=max(self.time, other.time),
            llm=_add(self.llm, other.llm),
            tokens=_add(self.tokens, other.tokens),
            cost=_add(self.cost, other.cost),
            tools=_add(self.tools, other.tools),
            workflows=_add(self.workflows, other.workflows),
            active=_add(self.active, other.active),
            telemetry_errors=_add(self.telemetry_errors, other.telemetry_errors),
        )


def _add(a: Mapping[K, V], b: Mapping[K, V]) -> dict[K, V]:
    result = dict(a)
    for key, value in b.items():
        result[key] = result[key] + value if key in result else value
    return result


def increase(now: float, before: float | None) -> float:
    """How much a counter grew; a counter below its earlier value restarted from zero."""
    if before is None:
        return now
    return now - before if now >= before else now


# --- parsing --------------------------------------------------------------------------------------
_MODES = (semconv.V1_41_1, semconv.LATEST)
LLM_DURATIONS = frozenset(
    prom_name(name, "s") for c in _MODES for name in (c.inference_duration, c.embeddings_duration)
)
"""v1.41.1: ``gen_ai.client.operation.duration``; latest: the inference and embeddings durations."""
TOKEN_USAGE = prom_name(semconv.GEN_AI_CLIENT_TOKEN_USAGE, "{token}")
"""v1.41.1: one histogram, by ``gen_ai.token.type``."""
TOKEN_SAMPLES = {
    prom_name(name, "{token}") + sample: token_type
    for name, sample, token_type in (
        (semconv.GEN_AI_CLIENT_INFERENCE_USAGE_INPUT_TOKENS, "_total", semconv.TOKEN_INPUT),
        (semconv.GEN_AI_CLIENT_INFERENCE_USAGE_OUTPUT_TOKENS, "_total", semconv.TOKEN_OUTPUT),
        (semconv.GEN_AI_CLIENT_EMBEDDINGS_OPERATION_INPUT_TOKENS, "_sum", semconv.TOKEN_INPUT),
    )
}
"""Latest: the samples holding input and output token sums (not the per-call token histograms,
which count the same tokens again)."""
LLM_COST = prom_name(semconv.LLM_COST, "{USD}")
TOOL_DURATIONS = frozenset(prom_name(c.tool_duration, "s") for c in _MODES)
WORKFLOW_DURATION = prom_name(semconv.WORKFLOW_DURATION, "s")
"""By ``gen_ai.operation.name``: workflows, plans and agent rounds (v1.41.1), plans (latest)."""
OPERATION_DURATIONS = {
    prom_name(semconv.LATEST.workflow_duration, "s"): semconv.OP_INVOKE_WORKFLOW,
    prom_name(semconv.LATEST.agent_duration, "s"): semconv.OP_INVOKE_AGENT,
}
"""Latest: one histogram per operation, without a ``gen_ai.operation.name`` label."""
WORKFLOW_ACTIVE = prom_name(semconv.WORKFLOW_ACTIVE, "{run}")
TELEMETRY_ERRORS = prom_name(semconv.TELEMETRY_ERRORS, "{error}")
_HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")

_PROVIDER = label(semconv.GEN_AI_PROVIDER_NAME)
_REQUEST_MODEL = label(semconv.GEN_AI_REQUEST_MODEL)
_RESPONSE_MODEL = label(semconv.GEN_AI_RESPONSE_MODEL)
_TOKEN_TYPE = label(semconv.GEN_AI_TOKEN_TYPE)
_ERROR_TYPE = label(semconv.ERROR_TYPE)
_TOOL_NAME = label(semconv.GEN_AI_TOOL_NAME)
_OPERATION = label(semconv.GEN_AI_OPERATION_NAME)
_WORKFLOW_NAME = label(semconv.GEN_AI_WORKFLOW_NAME)
_AGENT_NAME = label(semconv.GEN_AI_AGENT_NAME)
_COMPONENT = label(semconv.AGENTOTEL_COMPONENT)


def _model(labels: Mapping[str, str]) -> ModelKey:
    return labels.get(_PROVIDER, ""), labels.get(_REQUEST_MODEL) or labels.get(_RESPONSE_MODEL, "")


def _workflow(labels: Mapping[str, str], operation: str | None = None) -> tuple[str, str]:
    op = labels.get(_OPERATION, "") if operation is None else operation
    return op, labels.get(_WORKFLOW_NAME) or labels.get(_AGENT_NAME, "")


def _family(name: str) -> tuple[str, str]:
    """``(family, suffix)`` of a histogram sample (``x_bucket`` is ``("x", "_bucket")``)."""
    for suffix in _HISTOGRAM_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)], suffix
    return name, ""


class _Histograms:
    """Bucket counts and sums of the series of one histogram, added up by key."""

    def __init__(self) -> None:
        self.buckets: dict[tuple[str, ...], dict[float, float]] = {}
        self.sums: dict[tuple[str, ...], float] = {}

    def add(self, key: tuple[str, ...], suffix: str, labels: Mapping[str, str], value: float) -> None:
        if suffix == "_bucket" and "le" in labels:
            bounds = self.buckets.setdefault(key, {})
            bound = float(labels["le"])
            bounds[bound] = bounds.get(bound, 0.0) + value
        elif suffix == "_sum":
            self.sums[key] = self.sums.get(key, 0.0) + value

    def result(self) -> dict[tuple[str, ...], Histogram]:
        return {
            key: Histogram(tuple(normalize(bounds.items())), self.sums.get(key, 0.0))
            for key, bounds in self.buckets.items()
            if bounds and math.isinf(max(bounds))
        }


def parse(text: str, time: float) -> Snapshot:
    """The :class:`Snapshot` of a Prometheus text exposition taken at ``time``; ScrapeError
    when ``text`` is not one. Needs ``prometheus_client`` (``pip install "agentotel[prometheus]"``)."""
    try:
        from prometheus_client.parser import text_string_to_metric_families
    except ImportError as exc:  # pragma: no cover - the prometheus extra is missing
        raise ScrapeError(
            'reading /metrics needs prometheus_client: pip install "agentotel[prometheus]"'
        ) from exc
    llm, tools, workflows = _Histograms(), _Histograms(), _Histograms()
    snap = Snapshot(time=time)
    try:
        samples = [s for family in text_string_to_metric_families(text) for s in family.samples]
    except (ValueError, TypeError, IndexError) as exc:
        raise ScrapeError(f"not a Prometheus text exposition ({exc})") from None
    for sample in samples:
        name, labels, value = sample.name, sample.labels, float(sample.value)
        error = labels.get(_ERROR_TYPE, "")
        family, suffix = _family(name)
        if family in LLM_DURATIONS:
            llm.add((*_model(labels), error), suffix, labels, value)
        elif name == TOKEN_USAGE + "_sum" or name in TOKEN_SAMPLES:
            key = (*_model(labels), TOKEN_SAMPLES.get(name) or labels.get(_TOKEN_TYPE, ""))
            snap.tokens[key] = snap.tokens.get(key, 0.0) + value
        elif name == LLM_COST + "_total":
            cost_key = _model(labels)
            snap.cost[cost_key] = snap.cost.get(cost_key, 0.0) + value
        elif family in TOOL_DURATIONS:
            tools.add((labels.get(_TOOL_NAME, ""), error), suffix, labels, value)
        elif family == WORKFLOW_DURATION or family in OPERATION_DURATIONS:
            key = (*_workflow(labels, OPERATION_DURATIONS.get(family)), error)
            workflows.add(key, suffix, labels, value)
        elif name == WORKFLOW_ACTIVE:
            wf = _workflow(labels)
            snap.active[wf] = snap.active.get(wf, 0.0) + value
        elif name == TELEMETRY_ERRORS + "_total":
            te = (labels.get(_COMPONENT, ""), error)
            snap.telemetry_errors[te] = snap.telemetry_errors.get(te, 0.0) + value
    snap.llm = {(k[0], k[1], k[2]): h for k, h in llm.result().items()}
    snap.tools = {(k[0], k[1]): h for k, h in tools.result().items()}
    snap.workflows = {(k[0], k[1], k[2]): h for k, h in workflows.result().items()}
    return snap
