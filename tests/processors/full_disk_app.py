"""An agent process wired from the environment: ``python full_disk_app.py COUNT``.

Attaches the audit log and the run store as ``AGENTOTEL_AUDIT_PATH`` / ``AGENTOTEL_RUNS_DIR`` say,
prints ``started`` once set up, runs COUNT agent rounds of one tool call each, prints
``runs done: COUNT`` and exits: the tracer provider is shut down at exit, as in any app.
"""

from __future__ import annotations

import sys

from opentelemetry.sdk.trace import TracerProvider

from agentotel.processors.audit._processor import attach_from_env as attach_audit
from agentotel.processors.runstore._processor import attach_from_env as attach_runs


def main(count: int) -> None:
    provider = TracerProvider()  # shut down at exit (shutdown_on_exit)
    attach_audit(provider)
    attach_runs(provider)
    tracer = provider.get_tracer("full-disk-app")
    print("started", flush=True)
    agent = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "helper"}
    for i in range(count):
        with tracer.start_as_current_span("invoke_agent helper", attributes=agent):
            tool = {
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": "search",
                "gen_ai.tool.call.id": f"call-{i}",
            }
            with tracer.start_as_current_span("execute_tool search", attributes=tool):
                pass
    print(f"runs done: {count}", flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]))
