"""The metric instruments (docs/recorded.md; docs/architecture.md), created in one place so that
every component that records them (the agent API, the LLM instrumentors' inferred tool spans, MCP,
LangChain) gets the same name, unit, description and buckets. A meter returns the existing
instrument for a repeated name, so creating them twice is harmless."""

from __future__ import annotations

from opentelemetry.metrics import Counter, Histogram, Meter

from agentotel import semconv


def llm_histograms(meter: Meter) -> tuple[Histogram, Histogram, Histogram, Histogram]:
    """The GenAI client histograms: operation duration, token usage, time to first chunk and
    time per output chunk, with the conventions' buckets."""
    duration = meter.create_histogram(
        semconv.GEN_AI_CLIENT_OPERATION_DURATION,
        unit="s",
        description="GenAI operation duration.",
        explicit_bucket_boundaries_advisory=semconv.DURATION_BUCKETS,
    )
    tokens = meter.create_histogram(
        semconv.GEN_AI_CLIENT_TOKEN_USAGE,
        unit="{token}",
        description="Number of input and output tokens used.",
        explicit_bucket_boundaries_advisory=semconv.TOKEN_USAGE_BUCKETS,
    )
    first_chunk = meter.create_histogram(
        semconv.GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK,
        unit="s",
        description="Time from the request to the first chunk of a streamed response.",
        explicit_bucket_boundaries_advisory=semconv.DURATION_BUCKETS,
    )
    per_chunk = meter.create_histogram(
        semconv.GEN_AI_CLIENT_OPERATION_TIME_PER_OUTPUT_CHUNK,
        unit="s",
        description="Mean time between output chunks after the first, one point per stream.",
        explicit_bucket_boundaries_advisory=semconv.CHUNK_TIME_BUCKETS,
    )
    return duration, tokens, first_chunk, per_chunk


def tool_duration(meter: Meter) -> Histogram:
    """``agentotel.tool.duration``: per-tool success/failure is its ``error.type``."""
    return meter.create_histogram(
        semconv.TOOL_DURATION,
        unit="s",
        description="Duration of tool executions.",
        explicit_bucket_boundaries_advisory=semconv.AGENT_DURATION_BUCKETS,
    )


class AgentInstruments:
    """Every agent-layer instrument of one meter."""

    def __init__(self, meter: Meter) -> None:
        self.tool_duration = tool_duration(meter)
        self.workflow_duration = meter.create_histogram(
            semconv.WORKFLOW_DURATION,
            unit="s",
            description="Duration of workflow runs, plans and agent rounds.",
            explicit_bucket_boundaries_advisory=semconv.AGENT_DURATION_BUCKETS,
        )
        self.workflow_active = meter.create_up_down_counter(
            semconv.WORKFLOW_ACTIVE,
            unit="{run}",
            description="Workflow runs, plans and agent rounds in progress.",
        )
        self.step_duration = meter.create_histogram(
            semconv.STEP_DURATION,
            unit="s",
            description="Duration of workflow steps.",
            explicit_bucket_boundaries_advisory=semconv.AGENT_DURATION_BUCKETS,
        )
        self.session_count = meter.create_counter(
            semconv.SESSION_COUNT, unit="{session}", description="Sessions ended, by final status."
        )
        self.session_active = meter.create_up_down_counter(
            semconv.SESSION_ACTIVE, unit="{session}", description="Sessions in progress."
        )
        self.session_messages = meter.create_histogram(
            semconv.SESSION_MESSAGES,
            unit="{message}",
            description="Messages per session.",
            explicit_bucket_boundaries_advisory=semconv.SESSION_MESSAGE_BUCKETS,
        )
        self.context_fragments = meter.create_histogram(
            semconv.CONTEXT_FRAGMENTS,
            unit="{fragment}",
            description="Fragments per context assembly.",
            explicit_bucket_boundaries_advisory=semconv.CONTEXT_FRAGMENT_BUCKETS,
        )
        self.context_utilization = meter.create_histogram(
            semconv.CONTEXT_BUDGET_UTILIZATION,
            unit="1",
            description="Tokens used by an assembled context divided by its token budget.",
            explicit_bucket_boundaries_advisory=semconv.UTILIZATION_BUCKETS,
        )
        self.context_duration = meter.create_histogram(
            semconv.CONTEXT_DURATION,
            unit="s",
            description="Duration of context assembly.",
            explicit_bucket_boundaries_advisory=semconv.AGENT_DURATION_BUCKETS,
        )
        self.guard_decisions = meter.create_counter(
            semconv.GUARD_DECISIONS, unit="{decision}", description="Guardrail decisions, by outcome."
        )
        self.approval_decisions = meter.create_counter(
            semconv.APPROVAL_DECISIONS, unit="{decision}", description="Approval decisions, by outcome."
        )


def telemetry_dropped(meter: Meter) -> Counter:
    """``agentotel.telemetry.dropped``: records a processor could not write (see the reason)."""
    return meter.create_counter(
        semconv.TELEMETRY_DROPPED,
        unit="{record}",
        description="Records agentotel dropped (full queue, block timed out, shut-down gave up), by reason.",
    )
