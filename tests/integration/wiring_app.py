"""An agent run for the wiring tests: one agent round with a tool call, no LLM.

python wiring_app.py opentelemetry-instrument         # providers from the configurator
python wiring_app.py instrument-providers              # agentotel.instrument(tracer_provider=...)
python wiring_app.py set-later                         # agentotel.instrument(), then set_tracer_provider
"""

from __future__ import annotations

import sys

import agentotel


@agentotel.tool()
def lookup(city: str) -> str:
    return f"sunny in {city}"


def run_round() -> None:
    with agentotel.agent("wired"):
        lookup("Paris")


def main(mode: str) -> int:
    if mode == "opentelemetry-instrument":
        run_round()
        return 0
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider

    provider = TracerProvider()
    if mode == "instrument-providers":
        agentotel.instrument(tracer_provider=provider)
    else:
        agentotel.instrument()  # the global provider is still the API's proxy here
        trace.set_tracer_provider(provider)
    run_round()
    provider.shutdown()  # drains the processors' writers
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
