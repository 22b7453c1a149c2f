"""No sync/async twins in src/agentotel: a sync function and its async counterpart are not two
copies of the same code (../shared/STYLE.md: "Sync and async copies that drift").

Counterparts, by name: in one module or class ``x``/``ax``, ``x``/``x_async``, ``x``/``async_x``,
``sync_x``/``async_x``, ``__enter__``/``__aenter__`` (and ``__exit__``, ``__iter__``,
``__next__``, ``close``); in one module, the methods of classes ``X``/``AsyncX`` or
``SyncX``/``AsyncX`` of the same (or counterpart) name. They are twins when both have at least
four statements (nested ones counted, the docstring not) and read the same once the async one is
made sync (``await`` and ``async`` dropped, async names made sync): a difflib ratio of 0.8 or
more. Then one copy will gain a fix the other lacks: put the logic in one shared place and keep the
counterparts to a few statements that call it.

This finds the copies that keep their names and shape; a renamed copy elsewhere is what
``duplicates`` (STYLE.md, habit 10) is for.
"""

from __future__ import annotations

import ast
import copy
import difflib
from collections.abc import Iterator
from pathlib import Path

import agentotel

SRC = Path(agentotel.__file__).parent
MIN_STATEMENTS = 4
SIMILARITY = 0.8
ALLOWED = {
    # The one place where a call's sync and async paths must differ: the ``await`` of the app's
    # own call. Every step around it is a shared helper (_start, _failed, _returned), and the
    # test checks that the two stay the same code but for ``await``.
    ("_safe.py", "sync_wrapper", "async_wrapper"),
    # The same for a call that starts when the SDK sends (its steps are _raised and _done).
    ("instrumentation/_deferred.py", "sync_wrapper", "async_wrapper"),
}
_SYNC_NAMES = {
    "__aenter__": "__enter__",
    "__aexit__": "__exit__",
    "__aiter__": "__iter__",
    "__anext__": "__next__",
    "aclose": "close",
    "StopAsyncIteration": "StopIteration",
}

Function = ast.FunctionDef | ast.AsyncFunctionDef


def _sync_name(name: str) -> str:
    return _SYNC_NAMES.get(name, name).replace("Async", "Sync").replace("async_", "sync_")


class _MadeSync(ast.NodeTransformer):
    """An async body as its sync counterpart would read it."""

    def _as(self, node: ast.AST, kind: type[ast.AST]) -> ast.AST:
        fields = {name: getattr(node, name) for name in kind._fields if hasattr(node, name)}
        return self.generic_visit(ast.copy_location(kind(**{**fields, "type_comment": None}), node))

    def visit_Await(self, node: ast.Await) -> ast.AST:
        return self.visit(node.value)

    def visit_AsyncFor(self, node: ast.AsyncFor) -> ast.AST:
        return self._as(node, ast.For)

    def visit_AsyncWith(self, node: ast.AsyncWith) -> ast.AST:
        return self._as(node, ast.With)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> ast.AST:
        return self._as(node, ast.FunctionDef)

    def visit_Name(self, node: ast.Name) -> ast.AST:
        node.id = _sync_name(node.id)
        return node

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        self.generic_visit(node)
        node.attr = _sync_name(node.attr)
        return node


def _body(function: Function) -> list[ast.stmt]:
    body = function.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        return body[1:]
    return body


def _statements(function: Function) -> int:
    return sum(isinstance(node, ast.stmt) for statement in _body(function) for node in ast.walk(statement))


def _code(function: Function) -> str:
    made_sync = [_MadeSync().visit(copy.deepcopy(statement)) for statement in _body(function)]
    return ast.unparse(ast.Module(body=made_sync, type_ignores=[]))


def _functions(scope: ast.Module | ast.ClassDef) -> dict[str, Function]:
    return {node.name: node for node in scope.body if isinstance(node, Function)}


def _sync_counterparts(name: str) -> list[str]:
    if name in _SYNC_NAMES:
        return [_SYNC_NAMES[name]]
    if name.startswith("async_"):
        return [name[len("async_") :], "sync_" + name[len("async_") :]]
    if name.endswith("_async"):
        return [name[: -len("_async")]]
    return [name[1:]] if name.startswith("a") and len(name) > 1 else []


def _pairs(tree: ast.Module) -> Iterator[tuple[Function, Function]]:
    """(sync, async) counterparts in ``tree`` (see the module docstring)."""
    for scope in [tree, *(node for node in ast.walk(tree) if isinstance(node, ast.ClassDef))]:
        functions = _functions(scope)
        for name, function in functions.items():
            for sync_name in _sync_counterparts(name):
                if sync_name in functions:
                    yield functions[sync_name], function
    classes = {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}
    for name, async_class in classes.items():
        base = name[len("Async") :]
        for sync_class in (classes.get(base), classes.get("Sync" + base)) if name.startswith("Async") else ():
            if sync_class is None:
                continue
            sync_methods = _functions(sync_class)
            for method_name, method in _functions(async_class).items():
                sync_method = sync_methods.get(_SYNC_NAMES.get(method_name, method_name))
                if sync_method is not None:
                    yield sync_method, method


def _twin(module: str, sync: Function, async_: Function) -> str | None:
    if (module, sync.name, async_.name) in ALLOWED:
        same = _code(sync) == _code(async_)
        return None if same else f"{module}:{async_.lineno}: {async_.name} is no longer {sync.name} + await"
    ratio = difflib.SequenceMatcher(None, _code(sync), _code(async_)).ratio()
    counts = _statements(sync), _statements(async_)
    if min(counts) < MIN_STATEMENTS or ratio < SIMILARITY:
        return None
    return (
        f"{module}:{sync.lineno}/{async_.lineno}: {sync.name} ({counts[0]} statements)"
        f" ~ {async_.name} ({counts[1]}), {ratio:.0%} the same"
    )


def test_no_sync_async_twins() -> None:
    twins = [
        twin
        for path in sorted(SRC.rglob("*.py"))
        for sync, async_ in _pairs(ast.parse(path.read_text(encoding="utf-8")))
        if (twin := _twin(str(path.relative_to(SRC)), sync, async_)) is not None
    ]
    assert twins == []
