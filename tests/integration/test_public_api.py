"""The public line: what each public package exports, pinned (as httpx's ``test_exported_members``).

A change to one of these lists is a change to the user API: make it here on purpose, with the
manual. Everything else is private (``_name``). The ``agentotel`` command reads the run store and
the audit log through their public read APIs only, and nothing on the path of a call imports the
endpoints or the CLI's read-back.
"""

from __future__ import annotations

import ast
import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

import agentotel

PUBLIC = {
    "agentotel": [
        "CaptureMode",
        "ConfigError",
        "Settings",
        "__version__",
        "agent",
        "approval",
        "context_assembly",
        "fork_run",
        "guard",
        "instrument",
        "mark_for_audit",
        "plan",
        "save_artifact",
        "session",
        "step",
        "tool",
        "uninstrument",
        "workflow",
    ],
    "agentotel.agent": [
        "Agent",
        "Approval",
        "ContextAssembly",
        "Guard",
        "Plan",
        "Session",
        "Step",
        "Tool",
        "Workflow",
        "agent",
        "approval",
        "configure",
        "context_assembly",
        "guard",
        "mark_for_audit",
        "plan",
        "session",
        "step",
        "tool",
        "workflow",
    ],
    "agentotel.processors": ["AuditSpanProcessor", "RunStoreSpanProcessor"],
    "agentotel.processors.audit": [
        "Anchor",
        "AuditChainBroken",
        "AuditFileDeleted",
        "AuditSettings",
        "AuditSpanProcessor",
        "AuditTail",
        "Break",
        "EVENT_TYPES",
        "Fsync",
        "VerifyResult",
        "load_anchors",
        "parse_anchor",
        "verify",
    ],
    "agentotel.processors.runstore": [
        "EventTail",
        "Fork",
        "RUNNING",
        "RunStoreError",
        "RunStoreSpanProcessor",
        "find_run",
        "fork_run",
        "is_llm_span",
        "list_runs",
        "load_run",
        "read_events",
        "read_summary",
        "run_stamp",
        "runs_dir",
        "save_artifact",
    ],
    "agentotel.endpoints": ["Exposed", "Exposition", "register", "serve", "unregister", "write_textfile"],
    "agentotel.testing": [
        "FakeLLM",
        "FakeLLMServer",
        "RecordedRequest",
        "Reply",
        "TelemetryCapture",
        "ToolCall",
        "capture_telemetry",
        "count_tokens",
        "fake_transport",
    ],
}

SRC = Path(agentotel.__file__).parent


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_all_is_exactly_the_user_api(module: str) -> None:
    assert importlib.import_module(module).__all__ == PUBLIC[module]


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_all_is_sorted(module: str) -> None:
    names = importlib.import_module(module).__all__
    assert names == sorted(names)


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_every_exported_name_is_importable(module: str) -> None:
    namespace: dict[str, object] = {}
    exec(f"from {module} import {', '.join(PUBLIC[module])}", namespace)
    assert [name for name in PUBLIC[module] if name not in namespace] == []


def _private_processor_imports(path: Path) -> list[str]:
    """``module`` or ``module.name`` of each import in ``path`` that reaches into a private part
    of ``agentotel.processors`` (a ``_module`` in the path, or a ``_name`` imported from it)."""
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [(alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            targets = [(node.module, alias.name) for alias in node.names]
        else:
            continue
        for module, name in targets:
            if not module.startswith("agentotel.processors"):
                continue
            parts = module.split(".")
            if any(part.startswith("_") for part in parts) or (name is not None and name.startswith("_")):
                found.append(f"{module}.{name}" if name else module)
    return found


def test_the_cli_uses_only_the_public_read_apis_of_the_processors() -> None:
    cli = sorted((SRC / "cli").rglob("*.py"))
    assert len(cli) > 10
    offenders = {str(p.relative_to(SRC)): found for p in cli if (found := _private_processor_imports(p))}
    assert offenders == {}


def test_the_scan_sees_a_private_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "from agentotel.processors.runstore import _store, load_run\n"
        "from agentotel.processors.runstore._events import RUNNING\n"
        "import agentotel.processors._writer\n"
        "from agentotel.processors.audit import verify\n"
    )
    assert _private_processor_imports(module) == [
        "agentotel.processors.runstore._store",
        "agentotel.processors.runstore._events.RUNNING",
        "agentotel.processors._writer",
    ]


def test_the_call_path_imports_neither_the_endpoints_nor_the_cli() -> None:
    code = (
        "import json, sys\n"
        "import agentotel, agentotel.agent, agentotel.metrics, agentotel.processors\n"
        "import agentotel.instrumentation.openai, agentotel.instrumentation.anthropic\n"
        "loaded = [m for m in sys.modules if m.startswith(('agentotel.endpoints', 'agentotel.cli'))]\n"
        "print(json.dumps(sorted(loaded)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert json.loads(out.stdout) == []
