"""agentotel's metrics/health endpoint against slow and idle clients: a read timeout and a cap on
the connections it serves at once, so that idle sockets cannot pile up threads in the host."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
from prometheus_helpers import get, wait_until

from agentotel.endpoints._health import HealthChecks
from agentotel.endpoints._server import DEFAULT_MAX_CONNECTIONS, MetricsServer

IDLE = 200


def _connection_threads() -> int:
    return sum(1 for t in threading.enumerate() if t.name == "agentotel-metrics-connection")


def _closed_by_server(sock: socket.socket) -> bool:
    """True when the server closed ``sock`` (EOF or reset); False while it is still open."""
    sock.setblocking(False)
    try:
        return sock.recv(1) == b""
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True


@pytest.fixture
def server() -> Iterator[MetricsServer]:
    """The default cap; a long read timeout, so that only the cap closes connections here."""
    endpoint = MetricsServer(None, "127.0.0.1", 0, checks=HealthChecks(), read_timeout=120).start()
    yield endpoint
    endpoint.close()


def test_idle_connections_beyond_the_cap_are_closed_and_need_no_thread(server: MetricsServer) -> None:
    idle = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(IDLE)]
    try:
        wait_until(lambda: len(_closed(idle)) >= IDLE - 64, "the oldest idle connections to be closed")
        closed = _closed(idle)
        wait_until(lambda: _connection_threads() == DEFAULT_MAX_CONNECTIONS, "the evicted threads to end")

        assert DEFAULT_MAX_CONNECTIONS == 64
        assert len(closed) == IDLE - DEFAULT_MAX_CONNECTIONS
        assert idle[: len(closed)] == closed  # the oldest went first
        assert get(f"{server.url}/healthz")[:1] == (200,)  # a real request is still answered
        # It took a slot: the idle connection it evicted ends its thread (as above, not at once).
        wait_until(lambda: _connection_threads() <= DEFAULT_MAX_CONNECTIONS, "the evicted thread to end")
    finally:
        for sock in idle:
            sock.close()


def _closed(idle: list[socket.socket]) -> list[socket.socket]:
    return [s for s in idle if _closed_by_server(s)]


def test_a_connection_that_sends_nothing_is_closed_after_the_read_timeout() -> None:
    endpoint = MetricsServer(None, "127.0.0.1", 0, checks=HealthChecks(), read_timeout=0.5).start()
    try:
        with socket.create_connection(("127.0.0.1", endpoint.port)) as sock:
            sock.settimeout(30)
            started = time.monotonic()
            assert sock.recv(1) == b""  # the server hung up; without a timeout it waits forever
            assert time.monotonic() - started >= 0.4
        wait_until(lambda: _connection_threads() == 0, "the connection's thread to end")
    finally:
        endpoint.close()


def test_a_request_sent_slowly_within_the_timeout_is_answered() -> None:
    endpoint = MetricsServer(None, "127.0.0.1", 0, checks=HealthChecks(), read_timeout=2).start()
    try:
        with socket.create_connection(("127.0.0.1", endpoint.port)) as sock:
            sock.settimeout(30)
            for part in (b"GET /healthz HTTP/1.1\r\n", b"Host: x\r\n", b"\r\n"):
                sock.sendall(part)
                time.sleep(0.2)
            answer = b""
            while chunk := sock.recv(4096):
                answer += chunk
        assert answer.startswith(b"HTTP/1.0 200 OK\r\n")
        assert answer.endswith(b"\r\n\r\nok\n")
    finally:
        endpoint.close()
