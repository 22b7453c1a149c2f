"""Per-call overhead of the agent layer: ``@agentotel.tool`` and ``agentotel.session`` stamping.

Two workloads, each run in several modes, each (workload, mode) in a fresh subprocess:

``tool``: one call of a trivial tool ``add(a, b) -> a + b``

* ``none``            ``add`` called directly: no telemetry;
* ``hand_span``       ``add`` with a hand-written ``execute_tool add`` INTERNAL span (the three
                      attributes ``gen_ai.operation.name``, ``gen_ai.tool.name``, ``gen_ai.tool.type``);
* ``hand_span_hist``  the same plus the duration recorded in an ``agentotel.tool.duration``
                      histogram with the attributes agentotel records (tool name and type): the
                      hand-written equivalent of the decorator, and the floor the target is set on;
* ``agentotel``       ``add`` decorated with ``@agentotel.tool()``.

Target: ``(agentotel - none) / (hand_span_hist - none) <= 1.3``. The ratio against ``hand_span``
(no histogram) is printed as well.

``session``: one tree of 50 spans (a root, 7 children, 6 grandchildren under each child), all
started with ``tracer.start_as_current_span`` on the plain OTel tracer

* ``plain_provider``    the tree on a provider without agentotel's ``SessionSpanProcessor``;
* ``no_session``        the tree, processor on the provider, no session open (the baseline);
* ``session``           the tree inside ``agentotel.session("conv-1", user_id="u-1")``, opened once
                        before the measured loop: the stamping alone;
* ``session_per_tree``  each tree inside its own ``agentotel.session(...)``: stamping plus opening
                        and closing the session (three metric records);
* ``hand``              every span started with the two attributes passed by hand.

Stamping per span: ``(session - no_session) / 50``, against ``(hand - no_session) / 50``.

Every mode has the same OTel set-up: a ``TracerProvider`` with a ``SimpleSpanProcessor`` into an
exporter that counts and drops the spans, a ``MeterProvider`` with an ``InMemoryMetricReader`` that is
never collected while measuring, and ``agentotel.agent.configure(tracer_provider=..., meter_provider=...)``
(which also puts the ``SessionSpanProcessor`` on the tracer provider). The one exception is the
``plain_provider`` mode, which exists to show what that processor costs a span outside any session.

Primary figure: instructions per call (per tree) from callgrind, ``(Ir(N2) - Ir(N1)) / (N2 - N1)`` over
two runs that differ only in the number of measured calls (as in ``overhead.py``). Secondary: CPU time
per call (``time.process_time``), median of several repeats, children run one at a time. Before
measuring, every child checks its spans (count, names, attributes) and stops on a mismatch; the metrics
recorded are listed in the CPU results.

Run ``python benchmarks/agent_overhead.py --help``; see ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

# ``benchmarks/`` is not a package: reuse overhead.py's helpers by importing it from its directory.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from overhead import (
    _CHILD_FLAG,
    _RESULT_PREFIX,
    _callgrind_run,
    _common_arguments,
    _DropExporter,
    _metric_names,
    _out_dir,
    _run_child,
    _settle,
)

MODES: dict[str, tuple[str, ...]] = {
    "tool": ("none", "hand_span", "hand_span_hist", "agentotel"),
    "session": ("plain_provider", "no_session", "session", "session_per_tree", "hand"),
}
WORKLOADS = tuple(MODES)
TARGET_TOOL = 1.3  # (agentotel - none) / (hand_span_hist - none)

TOOL_NAME = "add"
TOOL_SPAN = f"execute_tool {TOOL_NAME}"
CONVERSATION_ID = "conv-1"
USER_ID = "u-1"
STAMP = {"gen_ai.conversation.id": CONVERSATION_ID, "user.id": USER_ID}
CHILDREN, GRANDCHILDREN = 7, 6
TREE_SPANS = 1 + CHILDREN * (1 + GRANDCHILDREN)  # 50

_SELF = Path(__file__).resolve()


@dataclass(frozen=True)
class Plan:
    """Iteration counts of one workload (a call is one tool call or one 50-span tree)."""

    cg_warmup: int
    cg_n1: int
    cg_n2: int
    cpu_warmup: int
    cpu_calls: int  # calls per CPU repeat
    cpu_repeats: int


FULL = {
    "tool": Plan(cg_warmup=200, cg_n1=100, cg_n2=1100, cpu_warmup=2000, cpu_calls=20000, cpu_repeats=7),
    "session": Plan(cg_warmup=20, cg_n1=10, cg_n2=110, cpu_warmup=50, cpu_calls=400, cpu_repeats=7),
}
QUICK = {
    "tool": Plan(cg_warmup=20, cg_n1=10, cg_n2=60, cpu_warmup=100, cpu_calls=500, cpu_repeats=3),
    "session": Plan(cg_warmup=3, cg_n1=2, cg_n2=12, cpu_warmup=3, cpu_calls=20, cpu_repeats=3),
}
SMOKE = {  # does every mode still run and emit what it should? (The smoke test.)
    "tool": Plan(cg_warmup=2, cg_n1=1, cg_n2=3, cpu_warmup=2, cpu_calls=20, cpu_repeats=1),
    "session": Plan(cg_warmup=2, cg_n1=1, cg_n2=3, cpu_warmup=1, cpu_calls=2, cpu_repeats=1),
}


# ============================================================================================
# Child side: one workload in one mode, in its own process.
# ============================================================================================
class _Exporter(_DropExporter):
    """Counts and drops spans; keeps them only while ``keep`` is set (the check before measuring)."""

    def __init__(self) -> None:
        super().__init__()
        self.keep = False
        self.kept: list[Any] = []

    def export(self, spans: Sequence[Any]) -> Any:
        if self.keep:
            self.kept.extend(spans)
        return super().export(spans)


@dataclass
class _Setup:
    call: Callable[[], object]  # one tool call, or one 50-span tree
    exporter: _Exporter
    reader: Any  # InMemoryMetricReader
    close: Callable[[], None]  # leaves a session opened for the whole run


def _providers(with_agentotel: bool) -> tuple[Any, Any, _Exporter, Any]:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    from agentotel.agent import configure

    exporter = _Exporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))  # type: ignore[arg-type]
    reader = InMemoryMetricReader()  # never collected while measuring
    meter_provider = MeterProvider(metric_readers=[reader])
    if with_agentotel:
        configure(tracer_provider=tracer_provider, meter_provider=meter_provider)
    return tracer_provider, meter_provider, exporter, reader


def _build_tool(mode: str) -> _Setup:
    from opentelemetry.trace import SpanKind

    import agentotel
    from agentotel import semconv

    tracer_provider, meter_provider, exporter, reader = _providers(with_agentotel=True)

    def add(a: int, b: int) -> int:
        return a + b

    if mode == "none":
        fn: Callable[[int, int], int] = add
    elif mode == "agentotel":
        fn = agentotel.tool()(add)
    else:
        tracer = tracer_provider.get_tracer("agentotel-benchmark-hand")
        meter = meter_provider.get_meter("agentotel-benchmark-hand")
        duration = meter.create_histogram(
            "agentotel.tool.duration",
            unit="s",
            description="Duration of tool executions.",
            explicit_bucket_boundaries_advisory=semconv.AGENT_DURATION_BUCKETS,
        )
        perf_counter = time.perf_counter
        internal = SpanKind.INTERNAL

        def add_span(a: int, b: int) -> int:
            with tracer.start_as_current_span(
                "execute_tool add",
                kind=internal,
                attributes={
                    "gen_ai.operation.name": "execute_tool",
                    "gen_ai.tool.name": "add",
                    "gen_ai.tool.type": "function",
                },
            ):
                return a + b

        def add_span_hist(a: int, b: int) -> int:
            start = perf_counter()
            with tracer.start_as_current_span(
                "execute_tool add",
                kind=internal,
                attributes={
                    "gen_ai.operation.name": "execute_tool",
                    "gen_ai.tool.name": "add",
                    "gen_ai.tool.type": "function",
                },
            ):
                result = a + b
            duration.record(
                perf_counter() - start, {"gen_ai.tool.name": "add", "gen_ai.tool.type": "function"}
            )
            return result

        fn = add_span if mode == "hand_span" else add_span_hist

    def call() -> object:
        return fn(1, 2)

    return _Setup(call, exporter, reader, lambda: None)


def _build_session(mode: str) -> _Setup:
    import agentotel

    tracer_provider, _, exporter, reader = _providers(with_agentotel=mode != "plain_provider")
    tracer = tracer_provider.get_tracer("agentotel-benchmark-tree")
    span = tracer.start_as_current_span

    def tree() -> object:
        with span("root"):
            for _ in range(CHILDREN):
                with span("child"):
                    for _ in range(GRANDCHILDREN):
                        with span("leaf"):
                            pass
        return None

    def hand_tree() -> object:
        with span("root", attributes=STAMP):
            for _ in range(CHILDREN):
                with span("child", attributes=STAMP):
                    for _ in range(GRANDCHILDREN):
                        with span("leaf", attributes=STAMP):
                            pass
        return None

    def tree_per_session() -> object:
        with agentotel.session(CONVERSATION_ID, user_id=USER_ID):
            return tree()

    close: Callable[[], None] = lambda: None  # noqa: E731
    if mode == "hand":
        return _Setup(hand_tree, exporter, reader, close)
    if mode == "session_per_tree":
        return _Setup(tree_per_session, exporter, reader, close)
    if mode == "session":
        # Open for the whole run: the measured loop sees the stamping only.
        opened = agentotel.session(CONVERSATION_ID, user_id=USER_ID)
        opened.__enter__()
        close = lambda: opened.__exit__(None, None, None)  # noqa: E731
    return _Setup(tree, exporter, reader, close)


def _check(workload: str, mode: str, setup: _Setup) -> dict[str, Any]:
    """One call with the spans kept: the telemetry is what the mode claims, else raise."""
    exporter = setup.exporter
    exporter.keep = True
    setup.call()
    exporter.keep = False
    spans, exporter.kept = exporter.kept, []
    names = sorted({s.name for s in spans})
    attributes = [dict(s.attributes or {}) for s in spans]
    problems: list[str] = []
    if workload == "tool":
        expected = 0 if mode == "none" else 1
        if len(spans) != expected:
            problems.append(f"{len(spans)} spans, expected {expected}")
        want = {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": "add",
            "gen_ai.tool.type": "function",
        }
        if spans and (names != [TOOL_SPAN] or attributes[0] != want):
            problems.append(f"span {names} {attributes[0]}, expected {TOOL_SPAN!r} {want}")
    else:
        if len(spans) != TREE_SPANS:
            problems.append(f"{len(spans)} spans, expected {TREE_SPANS}")
        stamped = sum(a == STAMP for a in attributes)
        expected = TREE_SPANS if mode in ("session", "session_per_tree", "hand") else 0
        if stamped != expected:
            problems.append(f"{stamped} spans carry exactly {STAMP}, expected {expected}")
    if problems:
        raise RuntimeError(f"check {workload}/{mode}: " + "; ".join(problems))
    return {"spans": len(spans), "span_names": names, "span_attributes": attributes[:1]}


def child_main(spec: dict[str, Any]) -> dict[str, Any]:
    workload, mode = spec["workload"], spec["mode"]
    setup = (_build_tool if workload == "tool" else _build_session)(mode)
    call, exporter, reader = setup.call, setup.exporter, setup.reader
    result: dict[str, Any] = {"workload": workload, "mode": mode, "check": _check(workload, mode, setup)}
    for _ in range(spec["warmup"]):
        call()
    _settle()
    if spec["measure"] == "callgrind":
        # Only the number of calls differs between the two runs of a pair; nothing else here.
        modules = set(sys.modules)
        for _ in range(spec["calls"]):
            call()
        # A module imported inside the measured loop is a one-off cost that the subtraction misses.
        result["late_imports"] = sorted(set(sys.modules) - modules)
        setup.close()
        return result
    per_call_us: list[float] = []
    clock = time.process_time
    n = spec["calls"]
    for _ in range(spec["repeats"]):
        t0 = clock()
        for _ in range(n):
            call()
        per_call_us.append((clock() - t0) / n * 1e6)
    setup.close()
    calls = 1 + spec["warmup"] + n * spec["repeats"]
    result["cpu_us"] = per_call_us
    result["spans_per_call"] = exporter.spans / calls
    result["metrics"] = _metric_names(reader)
    return result


# ============================================================================================
# Parent side: run the children, collect, print.
# ============================================================================================
def measure_instructions(
    workloads: Sequence[str], plans: dict[str, Plan], out_dir: Path, jobs: int, log: Callable[[str], None]
) -> dict[str, dict[str, float]]:
    """Instructions per call: ``(Ir(N2) - Ir(N1)) / (N2 - N1)`` per workload and mode."""
    tasks = [(w, m, n) for w in workloads for m in MODES[w] for n in (plans[w].cg_n2, plans[w].cg_n1)]
    totals: dict[tuple[str, str, int], int] = {}
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {
            t: pool.submit(_callgrind_run, t[0], t[1], plans[t[0]].cg_warmup, t[2], out_dir, _SELF)
            for t in tasks
        }
        for task, future in futures.items():
            totals[task] = future.result()
            log(f"  callgrind {task[0]:<8} {task[1]:<17} N={task[2]:<5} Ir={totals[task]:,}")
    out: dict[str, dict[str, float]] = {}
    for w in workloads:
        p = plans[w]
        out[w] = {
            m: (totals[(w, m, p.cg_n2)] - totals[(w, m, p.cg_n1)]) / (p.cg_n2 - p.cg_n1) for m in MODES[w]
        }
    return out


def measure_cpu(
    workloads: Sequence[str], plans: dict[str, Plan], log: Callable[[str], None]
) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, Any]]]:
    """CPU µs per call (median of repeats), one child at a time so that children do not compete."""
    medians: dict[str, dict[str, float]] = {}
    details: dict[str, dict[str, Any]] = {}
    for w in workloads:
        p = plans[w]
        medians[w], details[w] = {}, {}
        for m in MODES[w]:
            spec = {
                "measure": "cpu", "workload": w, "mode": m, "warmup": p.cpu_warmup,
                "calls": p.cpu_calls, "repeats": p.cpu_repeats,
            }  # fmt: skip
            result = _run_child(spec, script=_SELF)
            medians[w][m] = statistics.median(result["cpu_us"])
            details[w][m] = {k: result[k] for k in ("cpu_us", "spans_per_call", "metrics", "check")}
            repeats = ", ".join(f"{x:.1f}" for x in result["cpu_us"])
            log(
                f"  cpu {w:<8} {m:<17} median {medians[w][m]:9.2f} µs  repeats {repeats}  "
                f"spans/call {result['spans_per_call']:.2f}"
            )
    return medians, details


# --- report ----------------------------------------------------------------------------------
def _ratio(num: float, den: float) -> float | None:
    return num / den if den > 0 else None  # without a positive floor (CPU noise) it means nothing


def summarise_tool(v: dict[str, float]) -> dict[str, Any]:
    over = {m: v[m] - v["none"] for m in MODES["tool"]}
    ratio = _ratio(over["agentotel"], over["hand_span_hist"])
    return {
        "per_call": v,
        "overhead": over,
        "ratio_vs_hand_span_hist": ratio,
        "ratio_vs_hand_span": _ratio(over["agentotel"], over["hand_span"]),
        "target": TARGET_TOOL,
        "meets_target": None if ratio is None else ratio <= TARGET_TOOL,
    }


def summarise_session(v: dict[str, float]) -> dict[str, Any]:
    base = v["no_session"]
    stamping, hand = v["session"] - base, v["hand"] - base
    return {
        "per_tree": v,
        "per_span": {m: x / TREE_SPANS for m, x in v.items()},
        "spans_per_tree": TREE_SPANS,
        "vs_no_session_per_tree": {m: x - base for m, x in v.items()},
        "vs_no_session_per_span": {m: (x - base) / TREE_SPANS for m, x in v.items()},
        "stamping_per_span": stamping / TREE_SPANS,
        "hand_per_span": hand / TREE_SPANS,
        "ratio_stamping_vs_hand": _ratio(stamping, hand),
        "idle_processor_per_span": (base - v["plain_provider"]) / TREE_SPANS,
        "session_open_close_per_tree": v["session_per_tree"] - v["session"],
    }


def _fmt_ratio(r: float | None) -> str:
    return "n/a" if r is None else f"{r:.2f}"


def _tool_table(title: str, s: dict[str, Any], spec: str, unit: str) -> str:
    notes = {
        "none": "add(1, 2) called directly",
        "hand_span": "hand-written span",
        "hand_span_hist": "hand-written span + histogram (the floor)",
        "agentotel": "@agentotel.tool()",
    }
    header = f"{'mode':<16} {'per call':>12} {'- none':>12}  what"
    lines = [title, header, "-" * 72]
    for m in MODES["tool"]:
        over = "" if m == "none" else f"{s['overhead'][m]:+{spec}}"
        lines.append(f"{m:<16} {s['per_call'][m]:>12{spec}} {over:>12}  {notes[m]}")
    verdict = {True: "ok", False: "MISSED", None: "n/a (floor <= 0: noise)"}[s["meets_target"]]
    lines.append(
        f"ratio (agentotel - none) / (hand_span_hist - none) = {_fmt_ratio(s['ratio_vs_hand_span_hist'])}"
        f"  target <= {TARGET_TOOL}: {verdict}"
    )
    lines.append(
        f"ratio (agentotel - none) / (hand_span - none)      = {_fmt_ratio(s['ratio_vs_hand_span'])}"
        "  (span-only baseline, no target)"
    )
    lines.append(f"(values in {unit} per call)")
    return "\n".join(lines)


def _session_table(title: str, s: dict[str, Any], spec: str, unit: str) -> str:
    notes = {
        "plain_provider": "no SessionSpanProcessor on the provider",
        "no_session": "processor on, no session (the baseline)",
        "session": "inside one session opened before the loop",
        "session_per_tree": "each tree in its own session",
        "hand": "both attributes passed by hand",
    }
    header = f"{'mode':<17} {'per tree':>12} {'per span':>10} {'- no_session':>13} {'per span':>10}  what"
    lines = [title, header, "-" * 100]
    for m in MODES["session"]:
        lines.append(
            f"{m:<17} {s['per_tree'][m]:>12{spec}} {s['per_span'][m]:>10{spec}} "
            f"{s['vs_no_session_per_tree'][m]:>+13{spec}} {s['vs_no_session_per_span'][m]:>+10{spec}}  "
            f"{notes[m]}"
        )
    lines.append(
        f"stamping per span (session - no_session) / {TREE_SPANS} = {s['stamping_per_span']:+{spec}}; "
        f"by hand (hand - no_session) / {TREE_SPANS} = {s['hand_per_span']:+{spec}}; "
        f"ratio {_fmt_ratio(s['ratio_stamping_vs_hand'])}"
    )
    lines.append(
        f"idle processor per span (no_session - plain_provider) / {TREE_SPANS} = "
        f"{s['idle_processor_per_span']:+{spec}}; session open + close per tree "
        f"(session_per_tree - session) = {s['session_open_close_per_tree']:+{spec}}"
    )
    lines.append(f"(values in {unit}; a tree is {TREE_SPANS} spans: 1 root, {CHILDREN} children, "
                 f"{CHILDREN * GRANDCHILDREN} grandchildren)")  # fmt: skip
    return "\n".join(lines)


def _tables(results: dict[str, Any], spec: str, unit: str, what: str) -> list[str]:
    out = []
    if "tool" in results:
        out.append(_tool_table(f"tool: {what}", results["tool"], spec, unit))
    if "session" in results:
        out.append(_session_table(f"session: {what}", results["session"], spec, unit))
    return out


def _parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Overhead of @agentotel.tool vs. a hand-written span, and of agentotel.session stamping.",
    )
    _common_arguments(parser, WORKLOADS, "skip callgrind: CPU time only")
    return parser.parse_args(argv)


def _versions() -> dict[str, str]:
    from importlib.metadata import version

    return {
        "python": sys.version.split()[0],
        "opentelemetry-api": version("opentelemetry-api"),
        "opentelemetry-sdk": version("opentelemetry-sdk"),
        "agentotel": version("agentotel"),
    }


def main(argv: Sequence[str]) -> int:
    args = _parse_args(argv)
    if not args.no_callgrind and shutil.which("valgrind") is None:
        print("valgrind not found: apt-get install -y valgrind, or pass --no-callgrind", file=sys.stderr)
        return 2
    plans = SMOKE if args.smoke else QUICK if args.quick else FULL
    workloads = args.workload or list(WORKLOADS)
    started = time.perf_counter()

    def log(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f}s] {message}", file=sys.stderr, flush=True)

    results: dict[str, Any] = {
        "plans": {w: asdict(plans[w]) for w in workloads},
        "workloads": workloads,
        "versions": _versions(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }
    summarisers = {"tool": summarise_tool, "session": summarise_session}
    report: list[str] = []
    if not args.no_callgrind:
        log(f"callgrind: {', '.join(f'{w} {plans[w]}' for w in workloads)}; {args.jobs} parallel runs")
        with _out_dir(args.callgrind_dir) as out_dir:
            raw = measure_instructions(workloads, plans, out_dir, max(1, args.jobs), log)
        ir = {w: summarisers[w](raw[w]) for w in workloads}
        results["instructions_per_call"] = ir
        report += _tables(
            ir, ",.0f", "instructions", "instructions per call (callgrind Ir, (Ir(N2) - Ir(N1)) / (N2 - N1))"
        )

    log("cpu: " + ", ".join(f"{w}: warm-up {plans[w].cpu_warmup}, {plans[w].cpu_repeats} x "
                            f"{plans[w].cpu_calls} calls" for w in workloads))  # fmt: skip
    medians, details = measure_cpu(workloads, plans, log)
    cpu = {w: {**summarisers[w](medians[w]), "modes": details[w]} for w in workloads}
    results["cpu_us_per_call"] = cpu
    report += _tables(cpu, ",.2f", "µs", "CPU time per call (time.process_time, median of repeats)")

    command = shlex.join([sys.executable, *sys.argv])
    results["command"] = command
    results["seconds"] = time.perf_counter() - started
    print("\n\n".join(report))
    misses = [
        kind
        for kind in ("instructions_per_call", "cpu_us_per_call")
        if results.get(kind, {}).get("tool", {}).get("meets_target") is False
    ]
    if "tool" in workloads:
        print(
            f"\nTarget: @agentotel.tool overhead <= {TARGET_TOOL} x hand-written span + histogram.", end=" "
        )
        print("Met." if not misses else f"Missed: {', '.join(misses)}.")
    v = results["versions"]
    print(
        f"Python {v['python']}, opentelemetry-sdk {v['opentelemetry-sdk']}, agentotel {v['agentotel']}; "
        f"{results['date']}"
    )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str) + "\n")
        print(f"JSON results: {args.json}")
    print(f"Finished in {results['seconds']:.0f} s. Command: {command}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == _CHILD_FLAG:
        print(_RESULT_PREFIX + json.dumps(child_main(json.loads(sys.argv[2]))), flush=True)
        sys.exit(0)
    sys.exit(main(sys.argv[1:]))
