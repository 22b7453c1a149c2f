"""The ``agentotel`` command (``pip install "agentotel[cli]"``).

agentotel demo      run the demo agent offline and print its trace tree
agentotel doctor    print the effective configuration and the instrumentors found
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``agentotel`` console script."""
    parser = argparse.ArgumentParser(prog="agentotel", description="OpenTelemetry for LLM agents.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="run the demo agent against the embedded fake LLM and print the trace")
    sub.add_parser("doctor", help="print the effective configuration and the instrumentors found")
    args = parser.parse_args(argv)
    if args.command == "demo":
        from agentotel.cli.demo import run

        return run()
    from agentotel.cli.doctor import run as doctor

    return doctor()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
