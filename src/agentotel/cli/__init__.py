"""The ``agentotel`` command (``pip install "agentotel[cli]"``).

agentotel demo      run the demo agents offline and print their traces
agentotel doctor    print the effective configuration and the instrumentors found
agentotel audit     verify and tail audit logs
agentotel runs      list, show, tail and replay runs of the run store
agentotel top       live dashboard of LLM calls, tools and workflows
agentotel tools     tool reliability report
agentotel gateway   forward LLM API calls and record them (agents in any language)

Each command lives in its own private module (``_audit``, ``_runs``, ...) with a
``register(subparsers)`` function that adds its parser and sets ``handler`` (a function of the
parsed arguments returning the exit code). The commands read the run store and the audit log
through their public read APIs (:mod:`agentotel.processors.runstore`,
:mod:`agentotel.processors.audit`) only; the metrics read back from a ``/metrics`` page
(``_scrape``, ``_quantiles``, ``_board``) are the CLI's own.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from collections.abc import Sequence

_COMMANDS = ("demo", "doctor", "audit", "runs", "top", "tools", "gateway")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``agentotel`` console script."""
    parser = argparse.ArgumentParser(prog="agentotel", description="OpenTelemetry for LLM agents.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in _COMMANDS:
        module = f"{__name__}._{name}"
        if importlib.util.find_spec(module) is None:
            continue  # a command not in this build
        importlib.import_module(module).register(sub)
    args = parser.parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
