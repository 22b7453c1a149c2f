"""A process whose runs are cut short.

``python runstore_app.py RUNS_DIR shutdown|wait``

Records to a ``RunStoreSpanProcessor`` on RUNS_DIR: opens an LLM call span with no parent (an
implicit run), then an agent round that runs a tool; with both still open it prints ``ready``
and then either shuts the tracer provider down (``shutdown``) or waits to be killed (``wait``).
"""

from __future__ import annotations

import sys
import time

from opentelemetry.sdk.trace import TracerProvider

import agentotel
from agentotel.agent import configure
from agentotel.processors import RunStoreSpanProcessor


@agentotel.tool()
def lookup(city: str) -> str:
    """Today's weather."""
    return "Sunny"


def main(runs_dir: str, mode: str) -> None:
    provider = TracerProvider()
    provider.add_span_processor(RunStoreSpanProcessor(runs_dir))
    configure(tracer_provider=provider)
    attributes = {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai"}
    call = provider.get_tracer("runstore-app").start_span("chat gpt-4o", attributes=attributes)
    with agentotel.agent("long"):
        lookup("Paris")
        print("ready", flush=True)
        if mode == "shutdown":
            provider.shutdown()
        else:
            time.sleep(60)
    call.end()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
