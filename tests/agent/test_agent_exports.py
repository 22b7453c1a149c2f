"""``agentotel.agent`` is both the package and the ``agent`` function (its ``__all__`` is pinned
with every other public line in ``tests/integration/test_public_api.py``)."""

from __future__ import annotations

import importlib
import subprocess
import sys

import agentotel
import agentotel.agent
from agentotel.agent._run import Agent


def test_a_private_module_of_the_agent_package_is_reachable_as_an_attribute() -> None:
    run = importlib.import_module("agentotel.agent._run")

    assert agentotel.agent._run is run  # type: ignore[attr-defined]
    assert sys.modules["agentotel.agent"] is agentotel.agent


def test_import_agentotel_agent_run_works_in_a_fresh_interpreter() -> None:
    code = "import agentotel.agent._run as run; import agentotel; print(agentotel.agent._run is run)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert done.stdout == "True\n"


def test_agentotel_agent_called_opens_an_agent_round() -> None:
    from agentotel import agent

    called = agentotel.agent("planner", agent_id="p-1", description="Plans.")
    imported = agent("writer")

    assert isinstance(called, Agent)
    assert (called.name, called.agent_id, called.description) == ("planner", "p-1", "Plans.")
    assert isinstance(imported, Agent)
    assert imported.name == "writer"
