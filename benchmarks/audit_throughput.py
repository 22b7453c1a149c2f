"""Audit log throughput, and what auditing costs the thread that ends a span.

Two measurements of ``AuditSpanProcessor`` with its default settings (fsync per batch, ``block``
policy, queue of 10,000, SHA-256), writing to a fresh file in ``--dir``:

1. **Throughput** (target >= 50,000 records/s): ``--records`` ``execute_tool`` spans (ended in
   advance by a real ``TracerProvider``, 1,000 distinct ones reused) go through ``on_end`` as fast
   as one thread can end them; the clock runs from the first ``on_end`` until ``force_flush``
   returns, so it includes deriving, queueing, chaining, hashing, writing and every fsync. Each
   file is then checked with ``verify``: every record is there, once, in a chain that verifies.
   The median of ``--repeats`` runs (3) is reported, and every run.
2. **Cost on the span-ending thread** (target <= 10 µs, median): each of ``--calls`` ``on_end``
   calls for an audited span is timed alone with ``perf_counter_ns``; the median of an empty timed
   call (the timer itself) is subtracted. The writer thread runs meanwhile, as it does in an app;
   the calls come in bursts of 1,000 with a flush in between, so the queue never fills and the
   median is the cost of an ``on_end``, not of back-pressure. ``on_end`` of a span that is not
   audited (an LLM call with ``llm_calls`` off) is measured the same way, for reference.
3. **The cost of** ``fsync=sync`` (no target: the price of 0 acknowledged records lost): with
   ``--sync-threads`` threads (1 and 8) each ending its share of ``--sync-records`` audited spans,
   every ``on_end`` returns only once its record is written and fsynced. Reported: records/s, and
   the median and p90 of ``on_end`` (each call timed alone), which is one write and one fsync of
   the file's disk; concurrent span ends share a batch and its fsync (group commit).

Run ``python benchmarks/audit_throughput.py`` (``--help`` for the options). Results go to stdout,
then the command line; ``--json PATH`` also writes them as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from agentotel import semconv
from agentotel.processors import AuditSpanProcessor
from agentotel.processors.audit import verify

TARGET_RECORDS_PER_S = 50_000
TARGET_ON_END_US = 10.0
BURST = 1000


def ended_spans(count: int, attributes: dict[str, Any], name: str) -> list[ReadableSpan]:
    """``count`` distinct spans, ended by a real SDK provider, with ``attributes`` and a call id."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("benchmark")
    for i in range(count):
        with tracer.start_as_current_span(
            name, attributes={**attributes, semconv.GEN_AI_TOOL_CALL_ID: f"c{i}"}
        ):
            pass
    provider.shutdown()
    return list(exporter.get_finished_spans())


TOOL = {
    semconv.GEN_AI_OPERATION_NAME: semconv.OP_EXECUTE_TOOL,
    semconv.GEN_AI_TOOL_NAME: "search",
    semconv.GEN_AI_TOOL_TYPE: semconv.TOOL_TYPE_FUNCTION,
    semconv.GEN_AI_CONVERSATION_ID: "conv-1",
    semconv.USER_ID: "u-1",
}
CHAT = {
    semconv.GEN_AI_OPERATION_NAME: semconv.OP_CHAT,
    semconv.GEN_AI_PROVIDER_NAME: semconv.PROVIDER_OPENAI,
    semconv.GEN_AI_REQUEST_MODEL: "gpt-4o",
}


def throughput(directory: Path, records: int, spans: list[ReadableSpan], repeats: int) -> dict[str, Any]:
    """The median of ``repeats`` runs, each into a fresh file."""
    runs = [throughput_once(directory / f"throughput-{n}.jsonl", records, spans) for n in range(repeats)]
    return {"records_per_s": statistics.median(r["records_per_s"] for r in runs), "runs": runs}


def throughput_once(path: Path, records: int, spans: list[ReadableSpan]) -> dict[str, Any]:
    processor = AuditSpanProcessor(path)
    started, cpu_started = time.perf_counter(), time.process_time()
    for i in range(records):
        processor.on_end(spans[i % len(spans)])
    if not processor.force_flush(600_000):
        raise SystemExit("force_flush timed out")
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    processor.shutdown()
    result = verify([path])
    if not result.ok or result.records != records:
        raise SystemExit(f"the benchmark's own audit log is wrong: {result.summary()}")
    return {
        "records": records,
        "seconds": seconds,
        "records_per_s": records / seconds,
        "records_per_cpu_s": records / cpu,
        "bytes": path.stat().st_size,
        "verify": result.summary(),
    }


def timer_floor(calls: int) -> float:
    samples = []
    clock = time.perf_counter_ns
    for _ in range(calls):
        t0 = clock()
        t1 = clock()
        samples.append(t1 - t0)
    return float(statistics.median(samples))


def on_end_cost(directory: Path, calls: int, spans: list[ReadableSpan], name: str) -> dict[str, Any]:
    processor = AuditSpanProcessor(directory / f"cost-{name}.jsonl")
    clock = time.perf_counter_ns
    on_end = processor.on_end
    for span in spans[:BURST]:  # warm-up
        on_end(span)
    processor.force_flush()
    samples: list[int] = []
    while len(samples) < calls:
        for span in spans[:BURST]:
            t0 = clock()
            on_end(span)
            samples.append(clock() - t0)
        processor.force_flush()
    processor.shutdown()
    floor = timer_floor(calls)
    median = statistics.median(samples)
    return {
        "calls": len(samples),
        "median_us": (median - floor) / 1000,
        "p90_us": (statistics.quantiles(samples, n=10)[-1] - floor) / 1000,
        "timer_floor_us": floor / 1000,
    }


def sync_cost(directory: Path, records: int, threads: int, spans: list[ReadableSpan]) -> dict[str, Any]:
    """``records`` audited spans ended by ``threads`` threads under ``fsync=sync``."""
    path = directory / f"sync-{threads}.jsonl"
    processor = AuditSpanProcessor(path, fsync="sync")
    clock = time.perf_counter_ns
    share = records // threads
    samples: list[list[int]] = [[] for _ in range(threads)]

    def end(n: int) -> None:
        on_end, mine = processor.on_end, samples[n]
        for i in range(share):
            t0 = clock()
            on_end(spans[(n * share + i) % len(spans)])
            mine.append(clock() - t0)

    workers = [threading.Thread(target=end, args=(n,)) for n in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    seconds = time.perf_counter() - started
    processor.shutdown()
    result = verify([path])
    if not result.ok or result.records != share * threads:
        raise SystemExit(f"the benchmark's own audit log is wrong: {result.summary()}")
    every = [x for mine in samples for x in mine]
    return {
        "threads": threads,
        "records": len(every),
        "records_per_s": len(every) / seconds,
        "median_us": statistics.median(every) / 1000,
        "p90_us": statistics.quantiles(every, n=10)[-1] / 1000,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--records", type=int, default=200_000, help="records for the throughput run")
    parser.add_argument("--repeats", type=int, default=3, help="throughput runs (the median is reported)")
    parser.add_argument("--calls", type=int, default=20_000, help="timed on_end calls per kind of span")
    parser.add_argument("--sync-records", type=int, default=4000, help="records for each fsync=sync run")
    parser.add_argument(
        "--sync-threads", default="1,8", help="thread counts of the fsync=sync runs (comma-separated)"
    )
    parser.add_argument("--dir", type=Path, default=None, help="where the audit files go (a temp dir)")
    parser.add_argument("--json", type=Path, default=None, help="also write the results to this file")
    args = parser.parse_args(argv)

    tools = ended_spans(BURST, TOOL, "execute_tool search")
    chats = ended_spans(BURST, CHAT, "chat gpt-4o")
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        directory = Path(tmp)
        results = {
            "throughput": throughput(directory, args.records, tools, args.repeats),
            "on_end_audited": on_end_cost(directory, args.calls, tools, "audited"),
            "on_end_not_audited": on_end_cost(directory, args.calls, chats, "not-audited"),
            "sync": [
                sync_cost(directory, args.sync_records, int(n), tools) for n in args.sync_threads.split(",")
            ],
        }
    rate = results["throughput"]["records_per_s"]
    cost = results["on_end_audited"]["median_us"]
    results["targets_met"] = rate >= TARGET_RECORDS_PER_S and cost <= TARGET_ON_END_US
    runs = results["throughput"]["runs"]
    print(
        f"throughput (fsync per batch): {rate:,.0f} records/s, median of {len(runs)} runs of "
        f"{args.records:,} records  [target >= {TARGET_RECORDS_PER_S:,}]"
    )
    print("  runs: " + ", ".join(f"{r['records_per_s']:,.0f}/s in {r['seconds']:.2f} s" for r in runs))
    print(
        "  per CPU second of this process (both threads; independent of other processes): "
        + ", ".join(f"{r['records_per_cpu_s']:,.0f}" for r in runs)
    )
    print(f"  last run's file: {runs[-1]['verify']}")
    for key, label in (("on_end_audited", "audited tool span"), ("on_end_not_audited", "span not audited")):
        r = results[key]
        print(
            f"on_end, {label}: median {r['median_us']:.2f} µs, p90 {r['p90_us']:.2f} µs "
            f"over {r['calls']:,} calls (timer floor {r['timer_floor_us']:.2f} µs subtracted)"
            + (f"  [target <= {TARGET_ON_END_US:g} µs]" if key == "on_end_audited" else "")
        )
    for r in results["sync"]:
        print(
            f"fsync=sync, {r['threads']} thread{'s' if r['threads'] > 1 else ''}: {r['records_per_s']:,.0f} "
            f"records/s; on_end median {r['median_us']:,.0f} µs, p90 {r['p90_us']:,.0f} µs "
            f"over {r['records']:,} calls (each waits for its record's fsync)"
        )
    load = os.getloadavg()
    results["load_average"] = load
    print(
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs "
        "(other processes slow the wall-clock figures down)"
    )
    print("targets met" if results["targets_met"] else "TARGETS NOT MET")
    print("command: " + shlex.join([sys.executable, *sys.argv]))
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2))
    return 0 if results["targets_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
