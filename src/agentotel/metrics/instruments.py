"""The metric instruments (docs/recorded.md; docs/architecture.md), created in one place so that
every component that records them (the agent API, the LLM instrumentors' inferred tool spans, MCP,
LangChain) gets the same name, unit, description and buckets. A meter returns the existing
instrument for a repeated name, so creating them twice is harmless."""

from __future__ import annotations

from opentelemetry.metrics import Counter, Histogram, Meter

from agentotel import semconv
from agentotel.semconv import Conventions


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
        # The conventions' list (DURATION_BUCKETS), in both modes.
        explicit_bucket_boundaries_advisory=semconv.DURATION_BUCKETS,
    )
    return duration, tokens, first_chunk, per_chunk


def tool_duration(meter: Meter, conventions: Conventions = semconv.V1_41_1) -> Histogram:
    """``agentotel.tool.duration`` (latest mode: ``gen_ai.execute_tool.duration``): per-tool
    success/failure is its ``error.type``."""
    return meter.create_histogram(
        conventions.tool_duration,
        unit="s",
        description="Duration of tool executions.",
        explicit_bucket_boundaries_advisory=conventions.tool_duration_buckets,
    )


class AgentInstruments:
    """Every agent-layer instrument of one meter, named as ``conventions`` say."""

    def __init__(self, meter: Meter, conventions: Conventions = semconv.V1_41_1) -> None:
        self.tool_duration = tool_duration(meter, conventions)
        self.workflow_duration = meter.create_histogram(
            semconv.WORKFLOW_DURATION,
            unit="s",
            description="Duration of workflow runs, plans and agent rounds."
            if not conventions.latest
            else "Duration of plans.",
            explicit_bucket_boundaries_advisory=semconv.AGENT_DURATION_BUCKETS,
        )
        # Latest mode only: the conventions' agent and workflow metrics.
        self.invoke_workflow_duration: Histogram | None = None
        self.invoke_agent_duration: Histogram | None = None
        self.agent_inference_calls: Histogram | None = None
        self.agent_tool_calls: Histogram | None = None
        if conventions.latest:
            self.invoke_workflow_duration = meter.create_histogram(
                semconv.GEN_AI_INVOKE_WORKFLOW_DURATION,
                unit="s",
                description="Duration of GenAI workflow invocations.",
                explicit_bucket_boundaries_advisory=semconv.INVOKE_WORKFLOW_DURATION_BUCKETS,
            )
            self.invoke_agent_duration = meter.create_histogram(
                semconv.GEN_AI_INVOKE_AGENT_DURATION,
                unit="s",
                description="Duration of GenAI agent invocations.",
                explicit_bucket_boundaries_advisory=semconv.INVOKE_AGENT_DURATION_BUCKETS,
            )
            self.agent_inference_calls = meter.create_histogram(
                semconv.GEN_AI_INVOKE_AGENT_INFERENCE_CALLS,
                unit="{inference_call}",
                description="Inference calls an agent invocation made itself.",
                explicit_bucket_boundaries_advisory=semconv.INVOKE_AGENT_CALL_BUCKETS,
            )
            self.agent_tool_calls = meter.create_histogram(
                semconv.GEN_AI_INVOKE_AGENT_TOOL_CALLS,
                unit="{tool_call}",
                description="Client-side tool calls an agent invocation made itself.",
                explicit_bucket_boundaries_advisory=semconv.INVOKE_AGENT_CALL_BUCKETS,
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
