"""A process that writes audit records.

``python audit_writer_app.py PATH COUNT [--fsync F] [--print-acknowledged]``

Ends COUNT tool spans (0: until killed) through an ``AuditSpanProcessor`` on PATH, with the
default settings (fsync per batch, block policy) unless ``--fsync`` says otherwise, then shuts the
tracer provider down. ``--print-acknowledged`` prints each span's number once its end returned.
"""

from __future__ import annotations

import argparse
import itertools
import sys

from opentelemetry.sdk.trace import TracerProvider

from agentotel.processors import AuditSpanProcessor


def main(path: str, count: int, fsync: str | None, print_acknowledged: bool) -> None:
    provider = TracerProvider()
    provider.add_span_processor(AuditSpanProcessor(path, fsync=fsync))
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
        if print_acknowledged:
            sys.stdout.write(f"{i}\n")
            sys.stdout.flush()
    provider.shutdown()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("path")
    parser.add_argument("count", type=int)
    parser.add_argument("--fsync", default=None)
    parser.add_argument("--print-acknowledged", action="store_true")
    args = parser.parse_args()
    main(args.path, args.count, args.fsync, args.print_acknowledged)
