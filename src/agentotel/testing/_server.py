"""A real-socket fake LLM server (stdlib only) wrapping :func:`handle_request`."""

from __future__ import annotations

import argparse
import contextlib
import json
import socket
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ._fake import FakeLLM, FakeResponse, handle_request
from ._script import Reply

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["FakeLLMServer", "RecordedRequest", "main"]

_REDACTED_HEADERS = frozenset({"authorization", "x-api-key", "api-key", "proxy-authorization"})


@dataclass(frozen=True)
class RecordedRequest:
    """One request the server received. Credential headers are redacted."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any  # parsed JSON body, or None when the body was empty / not JSON


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128  # many concurrent clients (socketserver's default backlog is 5)

    def __init__(self, address: tuple[str, int], owner: FakeLLMServer) -> None:
        self.owner = owner
        self.stopping = threading.Event()
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet: clients dropping connections is part of the scenarios."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # no 40 ms delayed-ACK stall between headers and body
    server_version = "agentotel-fake-llm/1.0"
    sys_version = ""
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default stderr access log."""

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _abort(self) -> None:
        """Drop the connection abruptly (no status line / no final chunk)."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _dispatch(self) -> None:
        try:
            body = self._read_body()
        except (OSError, ValueError):
            self._abort()
            return
        headers = {k.lower(): v for k, v in self.headers.items()}
        resp = self.server.owner._handle(self.command, self.path, headers, body)
        if resp.delay_s > 0 and self.server.stopping.wait(resp.delay_s):
            self._abort()
            return
        if resp.disconnect_after == 0:
            self._abort()
            return
        try:
            self._send(resp)
        except OSError:  # client went away (e.g. it timed out during `slow`)
            self.close_connection = True

    def _send(self, resp: FakeResponse) -> None:
        self.send_response(resp.status)
        for name, value in resp.headers.items():
            self.send_header(name, value)
        if not resp.is_stream:
            body = resp.body
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            return
        self.send_header("transfer-encoding", "chunked")
        self.send_header("cache-control", "no-cache")
        self.end_headers()
        for index, chunk in enumerate(resp.chunks):
            if resp.disconnect_after is not None and index >= resp.disconnect_after:
                self._abort()
                return
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


class FakeLLMServer:
    """Fake OpenAI + Anthropic HTTP API on ``127.0.0.1`` (random port by default).

    >>> with FakeLLMServer() as srv:  # doctest: +SKIP
    ...     client = openai.OpenAI(base_url=srv.openai_base_url, api_key="sk-test")
    """

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, *, script: Iterable[Reply | str] | None = None
    ) -> None:
        self.host = host
        self.state = FakeLLM(script)
        self._requested_port = port
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Lock()

    # -- lifecycle --------------------------------------------------------
    def start(self) -> Self:
        if self._httpd is None:
            httpd = _HTTPServer((self.host, self._requested_port), self)
            self._httpd = httpd
            self._thread = threading.Thread(
                target=httpd.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="fake-llm-server",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.stopping.set()
        httpd.shutdown()
        with httpd.connections_lock:
            conns = list(httpd.connections)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- addresses --------------------------------------------------------
    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("FakeLLMServer is not running; call start() first")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def openai_base_url(self) -> str:
        return f"{self.base_url}/v1"

    @property
    def anthropic_base_url(self) -> str:
        return self.base_url

    # -- scripted replies -------------------------------------------------
    def script(self, replies: Iterable[Reply | str]) -> None:
        """Queue replies for the next chat completion / response / message requests, in order
        (a string is a text reply); see :class:`~agentotel.testing.Reply`."""
        self.state.script(replies)

    @property
    def pending_replies(self) -> int:
        """Scripted replies not consumed yet."""
        return self.state.pending_replies

    # -- recorded requests ------------------------------------------------
    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def clear(self) -> None:
        with self._lock:
            self._requests.clear()

    def _handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> FakeResponse:
        try:
            parsed: Any = json.loads(body) if body else None
        except ValueError:
            parsed = None
        safe = {k: ("<redacted>" if k in _REDACTED_HEADERS else v) for k, v in headers.items()}
        with self._lock:
            self._requests.append(RecordedRequest(method, path, safe, parsed))
        return handle_request(method, path, headers, body, state=self.state)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the fake server in the foreground until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m agentotel.testing", description=main.__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    args = parser.parse_args(argv)
    server = FakeLLMServer(args.host, args.port).start()
    print(f"Fake LLM server listening on {server.base_url}", flush=True)
    print(f"  OpenAI:    base_url={server.openai_base_url}", flush=True)
    print(f"  Anthropic: base_url={server.anthropic_base_url}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0
