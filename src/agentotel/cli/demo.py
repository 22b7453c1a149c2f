"""``agentotel demo``: the demo agent, offline, with its trace printed as a tree.

Starts the fake LLM server on 127.0.0.1, instruments the OpenAI and Anthropic SDKs on in-memory
providers, runs :mod:`agentotel.cli.agent`, then prints every span (duration, tokens, errors) and
the token and duration metrics. No API key, no network.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.tree import Tree

from agentotel import semconv
from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture


def _label(span: Any) -> str:
    a = span.attributes or {}
    ms = (span.end_time - span.start_time) / 1e6
    parts = [f"[bold]{span.name}[/bold]", f"{ms:.1f} ms"]
    if semconv.GEN_AI_USAGE_INPUT_TOKENS in a or semconv.GEN_AI_USAGE_OUTPUT_TOKENS in a:
        tokens_in = a.get(semconv.GEN_AI_USAGE_INPUT_TOKENS, "-")
        tokens_out = a.get(semconv.GEN_AI_USAGE_OUTPUT_TOKENS, "-")
        parts.append(f"tokens in={tokens_in} out={tokens_out}")
    if semconv.AGENTOTEL_STREAM_END in a:
        parts.append(f"stream {a[semconv.AGENTOTEL_STREAM_END]}")
    if semconv.AGENTOTEL_TOOL_CALL_NAMES in a:
        parts.append("tool calls: " + ", ".join(a[semconv.AGENTOTEL_TOOL_CALL_NAMES]))
    if semconv.ERROR_TYPE in a:
        parts.append(f"[red]ERROR {a[semconv.ERROR_TYPE]}[/red]")
    return "  ".join(parts)


def render(spans: Sequence[Any], console: Console) -> None:
    """Print spans as trees, one per trace, children under their parents, in start order."""
    by_parent: dict[int | None, list[Any]] = {}
    ids = {s.context.span_id for s in spans}
    for span in sorted(spans, key=lambda s: s.start_time):
        parent = span.parent.span_id if span.parent is not None and span.parent.span_id in ids else None
        by_parent.setdefault(parent, []).append(span)

    def add(node: Tree, span: Any) -> None:
        child = node.add(_label(span))
        for sub in by_parent.get(span.context.span_id, []):
            add(child, sub)

    for root in by_parent.get(None, []):
        tree = Tree(f"trace {root.context.trace_id:032x}"[:22] + "…")
        add(tree, root)
        console.print(tree)


def _metrics_table(cap: TelemetryCapture) -> Table:
    table = Table(title="metrics")
    table.add_column("metric")
    table.add_column("attributes")
    table.add_column("count", justify="right")
    table.add_column("sum", justify="right")
    for name in (semconv.GEN_AI_CLIENT_TOKEN_USAGE, semconv.GEN_AI_CLIENT_OPERATION_DURATION):
        for point in cap.metric_points(name):
            a = dict(point.attributes)
            label = " ".join(
                str(a[k])
                for k in (semconv.GEN_AI_REQUEST_MODEL, semconv.GEN_AI_TOKEN_TYPE, semconv.ERROR_TYPE)
                if k in a
            )
            total = f"{point.sum:.0f}" if name == semconv.GEN_AI_CLIENT_TOKEN_USAGE else f"{point.sum:.3f} s"
            table.add_row(name, label, str(point.count), total)
    return table


def run() -> int:
    """Run the demo; returns the process exit code."""
    import anthropic
    import openai

    import agentotel
    from agentotel.cli.agent import run_anthropic, run_openai

    console = Console()
    cap = TelemetryCapture()
    agentotel.instrument(**cap.providers)
    # A plain root span so the demo's calls form one trace (the agent layer will name it properly).
    root = cap.tracer_provider.get_tracer(semconv.SCOPE_DEMO).start_as_current_span("demo agent run")
    try:
        with root, FakeLLMServer() as server:
            console.rule("demo agent (offline, fake LLM server on 127.0.0.1)")
            say = console.print
            oai = openai.OpenAI(
                base_url=server.openai_base_url, api_key="sk-demo-not-a-real-key", max_retries=0
            )
            run_openai(oai, "gpt-4o-mini", offline=True, say=say)
            claude = anthropic.Anthropic(
                base_url=server.anthropic_base_url, api_key="sk-ant-demo", max_retries=0
            )
            run_anthropic(claude, "claude-opus-5", offline=True, say=say)
    finally:
        agentotel.uninstrument()
    console.rule("trace")
    render(cap.spans(), console)
    console.print(_metrics_table(cap))
    cap.shutdown()
    return 0
