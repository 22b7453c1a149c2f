"""One telemetry holder: everything agentotel records about the app (spans; metrics of calls,
tools, agents, cost) goes through ``agentotel/_telemetry.py``. It alone calls ``get_tracer``
(the module function or a provider's method) and gets a meter for instruments.

The rule for meters elsewhere: a component that no instrumentor's holder reaches (the span
processors, which a user builds with a meter provider of their choice; the metrics endpoints and
textfile export, which count against the exposition's provider; the Sentry integration) may get
agentotel's meter only for its self-metrics: its :class:`~agentotel._safe.Boundary`
(``agentotel.telemetry.errors``) and the ``telemetry_*`` instruments of ``metrics/instruments.py``
(``agentotel.telemetry.*``). A meter used for anything else is a second holder.
"""

from __future__ import annotations

import ast
from pathlib import Path

import agentotel

SRC = Path(agentotel.__file__).parent
HOLDER = "_telemetry.py"


def _called(node: ast.Call) -> str | None:
    func = node.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def _self_metric(node: ast.AST | None) -> bool:
    """A call making a self-metric: ``Boundary(...)`` or a ``telemetry_*`` instrument."""
    called = _called(node) if isinstance(node, ast.Call) else None
    return called is not None and (called == "Boundary" or called.startswith("telemetry_"))


def _only_self_metrics(call: ast.Call, tree: ast.Module) -> bool:
    """``Boundary(..., get_meter(...))``, or ``meter = get_meter(...)`` in a function that passes
    ``meter`` to self-metrics only."""
    parents = {child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
    assigned = parents.get(call)
    if _self_metric(assigned):
        return True
    if not isinstance(assigned, ast.Assign) or [type(t) for t in assigned.targets] != [ast.Name]:
        return False
    [target] = assigned.targets
    assert isinstance(target, ast.Name)
    scope = parents.get(assigned)
    while scope is not None and not isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
        scope = parents.get(scope)
    uses = [
        node
        for node in ast.walk(scope or tree)
        if isinstance(node, ast.Name) and node.id == target.id and node is not target
    ]
    return bool(uses) and all(_self_metric(parents.get(use)) for use in uses)


def test_only_the_holder_gets_a_tracer_or_a_meter_for_instruments() -> None:
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        if str(path.relative_to(SRC)) == HOLDER:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            called = _called(node)
            if called == "get_tracer" or (called == "get_meter" and not _only_self_metrics(node, tree)):
                offenders.append(f"{path.relative_to(SRC)}:{node.lineno}: {called}")
    assert offenders == []
