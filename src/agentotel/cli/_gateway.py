"""``agentotel gateway``: serve the forwarding LLM gateway (:mod:`agentotel.gateway`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``agentotel gateway``."""
    parser = sub.add_parser(
        "gateway",
        help="forward LLM API calls and record them (agents in any language)",
        description=(
            "Forward /openai, /anthropic, /gemini (and the upstreams of --config) to the real APIs, "
            "recording each call as the SDK instrumentors do. Telemetry goes where the OTEL_* "
            "variables say (or where opentelemetry-instrument set it up)."
        ),
    )
    parser.add_argument("--listen", help="HOST:PORT to listen on (default 127.0.0.1:4000)")
    parser.add_argument("--config", type=Path, help="TOML file: upstreams, limits (see docs/gateway.md)")
    parser.add_argument("--workers", type=int, help="processes to serve with (default 1)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        from agentotel.gateway import load, serve
        from agentotel.gateway._setup import ensure_sdk
    except ImportError as exc:
        print(f"agentotel gateway needs its extra: pip install 'agentotel[gateway]' ({exc})", file=sys.stderr)
        return 2
    from agentotel.config import ConfigError

    try:
        config = load(args.config, args.listen, args.workers)
    except ConfigError as exc:
        print(f"agentotel gateway: {exc}", file=sys.stderr)
        return 2
    if config.workers == 1:
        ensure_sdk()
    routes = ", ".join(f"/{name} -> {u.url}" for name, u in config.upstreams.items())
    print(f"agentotel gateway on http://{config.host}:{config.port} ({routes})", flush=True)
    serve(config)
    return 0
