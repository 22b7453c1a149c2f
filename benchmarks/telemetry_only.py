"""Instructions per call of the telemetry alone: overhead.py's modes around an SDK method that
returns a pre-built response.

``overhead.py`` measures the real SDK call, whose own cost (25 million instructions for a
20-chunk OpenAI stream) moves by tens of thousands of instructions between builds of agentotel
that the uninstrumented call never runs. Here the SDK's ``create`` is replaced, in the child only,
by a function that returns the response of one real call made at start-up (for a stream: a real
``openai.Stream`` / ``anthropic.Stream`` over the chunks of one real stream), so the modes differ
by instrumentation code only, and a figure repeats to within about 2,000 instructions.

Each mode runs in its own child under ``valgrind --tool=callgrind --instr-atstart=no``: set-up
and 30 warm-up calls, then callgrind is switched on, its counters zeroed, N calls made and the
counters dumped, and the same for 2N calls; the figure is ``(Ir(2N) - Ir(N)) / N``.

    .venv/bin/python benchmarks/telemetry_only.py openai_chat_stream            # none, semconv, agentotel
    .venv/bin/python benchmarks/telemetry_only.py anthropic_messages agentotel --calls 40

``--patch CODE`` runs ``CODE`` in the child before it instruments (for example, replacing one
function by a no-op or by a cached result): the difference it makes is that piece's cost.
``--words N`` sets the reply length (20); the per-chunk cost of a stream is the difference between
two lengths, divided by the difference in chunks.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import overhead  # benchmarks/ is not a package: imported from its directory

_SELF = Path(__file__).resolve()
_READY = "TELEMETRY-ONLY-READY"
_TOTALS_RE = re.compile(r"^(?:summary|totals):\s+(\d+)", re.MULTILINE)


# --- child ------------------------------------------------------------------------------------
def _stream_items(call: Any) -> list[Any]:
    """The chunks of one real stream, read through the ``create`` and ``kwargs`` of ``call``."""
    create, kwargs = None, None
    for cell in call.__closure__ or ():
        value = cell.cell_contents
        if isinstance(value, dict) and "model" in value:
            kwargs = value
        elif callable(value) and getattr(value, "__name__", "") == "create":
            create = value
    if create is None or kwargs is None:
        raise RuntimeError("no create or kwargs in the benchmark call's closure")
    return list(create(**kwargs))


def _child(workload: str, mode: str, words: int, patch: str) -> None:
    w = overhead.WORKLOADS[workload]
    overhead.PROMPT = f"Write a short reply. [[words:{words}]]"
    real = overhead._build_call(workload, "none")
    if w.provider == "openai":
        import openai
        from openai.resources.chat import completions

        cls: Any = completions.Completions
        stream_cls: Any = openai.Stream
    else:
        import anthropic
        from anthropic.resources import messages

        cls, stream_cls = messages.Messages, anthropic.Stream
    items = _stream_items(real.call) if w.stream else []
    response = None if w.stream else real.call()

    class _Response:
        def close(self) -> None:
            pass

    def request(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not w.stream:
            return response
        stream = object.__new__(stream_cls)
        stream._iterator = iter(items)
        stream.response = _Response()
        return stream

    def create(self: Any, *args: Any, **kwargs: Any) -> Any:
        return self._client.request(None, None)

    # Through the client's request method, as the SDK's create goes: agentotel starts the span
    # there (a call refused before it makes none), and wraps this stand-in when it instruments.
    importlib.import_module(f"{w.provider}._base_client").SyncAPIClient.request = request
    cls.create = create
    if patch:
        exec(patch, {"__name__": "patch"})
    call = overhead._build_call(workload, mode).call
    for _ in range(30):
        call()
    gc.collect()
    gc.freeze()
    print(_READY, flush=True)
    for line in sys.stdin:
        for _ in range(int(line)):
            call()
        print("ok", flush=True)


# --- parent -----------------------------------------------------------------------------------
def _control(*args: str) -> None:
    subprocess.run(["callgrind_control", *args], capture_output=True, check=True)


def measure(workload: str, mode: str, calls: int, words: int, patch: str) -> float:
    """Instructions per call of ``mode`` (see the module docstring)."""
    with tempfile.TemporaryDirectory(prefix="agentotel-telemetry-only-") as tmp:
        out = Path(tmp) / "callgrind.out"
        spec = [workload, mode, words, patch]
        cmd = [
            "valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}",
            sys.executable, str(_SELF), "--child", json.dumps(spec),
        ]  # fmt: skip
        proc = subprocess.Popen(
            cmd,
            env=overhead._child_env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert proc.stdin is not None and proc.stdout is not None
        if proc.stdout.readline().strip() != _READY:
            proc.kill()
            raise RuntimeError(f"child failed: {workload}/{mode}")
        pid = str(proc.pid)
        _control("--instr=on", pid)
        totals = []
        for n in (calls, 2 * calls):
            _control("--zero", pid)
            proc.stdin.write(f"{n}\n")
            proc.stdin.flush()
            proc.stdout.readline()
            _control("--dump", pid)
            dumps = sorted(Path(tmp).glob("callgrind.out.*"), key=lambda p: int(p.suffix[1:]))
            match = _TOTALS_RE.search(dumps[-1].read_text())
            if match is None:
                raise RuntimeError(f"no totals in {dumps[-1]}")
            totals.append(int(match.group(1)))
        proc.stdin.close()
        proc.wait()
    return (totals[1] - totals[0]) / calls


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload", choices=sorted(overhead.WORKLOADS))
    parser.add_argument("modes", nargs="?", default="none,semconv,agentotel", help="comma-separated modes")
    parser.add_argument("--calls", type=int, default=20, help="N (default 20)")
    parser.add_argument("--words", type=int, default=overhead.WORDS, help="reply length in words")
    parser.add_argument("--patch", default="", metavar="CODE", help="code run in the child first")
    args = parser.parse_args(argv)
    modes = args.modes.split(",")
    unknown = sorted(set(modes) - set(overhead.MODES))
    if unknown:
        parser.error(f"modes: unknown {', '.join(unknown)}; accepted: {', '.join(overhead.MODES)}")
    result = {m: measure(args.workload, m, args.calls, args.words, args.patch) for m in modes}
    for mode, ir in result.items():
        print(f"{args.workload:<26} {mode:<9} {ir:>12,.0f} instructions per call")
    if {"none", "semconv", "agentotel"} <= set(result):
        floor = result["semconv"] - result["none"]
        ours = result["agentotel"] - result["none"]
        print(f"semconv - none {floor:+,.0f}; agentotel - none {ours:+,.0f}; vs semconv {ours / floor:.3f}")
    print(f"Command: {' '.join([sys.executable, *sys.argv])}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        _child(*json.loads(sys.argv[2]))
        sys.exit(0)
    sys.exit(main(sys.argv[1:]))
