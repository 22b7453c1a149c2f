"""A process that writes audit records: ``python audit_writer_app.py PATH COUNT``.

Ends COUNT tool spans (0: until killed) through an ``AuditSpanProcessor`` on PATH, with the
default settings (fsync per batch, block policy), then shuts the tracer provider down.
"""

from __future__ import annotations

import itertools
import sys

from opentelemetry.sdk.trace import TracerProvider

from agentotel.processors import AuditSpanProcessor


def main(path: str, count: int) -> None:
    provider = TracerProvider()
    provider.add_span_processor(AuditSpanProcessor(path))
    tracer = provider.get_tracer("audit-writer-app")
    numbers = itertools.count() if count == 0 else range(count)
    for i in numbers:
        attributes = {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": "search",
            "gen_ai.tool.call.id": f"call-{i}",
        }
        with tracer.start_as_current_span("execute_tool search", attributes=attributes):
            pass
    provider.shutdown()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
