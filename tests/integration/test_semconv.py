"""Names live in semconv.py only: no ``gen_ai.`` / ``agentotel.`` name literal elsewhere in src/.

Every file under src/agentotel is read (new packages too): Python modules for their string
literals, anything else (data shipped in the package) for its text."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import agentotel
from agentotel import semconv

SRC = Path(agentotel.__file__).parent
NAME = re.compile(r"^(gen_ai|agentotel)\.[a-z0-9_.]*$")
"""A whole name, or the start of one made up at run time (``"gen_ai." + kind``, ``f"agentotel.{x}"``)."""
IN_TEXT = re.compile(r"(?<![\w.])(gen_ai|agentotel)\.[a-z]")


def _docstrings(tree: ast.AST) -> set[int]:
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            doc = node.body[0] if node.body else None
            if isinstance(doc, ast.Expr) and isinstance(doc.value, ast.Constant):
                found.add(id(doc.value))
    return found


def _string_constants(path: Path) -> list[tuple[int, str]]:
    """String literals of a module, docstrings excepted (they may name what they document)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docs = _docstrings(tree)
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs
    ]


def test_no_telemetry_name_literal_outside_semconv() -> None:
    offenders = [
        f"{path.relative_to(SRC)}:{line}: {value!r}"
        for path in sorted(SRC.rglob("*.py"))
        if path.name != "semconv.py"
        for line, value in _string_constants(path)
        if NAME.match(value) or value.startswith("gen_ai.") or '"gen_ai.' in value
    ]
    assert offenders == []


def test_no_telemetry_name_in_the_other_files_under_src() -> None:
    offenders = [
        str(path.relative_to(SRC))
        for path in sorted(SRC.rglob("*"))
        if path.is_file()
        and path.suffix not in (".py", ".pyc")
        and "__pycache__" not in path.parts
        and IN_TEXT.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_semconv_reexports_the_official_gen_ai_names() -> None:
    from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as official

    assert (
        semconv.GEN_AI_USAGE_INPUT_TOKENS == official.GEN_AI_USAGE_INPUT_TOKENS == "gen_ai.usage.input_tokens"
    )
    assert semconv.GEN_AI_PROVIDER_NAME == official.GEN_AI_PROVIDER_NAME == "gen_ai.provider.name"
