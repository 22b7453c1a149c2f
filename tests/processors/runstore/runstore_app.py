"""A process whose runs are cut short.

``python runstore_app.py RUNS_DIR shutdown``
``opentelemetry-instrument python runstore_app.py - sigterm``  (with ``AGENTOTEL_RUNS_DIR``)

Opens an LLM call span with no parent (an implicit run), then an agent round that runs a tool;
with both still open it prints ``ready``, then either shuts its own tracer provider (with a
``RunStoreSpanProcessor`` on RUNS_DIR) down (``shutdown``), or, on the providers that
``opentelemetry-instrument`` set up, waits for SIGTERM (``sigterm``).
"""

from __future__ import annotations

import sys
import time

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

import agentotel
from agentotel.agent import configure
from agentotel.processors import RunStoreSpanProcessor


@agentotel.tool()
def lookup(city: str) -> str:
    """Today's weather."""
    return "Sunny"


def main(runs_dir: str, mode: str) -> None:
    provider = None
    if mode == "shutdown":
        provider = TracerProvider()
        provider.add_span_processor(RunStoreSpanProcessor(runs_dir))
        configure(tracer_provider=provider)
    tracer = (provider or trace.get_tracer_provider()).get_tracer("runstore-app")
    attributes = {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai"}
    call = tracer.start_span("chat gpt-4o", attributes=attributes)
    with agentotel.agent("long"):
        lookup("Paris")
        print("ready", flush=True)
        if provider is not None:
            provider.shutdown()
        else:
            time.sleep(60)
    call.end()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
