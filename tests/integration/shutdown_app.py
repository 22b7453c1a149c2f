"""An agent process for the start-up and shut-down tests, run under ``opentelemetry-instrument``.

    python shutdown_app.py wait N [--own-handler]         # N agent rounds, prints "ready", sleeps
    python shutdown_app.py wait-in-run N                  # the same, then sleeps inside a new round
    python shutdown_app.py wait-elsewhere N               # "wait", and a thread of the app takes a
                                                          # SIGTERM 0.3 s after "ready"
    python shutdown_app.py exit N                         # N agent rounds, prints "end", returns
    python shutdown_app.py linger N S                     # the same, then sleeps S seconds first
    python shutdown_app.py loop                           # agent rounds until killed ("ready" after 1)
    python shutdown_app.py state                          # prints what agentotel set up (JSON)
    python shutdown_app.py on-stdin N                     # N agent rounds, "ready", then one round
                                                          # per line read, "done" after each
    python shutdown_app.py code-wait N                    # "wait" with the app's own provider, no
                                                          # opentelemetry-instrument (OTLP/HTTP)

Each agent round is one ``invoke_agent shutdown`` span with one ``execute_tool lookup`` child.
``--own-handler`` installs the app's own SIGTERM handler first (it prints ``app handler`` and exits
with status 3); ``--exit-handler`` one that calls ``sys.exit(0)``.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from typing import Any

import agentotel


@agentotel.tool()
def lookup(city: str) -> str:
    return f"sunny in {city}"


def rounds(count: int) -> None:
    for i in range(count):
        with agentotel.agent("shutdown"):
            lookup(f"city-{i}")


def _own_handler(signum: int, frame: Any) -> None:
    print("app handler", flush=True)
    os._exit(3)


def _exit_handler(signum: int, frame: Any) -> None:
    sys.exit(0)  # the usual way to run the atexit hooks on SIGTERM


def state() -> dict[str, Any]:
    handler = signal.getsignal(signal.SIGTERM)
    return {
        "threads": sorted(t.name for t in threading.enumerate()),
        "sigterm": "default" if handler == signal.SIG_DFL else "installed",
        "logs_exporter": os.environ.get("OTEL_LOGS_EXPORTER"),
    }


def main(mode: str, *args: str) -> int:
    if mode == "state":
        rounds(1)
        print(json.dumps(state()), flush=True)
        return 0
    if mode == "code-wait":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        provider = TracerProvider()
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        agentotel.instrument(tracer_provider=provider)
        mode = "wait"
    if "--own-handler" in args:
        signal.signal(signal.SIGTERM, _own_handler)
    if "--exit-handler" in args:
        signal.signal(signal.SIGTERM, _exit_handler)
    if mode == "loop":
        rounds(1)
        print("ready", flush=True)
        while True:
            rounds(1)
    rounds(int(args[0]))
    if mode == "on-stdin":
        print("ready", flush=True)
        for _ in sys.stdin:
            rounds(1)
            print("done", flush=True)
        return 0
    if mode == "linger":
        time.sleep(float(args[1]))
    if mode == "wait-in-run":
        with agentotel.agent("shutdown"):
            lookup("open")
            print("ready", flush=True)
            time.sleep(120)
    if mode == "wait-elsewhere":
        # The kernel gives a process's signal to any thread that does not block it; Python only
        # runs handlers on the main thread, and this one sleeps in a system call nothing interrupts
        # (as when the signal lands just before the call starts).
        def take_sigterm() -> None:
            time.sleep(0.3)
            signal.pthread_kill(threading.get_ident(), signal.SIGTERM)

        threading.Thread(target=take_sigterm, name="app-worker").start()
        mode = "wait"
    print("ready" if mode == "wait" else "end", flush=True)
    if mode == "wait":
        time.sleep(120)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
