"""agentotel's own HTTP endpoint: ``/metrics``, ``/healthz`` and ``/readyz``, for Prometheus and
Kubernetes probes.

- ``GET /metrics``: the Prometheus exposition, OpenMetrics when the ``Accept`` header asks for
  ``application/openmetrics-text`` (as Prometheus does), else the text format 0.0.4; gzip when
  the client accepts it.
- ``GET /healthz``: liveness, ``200 ok`` for as long as the process serves at all.
- ``GET /readyz``: readiness, ``200`` when every registered check passes (see
  :mod:`agentotel.endpoints._health`), ``503`` otherwise; the JSON body names each check and the
  reason of each failing one: ``{"status": "not ready", "failing": {"audit": "OSError: ..."},
  "checks": {...}}``.

Stdlib only: one daemon thread accepts, one short-lived thread serves each connection. It binds
127.0.0.1 unless told otherwise; ``0.0.0.0`` only when asked for (in a container).

Slow and idle clients cannot pile up threads: a connection that sends nothing for
``read_timeout`` seconds (5) is closed, and at most ``max_connections`` (64) are served at once.
A new connection beyond the cap closes the oldest one that has not sent its request line yet
(an idle socket), so a real scrape still gets through; if all are busy, the new one is closed.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import logging
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from agentotel.config import ConfigError
from agentotel.endpoints._health import CHECKS, HealthChecks

_log = logging.getLogger("agentotel")

Render = Callable[[str], "tuple[bytes, str]"]
"""Renders the exposition for an ``Accept`` header: (body, content type)."""

DEFAULT_HOST = "127.0.0.1"
DEFAULT_MAX_CONNECTIONS = 64
"""Connections served at once; beyond it the oldest idle one is closed."""
DEFAULT_READ_TIMEOUT = 5.0
"""Seconds a connection may stay silent (while sending its request, or reading the answer)."""


def parse_address(value: str, variable: str) -> tuple[str, int]:
    """``host:port`` (``[::1]:9464``; ``:9464`` means 127.0.0.1) as (host, port); a value that is
    not one raises :class:`~agentotel.config.ConfigError` naming ``variable``."""
    host, sep, port_text = value.strip().rpartition(":")
    host = host.strip("[]") or DEFAULT_HOST
    if sep and port_text.isdigit() and 1 <= int(port_text) <= 65535:
        return host, int(port_text)
    raise ConfigError(f"{variable}={value!r} is not valid: expected host:port, e.g. 127.0.0.1:9464")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128  # the listen backlog: a burst of connections waits in the kernel

    def __init__(
        self,
        address: tuple[str, int],
        render: Render | None,
        checks: HealthChecks,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
    ) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.render = render
        self.checks = checks
        self.max_connections = max_connections
        self.read_timeout = read_timeout
        self._connections: dict[socket.socket, bool] = {}  # oldest first; True once a request came
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        """One thread per connection, within the cap."""
        request.settimeout(self.read_timeout)
        with self._connections_lock:
            if len(self._connections) >= self.max_connections and not self._evict_idle():
                self.shutdown_request(request)  # every slot serves a request: try again later
                return
            self._connections[request] = False
        thread = threading.Thread(
            target=self.process_request_thread,
            args=(request, client_address),
            name="agentotel-metrics-connection",
            daemon=True,
        )
        thread.start()

    def _evict_idle(self) -> bool:
        for connection, busy in self._connections.items():
            if not busy:
                del self._connections[connection]
                with contextlib.suppress(OSError):  # its thread sees EOF, answers nothing, ends
                    connection.shutdown(socket.SHUT_RDWR)
                return True
        return False

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._connections_lock:
                self._connections.pop(request, None)

    def request_started(self, connection: socket.socket) -> None:
        """The connection sent its request line: it is no longer idle."""
        with self._connections_lock:
            if connection in self._connections:
                self._connections[connection] = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        _log.debug("agentotel metrics server: error serving %s", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "agentotel"

    def parse_request(self) -> bool:
        self.server.request_started(self.connection)
        return super().parse_request()

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def _answer(self, send_body: bool) -> None:
        path = urlsplit(self.path).path
        if path == "/metrics" and self.server.render is not None:
            status, body, content_type = self._metrics(self.server.render)
        elif path == "/healthz":
            status, body, content_type = 200, b"ok\n", "text/plain; charset=utf-8"
        elif path == "/readyz":
            status, body = readiness(self.server.checks)
            content_type = "application/json"
        else:
            status, body, content_type = 404, b"not found\n", "text/plain; charset=utf-8"
        headers = {"Content-Type": content_type, "Cache-Control": "no-store"}
        if status == 200 and path == "/metrics" and "gzip" in self.headers.get("Accept-Encoding", ""):
            body = gzip.compress(body)
            headers["Content-Encoding"] = "gzip"
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def _metrics(self, render: Render) -> tuple[int, bytes, str]:
        try:
            body, content_type = render(self.headers.get("Accept", ""))
        except Exception as exc:
            _log.warning("agentotel: /metrics failed: %s", exc, exc_info=True)
            return 500, f"cannot render metrics: {type(exc).__name__}\n".encode(), "text/plain"
        return 200, body, content_type

    def log_message(self, format: str, *args: Any) -> None:
        _log.debug("agentotel metrics server: " + format, *args)


def readiness(checks: HealthChecks) -> tuple[int, bytes]:
    """The ``/readyz`` answer for ``checks``: (HTTP status, JSON body)."""
    results = checks.run()
    failing = {name: status.reason for name, status in results.items() if not status.ok}
    document: dict[str, Any] = {"status": "not ready" if failing else "ready"}
    if failing:
        document["failing"] = failing
    document["checks"] = {
        name: {"ok": True} if status.ok else {"ok": False, "reason": status.reason}
        for name, status in results.items()
    }
    return (503 if failing else 200), (json.dumps(document, sort_keys=True) + "\n").encode()


class MetricsServer:
    """The endpoint, served by a daemon thread from :meth:`start` until :meth:`close`.

    ``render`` gives the ``/metrics`` body (None: no ``/metrics``, health endpoints only);
    ``checks`` is what ``/readyz`` reads (default: the process's :data:`~agentotel.endpoints._health.CHECKS`).
    Port 0 picks a free port: read it back from :attr:`port`. ``max_connections`` and
    ``read_timeout`` (seconds) bound what slow or idle clients can hold (see the module docstring).
    """

    def __init__(
        self,
        render: Render | None,
        host: str = DEFAULT_HOST,
        port: int = 9464,
        *,
        checks: HealthChecks | None = None,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
    ) -> None:
        self._httpd = _Server((host, port), render, checks or CHECKS, max_connections, read_timeout)
        self._thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        return str(self._httpd.server_address[0])

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """``http://host:port`` (IPv6 hosts in brackets)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> MetricsServer:
        """Start serving (once); returns self."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                kwargs={"poll_interval": 0.2},
                name=f"agentotel-metrics-server:{self.port}",
                daemon=True,
            )
            self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving and release the port."""
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.server_close()
