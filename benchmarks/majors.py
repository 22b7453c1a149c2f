"""The overhead table on each major of ``openai``: ``overhead.py``'s OpenAI workloads, run by the
interpreter of one virtual environment per major, in one table.

Each venv runs ``VENV/bin/python benchmarks/overhead.py`` for ``openai_chat``, ``openai_chat_tool``
and ``openai_chat_stream`` in the modes ``none``, ``semconv`` (the semconv floor) and ``agentotel``,
so every figure of a major is measured with that major's SDK and the HTTP library it is built on
(``httpx2`` for openai 3.x, ``httpx`` for 1.x and 2.x), the floor included.

    .venv/bin/python benchmarks/majors.py --setup          # once: the venvs of the newest 1.x, 2.x, 3.x
    .venv/bin/python benchmarks/majors.py --jobs 2         # full plan + CPU time: about 25 min
    .venv/bin/python benchmarks/majors.py --only --jobs 2  # instructions only, quick plan: about 12 min
    .venv/bin/python benchmarks/majors.py --venv .nox/x --venv /path/to/venv   # other venvs

``--setup`` makes ``benchmarks/out/venvs/openai-N`` (git-ignored) with ``uv``: the same Python as
the running interpreter, agentotel installed editable from this tree, the newest release of
``openai`` N.x, and every other package at the version the running interpreter has (a constraints
file), so that the majors differ by the SDK and its HTTP library only. See ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OVERHEAD = ROOT / "benchmarks" / "overhead.py"
VENVS = ROOT / "benchmarks" / "out" / "venvs"
# The newest release of each supported major (the project's range is openai>=1.40,<4).
MAJORS = {1: "openai>=1.40,<2", 2: "openai>=2,<3", 3: "openai>=3,<4"}
WORKLOADS = ("openai_chat", "openai_chat_tool", "openai_chat_stream")
LABELS = {
    "openai_chat": "chat",
    "openai_chat_tool": "chat, tool call",
    "openai_chat_stream": "chat, 20-chunk stream",
}
MODES = ("none", "semconv", "agentotel")


def setup_commands(python: str, uv: str, constraints: Path) -> list[tuple[list[str], dict[str, str]]]:
    """The commands ``--setup`` runs: per major, a venv and the install (command, extra env)."""
    commands: list[tuple[list[str], dict[str, str]]] = []
    for major, requirement in MAJORS.items():
        venv = VENVS / f"openai-{major}"
        install = [uv, "pip", "install", "-q", "-c", str(constraints), "-e", str(ROOT), requirement]
        commands.append(([uv, "venv", "-q", "-p", python, str(venv)], {}))
        commands.append((install, {"VIRTUAL_ENV": str(venv)}))
    return commands


def write_constraints(uv: str, path: Path) -> None:
    """Pin every package the running interpreter has (but openai and agentotel) to its version
    there: the majors then differ by openai (and the HTTP library it needs) only, with the same
    OpenTelemetry SDK, pydantic, wrapt, ... as the project's venv."""
    frozen = subprocess.run(
        [uv, "pip", "freeze", "--python", sys.executable], capture_output=True, text=True, check=True
    ).stdout
    pins = [
        line
        for line in frozen.splitlines()
        if "==" in line and not line.lower().startswith(("openai==", "agentotel=="))
    ]
    path.write_text("\n".join(pins) + "\n")


def _uv() -> str:
    beside = Path(sys.executable).parent / "uv"
    found = str(beside) if beside.exists() else shutil.which("uv")
    if found is None:
        raise SystemExit("uv not found (beside the interpreter or on PATH): pip install uv")
    return found


def setup() -> int:
    uv = _uv()
    VENVS.mkdir(parents=True, exist_ok=True)
    constraints = VENVS / "constraints.txt"
    write_constraints(uv, constraints)
    print(f"# {constraints}: the versions of {sys.executable}'s packages, openai and agentotel excepted")
    for command, env in setup_commands(sys.executable, uv, constraints):
        shown = " ".join(f"{k}={v}" for k, v in env.items())
        print(f"$ {shown + ' ' if shown else ''}{shlex.join(command)}", flush=True)
        subprocess.run(command, env={**os.environ, **env}, check=True, cwd=ROOT)
    for major in MAJORS:
        python = VENVS / f"openai-{major}" / "bin" / "python"
        info = subprocess.run(
            [str(python), "-c", "import openai; print(openai.__version__)"],
            capture_output=True,
            text=True,
            check=True,
        )
        print(f"{python}: openai {info.stdout.strip()}")
    return 0


def interpreter(venv: str) -> Path:
    """The Python of ``venv`` (a venv directory or an interpreter path); a clear error if absent."""
    path = Path(venv)
    python = path if path.is_file() else path / "bin" / "python"
    if not python.exists():
        raise SystemExit(
            f"--venv {venv}: no interpreter at {python}; create the default venvs with "
            f"`{Path(sys.executable).name} benchmarks/majors.py --setup`, or pass a venv that has "
            "agentotel and openai installed"
        )
    return python


def run_major(python: Path, args: argparse.Namespace, out: Path) -> dict[str, Any]:
    """``overhead.py`` under ``python`` for the OpenAI workloads; its JSON results."""
    if args.only:
        plan = ["--only", ",".join(WORKLOADS)]
    else:
        plan = [a for w in WORKLOADS for a in ("--workload", w)]
        plan += [
            "--modes",
            ",".join(MODES),
            "--no-memory",
            *(["--no-callgrind"] if args.no_callgrind else []),
        ]
    command = [str(python), str(OVERHEAD), *plan, "--jobs", str(args.jobs), "--json", str(out)]
    print(f"$ {shlex.join(command)}", file=sys.stderr, flush=True)
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, cwd=ROOT, check=False)
    if done.returncode != 0:
        raise SystemExit(f"failed ({done.returncode}): {shlex.join(command)}\n{done.stdout[-3000:]}")
    result: dict[str, Any] = json.loads(out.read_text())
    result["interpreter"] = str(python)
    where = subprocess.run(
        [str(python), "-c", "import agentotel; print(agentotel.__file__)"],
        capture_output=True,
        text=True,
        check=True,
    )
    result["agentotel"] = str(Path(where.stdout.strip()).parent)
    return result


def _ratio(numerator: float, denominator: float) -> str:
    return "n/a" if denominator <= 0 else f"{numerator / denominator:.2f}"


def table(results: Sequence[dict[str, Any]], kind: str, spec: str) -> str:
    """One markdown table, rows workload x major: the modes, the overheads and both ratios."""
    head = (
        "| workload | openai (HTTP library) | none | semconv | agentotel | semconv - none "
        "| agentotel - none | agentotel / floor | agentotel / none |"
    )
    lines = [head, "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for workload in WORKLOADS:
        for r in results:
            if kind not in r or workload not in r[kind]:
                continue
            v = r[kind][workload]
            sdk = r["sdks"]["openai"]
            floor, ours = v["semconv"] - v["none"], v["agentotel"] - v["none"]
            lines.append(
                f"| {LABELS[workload]} | {sdk['version']} ({sdk['http']}) | {v['none']:{spec}} "
                f"| {v['semconv']:{spec}} | {v['agentotel']:{spec}} | {floor:+{spec}} | {ours:+{spec}} "
                f"| {_ratio(ours, floor)} | {_ratio(v['agentotel'], v['none'])} |"
            )
    return "\n".join(lines)


def _parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--venv",
        action="append",
        metavar="PATH",
        help="a venv (directory or interpreter) with agentotel and one openai major; repeatable "
        f"(default: {', '.join(str((VENVS / f'openai-{m}').relative_to(ROOT)) for m in MAJORS)})",
    )
    parser.add_argument("--setup", action="store_true", help="create the default venvs with uv, then stop")
    parser.add_argument(
        "--only", action="store_true", help="instructions only, overhead.py's quick --only plan (no CPU time)"
    )
    parser.add_argument("--no-callgrind", action="store_true", help="CPU time only (no valgrind needed)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="parallel callgrind runs")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write every major's results to PATH")
    args = parser.parse_args(argv)
    if args.only and args.no_callgrind:
        parser.error("--only measures instructions: it takes no --no-callgrind")
    return args


def main(argv: Sequence[str]) -> int:
    args = _parse_args(argv)
    if args.setup:
        return setup()
    venvs = args.venv or [str(VENVS / f"openai-{m}") for m in MAJORS]
    pythons = [interpreter(v) for v in venvs]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="agentotel-majors-") as tmp:
        results = [run_major(p, args, Path(tmp) / f"{i}.json") for i, p in enumerate(pythons)]
    results.sort(key=lambda r: tuple(int(x) for x in r["sdks"]["openai"]["version"].split(".")[:3]))
    report = []
    if "instructions_per_call" in results[0]:
        plan = results[0]["plan"]
        report.append(
            "Instructions per call (callgrind Ir, (Ir(N2) - Ir(N1)) / (N2 - N1), "
            f"N1={plan['cg_n1']}, N2={plan['cg_n2']}, after {plan['cg_warmup']} warm-up calls)\n"
            + table(results, "instructions_per_call", ",.0f")
        )
    if "cpu_us_per_call" in results[0]:
        plan = results[0]["plan"]
        report.append(
            f"CPU µs per call (time.process_time, median of {plan['cpu_repeats']} x {plan['cpu_calls']} "
            "calls; noisy on a shared machine)\n" + table(results, "cpu_us_per_call", ",.1f")
        )
    print("\n\n".join(report))
    print(
        "\nagentotel / floor = (agentotel - none) / (semconv - none), the ratio targeted in "
        "benchmarks/README.md; agentotel / none = the instrumented call over the uninstrumented one."
    )
    print(
        "Python "
        + ", ".join(sorted({r["python"] for r in results}))
        + "; interpreters: "
        + ", ".join(f"{r['interpreter']} (openai {r['sdks']['openai']['version']})" for r in results)
        + "; agentotel from "
        + ", ".join(sorted({r["agentotel"] for r in results}))
    )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str) + "\n")
        print(f"JSON results: {args.json}")
    print(
        f"Finished in {time.perf_counter() - started:.0f} s. "
        f"Command: {shlex.join([sys.executable, *sys.argv])}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
