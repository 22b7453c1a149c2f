"""MkDocs hook: the configuration reference, generated from ``src/agentotel/config.py``.

Every environment variable agentotel reads is a constant in ``config.py`` with a docstring right
after it (``AUDIT_PATH: Final = "AGENTOTEL_AUDIT_PATH"`` then ``\"\"\"...\"\"\"``), grouped by
``# --- section`` comments. The page ``configuration.md`` holds the marker
``<!-- configuration-reference -->``; this hook replaces it with one table per section: the
variable, its default and accepted values, and its meaning (the docstring).

The default and the accepted values come from the code that reads the variable: every call of
``config.positive_int`` / ``positive_seconds`` / ``choice`` / ``flag`` in ``src/agentotel`` whose
variable argument is one of the constants; the default (and, for ``choice``, the accepted tuple)
expression is evaluated in the namespace of the module that makes the call. A variable read some
other way shows the default its docstring states. So the page cannot drift from the code.
"""

from __future__ import annotations

import ast
import importlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "agentotel"
CONFIG = PACKAGE / "config.py"
MARKER = "<!-- configuration-reference -->"
PAGE = "configuration.md"

_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
_SECTION = re.compile(r"^#\s*---\s*(.*?)\s*-*\s*$")
_DOC_DEFAULT = re.compile(r"\(default:?\s+([^)]*?)\)|``([^`]+)`` \(default|(\w+) \(default\)")
_OTEL_ENV_MODULE = "opentelemetry.sdk.environment_variables"
_READERS = {
    "positive_int": "a whole number ≥ 1",
    "_positive_int": "a whole number ≥ 1",
    "positive_seconds": "seconds, a number > 0 (decimals allowed)",
    "choice": "",  # filled with the accepted values
    "flag": "`true` or `false` (also `1`/`0`, `yes`/`no`, `on`/`off`)",
}
_GENERAL = "General"
_OTEL_SECTION = "OpenTelemetry variables agentotel reads"


@dataclass(frozen=True)
class Variable:
    """One environment variable as ``config.py`` declares it."""

    name: str
    constant: str
    meaning: str
    section: str
    default: str = "—"
    accepted: str = "—"


@dataclass(frozen=True)
class _Read:
    reader: str
    module: str
    default: ast.expr | None
    accepted: ast.expr | None


def _one_line(doc: str) -> str:
    return " ".join(doc.split())


def _section_title(comment: str) -> str:
    title = re.sub(r"\s*\(.*\)\s*", "", comment).strip()
    return title[:1].upper() + title[1:]


def _sections(lines: list[str]) -> list[tuple[int, str]]:
    found = []
    for number, line in enumerate(lines, start=1):
        match = _SECTION.match(line.strip())
        if match and match.group(1):
            found.append((number, _section_title(match.group(1))))
    return found


def _section_at(sections: list[tuple[int, str]], lineno: int) -> str:
    title = _GENERAL
    for number, name in sections:
        if number < lineno:
            title = name
    return title


def _assigned_name(node: ast.stmt) -> tuple[str, str] | None:
    """``(constant, value)`` for ``CONSTANT: Final = "VALUE"`` / ``CONSTANT = "VALUE"``."""
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        target, value = node.target.id, node.value
    elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
        target, value = node.targets[0].id, node.value
    else:
        return None
    if isinstance(value, ast.Constant) and isinstance(value.value, str) and _NAME.match(value.value):
        return target, value.value
    return None


def _docstring(node: ast.stmt | None) -> str | None:
    if (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    ):
        return node.value.value
    return None


def _function_doc_using(tree: ast.Module, name: str) -> str:
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and any(
            isinstance(n, ast.Name) and n.id == name for n in ast.walk(node)
        ):
            return ast.get_docstring(node) or ""
    return ""


def _declared(source: str) -> list[Variable]:
    tree = ast.parse(source)
    sections = _sections(source.splitlines())
    found: list[Variable] = []
    body = tree.body
    for index, node in enumerate(body):
        named = _assigned_name(node)
        following = body[index + 1] if index + 1 < len(body) else None
        doc = _docstring(following)
        if named is not None and doc is not None:
            constant, name = named
            section = _section_at(sections, node.lineno)
            found.append(Variable(name, constant, _one_line(doc), section))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == _OTEL_ENV_MODULE:
            for alias in node.names:
                meaning = _one_line(_function_doc_using(tree, alias.asname or alias.name))
                found.append(Variable(alias.name, alias.asname or alias.name, meaning, _OTEL_SECTION))
    return found


def declared_variables(config: Path = CONFIG) -> list[Variable]:
    """Every variable ``config`` declares (constant + docstring, or imported from the OTel SDK)."""
    return _declared(config.read_text(encoding="utf-8"))


def _module_name(path: Path, package: Path) -> str:
    parts = list(path.relative_to(package.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _terminal(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _reads(package: Path, constants: set[str]) -> dict[str, _Read]:
    """For each constant, the first reader call found in ``package`` (sorted by path)."""
    reads: dict[str, _Read] = {}
    for path in sorted(package.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or len(node.args) < 2:
                continue
            reader = _terminal(node.func)
            variable = _terminal(node.args[1])
            if reader not in _READERS or variable not in constants or variable in reads:
                continue
            if reader == "choice":
                default = node.args[3] if len(node.args) > 3 else None
                accepted = node.args[2] if len(node.args) > 2 else None
            elif reader == "flag":
                default = node.args[2] if len(node.args) > 2 else ast.Constant(False)
                accepted = None
            else:
                default = node.args[2] if len(node.args) > 2 else None
                accepted = None
            reads[variable] = _Read(reader, _module_name(path, package), default, accepted)
    return reads


def _evaluate(expr: ast.expr, module: str) -> Any:
    try:
        return ast.literal_eval(expr)
    except ValueError:
        pass  # a name or an expression: evaluated where the call is
    namespace = vars(importlib.import_module(module))
    return eval(compile(ast.fix_missing_locations(ast.Expression(expr)), module, "eval"), dict(namespace))


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if value == "" or value is None:
        return "unset"
    return f"`{value}`"


def _doc_default(meaning: str) -> str:
    match = _DOC_DEFAULT.search(meaning)
    if match is None:
        return "—"
    text = next(group for group in match.groups() if group)
    return text if " " in text else f"`{text}`"


def _complete(variable: Variable, read: _Read | None) -> Variable:
    if read is None:
        return Variable(**{**variable.__dict__, "default": _doc_default(variable.meaning)})
    default = _literal(_evaluate(read.default, read.module)) if read.default is not None else "—"
    accepted = _READERS[read.reader]
    if read.reader == "choice" and read.accepted is not None:
        values = _evaluate(read.accepted, read.module)
        accepted = "one of " + ", ".join(f"`{v}`" for v in values) + " (any case)"
    return Variable(**{**variable.__dict__, "default": default, "accepted": accepted})


def variables(config: Path = CONFIG, package: Path = PACKAGE) -> list[Variable]:
    """Every declared variable with the default and accepted values of the code that reads it."""
    declared = declared_variables(config)
    reads = _reads(package, {v.constant for v in declared})
    return [_complete(v, reads.get(v.constant)) for v in declared]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def reference(config: Path = CONFIG, package: Path = PACKAGE) -> str:
    """The generated Markdown: one table per ``config.py`` section."""
    out: list[str] = []
    section = None
    for variable in variables(config, package):
        if variable.section != section:
            section = variable.section
            out += [
                "",
                f"### {section}",
                "",
                "| variable | default | accepted values | meaning |",
                "|---|---|---|---|",
            ]
        out.append(
            f"| `{variable.name}` | {_cell(variable.default)} | {_cell(variable.accepted)} "
            f"| {_cell(_rst_to_md(variable.meaning))} |"
        )
    return "\n".join(out).strip() + "\n"


def _rst_to_md(text: str) -> str:
    """The docstrings' reST literals (````x````) as Markdown code (```x```)."""
    return text.replace("``", "`")


def render(markdown: str, config: Path = CONFIG, package: Path = PACKAGE) -> str:
    """``markdown`` with the marker replaced by the reference; an error if the marker is missing."""
    if MARKER not in markdown:
        raise ValueError(f"{PAGE} lost its marker {MARKER}")
    return markdown.replace(MARKER, reference(config, package))


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """MkDocs event: fill the configuration page."""
    if page.file.src_uri == PAGE:
        return render(markdown)
    return markdown
