"""The harness of the agent-framework bridge benchmarks (``openai_agents.py``,
``pydantic_ai_bridge.py``, ...): what every one of them shares.

A framework benchmark is a :class:`Bridge`: its workloads, the spans each makes, and ``build``,
which makes one call of a workload in one mode (the baseline, ``hand`` or ``agentotel``) on the
:class:`Telemetry` the harness gives it. Its ``hand`` mode writes, inline, exactly the spans and
metric records the bridge makes, with the agent layer's instruments (:meth:`Telemetry.floor`).
The harness does the rest: one fresh subprocess per (workload, mode) that first checks its spans,
callgrind switched on only once the child is set up and warmed up (``--instr-atstart=no``:
importing a framework under full callgrind takes minutes), ``(Ir(N2) - Ir(N1)) / (N2 - N1)``,
CPU time with ``--no-callgrind``, and the tables::

    BRIDGE = Bridge(description=..., script=Path(__file__).resolve(), modes=("none", "hand",
                    "agentotel"), workloads=("run", "tool"), expected={...}, plans={...},
                    build=_build, tables=lambda per: [("{unit} per agent run", per["run"])])

    if __name__ == "__main__":
        sys.exit(run(BRIDGE, sys.argv[1:]))

The provider instrumentors are off in every mode: the bridge alone is measured (``overhead.py``
measures an LLM call).
"""

from __future__ import annotations

import argparse
import gc
import json
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from overhead import (
    _CHILD_FLAG,
    _READY,
    _RESULT_PREFIX,
    _callgrind_run,
    _callgrind_total,
    _child_env,
    _DropExporter,
    _out_dir,
    _run_child,
    _settle,
)

TARGET = 1.3  # issue 15: the bridge at most 1.3x the hand-written spans


@dataclass(frozen=True)
class Plan:
    warmup: int
    n1: int
    n2: int
    cpu_calls: int
    cpu_repeats: int


class Exporter(_DropExporter):
    """``overhead.py``'s exporter (counts, keeps the last), which also lists span names while
    ``names`` is a list: the children's check."""

    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] | None = None

    def export(self, spans: Sequence[Any]) -> Any:
        if self.names is not None:
            self.names.extend(s.name for s in spans)
        return super().export(spans)


@dataclass(frozen=True)
class Floor:
    """The agent layer's instruments (same names, units, bucket advisories) for a ``hand`` mode:
    ``tool_duration`` (``agentotel.tool.duration``), ``run_duration``
    (``agentotel.workflow.duration``), ``active`` (``agentotel.workflow.active``)."""

    tracer: Any
    tool_duration: Any
    run_duration: Any
    active: Any


class Telemetry:
    """The OTel SDK set-up of every mode: a ``TracerProvider`` with a ``SimpleSpanProcessor`` on an
    :class:`Exporter`, a ``MeterProvider`` with an ``InMemoryMetricReader`` never collected while
    measuring."""

    def __init__(self) -> None:
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import InMemoryMetricReader
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor

        self.exporter = Exporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))  # type: ignore[arg-type]
        self.meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])

    def floor(self) -> Floor:
        from agentotel import semconv

        meter = self.meter_provider.get_meter("hand")
        buckets = semconv.AGENT_DURATION_BUCKETS
        return Floor(
            tracer=self.tracer_provider.get_tracer("hand"),
            tool_duration=meter.create_histogram(
                semconv.TOOL_DURATION,
                unit="s",
                description="Duration of tool executions.",
                explicit_bucket_boundaries_advisory=buckets,
            ),
            run_duration=meter.create_histogram(
                semconv.WORKFLOW_DURATION,
                unit="s",
                description="Duration of workflow runs, plans and agent rounds.",
                explicit_bucket_boundaries_advisory=buckets,
            ),
            active=meter.create_up_down_counter(
                semconv.WORKFLOW_ACTIVE,
                unit="{run}",
                description="Workflow runs, plans and agent rounds in progress.",
            ),
        )


@dataclass(frozen=True)
class Bridge:
    """One framework's benchmark.

    ``modes``: the baseline (the framework alone), ``"hand"``, ``"agentotel"``, in that order.
    ``expected``: per workload, the sorted names of the spans one call makes in ``hand`` and
    ``agentotel`` (the baseline makes none). ``build(workload, mode, telemetry)`` returns one call.
    ``tables(per)`` turns the figures per workload and mode into the printed tables: a title (in
    which ``{unit}`` is replaced) and the figures per mode. ``noun`` names what one call is in the
    progress lines; ``column`` and ``width`` the value column; ``workload_option`` adds
    ``--workload``.
    """

    description: str
    script: Path
    modes: tuple[str, str, str]
    workloads: tuple[str, ...]
    expected: Mapping[str, Sequence[str]]
    plans: Mapping[str, Plan]
    build: Callable[[str, str, Telemetry], Callable[[], object]]
    tables: Callable[[Mapping[str, Mapping[str, float]]], list[tuple[str, Mapping[str, float]]]]
    noun: str = "call"
    column: str = "per call"
    width: int = 12
    workload_option: bool = False
    collect: bool = False
    """A full garbage collection after each measured call, the collector off in between: its work
    lands in the call whose garbage it is, not in whichever call crosses a threshold (a framework
    whose run leaves cycles: otherwise a collection more or less between N1 and N2 moves the
    per-call figure by more than a bridge costs)."""

    switch: Callable[[bool, Telemetry], None] | None = None
    """Switch the bridge on or off in this process, once ``build`` has made an ``agentotel`` call
    (``--interleaved``, which runs every mode in one process, needs it)."""

    @property
    def baseline(self) -> str:
        return self.modes[0]


def run_and_tool_tables(per: Mapping[str, Mapping[str, float]]) -> list[tuple[str, Mapping[str, float]]]:
    """The tables of a bridge whose workloads are ``run`` (a run whose model answers at once) and
    ``tool`` (a run with one tool call): per agent run, and per tool call (``tool`` minus ``run``)."""
    tool = {m: per["tool"][m] - per["run"][m] for m in per["run"]}
    return [
        ("{unit} per agent run (a run whose model answers at once)", per["run"]),
        ("{unit} per tool call (the tool run minus the plain run)", tool),
    ]


# --- child ---------------------------------------------------------------------------------------
_DONE = "BRIDGE-CALL-DONE"


def _checked_call(
    bridge: Bridge, workload: str, mode: str, telemetry: Telemetry
) -> tuple[Callable[[], object], list[str]]:
    """One call of ``workload`` in ``mode``, made once with its spans checked; and their names."""
    call = bridge.build(workload, mode, telemetry)
    exporter = telemetry.exporter
    exporter.names = []
    call()
    names, exporter.names = sorted(exporter.names), None
    expected = [] if mode == bridge.baseline else list(bridge.expected[workload])
    if names != expected:
        raise RuntimeError(f"check {workload}/{mode}: spans {names}, expected {expected}")
    return call, names


def child_interleaved(bridge: Bridge, spec: dict[str, Any]) -> dict[str, Any]:
    """Every mode of each workload in this one process, the modes' calls in turn (baseline, hand,
    agentotel, baseline, ...), each call measured alone: ``_READY`` before it (the parent zeroes
    callgrind's counts and switches it on), ``_DONE`` after it (the parent dumps the counts and
    switches it off). The bridge is switched on (``bridge.switch``) for the ``agentotel`` calls
    only. All modes run on the same memory layout (the addresses of interned names and the
    types' version tags, which CPython's type-attribute cache is indexed by: a child per mode
    has a layout of its own, which moved the framework's own instructions by more than a bridge
    costs) and in the same state of the process (what earlier calls left: a mode measured after
    another ran on a different heap)."""
    assert bridge.switch is not None
    telemetry = Telemetry()
    order: list[list[str]] = []
    for workload in spec["workloads"]:
        calls = {}
        for mode in bridge.modes:  # agentotel last: its build may switch the bridge on
            bridge.switch(mode == "agentotel", telemetry)
            calls[mode], _ = _checked_call(bridge, workload, mode, telemetry)
        for i in range(spec["warmup"] + spec["calls"]):
            measured = i >= spec["warmup"]
            if measured and i == spec["warmup"]:
                _settle()
                if bridge.collect:
                    gc.disable()
            for mode in bridge.modes:
                bridge.switch(mode == "agentotel", telemetry)
                if measured:
                    print(_READY, flush=True)
                    sys.stdin.readline()
                calls[mode]()
                if bridge.collect:
                    gc.collect()
                if measured:
                    print(_DONE, flush=True)
                    sys.stdin.readline()
                    order.append([workload, mode])
        gc.enable()
    return {"order": order}


def child_main(bridge: Bridge, spec: dict[str, Any]) -> dict[str, Any]:
    if spec["measure"] == "interleaved":
        return child_interleaved(bridge, spec)
    workload, mode = spec["workload"], spec["mode"]
    telemetry = Telemetry()
    call, names = _checked_call(bridge, workload, mode, telemetry)
    for _ in range(spec["warmup"]):
        call()
    _settle()
    if bridge.collect:
        gc.disable()
    result: dict[str, Any] = {"workload": workload, "mode": mode, "spans": names}
    if spec["measure"] == "callgrind":
        if spec.get("toggle"):
            # Started with --instr-atstart=no: the parent switches instrumentation on now.
            print(_READY, flush=True)
            sys.stdin.readline()
        modules = set(sys.modules)
        for _ in range(spec["calls"]):
            call()
            if bridge.collect:
                gc.collect()
        result["late_imports"] = sorted(set(sys.modules) - modules)
        return result
    per_call: list[float] = []
    for _ in range(spec["repeats"]):
        t0 = time.process_time()
        for _ in range(spec["calls"]):
            call()
            if bridge.collect:
                gc.collect()
        per_call.append((time.process_time() - t0) / spec["calls"] * 1e6)
    result["cpu_us"] = per_call
    return result


# --- parent --------------------------------------------------------------------------------------
def _instructions(
    bridge: Bridge,
    workload: str,
    plan: Plan,
    out_dir: Path,
    jobs: int,
    log: Callable[[str], None],
    seed: int = 0,
) -> dict[str, float]:
    runs = [(mode, n) for mode in bridge.modes for n in (plan.n2, plan.n1)]
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {
            run: pool.submit(
                _callgrind_run, workload, run[0], plan.warmup, run[1], out_dir, bridge.script, True, seed
            )
            for run in runs
        }
        ir = {run: future.result() for run, future in futures.items()}
    out: dict[str, float] = {}
    w = max(len(name) for name in bridge.workloads)
    for mode in bridge.modes:
        out[mode] = (ir[(mode, plan.n2)] - ir[(mode, plan.n1)]) / (plan.n2 - plan.n1)
        log(
            f"  callgrind {workload:<{w}} {mode:<10} seed {seed} {out[mode]:,.0f} instructions "
            f"per {bridge.noun}"
        )
    return out


def _callgrind(pid: int, *args: str) -> None:
    done = subprocess.run(["callgrind_control", *args, str(pid)], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"callgrind_control {' '.join(args)} failed: {done.stdout}{done.stderr}")


def _instructions_interleaved(
    bridge: Bridge,
    workloads: Sequence[str],
    plan: Plan,
    out_dir: Path,
    log: Callable[[str], None],
    seed: int = 0,
) -> dict[str, dict[str, float]]:
    """Instructions per call of every (workload, mode), measured in one child under callgrind
    (see :func:`child_interleaved`): ``plan.n2`` calls of each, every call counted alone (callgrind
    on only while it runs, its counts dumped and zeroed after it); a mode's figure is the median
    of its calls' counts."""
    out = out_dir / f"callgrind.{bridge.script.stem}.interleaved.seed{seed}.out"
    spec = {"measure": "interleaved", "workloads": list(workloads), "warmup": plan.warmup, "calls": plan.n2}
    cmd = [
        "valgrind",
        "--tool=callgrind",
        "--instr-atstart=no",
        f"--callgrind-out-file={out}",
        sys.executable,
        str(bridge.script),
        _CHILD_FLAG,
        json.dumps(spec),
    ]
    counts: list[int] = []
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(
            cmd, env=_child_env(seed), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, text=True
        )
        assert proc.stdin is not None and proc.stdout is not None
        lines: list[str] = []
        try:
            for line in proc.stdout:
                if line.startswith(_READY):
                    _callgrind(proc.pid, "--zero")
                    _callgrind(proc.pid, "--instr=on")
                elif line.startswith(_DONE):
                    _callgrind(proc.pid, "--dump")
                    _callgrind(proc.pid, "--instr=off")
                    # Callgrind numbers one process's dumps: out.1, out.2, ...; read, then dropped.
                    dump = Path(f"{out}.{len(counts) + 1}")
                    counts.append(_callgrind_total(dump))
                    dump.unlink()
                else:
                    lines.append(line)
                    continue
                proc.stdin.write("go\n")
                proc.stdin.flush()
        finally:
            proc.wait()
        err.seek(0)
        stderr = err.read()
    if proc.returncode != 0:
        raise RuntimeError(f"child failed ({proc.returncode}): {shlex.join(cmd)}\n{stderr[-4000:]}")
    result = next(json.loads(x[len(_RESULT_PREFIX) :]) for x in lines if x.startswith(_RESULT_PREFIX))
    if len(result["order"]) != len(counts):
        raise RuntimeError(f"{len(result['order'])} calls, {len(counts)} dumps")
    by_call: dict[tuple[str, str], list[int]] = {}
    for (workload, mode), count in zip(result["order"], counts, strict=True):
        by_call.setdefault((workload, mode), []).append(count)
    per: dict[str, dict[str, float]] = {w: {} for w in workloads}
    width = max(len(name) for name in workloads)
    for (workload, mode), values in by_call.items():
        per[workload][mode] = statistics.median(values)
        log(
            f"  callgrind {workload:<{width}} {mode:<10} seed {seed} {per[workload][mode]:,.0f} "
            f"instructions per {bridge.noun} (interleaved; {min(values):,} to {max(values):,})"
        )
    return per


def ratio_of(bridge: Bridge, v: Mapping[str, float]) -> float | None:
    """``(agentotel - baseline) / (hand - baseline)``; None when the floor costs nothing."""
    base = bridge.baseline
    hand = v["hand"] - v[base]
    return (v["agentotel"] - v[base]) / hand if hand > 0 else None


def over_seeds(bridge: Bridge, by_seed: Mapping[int, Mapping[str, Mapping[str, float]]]) -> str:
    """The tables over several ``PYTHONHASHSEED`` values: each mode's median figure, then the
    median of the per-seed ratios (each seed's modes against the same seed's baseline: the
    memory-layout term enters each ratio once) with its spread and every seed's figures."""
    seeds = sorted(by_seed)
    tables = {s: bridge.tables(by_seed[s]) for s in seeds}
    out: list[str] = []
    for i, (title, _) in enumerate(tables[seeds[0]]):
        medians = {m: statistics.median(tables[s][i][1][m] for s in seeds) for m in bridge.modes}
        ratios = {s: ratio_of(bridge, tables[s][i][1]) for s in seeds}
        known = [r for r in ratios.values() if r is not None]
        heading = title.format(unit="instructions") + f" (median over PYTHONHASHSEED {seeds})"
        lines = table(bridge, heading, medians, ",.0f").splitlines()[
            :-1
        ]  # the medians' ratio: not the figure
        if known:
            median = statistics.median(known)
            verdict = "ok" if median <= TARGET else "MISSED"
            lines.append(
                f"ratio: median of the per-seed ratios = {median:.3f} (min {min(known):.3f}, max "
                f"{max(known):.3f})  target <= {TARGET}: {verdict}"
            )
        base = bridge.baseline
        for s in seeds:
            v = tables[s][i][1]
            r = ratios[s]
            figures = "  ".join(
                f"{m} {v[m]:,.0f}" if m == base else f"{m} {v[m] - v[base]:+,.0f}" for m in bridge.modes
            )
            lines.append(f"  seed {s:<3} {figures}  ratio {'n/a' if r is None else f'{r:.3f}'}")
        out.append("\n".join(lines))
    return "\n\n".join(out)


def _cpu(bridge: Bridge, workload: str, plan: Plan, log: Callable[[str], None]) -> dict[str, float]:
    out: dict[str, float] = {}
    w = max(len(name) for name in bridge.workloads)
    for mode in bridge.modes:
        spec = {"measure": "cpu", "workload": workload, "mode": mode, "warmup": plan.warmup,
                "calls": plan.cpu_calls, "repeats": plan.cpu_repeats}  # fmt: skip
        out[mode] = statistics.median(_run_child(spec, script=bridge.script)["cpu_us"])
        log(f"  cpu {workload:<{w}} {mode:<10} {out[mode]:.2f} µs per {bridge.noun}")
    return out


def table(bridge: Bridge, title: str, v: Mapping[str, float], spec: str) -> str:
    """``title``, then each mode's figure and its difference from the baseline, then the ratio
    ``(agentotel - baseline) / (hand - baseline)`` against :data:`TARGET`."""
    base = bridge.baseline
    over = {m: v[m] - v[base] for m in bridge.modes}
    ratio = over["agentotel"] / over["hand"] if over["hand"] > 0 else None
    verdict = "n/a" if ratio is None else ("ok" if ratio <= TARGET else "MISSED")
    lines = [
        title,
        f"{'mode':<10} {bridge.column:>{bridge.width}} {'- ' + base:>12}",
        "-" * (24 + bridge.width),
    ]
    lines += [f"{m:<10} {v[m]:>{bridge.width}{spec}} {over[m]:>+12{spec}}" for m in bridge.modes]
    shown = "n/a" if ratio is None else f"{ratio:.2f}"
    lines.append(f"ratio (agentotel - {base}) / (hand - {base}) = {shown}  target <= {TARGET}: {verdict}")
    return "\n".join(lines)


def main(bridge: Bridge, argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description=bridge.description)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="few iterations: a rough look")
    size.add_argument("--smoke", action="store_true", help="does every mode run (measures nothing)")
    if bridge.workload_option:
        parser.add_argument(
            "--workload", action="append", choices=bridge.workloads, help="only this workload (repeatable)"
        )
    parser.add_argument("--no-callgrind", action="store_true", help="CPU time instead of instructions")
    parser.add_argument("--callgrind-dir", type=Path, help="keep the callgrind.out files in DIR")
    parser.add_argument("--jobs", type=int, default=1, help="callgrind runs in parallel (default 1)")
    parser.add_argument(
        "--seeds",
        default="0",
        help="PYTHONHASHSEED values (comma-separated) to measure every mode under; with more than "
        "one, the figure is the median of the per-seed ratios (default 0)",
    )
    if bridge.switch is not None:
        parser.add_argument(
            "--interleaved",
            action="store_true",
            help="measure every mode of a seed in one child, the modes' calls in turn, each call "
            "counted alone (the same memory layout and process state for all: see "
            "child_interleaved), not one child per (workload, mode, N)",
        )
    args = parser.parse_args(argv)
    try:
        seeds = sorted({int(x) for x in args.seeds.split(",") if x.strip()})
    except ValueError:
        parser.error(f"--seeds: comma-separated integers (PYTHONHASHSEED values), not {args.seeds!r}")
    if not seeds or any(not 0 <= x <= 4294967295 for x in seeds):
        parser.error(f"--seeds: PYTHONHASHSEED values from 0 to 4294967295, not {args.seeds!r}")
    if not args.no_callgrind and shutil.which("valgrind") is None:
        print("valgrind not found: apt-get install -y valgrind, or pass --no-callgrind", file=sys.stderr)
        return 2
    if args.jobs < 1:
        parser.error(f"--jobs must be a positive integer, got {args.jobs}")
    plan = bridge.plans["smoke" if args.smoke else "quick" if args.quick else "full"]
    workloads = getattr(args, "workload", None) or bridge.workloads
    started = time.perf_counter()

    def log(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f}s] {message}", file=sys.stderr, flush=True)

    if args.no_callgrind:
        unit, spec = "CPU µs", ",.2f"
        per = {w: _cpu(bridge, w, plan, log) for w in workloads}
    else:
        unit, spec = "instructions", ",.0f"
        with _out_dir(args.callgrind_dir) as out_dir:
            if getattr(args, "interleaved", False):
                with ThreadPoolExecutor(max_workers=args.jobs) as pool:
                    futures = {
                        s: pool.submit(_instructions_interleaved, bridge, workloads, plan, out_dir, log, s)
                        for s in seeds
                    }
                    by_seed = {s: futures[s].result() for s in seeds}
            else:
                by_seed = {
                    s: {w: _instructions(bridge, w, plan, out_dir, args.jobs, log, s) for w in workloads}
                    for s in seeds
                }
        if len(seeds) > 1:
            print(over_seeds(bridge, by_seed))
            return 0
        per = by_seed[seeds[0]]
    print("\n\n".join(table(bridge, title.format(unit=unit), v, spec) for title, v in bridge.tables(per)))
    return 0


def run(bridge: Bridge, argv: Sequence[str]) -> int:
    """The script's entry point: a child when called with ``--child SPEC``, else :func:`main`."""
    if len(argv) == 2 and argv[0] == _CHILD_FLAG:
        print(_RESULT_PREFIX + json.dumps(child_main(bridge, json.loads(argv[1]))), flush=True)
        return 0
    return main(bridge, argv)
