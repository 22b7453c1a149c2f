"""``agentotel demo``: the demo agents, offline, with their traces printed as trees.

Starts the fake LLM server on 127.0.0.1, instruments every available SDK on in-memory providers,
runs the planner agent (:mod:`agentotel.cli._demo_planner`: a session of two rounds with a guard, a
context assembly, a plan with steps, three tools, an approval and an MCP tool call) and the plain
SDK agent (:mod:`agentotel.cli._demo_agent`, whose tool executions are inferred) and one call through
each other provider whose SDK is installed (:mod:`agentotel.cli._demo_providers`: Gemini, Bedrock
Converse, Mistral, Cohere, Ollama, Groq, LiteLLM), then prints every span, the metrics and what
the LLM calls cost at the shipped prices. No API key, no network. With
``OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental`` the spans and metrics carry the
latest GenAI conventions' names (docs/conventions.md): the metrics table lists the metrics of the
mode the demo's telemetry was set up in.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from agentotel import semconv
from agentotel._telemetry import telemetry_for
from agentotel.cli._text import literal
from agentotel.cli._text import say as text_say
from agentotel.testing import FakeLLMServer, TelemetryCapture

_SHOWN = (
    (semconv.GEN_AI_TOOL_CALL_ID, "call"),
    (semconv.AGENTOTEL_GUARD_OUTCOME, "outcome"),
    (semconv.AGENTOTEL_APPROVAL_OUTCOME, "outcome"),
    (semconv.AGENTOTEL_PLAN_STEP_COUNT, "steps"),
    (semconv.AGENTOTEL_CONTEXT_USED_TOKENS, "context tokens"),
    (semconv.AGENTOTEL_MCP_SERVER_NAME, "mcp server"),
)


def _label(span: Any, root: bool) -> Text:
    """One span's line; every value from the span is shown literally (no rich markup)."""
    a = span.attributes or {}
    ms = (span.end_time - span.start_time) / 1e6
    parts: list[Text] = [literal(span.name, "bold"), literal(f"{ms:.1f} ms")]
    if semconv.GEN_AI_USAGE_INPUT_TOKENS in a or semconv.GEN_AI_USAGE_OUTPUT_TOKENS in a:
        tokens_in = a.get(semconv.GEN_AI_USAGE_INPUT_TOKENS, "-")
        tokens_out = a.get(semconv.GEN_AI_USAGE_OUTPUT_TOKENS, "-")
        parts.append(literal(f"tokens in={tokens_in} out={tokens_out}"))
    if semconv.AGENTOTEL_STREAM_END in a:
        parts.append(literal(f"stream {a[semconv.AGENTOTEL_STREAM_END]}"))
    if semconv.AGENTOTEL_TOOL_CALL_NAMES in a:
        parts.append(literal("tool calls: " + ", ".join(a[semconv.AGENTOTEL_TOOL_CALL_NAMES])))
    for key, label in _SHOWN:
        if a.get(key):
            parts.append(literal(f"{label}={a[key]}"))
    if root and semconv.GEN_AI_CONVERSATION_ID in a:
        parts.append(literal(f"conversation={a[semconv.GEN_AI_CONVERSATION_ID]}"))
    if a.get(semconv.AGENTOTEL_TOOL_INFERRED):
        parts.append(literal("inferred", "cyan"))
    if semconv.ERROR_TYPE in a:
        parts.append(literal(f"ERROR {a[semconv.ERROR_TYPE]}", "red"))
    return Text("  ").join(parts)


def render(spans: Sequence[Any], console: Console) -> None:
    """Print spans as trees, one per trace, children under their parents, in start order."""
    by_parent: dict[int | None, list[Any]] = {}
    ids = {s.context.span_id for s in spans}
    for span in sorted(spans, key=lambda s: s.start_time):
        parent = span.parent.span_id if span.parent is not None and span.parent.span_id in ids else None
        by_parent.setdefault(parent, []).append(span)

    def add(node: Tree, span: Any, root: bool = False) -> None:
        child = node.add(_label(span, root))
        for sub in by_parent.get(span.context.span_id, []):
            add(child, sub)

    for root in by_parent.get(None, []):
        tree = Tree(f"trace {root.context.trace_id:032x}"[:22] + "…")
        add(tree, root, root=True)
        console.print(tree)


def _metrics_table(cap: TelemetryCapture, conventions: semconv.Conventions) -> Table:
    table = Table(title="metrics")
    table.add_column("metric")
    table.add_column("attributes")
    table.add_column("count", justify="right")
    table.add_column("sum", justify="right")
    seconds = _in_seconds(conventions)
    for name in table_metrics(conventions):
        for point in cap.metric_points(name):
            a = dict(point.attributes)
            label = literal(" ".join(str(a[k]) for k in _TABLE_KEYS if k in a))
            if hasattr(point, "count"):
                total = f"{point.sum:.3f} s" if name in seconds else f"{point.sum:g}"
                table.add_row(name, label, str(point.count), total)
            else:
                table.add_row(name, label, "", str(point.value))
    return table


def table_metrics(c: semconv.Conventions) -> tuple[str, ...]:
    """The metrics the demo's table shows, as ``c`` names them (each once, in this order)."""
    names = (
        c.token_usage,
        c.usage_input_tokens,
        c.usage_output_tokens,
        c.embeddings_input_tokens,
        c.inference_duration,
        c.embeddings_duration,
        c.tool_duration,
        c.workflow_duration,
        c.agent_duration,
        c.agent_inference_calls,
        c.agent_tool_calls,
        c.plan_duration,
        *_AGENT_LAYER_METRICS,
    )
    return tuple(dict.fromkeys(name for name in names if name is not None))


def _in_seconds(c: semconv.Conventions) -> frozenset[str]:
    durations = (c.inference_duration, c.embeddings_duration, c.tool_duration, c.workflow_duration)
    return frozenset((*durations, c.agent_duration, c.plan_duration, semconv.STEP_DURATION))


_AGENT_LAYER_METRICS = (
    semconv.STEP_DURATION,
    semconv.GUARD_DECISIONS,
    semconv.APPROVAL_DECISIONS,
    semconv.SESSION_COUNT,
    semconv.SESSION_MESSAGES,
    semconv.CONTEXT_BUDGET_UTILIZATION,
)
_TABLE_KEYS = (
    semconv.GEN_AI_OPERATION_NAME,
    semconv.GEN_AI_REQUEST_MODEL,
    semconv.GEN_AI_TOKEN_TYPE,
    semconv.GEN_AI_TOOL_NAME,
    semconv.GEN_AI_WORKFLOW_NAME,
    semconv.GEN_AI_AGENT_NAME,
    semconv.AGENTOTEL_STEP_TYPE,
    semconv.AGENTOTEL_GUARD_NAME,
    semconv.AGENTOTEL_GUARD_OUTCOME,
    semconv.AGENTOTEL_APPROVAL_ACTION,
    semconv.AGENTOTEL_APPROVAL_OUTCOME,
    semconv.AGENTOTEL_SESSION_STATUS,
    semconv.ERROR_TYPE,
)


def _cost_table(spans: Sequence[Any]) -> tuple[Table, str]:
    """Priced LLM calls per request model (calls, tokens, USD from ``agentotel.usage.cost_usd``) and
    a total line that also counts the calls with usage but no price."""
    rows: dict[str, list[float]] = {}
    unpriced = 0
    for span in spans:
        a = span.attributes or {}
        model = a.get(semconv.GEN_AI_REQUEST_MODEL)
        if model is None or semconv.GEN_AI_USAGE_INPUT_TOKENS not in a:
            continue
        if semconv.AGENTOTEL_USAGE_COST_USD not in a:
            unpriced += 1
            continue
        row = rows.setdefault(str(model), [0, 0, 0, 0.0])
        row[0] += 1
        row[1] += a[semconv.GEN_AI_USAGE_INPUT_TOKENS]
        row[2] += a.get(semconv.GEN_AI_USAGE_OUTPUT_TOKENS, 0)
        row[3] += a[semconv.AGENTOTEL_USAGE_COST_USD]
    table = Table(title="cost (shipped prices)")
    for column in ("model", "calls", "input tokens", "output tokens", "cost (USD)"):
        table.add_column(column, justify="left" if column == "model" else "right")
    for model, (calls, tokens_in, tokens_out, usd) in rows.items():
        table.add_row(
            literal(model), str(int(calls)), str(int(tokens_in)), str(int(tokens_out)), f"${usd:.8f}"
        )
    calls = sum(int(row[0]) for row in rows.values())
    total = sum(row[3] for row in rows.values())
    return table, f"total cost: ${total:.8f} over {calls} priced LLM calls, {unpriced} unpriced"


def run() -> int:
    """Run the demo; returns the process exit code."""
    import asyncio

    import anthropic
    import openai

    import agentotel
    from agentotel.cli._demo_agent import run_anthropic, run_openai
    from agentotel.cli._demo_planner import run_planner
    from agentotel.cli._demo_providers import offline_calls

    console = Console()
    cap = TelemetryCapture()
    agentotel.instrument(**cap.providers)
    conventions = telemetry_for(**cap.providers).conventions

    def say(line: object) -> None:
        text_say(console, line)

    try:
        with FakeLLMServer() as server:
            oai = openai.OpenAI(
                base_url=server.openai_base_url, api_key="sk-demo-not-a-real-key", max_retries=0
            )
            console.rule("planner agent (agent layer, offline against the fake LLM server on 127.0.0.1)")
            asyncio.run(_planner(run_planner, oai, say))
            console.rule("plain SDK agent (no agentotel code: its tool run is inferred)")
            with agentotel.workflow("plain sdk agent"):
                run_openai(oai, "gpt-4o-mini", offline=True, say=say)
                claude = anthropic.Anthropic(
                    base_url=server.anthropic_base_url, api_key="sk-ant-demo", max_retries=0
                )
                run_anthropic(claude, "claude-opus-5", offline=True, say=say)
            console.rule("one call per provider: Gemini, Bedrock, Mistral, Cohere, Ollama, Groq, LiteLLM")
            calls = offline_calls(server.base_url, server.openai_base_url, say, announce=say)
            with agentotel.workflow("one call per provider"):
                for call in calls:
                    call()
    finally:
        agentotel.uninstrument()
    console.rule("traces")
    spans = cap.spans()
    render(spans, console)
    console.print(_metrics_table(cap, conventions))
    costs, total = _cost_table(spans)
    console.print(costs)
    text_say(console, total)
    cap.shutdown()
    return 0


async def _planner(run_planner: Any, client: Any, say: Any) -> None:
    from agentotel.cli._demo_mcp import venue_server

    async with venue_server() as lookup:
        await run_planner(client, "gpt-4o-mini", mcp_lookup=lookup, say=say)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "demo", help="run the demo agents against the embedded fake LLM and print the traces"
    )
    parser.set_defaults(handler=lambda args: run())
