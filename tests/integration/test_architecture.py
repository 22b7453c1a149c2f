"""The shape of src/agentotel that docs/architecture.md promises, read from the source (nothing runs).

``make lint`` runs ``lint-imports`` on the contracts in pyproject.toml (the layers, no cycle between
sibling packages, ``agentotel.testing`` on its own). These tests check what those contracts do not
see: a cycle through a package's ``__init__``, a module that no layer holds, a module too long.
Imports inside functions count; imports under ``if TYPE_CHECKING:`` do not (they never run).
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Iterator
from pathlib import Path

import grimp
import pytest

import agentotel

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10: tomli comes with pytest and mypy there
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
SRC = Path(agentotel.__file__).parent
MAX_LINES = 400
# semconv.py is the one table of names: both GenAI convention modes' name sets live in it (issue 16
# asks for exactly that), so it has a limit of its own rather than being split across modules.
LIMITS = {Path("semconv.py"): 600}


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("agentotel", exclude_type_checking_imports=True, cache_dir=None)


def test_no_module_has_more_than_400_lines() -> None:
    offenders = [
        f"{path.relative_to(SRC)}: {lines} lines"
        for path in sorted(SRC.rglob("*.py"))
        if (lines := len(path.read_text(encoding="utf-8").splitlines()))
        > LIMITS.get(path.relative_to(SRC), MAX_LINES)
    ]
    assert offenders == []


def _components(graph: grimp.ImportGraph) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's, without recursion)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str, work: list[tuple[str, Iterator[str]]]) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        work.append((module, iter(sorted(graph.find_modules_directly_imported_by(module)))))

    for root in sorted(graph.modules):
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = []
        visit(root, work)
        while work:
            module, imported = work[-1]
            child = next(imported, None)
            if child is not None:
                if child not in index:
                    visit(child, work)
                elif child in stack:
                    low[module] = min(low[module], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[module])
            if low[module] == index[module]:
                component = stack[stack.index(module) :]
                del stack[stack.index(module) :]
                if len(component) > 1:
                    found.append(sorted(component))
    return sorted(found)


def _cycle(graph: grimp.ImportGraph, component: list[str]) -> str:
    """One import cycle through the first module of ``component``, each import with its line."""
    first = component[0]
    back = min(
        (
            chain
            for step in graph.find_modules_directly_imported_by(first)
            if step in component
            and (chain := graph.find_shortest_chain(importer=step, imported=first)) is not None
        ),
        key=len,
    )
    steps = []
    for importer, imported in itertools.pairwise([first, *back]):
        [detail, *_] = graph.get_import_details(importer=importer, imported=imported)
        steps.append(f"{importer} (l.{detail['line_number']})")
    return " -> ".join([*steps, back[-1]])


def test_no_import_cycle_between_modules(graph: grimp.ImportGraph) -> None:
    """Any cycle, also one through a package's ``__init__`` (which acyclic_siblings does not see)."""
    assert [_cycle(graph, component) for component in _components(graph)] == []


def _layers() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    [contract] = [c for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "layers"]
    names = (name for layer in contract["layers"] for name in layer.replace("|", ":").split(":"))
    return [name.strip(" \n()") for name in names]


def test_every_module_belongs_to_one_layer(graph: grimp.ImportGraph) -> None:
    """A new module needs its place in the layers contract (and in docs/architecture.md's table):
    a module in no layer is checked by nothing. Outside the layers: the two package ``__init__``
    modules that only re-export (``agentotel``, ``agentotel.instrumentation``) and
    ``agentotel.testing`` (a contract of its own)."""
    layered = _layers()
    outside = {"agentotel", "agentotel.instrumentation"}
    homeless = [
        f"{module}: in {[name for name in layered if module == name or module.startswith(name + '.')]}"
        for module in sorted(graph.modules)
        if module not in outside
        and module != "agentotel.testing"
        and not module.startswith("agentotel.testing.")
        and sum(module == name or module.startswith(name + ".") for name in layered) != 1
    ]
    assert homeless == []


def test_no_two_test_modules_share_a_name() -> None:
    """``tests/`` has no ``__init__.py`` (rootdir-based imports): two test modules of one name in
    two folders fail the whole suite with "import file mismatch", while each folder alone passes."""
    names = sorted(p.name for p in (ROOT / "tests").rglob("*.py") if p.name != "conftest.py")
    assert [name for name, group in itertools.groupby(names) if len(list(group)) > 1] == []
