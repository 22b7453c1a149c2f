"""What SIGKILL costs the audit log under each ``AGENTOTEL_AUDIT_FSYNC`` policy.

For each policy, a child process ends audited tool spans in a loop through an
``AuditSpanProcessor`` and prints each span's number once its end has returned (the record is then
*acknowledged*: the app has moved on). The parent reads ``--spans`` numbers (3,000), SIGKILLs the
child, and counts the acknowledged records that are not in the file. Under ``batch``, ``record``
and ``never`` those are the records still queued for the writer thread; under ``sync`` a span end
returns only once its record is on disk, so the count is 0.

Run ``python benchmarks/audit_sigkill.py`` (``--help`` for the options).
"""

from __future__ import annotations

import argparse
import json
import shlex
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = """
import sys
from opentelemetry.sdk.trace import TracerProvider
from agentotel.processors import AuditSpanProcessor

provider = TracerProvider()
provider.add_span_processor(AuditSpanProcessor(sys.argv[1], fsync=sys.argv[2]))
tracer = provider.get_tracer("sigkill")
i = 0
while True:
    attributes = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "search",
                  "gen_ai.tool.call.id": f"call-{i}"}
    with tracer.start_as_current_span("execute_tool search", attributes=attributes):
        pass
    sys.stdout.write(f"{i}\\n")
    sys.stdout.flush()
    i += 1
"""


def lost_to_sigkill(directory: Path, fsync: str, spans: int) -> dict[str, int]:
    path = directory / f"{fsync}.jsonl"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path), fsync], stdout=subprocess.PIPE)
    assert child.stdout is not None
    acknowledged: list[int] = []
    try:
        while len(acknowledged) < spans:
            acknowledged.append(int(child.stdout.readline()))
    finally:
        child.send_signal(signal.SIGKILL)
        rest = child.stdout.read()
        child.wait()
    acknowledged.extend(int(n) for n in rest.split())
    data = path.read_bytes()
    complete = data[: data.rfind(b"\n") + 1].splitlines()
    on_disk = {json.loads(line)["metadata"]["gen_ai.tool.call.id"] for line in complete}
    lost = sum(f"call-{i}" not in on_disk for i in acknowledged)
    return {"acknowledged": len(acknowledged), "lost": lost}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--spans", type=int, default=3000, help="span ends acknowledged before the kill")
    parser.add_argument(
        "--policies", default="never,batch,record,sync", help="fsync policies (comma-separated)"
    )
    parser.add_argument("--dir", type=Path, default=None, help="where the audit files go (a temp dir)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        for fsync in args.policies.split(","):
            r = lost_to_sigkill(Path(tmp), fsync, args.spans)
            share = 100 * r["lost"] / r["acknowledged"]
            print(
                f"fsync={fsync}: {r['lost']:,} of {r['acknowledged']:,} acknowledged records lost "
                f"to SIGKILL ({share:.1f} %)"
            )
    print("command: " + shlex.join([sys.executable, *sys.argv]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
