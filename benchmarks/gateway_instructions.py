"""CPU instructions per request of ``agentotel gateway``: in total and on the critical path.

    .venv/bin/python benchmarks/gateway_instructions.py              # callgrind + bytecodes, both workloads
    .venv/bin/python benchmarks/gateway_instructions.py --quick      # fewer requests (N1=10, N2=30)
    .venv/bin/python benchmarks/gateway_instructions.py --no-callgrind   # the bytecode split only

Load-independent (callgrind counts what the gateway process executes, not how long it took), so it
runs on a shared machine. What runs, on 127.0.0.1:

* the upstream: the fake LLM server (``agentotel.testing``, as ``benchmarks/gateway.py`` runs it),
  its stream's 20 content chunks (and role, finish and ``[DONE]`` events) written with a gap
  before each (5 ms; 50 ms under callgrind), so every event reaches the gateway in a read of its
  own, whatever the gateway's speed: a fixed number of chunks per stream (without the gap, how many
  events one read brings depends on timing, and so would the counts);
* the gateway, one process, its ``/openai`` route on that upstream, the OTel SDK set up with no
  exporter (``OTEL_*_EXPORTER=none``), served by uvicorn as ``agentotel gateway`` serves it,
  under ``valgrind --tool=callgrind --instr-atstart=no``;
* one plain client (``http.client``, one keep-alive connection) sending requests one after the
  other, paced (0.3 s apart under callgrind, 0.1 s in the bytecode run: each request's work after
  its answer ends before the next arrives, as at 200/s paced): ``chat`` (non-stream) and
  ``chat_stream`` (20 chunks), the bodies of ``gateway.py``.

After a warm-up (instrumentation off), ``callgrind_control`` switches instrumentation on; each
workload then runs N1 and N2 requests, each window dumped on its own; instructions per request =
(Ir(N2) - Ir(N1)) / (N2 - N1), so what does not scale with requests cancels out.

Two runs of the gateway, the same code:

* ``total``: every instruction of the process;
* ``critical``: only those from the end of the previous request to the answer's last byte handed to
  the client's socket: the harness wraps the ASGI app, and its ``send`` wrapper turns callgrind's
  collection off (``CALLGRIND_TOGGLE_COLLECT``, a 3-line C library it compiles) right after the
  message that ends the answer, and on again when the app's call returns. A measurement-only switch:
  the product has none. (The uvicorn bookkeeping after the app's return is counted as critical.)

The split by library comes two ways: callgrind's exclusive instructions per object file (the
interpreter, uvloop, httptools, aiohttp's C parts, multidict, yarl, libc ...), and Python bytecodes
per request per package (a ``sys.settrace`` opcode counter in a gateway run without valgrind, split
into before / after the answer's last byte the same way), since the interpreter's instructions are
spent on every package's Python code alike.

uvicorn's server loop wakes every 0.1 s (its ``on_tick``); the harness makes it wake every 60 s,
since under callgrind the wall time per request is 50x longer and those wake-ups (a cost per second,
not per request) would be counted per request.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from gateway import free_port, process  # the load benchmark's helpers

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
PYTHON = sys.executable
MODEL = "gpt-4o"
BODIES = {
    "chat": {"model": MODEL, "messages": [{"role": "user", "content": "Say hello [[words:20]]"}]},
    "chat_stream": {
        "model": MODEL,
        "stream": True,
        "messages": [{"role": "user", "content": "Say hello [[words:20]]"}],
    },
}
PATH = "/openai/v1/chat/completions"
AUTH = "Bearer sk-gateway-instructions-not-a-key"
WARMUP = 30
# Seconds between two measured requests: the gateway finishes a request's work after its answer
# (its telemetry) before the next request arrives, as at 200 requests/s paced (5 ms apart), so the
# critical path's collection switch (see the docstring) never covers another request's work.
CALLGRIND_PAUSE = 0.3
_TOTALS_RE = re.compile(r"^(?:summary|totals):\s+(\d+)", re.MULTILINE)
_TOGGLE_C = """#include <valgrind/callgrind.h>
void agentotel_toggle_collect(void) { CALLGRIND_TOGGLE_COLLECT; }
"""


# --- the gateway process ---------------------------------------------------------------------
def _serve(spec: dict[str, Any]) -> None:
    """Serve the gateway (the child process; under callgrind or with the bytecode counter)."""
    import asyncio

    import uvicorn

    from agentotel.gateway import Gateway, uvicorn_config
    from agentotel.gateway._config import from_mapping
    from agentotel.gateway._setup import ensure_sdk

    ensure_sdk()
    config = from_mapping(
        {
            "listen": f"127.0.0.1:{spec['port']}",
            "upstreams": {"openai": {"url": spec["upstream"], "provider": "openai"}},
        }
    )
    gateway = Gateway(config)
    toggle: Any = None
    if spec.get("toggle_lib"):
        import ctypes

        toggle = ctypes.CDLL(spec["toggle_lib"]).agentotel_toggle_collect
    counter: Any = _BytecodeCounter(spec.get("by_function", False)) if spec.get("bytecodes") else None

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await gateway(scope, receive, send)
            return
        if counter is not None and scope["path"] == "/__bytecodes":
            await _answer_json(send, counter.snapshot())
            return
        answered = False

        async def sending(message: Any) -> None:
            nonlocal answered
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                answered = True
                if toggle is not None:
                    toggle()  # collection off: the answer's last byte went to the client's socket
                if counter is not None:
                    counter.after = True

        try:
            await gateway(scope, receive, sending)
        finally:
            if answered:
                if toggle is not None:
                    toggle()  # collection on
                if counter is not None:
                    counter.after = False

    class Server(uvicorn.Server):
        async def main_loop(self) -> None:
            while not self.should_exit:
                await asyncio.sleep(60)  # uvicorn's 0.1 s tick is a cost per second, not per request

    def stop(*_: Any) -> None:
        server.should_exit = True

    server = Server(uvicorn_config(config, app))
    server.install_signal_handlers = lambda: None  # type: ignore[attr-defined]
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if counter is not None:
        counter.start()
    server.run()


class _BytecodeCounter:
    """Python bytecodes executed in the serving thread, per package, before / after the answer."""

    def __init__(self, by_function: bool = False) -> None:
        self.after = False
        self.by_function = by_function
        self.counts: dict[str, Counter[str]] = {"critical": Counter(), "after": Counter()}
        self._groups: dict[str, str] = {}

    def group(self, filename: str) -> str:
        found = self._groups.get(filename)
        if found is None:
            found = self._groups[filename] = package_of(filename)
        return found

    def start(self) -> None:
        counts = self.counts
        group = self.group
        by_function = self.by_function

        def local(frame: Any, event: str, _arg: Any) -> Any:
            if event == "opcode":
                code = frame.f_code
                key = group(code.co_filename) + (":" + code.co_name if by_function else "")
                counts["after" if self.after else "critical"][key] += 1
            return local

        def global_(frame: Any, _event: str, _arg: Any) -> Any:
            frame.f_trace_opcodes = True
            return local

        sys.settrace(global_)

    def snapshot(self) -> dict[str, dict[str, int]]:
        return {phase: dict(c) for phase, c in self.counts.items()}


def package_of(filename: str) -> str:
    """The package a code object's file belongs to, for the split."""
    path = filename.replace("\\", "/")
    if "/agentotel/gateway/" in path:
        return "agentotel.gateway"
    if "/agentotel/" in path:
        return "agentotel (engine, providers)"
    if "site-packages/" in path:
        top = path.split("site-packages/", 1)[1].split("/", 1)[0]
        return top.removesuffix(".py")
    if "/asyncio/" in path:
        return "asyncio"
    if path.startswith("<"):
        return "<frozen/generated>"
    return "stdlib: " + path.rsplit("/", 1)[-1]


async def _answer_json(send: Any, data: Any) -> None:
    body = json.dumps(data).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _upstream(spec: dict[str, Any]) -> None:
    """The fake LLM server, a stream's chunks written ``spec["gap"]`` seconds apart."""
    import threading

    from agentotel.testing import FakeLLMServer, _server

    original = _server._Handler._send
    gap = float(spec["gap"])

    def paced(self: Any, resp: Any) -> None:
        if not resp.is_stream:
            original(self, resp)
            return
        self.send_response(resp.status)
        for name, value in resp.headers.items():
            self.send_header(name, value)
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        for chunk in resp.chunks:
            time.sleep(gap)
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    _server._Handler._send = paced  # type: ignore[method-assign]
    FakeLLMServer("127.0.0.1", spec["port"]).start()
    threading.Event().wait()


# --- the driver --------------------------------------------------------------------------------
def wait_http(port: int, path: str, seconds: float, proc: subprocess.Popen[Any]) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", path)
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"127.0.0.1:{port}{path} did not answer within {seconds} s")


class Client:
    """One keep-alive connection, requests one after the other."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        self.bodies = {name: json.dumps(body).encode() for name, body in BODIES.items()}

    def send(self, workload: str, n: int, pause: float = 0.0) -> None:
        headers = {"Content-Type": "application/json", "Authorization": AUTH}
        for _ in range(n):
            time.sleep(pause)
            self.conn.request("POST", PATH, body=self.bodies[workload], headers=headers)
            response = self.conn.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"{workload}: the gateway answered {response.status}")

    def get_json(self, path: str) -> Any:
        self.conn.request("GET", path)
        response = self.conn.getresponse()
        return json.loads(response.read())


def _env() -> dict[str, str]:
    return {
        **os.environ,
        "OTEL_TRACES_EXPORTER": "none",
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def _control(pid: int, *args: str) -> None:
    done = subprocess.run(["callgrind_control", *args, str(pid)], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"callgrind_control {args} failed: {done.stdout}{done.stderr}")


def _settle() -> None:
    """Let the gateway finish the last request's work after its answer (its telemetry) before a dump."""
    time.sleep(3)


def callgrind_run(
    mode: str, upstream: str, n1: int, n2: int, work: Path, toggle_lib: Path | None, log: Any
) -> dict[str, Any]:
    """One gateway under callgrind: per workload, the Ir of an N1 and an N2 window, and its split."""
    port = free_port()
    out = work / f"callgrind.{mode}.out"
    spec = {"port": port, "upstream": upstream, "toggle_lib": str(toggle_lib) if toggle_lib else None}
    cmd = [
        "valgrind",
        "--tool=callgrind",
        "--instr-atstart=no",
        f"--callgrind-out-file={out}",
        PYTHON,
        str(Path(__file__).resolve()),
        "--serve",
        json.dumps(spec),
    ]
    result: dict[str, Any] = {}
    with process(cmd, _env(), work / f"gateway.{mode}.log", stop_wait=120) as proc:
        wait_http(port, "/readyz", 600, proc)
        client = Client(port)
        for workload in BODIES:
            client.send(workload, WARMUP)
        _settle()
        _control(proc.pid, "--instr=on")
        _control(proc.pid, "--zero")
        dumps: list[tuple[str, int]] = []
        for workload in BODIES:
            for n in (n1, n2):
                client.send(workload, n, CALLGRIND_PAUSE)
                _settle()
                _control(proc.pid, "--dump")
                dumps.append((workload, n))
        client.conn.close()
    files = sorted(work.glob(f"callgrind.{mode}.out.*"), key=lambda p: int(p.name.rsplit(".", 1)[1]))
    if len(files) < len(dumps):
        raise RuntimeError(f"{len(files)} callgrind dumps for {len(dumps)} windows in {work}")
    files = files[: len(dumps)]
    for workload in BODIES:
        (f1,), (f2,) = (
            [f for f, d in zip(files, dumps, strict=True) if d == (workload, n)] for n in (n1, n2)
        )
        ir1, ir2 = _total(f1), _total(f2)
        obj1, obj2 = objects(f1), objects(f2)
        per_object = {k: (obj2.get(k, 0) - obj1.get(k, 0)) / (n2 - n1) for k in set(obj1) | set(obj2)}
        result[workload] = {
            "ir_per_request": (ir2 - ir1) / (n2 - n1),
            "ir_n1": ir1,
            "ir_n2": ir2,
            "by_object": per_object,
        }
        log(
            f"  {mode:<8} {workload:<12} Ir(N1={n1}) {ir1:,}  Ir(N2={n2}) {ir2:,}  "
            f"per request {(ir2 - ir1) / (n2 - n1):,.0f}"
        )
    return result


def _total(path: Path) -> int:
    match = _TOTALS_RE.search(path.read_text(errors="replace"))
    if match is None:
        raise RuntimeError(f"no summary/totals line in {path}")
    return int(match.group(1))


_OBJECT_GROUPS = (
    ("python3", "the interpreter (python)"),
    ("libpython", "the interpreter (python)"),
    ("uvloop", "uvloop (C)"),
    ("httptools", "httptools (C)"),
    ("aiohttp", "aiohttp (C parts)"),
    ("multidict", "multidict (C)"),
    ("yarl", "yarl (C)"),
    ("propcache", "propcache (C)"),
    ("frozenlist", "frozenlist (C)"),
    ("libc.so", "libc"),
    ("libm.so", "libc"),
    ("ld-linux", "ld.so"),
)


def _object_group(name: str) -> str:
    base = name.rsplit("/", 1)[-1]
    for needle, group in _OBJECT_GROUPS:
        if needle in name and (needle != "python3" or base.startswith("python3")):
            return group
    if base.endswith(".so") or ".cpython-" in base:
        return "other C extensions: " + base.split(".", 1)[0]
    return "other: " + base


def objects(path: Path) -> dict[str, int]:
    """Exclusive Ir per object-file group of one callgrind dump (its cost lines, not its calls)."""
    names: dict[str, str] = {}
    totals: Counter[str] = Counter()
    current = "?"
    skip_next = False
    with path.open(errors="replace") as lines:
        for line in lines:
            if skip_next:
                skip_next = False
                continue
            head = line[:1]
            if head.isdigit() or head in "+-*":
                parts = line.split()
                if len(parts) > 1:
                    totals[current] += int(parts[1])
            elif line.startswith("ob="):
                current = _compressed(line[3:].strip(), names)
            elif line.startswith("calls="):
                skip_next = True  # the next line is the call's inclusive cost
            elif line.startswith(("cob=", "cfi=", "cfl=", "cfn=", "fn=", "fl=", "fi=", "fe=")):
                key, _, value = line.partition("=")
                if key == "cob":
                    _compressed(value.strip(), names)
    grouped: Counter[str] = Counter()
    for ob, ir in totals.items():
        grouped[_object_group(ob)] += ir
    return dict(grouped)


def _compressed(value: str, names: dict[str, str]) -> str:
    """A callgrind name-compressed value ``(id) name`` / ``(id)``."""
    if value.startswith("("):
        ident, _, name = value.partition(")")
        name = name.strip()
        if name:
            names[ident] = name
            return name
        return names.get(ident, ident)
    return value


def bytecode_run(
    upstream: str, n1: int, n2: int, work: Path, log: Any, by_function: bool = False
) -> dict[str, Any]:
    """Python bytecodes per request per package, before / after the answer's last byte."""
    port = free_port()
    spec = {"port": port, "upstream": upstream, "bytecodes": True, "by_function": by_function}
    cmd = [PYTHON, str(Path(__file__).resolve()), "--serve", json.dumps(spec)]
    result: dict[str, Any] = {}
    with process(cmd, _env(), work / "gateway.bytecodes.log", stop_wait=120) as proc:
        wait_http(port, "/readyz", 120, proc)
        client = Client(port)
        for workload in BODIES:
            client.send(workload, WARMUP)
        for workload in BODIES:
            windows = []
            for n in (n1, n2):
                time.sleep(0.5)
                before = client.get_json("/__bytecodes")
                client.send(workload, n, 0.1)
                time.sleep(0.5)
                after = client.get_json("/__bytecodes")
                windows.append({phase: _minus(after[phase], before[phase]) for phase in after})
            split = {
                phase: {
                    k: (windows[1][phase].get(k, 0) - windows[0][phase].get(k, 0)) / (n2 - n1)
                    for k in set(windows[0][phase]) | set(windows[1][phase])
                }
                for phase in windows[0]
            }
            result[workload] = split
            log(
                f"  bytecodes {workload:<12} critical {sum(split['critical'].values()):,.0f}  "
                f"after {sum(split['after'].values()):,.0f} per request"
            )
        client.conn.close()
    return result


def _minus(a: dict[str, int], b: dict[str, int]) -> dict[str, int]:
    return {k: a.get(k, 0) - b.get(k, 0) for k in set(a) | set(b)}


@contextmanager
def upstream_process(gap: float, work: Path) -> Iterator[str]:
    port = free_port()
    cmd = [PYTHON, str(Path(__file__).resolve()), "--upstream", json.dumps({"port": port, "gap": gap})]
    with process(cmd, _env(), work / "upstream.log", stop_wait=120) as up:
        wait_http(port, "/v1/models", 60, up)
        yield f"http://127.0.0.1:{port}"


def toggle_library(work: Path) -> Path:
    source = work / "toggle.c"
    source.write_text(_TOGGLE_C)
    lib = work / "libagentotel_toggle.so"
    subprocess.run(["gcc", "-O1", "-shared", "-fPIC", "-o", str(lib), str(source)], check=True)
    return lib


def report(results: dict[str, Any], n1: int, n2: int) -> str:
    lines = [""]
    cg = results.get("callgrind")
    if cg:
        lines += [
            f"Instructions per request (callgrind Ir, (Ir(N2) - Ir(N1)) / (N2 - N1), N1={n1}, N2={n2}):",
            "",
            "| workload | total | critical path | after the answer |",
            "|---|---|---|---|",
        ]
        for workload in BODIES:
            total = cg["total"][workload]["ir_per_request"]
            crit = cg["critical"][workload]["ir_per_request"]
            after = total - crit
            lines.append(
                f"| {workload} | {total / 1000:,.0f} k | {crit / 1000:,.0f} k | {after / 1000:,.0f} k |"
            )
        for workload in BODIES:
            lines += ["", f"{workload}: exclusive Ir per request by object (total / critical path)", ""]
            tot, crit = cg["total"][workload]["by_object"], cg["critical"][workload]["by_object"]
            for name in sorted(tot, key=lambda k: -tot[k]):
                if abs(tot[name]) >= 500:
                    lines.append(
                        f"  {name:<40} {tot[name] / 1000:9,.1f} k  {crit.get(name, 0) / 1000:9,.1f} k"
                    )
    bc = results.get("bytecodes")
    if bc:
        for workload in BODIES:
            split = bc[workload]
            crit, after = split["critical"], split["after"]
            lines += [
                "",
                f"{workload}: Python bytecodes per request by package (critical path / after the answer)",
                f"  {'all':<40} {sum(crit.values()):9,.0f}  {sum(after.values()):9,.0f}",
            ]
            for name in sorted(set(crit) | set(after), key=lambda k: -(crit.get(k, 0) + after.get(k, 0))):
                if abs(crit.get(name, 0)) + abs(after.get(name, 0)) >= 5:
                    lines.append(f"  {name:<40} {crit.get(name, 0):9,.0f}  {after.get(name, 0):9,.0f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--upstream", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="N1=10, N2=30 (default N1=20, N2=60)")
    parser.add_argument("--no-callgrind", action="store_true", help="the bytecode split only")
    parser.add_argument("--no-bytecodes", action="store_true", help="callgrind only")
    parser.add_argument(
        "--by-function", action="store_true", help="the bytecode split by package and function"
    )
    parser.add_argument("--keep", type=Path, help="keep the callgrind files in this directory")
    args = parser.parse_args(argv)
    if args.serve:
        _serve(json.loads(args.serve))
        return 0
    if args.upstream:
        _upstream(json.loads(args.upstream))
        return 0
    n1, n2 = (10, 30) if args.quick else (20, 60)
    started = time.monotonic()

    def log(text: str) -> None:
        print(f"[{time.monotonic() - started:7.1f}s] {text}", flush=True)

    if not args.no_callgrind and shutil.which("valgrind") is None:
        raise SystemExit("valgrind not found: apt-get install -y valgrind (or --no-callgrind)")
    OUT.mkdir(parents=True, exist_ok=True)
    work = args.keep or Path(tempfile.mkdtemp(prefix="gateway-instructions-"))
    work.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"command": " ".join([Path(PYTHON).name, *sys.argv]), "n1": n1, "n2": n2}
    if not args.no_bytecodes:
        with upstream_process(0.005, work) as upstream:
            log("bytecodes (no valgrind)")
            results["bytecodes"] = bytecode_run(upstream, n1, n2, work, log, args.by_function)
    if not args.no_callgrind:
        lib = toggle_library(work)
        results["callgrind"] = {}
        with upstream_process(0.05, work) as upstream:
            for mode in ("total", "critical"):
                log(f"callgrind, {mode}")
                results["callgrind"][mode] = callgrind_run(
                    mode, upstream, n1, n2, work, lib if mode == "critical" else None, log
                )
    (OUT / "gateway_instructions.json").write_text(json.dumps(results, indent=2))
    print(report(results, n1, n2), flush=True)
    log(f"finished; command: {results['command']}; results in benchmarks/out/gateway_instructions.json")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
