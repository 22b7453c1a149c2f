"""Throughput, added latency, CPU and memory of ``agentotel gateway``, against the upstream alone
and the LiteLLM proxy forwarding to the same upstream, in one run.

    .venv/bin/python benchmarks/gateway.py                  # full: 20 s per load, 100,000-request memory run
    .venv/bin/python benchmarks/gateway.py --quick          # 5 s per load, 10,000-request memory run
    .venv/bin/python benchmarks/gateway.py --smoke          # does it run (no LiteLLM proxy, 1 s loads)

Targets (issue 18): at least 2x the LiteLLM proxy's requests/s at saturation, at most 1 ms added
p50 latency at 200 requests/s, memory flat over 100,000 requests; non-stream and stream.

What runs, each in its own process on 127.0.0.1:

* the upstream: ``python -m agentotel.testing`` (the fake LLM server: OpenAI Chat Completions,
  20-word replies, streamed as 20 content chunks with ``stream: true``);
* ``agentotel gateway`` with a config whose ``/openai`` route is that upstream, and the OTel SDK
  set up with no exporter (``OTEL_*_EXPORTER=none``: spans and metric points are made and dropped);
* a bare pass-through on the gateway's stack (``benchmarks/_bare_proxy.py``: uvicorn with httptools
  and uvloop, one pooled aiohttp session, no telemetry at all), measured in the same alternating
  slices as the floor of the added latency: what the extra hop costs any forwarding process here;
* the LiteLLM proxy (``litellm[proxy]``, in its own venv under ``benchmarks/out/``, since it pins
  older packages than ours), one worker, one model ``gpt-4o`` = ``openai/gpt-4o`` on that upstream.

Load is ``hey`` (Debian package ``hey``; installed with apt-get when missing and run as root):
saturation is ``hey -z D -c 32``. The fixed rate, 200 requests/s, comes in two shapes:

* paced (the target's figure): ``hey -c 1 -q 200``, one request every 5 ms, as a fixed-rate load
  generator paces it (wrk2's ``-R``);
* 4 clients in step: ``hey -c 4 -q 50``. ``-q`` is per worker in hey and its workers' tickers start
  together, so this is 4 simultaneous requests every 20 ms: a burst the gateway's one event loop
  serves one after the other. Shown beside the paced figure, not judged.

The added latency is the gateway's p50 (p99) minus the upstream's, every request's time pooled
from ``hey -o csv`` over slices that alternate between the upstream alone and the gateway (so a
change of the machine's load between them falls on both). ``--realtime`` runs the fixed-rate loads
(the servers and hey, not the saturation runs) at ``SCHED_FIFO`` priority (``chrt``, root): on a
shared machine the other processes then do not get between a request and its answer (they still
share the caches); the figures say when it was on.
CPU per request is the process's user+system time over the saturation run divided by its requests
(it does not depend on the machine's load the way wall-clock figures do; they drift 2x on these
shared machines, so every figure of one table comes from one run). Memory is the gateway's RSS
after a 1,000-request warm-up and after N more requests. Results: the table on stdout and
``benchmarks/out/gateway.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
PYTHON = sys.executable
LITELLM_VENV = OUT / "venv-litellm-proxy"
MODEL = "gpt-4o"
BODIES = {
    "chat": {"model": MODEL, "messages": [{"role": "user", "content": "Say hello [[words:20]]"}]},
    "chat_stream": {
        "model": MODEL,
        "stream": True,
        "messages": [{"role": "user", "content": "Say hello [[words:20]]"}],
    },
}
TARGET_THROUGHPUT = 2.0
TARGET_ADDED_P50_MS = 1.0


@dataclass(frozen=True)
class Plan:
    seconds: int
    concurrency: int
    memory_requests: int
    litellm: bool
    rounds: int  # fixed-rate slices per target, alternating upstream / gateway (seconds / rounds each)


FULL = Plan(seconds=20, concurrency=32, memory_requests=100_000, litellm=True, rounds=4)
QUICK = Plan(seconds=5, concurrency=32, memory_requests=10_000, litellm=True, rounds=2)
SMOKE = Plan(seconds=1, concurrency=4, memory_requests=200, litellm=False, rounds=1)

# The two shapes of 200 requests/s (see the module docstring).
RATES = {"paced": ["-c", "1", "-q", "200"], "in_step": ["-c", "4", "-q", "50"]}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, seconds: float, proc: subprocess.Popen[Any]) -> None:
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError as answered:
            if answered.code < 500:
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {seconds} s")


@contextmanager
def process(
    cmd: list[str], env: dict[str, str], log: Path, stop_wait: float = 20
) -> Iterator[subprocess.Popen[Any]]:
    """``cmd`` running (its own process group, output to ``log``); SIGTERM on leaving, SIGKILL
    after ``stop_wait`` seconds."""
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            yield proc
        finally:
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(stop_wait)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def ensure_hey() -> str:
    found = shutil.which("hey")
    if found:
        return found
    if os.geteuid() == 0:
        subprocess.run(["apt-get", "install", "-y", "-qq", "hey"], check=True, stdout=subprocess.DEVNULL)
        found = shutil.which("hey")
    if not found:
        raise SystemExit("benchmarks/gateway.py needs hey: apt-get install -y hey")
    return found


def ensure_litellm_proxy(log: Any) -> Path:
    """The ``litellm`` command of a venv holding ``litellm[proxy]`` (made on first use)."""
    command = LITELLM_VENV / "bin" / "litellm"
    if command.exists():
        return command
    uv = Path(PYTHON).parent / "uv"
    log(f"making {LITELLM_VENV} with litellm[proxy] (once; a few minutes)")
    subprocess.run([str(uv), "venv", "-q", "-p", PYTHON, str(LITELLM_VENV)], check=True)
    env = {**os.environ, "VIRTUAL_ENV": str(LITELLM_VENV)}
    subprocess.run([str(uv), "pip", "install", "-q", "litellm[proxy]"], check=True, env=env)
    return command


_RPS = re.compile(r"Requests/sec:\s+([0-9.]+)")
_PCT = re.compile(r"(\d+)% in ([0-9.]+) secs")
_STATUS = re.compile(r"\[(\d+)\]\s+(\d+) responses")


# Every target gets the same Authorization header: the LiteLLM proxy's master key (the gateway
# forwards it, the fake upstream ignores it).
MASTER_KEY = "sk-" + secrets.token_hex(32)


def hey(url: str, body: Path, args: list[str]) -> dict[str, Any]:
    auth = ["-H", f"Authorization: Bearer {MASTER_KEY}"]
    done = subprocess.run(
        [ensure_hey(), *args, *auth, "-m", "POST", "-T", "application/json", "-D", str(body), url],
        capture_output=True,
        text=True,
        check=True,
    )
    text = done.stdout
    rps = _RPS.search(text)
    # Too few requests for a percentile: hey prints "0% in 0.0000 secs" in its place.
    percentiles = {int(p): float(s) * 1000 for p, s in _PCT.findall(text) if int(p)}
    statuses = {int(code): int(n) for code, n in _STATUS.findall(text)}
    if rps is None or not statuses or 50 not in percentiles:
        raise RuntimeError(f"hey printed no result for {url}:\n{text}\n{done.stderr}")
    bad = {code: n for code, n in statuses.items() if code != 200}
    if bad or "Error distribution" in text:
        raise RuntimeError(f"{url}: non-200 answers {bad} / errors:\n{text[text.find('Error') :][:800]}")
    return {"rps": float(rps.group(1)), "p50_ms": percentiles.get(50), "p99_ms": percentiles.get(99),
            "requests": sum(statuses.values())}  # fmt: skip


def hey_times(url: str, body: Path, args: list[str], prefix: list[str]) -> list[float]:
    """Every request's time (ms) of one ``hey -o csv`` run; raises on any non-200 answer."""
    auth = ["-H", f"Authorization: Bearer {MASTER_KEY}"]
    done = subprocess.run(
        [*prefix, ensure_hey(), *args, "-o", "csv", *auth, "-m", "POST", "-T", "application/json",
         "-D", str(body), url],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    times: list[float] = []
    for line in done.stdout.splitlines()[1:]:
        fields = line.split(",")
        if len(fields) < 7:
            continue
        if fields[6] != "200":
            raise RuntimeError(f"{url}: answered {fields[6]}:\n{done.stdout[-800:]}{done.stderr[-800:]}")
        times.append(float(fields[0]) * 1000)
    if not times:
        raise RuntimeError(f"hey printed no result for {url}:\n{done.stdout[-800:]}\n{done.stderr}")
    return times


def percentiles(times: list[float]) -> dict[str, Any]:
    ordered = sorted(times)

    def at(q: float) -> float:  # nearest rank
        return ordered[max(0, min(len(ordered) - 1, round(q * len(ordered)) - 1))]

    return {"p50_ms": at(0.50), "p99_ms": at(0.99), "mean_ms": sum(ordered) / len(ordered),
            "requests": len(ordered)}  # fmt: skip


@contextmanager
def realtime(pids: list[int], on: bool) -> Iterator[list[str]]:
    """The servers ``pids`` (all their threads) at SCHED_FIFO priority while the block runs, and the
    prefix that starts hey so; nothing when ``on`` is False."""
    if not on:
        yield []
        return
    for pid in pids:
        subprocess.run(["chrt", "-a", "-f", "-p", "50", str(pid)], check=True, capture_output=True)
    try:
        yield ["chrt", "-f", "50"]
    finally:
        for pid in pids:
            with suppress(subprocess.CalledProcessError):
                subprocess.run(["chrt", "-a", "-o", "-p", "0", str(pid)], check=True, capture_output=True)


def fixed_rate(
    targets: dict[str, tuple[str, int]], body: Path, plan: Plan, rt: bool
) -> dict[str, dict[str, Any]]:
    """p50/p99 of each target at 200 requests/s in both shapes, slices alternating between targets."""
    seconds = plan.seconds / plan.rounds
    out: dict[str, dict[str, Any]] = {name: {} for name in targets}
    with realtime([pid for _, pid in targets.values()], rt) as prefix:
        for shape, args in RATES.items():
            pooled: dict[str, list[float]] = {name: [] for name in targets}
            for _ in range(plan.rounds):
                for name, (url, _pid) in targets.items():
                    pooled[name] += hey_times(url, body, ["-z", f"{seconds:g}s", *args], prefix)
            for name in targets:
                out[name][shape] = percentiles(pooled[name])
                # hey's workers wait for an answer before the next tick: slower answers lower the rate.
                out[name][shape]["rps"] = len(pooled[name]) / plan.seconds
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and its children processes so far (Linux)."""
    total = 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    pids = [pid]
    with suppress(FileNotFoundError):
        pids += [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    for p in pids:
        with suppress(FileNotFoundError):
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def saturate(url: str, pid: int, body: Path, plan: Plan) -> dict[str, Any]:
    before = cpu_seconds(pid)
    sat = hey(url, body, ["-z", f"{plan.seconds}s", "-c", str(plan.concurrency)])
    return {"saturation": sat, "cpu_us_per_request": (cpu_seconds(pid) - before) / sat["requests"] * 1e6}


def measure(
    targets: dict[str, tuple[str, int]], bodies: dict[str, Path], plan: Plan, rt: bool, log: Any
) -> dict[str, dict[str, Any]]:
    """Saturation (each target alone), then the fixed rates (slices alternating between targets)."""
    rows: dict[str, dict[str, Any]] = {name: {} for name in targets}
    for workload, body in bodies.items():
        for name, (url, pid) in targets.items():
            rows[name][workload] = saturate(url, pid, body, plan)
        for name, shapes in fixed_rate(targets, body, plan, rt).items():
            row = rows[name][workload]
            row["rate_200"], row["rate_200_in_step"] = shapes["paced"], shapes["in_step"]
            sat, paced, step = row["saturation"], shapes["paced"], shapes["in_step"]
            cpu = row["cpu_us_per_request"]
            log(
                f"  {name:<9} {workload:<12} {sat['rps']:8.0f} req/s   CPU {cpu:7.0f} µs/req"
                f"   at 200/s paced p50 {paced['p50_ms']:6.2f} p99 {paced['p99_ms']:6.2f} ms"
                f"   in step p50 {step['p50_ms']:6.2f} p99 {step['p99_ms']:6.2f} ms"
            )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--quick", action="store_true")
    group.add_argument("--smoke", action="store_true")
    parser.add_argument("--no-litellm", action="store_true", help="leave the LiteLLM proxy out")
    parser.add_argument(
        "--realtime",
        action="store_true",
        help="fixed-rate loads at SCHED_FIFO priority (root; for a machine other jobs share)",
    )
    args = parser.parse_args(argv)
    plan = SMOKE if args.smoke else QUICK if args.quick else FULL
    use_litellm = plan.litellm and not args.no_litellm
    started = time.monotonic()

    def log(text: str) -> None:
        print(f"[{time.monotonic() - started:7.1f}s] {text}", flush=True)

    OUT.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="gateway-bench-"))
    bodies = {}
    for workload, body in BODIES.items():
        bodies[workload] = work / f"{workload}.json"
        bodies[workload].write_text(json.dumps(body))
    quiet = {
        **os.environ,
        "OTEL_TRACES_EXPORTER": "none",
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
        "PYTHONHASHSEED": "0",
    }
    up_port, gw_port, ll_port, bare_port = free_port(), free_port(), free_port(), free_port()
    upstream = f"http://127.0.0.1:{up_port}"
    (work / "gateway.toml").write_text(f'[upstreams.openai]\nurl = "{upstream}"\nprovider = "openai"\n')
    results: dict[str, Any] = {"plan": plan.__dict__, "command": " ".join([Path(PYTHON).name, *sys.argv])}
    load_before = os.getloadavg()[0]
    with process(
        [PYTHON, "-m", "agentotel.testing", "--port", str(up_port)], quiet, work / "upstream.log"
    ) as up:
        wait_http(f"{upstream}/v1/models", 30, up)
        gw_cmd = [
            PYTHON, "-m", "agentotel.cli", "gateway", "--listen", f"127.0.0.1:{gw_port}",
            "--config", str(work / "gateway.toml"),
        ]  # fmt: skip
        with process(gw_cmd, quiet, work / "gateway.log") as gw:
            wait_http(f"http://127.0.0.1:{gw_port}/readyz", 60, gw)
            log("upstream alone / agentotel gateway")
            gw_url = f"http://127.0.0.1:{gw_port}/openai/v1/chat/completions"
            targets = {"upstream": (f"{upstream}/v1/chat/completions", up.pid), "gateway": (gw_url, gw.pid)}
            bare_cmd = [
                PYTHON,
                str(ROOT / "benchmarks" / "_bare_proxy.py"),
                "--port",
                str(bare_port),
                "--upstream",
                upstream,
            ]
            with process(bare_cmd, quiet, work / "bare.log") as bare:
                wait_http(f"http://127.0.0.1:{bare_port}/readyz", 60, bare)
                targets["bare"] = (f"http://127.0.0.1:{bare_port}/openai/v1/chat/completions", bare.pid)
                rows = measure(targets, bodies, plan, args.realtime, log)
            results["upstream"], results["gateway"] = rows["upstream"], rows["gateway"]
            results["bare"] = rows["bare"]
            hey(gw_url, bodies["chat"], ["-n", "1000", "-c", "8"])
            warm = rss_mib(gw.pid)
            hey(gw_url, bodies["chat"], ["-n", str(plan.memory_requests), "-c", "16"])
            after = rss_mib(gw.pid)
            results["gateway_memory"] = {
                "after_warmup_mib": warm,
                "after_n_mib": after,
                "n": plan.memory_requests,
            }
            log(
                f"  gateway RSS {warm:.1f} MiB after 1,000 requests, "
                f"{after:.1f} MiB after {plan.memory_requests:,} more"
            )
        if use_litellm:
            command = ensure_litellm_proxy(log)
            config = work / "litellm.yaml"
            config.write_text(
                "model_list:\n  - model_name: gpt-4o\n    litellm_params:\n      model: openai/gpt-4o\n"
                f"      api_base: {upstream}/v1\n      api_key: sk-bench-not-a-key\n"
                "litellm_settings:\n  telemetry: false\n"
                f"general_settings:\n  master_key: {MASTER_KEY}\n"
            )
            env = {**quiet, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_TELEMETRY": "False"}
            ll_cmd = [str(command), "--config", str(config), "--port", str(ll_port), "--num_workers", "1"]
            with process(ll_cmd, env, work / "litellm.log") as ll:
                wait_http(f"http://127.0.0.1:{ll_port}/health/liveliness", 180, ll)
                hey(
                    f"http://127.0.0.1:{ll_port}/v1/chat/completions",
                    bodies["chat"],
                    ["-n", "200", "-c", "4"],
                )
                log("LiteLLM proxy")
                ll_url = f"http://127.0.0.1:{ll_port}/v1/chat/completions"
                results["litellm"] = measure({"litellm": (ll_url, ll.pid)}, bodies, plan, args.realtime, log)[
                    "litellm"
                ]
    summary = summarise(results, use_litellm)
    summary["load_average"] = [load_before, os.getloadavg()[0]]
    summary["realtime"] = args.realtime
    results["summary"] = summary
    (OUT / "gateway.json").write_text(json.dumps(results, indent=2))
    print(table(summary, results), flush=True)
    log(f"finished; command: {results['command']}; results in benchmarks/out/gateway.json")
    return 0


def _ms(value: float | None, sign: str = "") -> str:
    return "n/a" if value is None else f"{value:{sign}.2f} ms"


def _minus(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def summarise(results: dict[str, Any], with_litellm: bool) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for workload in BODIES:
        gw = results["gateway"][workload]
        up = results["upstream"][workload]
        row: dict[str, Any] = {
            "gateway_rps": gw["saturation"]["rps"],
            "upstream_rps": up["saturation"]["rps"],
            "added_p50_ms": gw["rate_200"]["p50_ms"] - up["rate_200"]["p50_ms"],
            "added_p99_ms": _minus(gw["rate_200"]["p99_ms"], up["rate_200"]["p99_ms"]),
            "added_mean_ms": gw["rate_200"]["mean_ms"] - up["rate_200"]["mean_ms"],
            "added_p50_in_step_ms": gw["rate_200_in_step"]["p50_ms"] - up["rate_200_in_step"]["p50_ms"],
            "added_p99_in_step_ms": gw["rate_200_in_step"]["p99_ms"] - up["rate_200_in_step"]["p99_ms"],
            "gateway_cpu_us": gw["cpu_us_per_request"],
            "paced_rps": min(gw["rate_200"]["rps"], up["rate_200"]["rps"]),
        }
        row["added_p50_met"] = row["added_p50_ms"] <= TARGET_ADDED_P50_MS
        bare = results["bare"][workload]
        row["bare_added_p50_ms"] = bare["rate_200"]["p50_ms"] - up["rate_200"]["p50_ms"]
        row["bare_added_p99_ms"] = _minus(bare["rate_200"]["p99_ms"], up["rate_200"]["p99_ms"])
        row["bare_cpu_us"] = bare["cpu_us_per_request"]
        row["bare_rps"] = bare["saturation"]["rps"]
        if with_litellm:
            ll = results["litellm"][workload]
            row["litellm_rps"] = ll["saturation"]["rps"]
            row["litellm_cpu_us"] = ll["cpu_us_per_request"]
            row["throughput_vs_litellm"] = row["gateway_rps"] / row["litellm_rps"]
            row["throughput_met"] = row["throughput_vs_litellm"] >= TARGET_THROUGHPUT
        summary[workload] = row
    memory = results["gateway_memory"]
    summary["memory_growth_mib"] = memory["after_n_mib"] - memory["after_warmup_mib"]
    return summary


def table(summary: dict[str, Any], results: dict[str, Any]) -> str:
    lines = [
        "",
        "| workload | upstream req/s | gateway req/s | LiteLLM proxy req/s | gateway / LiteLLM "
        "| added p50 at 200/s paced | added p99 | added p50 / p99, 4 clients in step "
        "| gateway CPU/req | LiteLLM CPU/req |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for workload in BODIES:
        r = summary[workload]
        ll = f"{r['litellm_rps']:.0f}" if "litellm_rps" in r else "-"
        ratio = f"{r['throughput_vs_litellm']:.2f}x" if "throughput_vs_litellm" in r else "-"
        ll_cpu = f"{r['litellm_cpu_us']:.0f} µs" if r.get("litellm_cpu_us") else "-"
        lines.append(
            f"| {workload} | {r['upstream_rps']:.0f} | {r['gateway_rps']:.0f} | {ll} | {ratio} | "
            f"{r['added_p50_ms']:+.2f} ms | {_ms(r['added_p99_ms'], '+')} | "
            f"{r['added_p50_in_step_ms']:+.2f} / {r['added_p99_in_step_ms']:+.2f} ms | "
            f"{r['gateway_cpu_us']:.0f} µs | {ll_cpu} |"
        )
    lines += [
        "",
        "The floor: a bare pass-through on the same stack (`benchmarks/_bare_proxy.py`: uvicorn, aiohttp, "
        "no telemetry), in the same slices:",
        "",
        "| workload | bare req/s | bare added p50 / p99 at 200/s paced | bare CPU/req "
        "| gateway added p50 over the bare pass-through |",
        "|---|---|---|---|---|",
    ]
    for workload in BODIES:
        r = summary[workload]
        lines.append(
            f"| {workload} | {r['bare_rps']:.0f} | "
            f"{r['bare_added_p50_ms']:+.2f} / {_ms(r['bare_added_p99_ms'], '+')} | "
            f"{r['bare_cpu_us']:.0f} µs | {r['added_p50_ms'] - r['bare_added_p50_ms']:+.2f} ms |"
        )
    memory = results["gateway_memory"]
    lines.append(
        f"\nGateway RSS: {memory['after_warmup_mib']:.1f} MiB after 1,000 requests, "
        f"{memory['after_n_mib']:.1f} MiB after {memory['n']:,} more "
        f"({summary['memory_growth_mib']:+.1f} MiB)."
    )
    slow = [f"{w} {summary[w]['paced_rps']:.0f}/s" for w in BODIES if summary[w]["paced_rps"] < 190]
    if slow:
        lines.append(f"The paced loads fell short of 200/s ({', '.join(slow)}): answers took over 5 ms.")
    start, end = summary["load_average"]
    lines.append(
        f"Load average (1 min) {start:.1f} at the start, {end:.1f} at the end;"
        f" fixed-rate loads at SCHED_FIFO priority: {'yes' if summary['realtime'] else 'no'}."
    )
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
