"""The manual's configuration reference is generated from ``config.py`` and cannot drift from it.

``make test`` builds the whole manual with ``mkdocs build --strict`` (a broken link, anchor or
missing page fails it); these tests check the generator: every variable ``config.py`` declares
is on the page, with the default and accepted values of the code that reads it.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from agentotel.testing import FakeLLMServer

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
CONFIG = ROOT / "src" / "agentotel" / "config.py"
PAGE = DOCS / "configuration.md"
_VARIABLE = re.compile(r"(AGENTOTEL|OTEL|SENTRY|ANTHROPIC)_[A-Z0-9_]+")


def _hooks() -> ModuleType:
    spec = importlib.util.spec_from_file_location("agentotel_docs_hooks", DOCS / "hooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


hooks = _hooks()


def _rendered() -> str:
    return str(hooks.render(PAGE.read_text(encoding="utf-8")))


def _rows(markdown: str) -> dict[str, list[str]]:
    """Table rows whose first cell is a variable name: name -> the other cells."""
    rows = {}
    for line in markdown.splitlines():
        match = re.match(r"^\| `([A-Z][A-Z0-9_]*)` \|(.*)\|$", line)
        if match:
            rows[match.group(1)] = [cell.strip() for cell in re.split(r"(?<!\\)\|", match.group(2))]
    return rows


def _names_config_reads() -> set[str]:
    """Found independently of the generator: every environment-variable-shaped string constant
    assigned at module level in config.py, and the names it imports from the OTel SDK's
    environment variables."""
    tree = ast.parse(CONFIG.read_text(encoding="utf-8"))
    names = set()
    for node in tree.body:
        value = node.value if isinstance(node, (ast.Assign, ast.AnnAssign)) else None
        if (
            isinstance(value, ast.Constant)
            and isinstance(value.value, str)
            and _VARIABLE.fullmatch(value.value)
        ):
            names.add(value.value)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "opentelemetry.sdk.environment_variables":
            names.update(alias.name for alias in node.names)
    return names


def test_the_page_lists_every_variable_config_py_reads() -> None:
    names = _names_config_reads()
    rows = _rows(_rendered())
    assert "AGENTOTEL_AUDIT_PATH" in names and "OTEL_SDK_DISABLED" in names  # the scan works
    assert sorted(names - set(rows)) == []
    # Only the generated tables list our variables: one row each (the hand-written table below
    # them is about standard OTel variables config.py does not declare).
    assert sorted(set(rows) & names) == sorted(names)
    generated = hooks.reference()
    assert sorted(_rows(generated)) == sorted(names)


@pytest.mark.parametrize(
    ("name", "default", "accepted"),
    [
        ("AGENTOTEL_CONTENT_MAX_LENGTH", "`16384`", "a whole number ≥ 1"),
        ("AGENTOTEL_AUDIT_FSYNC", "`batch`", "one of `batch`, `record`, `never`, `sync` (any case)"),
        ("AGENTOTEL_AUDIT_QUEUE_POLICY", "`block`", "one of `block`, `drop` (any case)"),
        ("AGENTOTEL_RUNS_KEEP", "`100`", "a whole number ≥ 1"),
        ("AGENTOTEL_AUDIT_MAX_BYTES", "`52428800`", "a whole number ≥ 1"),
        ("AGENTOTEL_WRITER_BLOCK_TIMEOUT", "`5`", "seconds, a number > 0 (decimals allowed)"),
        ("AGENTOTEL_METRICS_FILE_INTERVAL", "`15`", "a whole number ≥ 1"),
        ("AGENTOTEL_LOG_FORMAT", "unset", "one of `json`, `text` (any case)"),
        (
            "AGENTOTEL_AUDIT_GUARD_CHECKS",
            "`false`",
            "`true` or `false` (also `1`/`0`, `yes`/`no`, `on`/`off`)",
        ),
        ("AGENTOTEL_AUDIT_PATH", "—", "—"),
    ],
)
def test_default_and_accepted_values_come_from_the_code_that_reads_the_variable(
    name: str, default: str, accepted: str
) -> None:
    default_cell, accepted_cell, _meaning = _rows(hooks.reference())[name]
    assert (default_cell, accepted_cell) == (default, accepted)


def test_the_meaning_is_the_constant_docstring() -> None:
    meaning = _rows(hooks.reference())["AGENTOTEL_RUNS_KEEP"][2]
    assert meaning == "Newest runs kept in the run store (default 100)."


def test_sections_follow_the_comments_of_config_py() -> None:
    headings = re.findall(r"^### (.+)$", hooks.reference(), flags=re.MULTILINE)
    assert headings == [
        "General",
        "Audit log",
        "Run store",
        "The writer threads of the audit log and the run store",
        "Operations",
        "OpenTelemetry variables agentotel reads",
    ]


def test_a_variable_added_to_config_py_appears_with_the_default_of_its_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))  # the generator imports the reading modules
    package = tmp_path / "docs_gen_pkg"
    package.mkdir()
    config = package / "config.py"
    config.write_text(
        CONFIG.read_text(encoding="utf-8")
        + '\nNEW_KNOB: Final = "AGENTOTEL_NEW_KNOB"\n"""Knobs turned (a made-up setting)."""\n',
        encoding="utf-8",
    )
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "reader.py").write_text(
        "from docs_gen_pkg import config\n\n"
        "DEFAULT_KNOBS = 7\n"
        "KNOBS = config.positive_int({}, config.NEW_KNOB, DEFAULT_KNOBS)\n",
        encoding="utf-8",
    )
    row = _rows(hooks.reference(config, package))["AGENTOTEL_NEW_KNOB"]
    assert row == ["`7`", "a whole number ≥ 1", "Knobs turned (a made-up setting)."]


def test_the_page_without_its_marker_is_an_error() -> None:
    with pytest.raises(ValueError, match="configuration-reference"):
        hooks.render("# Configuration reference\n\nno marker here\n")


def test_mkdocs_fills_the_configuration_page_only() -> None:
    class File:
        def __init__(self, uri: str) -> None:
            self.src_uri = uri

    class Page:
        def __init__(self, uri: str) -> None:
            self.file = File(uri)

    marked = "before\n\n" + hooks.MARKER + "\n"
    assert hooks.on_page_markdown(marked, Page("cost.md"), None, None) == marked
    filled = hooks.on_page_markdown(marked, Page("configuration.md"), None, None)
    assert filled.startswith("before\n\n### General\n") and hooks.MARKER not in filled


# --- the README's example -------------------------------------------------------------------------
README = ROOT / "README.md"
BIN = Path(sys.executable).parent


def _readme_example() -> str:
    blocks = re.findall(r"^```python\n(.*?)^```", README.read_text(encoding="utf-8"), re.M | re.S)
    examples = [b for b in blocks if "agentotel.agent(" in b and "OpenAI()" in b]
    assert len(examples) == 1, "the README has one example of an agent under opentelemetry-instrument"
    return str(examples[0])


def _console_spans(stdout: str) -> tuple[list[str], list[dict[str, Any]]]:
    """The lines the program printed, and the spans the console exporter wrote (JSON objects)."""
    decoder = json.JSONDecoder()
    lines: list[str] = []
    spans: list[dict[str, Any]] = []
    pos = 0
    while pos < len(stdout):
        if stdout[pos] == "{":
            span, pos = decoder.raw_decode(stdout, pos)
            spans.append(span)
        else:
            end = stdout.find("\n", pos)
            end = len(stdout) if end < 0 else end
            if stdout[pos:end].strip():
                lines.append(stdout[pos:end])
            pos = end + 1
    return lines, spans


def test_the_readme_example_runs_under_opentelemetry_instrument(tmp_path: Path) -> None:
    (tmp_path / "agent.py").write_text(_readme_example(), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AGENTOTEL_", "OPENAI_"))}
    with FakeLLMServer() as server:
        env.update(
            PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            OPENAI_API_KEY="sk-readme-example",
            OPENAI_BASE_URL=server.openai_base_url,
            OTEL_PYTHON_DISTRO="agentotel",
            OTEL_PYTHON_CONFIGURATOR="agentotel",
            PYTHONUNBUFFERED="1",
        )
        command = [str(BIN / "opentelemetry-instrument"), "--traces_exporter", "console"]
        command += ["--metrics_exporter", "none", "--logs_exporter", "none", "python", "agent.py"]
        done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    printed, spans = _console_spans(done.stdout)
    assert printed == ["Hello from the fake LLM server."]
    by_name = {}
    for span in spans:
        by_name.setdefault(span["name"], []).append(span)
    assert sorted(by_name) == ["chat gpt-4o", "execute_tool get_weather", "invoke_agent weather"]
    assert [len(by_name[n]) for n in sorted(by_name)] == [2, 1, 1]
    (root,) = by_name["invoke_agent weather"]
    (tool,) = by_name["execute_tool get_weather"]
    assert root["parent_id"] is None
    assert [s["parent_id"] for s in spans if s is not root] == [root["context"]["span_id"]] * 3
    assert {s["context"]["trace_id"] for s in spans} == {root["context"]["trace_id"]}
    assert tool["attributes"]["gen_ai.tool.call.id"] == "call_1"
    assert root["attributes"]["gen_ai.usage.input_tokens"] == 15
    assert root["attributes"]["gen_ai.usage.output_tokens"] == 8
    assert [(s["attributes"]["gen_ai.conversation.id"], s["attributes"]["user.id"]) for s in spans] == [
        ("conv-42", "u-7")
    ] * 4
