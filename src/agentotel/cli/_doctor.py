"""``agentotel doctor``: effective configuration, instrumentors found, and conflicts."""

from __future__ import annotations

import argparse
import os
from importlib.metadata import entry_points

from rich.console import Console
from rich.table import Table
from rich.text import Text

from agentotel import config
from agentotel._registry import ENTRY_POINT_GROUP, ENTRY_POINT_PREFIX, available
from agentotel.cli._text import literal, shown

_PEERS = ("openai", "anthropic", "mcp", "langchain")
_SECRETS = frozenset({config.AUDIT_HMAC_KEY, config.SENTRY_DSN})
_OTEL_VARIABLES = (
    "OTEL_TRACES_EXPORTER",
    "OTEL_METRICS_EXPORTER",
    "OTEL_LOGS_EXPORTER",
    "OTEL_TRACES_SAMPLER",
    "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS",
    config.SENTRY_DSN,
)


def _agentotel_variables() -> list[str]:
    """Every ``AGENTOTEL_*`` variable ``config`` declares, in the order it declares them."""
    return [
        value
        for name, value in vars(config).items()
        if name.isupper() and isinstance(value, str) and value.startswith("AGENTOTEL_")
    ]


def run() -> int:
    """Print the report; exit code 1 when the configuration is invalid."""
    console = Console()
    try:
        settings = config.Settings.from_env()
    except config.ConfigError as exc:
        console.print(Text.assemble(("configuration error:", "red"), f" {shown(exc)}"))
        return 1
    table = Table(title="configuration")
    table.add_column("variable")
    table.add_column("value")
    table.add_row(config.CAPTURE_MESSAGE_CONTENT, settings.capture.value)
    table.add_row(config.CONTENT_MAX_LENGTH, str(settings.content_max_length))
    table.add_row(config.METRIC_CARDINALITY_LIMIT, str(settings.cardinality_limit))
    table.add_row(config.TOOL_PENDING_MAX, str(settings.tool_pending_max))
    table.add_row(config.TOOL_PENDING_TTL, str(settings.tool_pending_ttl))
    shown_above = {
        config.CAPTURE_MESSAGE_CONTENT,
        config.CONTENT_MAX_LENGTH,
        config.METRIC_CARDINALITY_LIMIT,
        config.TOOL_PENDING_MAX,
        config.TOOL_PENDING_TTL,
    }
    for name in [*_agentotel_variables(), *_OTEL_VARIABLES]:
        if name in shown_above:
            continue
        if name in _SECRETS:
            table.add_row(name, "(set)" if os.environ.get(name) else "(unset)")
        else:
            table.add_row(name, literal(os.environ.get(name, "(unset)")))
    console.print(table)
    found = available()
    console.print(
        literal(
            "instrumentors: " + (", ".join(sorted(found)) or "none (install agentotel[openai,anthropic])")
        )
    )
    others = [
        ep.name
        for ep in entry_points(group=ENTRY_POINT_GROUP)
        if not ep.name.startswith(ENTRY_POINT_PREFIX) and ep.name in _PEERS
    ]
    for name in others:
        console.print(
            f"[yellow]conflict:[/yellow] another instrumentor named {name!r} also patches the {name} SDK; "
            f"disable one set with OTEL_PYTHON_DISABLED_INSTRUMENTATIONS={name} (or agentotel_{name})."
        )
    configurators = sorted(ep.name for ep in entry_points(group="opentelemetry_configurator"))
    if len(configurators) > 1 and not os.environ.get("OTEL_PYTHON_CONFIGURATOR"):
        console.print(
            Text.assemble(
                ("note:", "yellow"),
                f" several configurators are installed ({shown(', '.join(configurators))}); "
                "opentelemetry-instrument loads only one: choose with OTEL_PYTHON_CONFIGURATOR "
                "(agentotel's processors attach under either).",
            )
        )
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("doctor", help="print the effective configuration and the instrumentors found")
    parser.set_defaults(handler=lambda args: run())
