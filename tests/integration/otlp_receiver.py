"""A tiny OTLP/HTTP (protobuf) receiver for tests: stdlib HTTP server, decoded requests kept in memory.

    with OTLPReceiver() as rx:
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = rx.endpoint      # http://127.0.0.1:PORT
        ... run something that exports ...
        rx.spans()                                            # every received Span (protobuf)
        rx.metrics()                                          # every received Metric (protobuf)

It accepts ``POST /v1/traces``, ``/v1/metrics`` and ``/v1/logs`` with ``application/x-protobuf``
bodies (gzip-encoded or not) and answers with the matching empty ``Export*ServiceResponse``.
"""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any

from helpers import LocalHTTPServer, QuietHandler, serve_in_background, stop_serving
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

__all__ = ["OTLPReceiver", "any_value", "attributes"]

_ROUTES: dict[str, tuple[str, Any, Any]] = {
    "/v1/traces": ("traces", ExportTraceServiceRequest, ExportTraceServiceResponse),
    "/v1/metrics": ("metrics", ExportMetricsServiceRequest, ExportMetricsServiceResponse),
    "/v1/logs": ("logs", ExportLogsServiceRequest, ExportLogsServiceResponse),
}


def any_value(value: AnyValue) -> Any:
    """A protobuf ``AnyValue`` as a plain Python value (arrays become tuples)."""
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return tuple(any_value(v) for v in value.array_value.values)
    if kind == "kvlist_value":
        return {kv.key: any_value(kv.value) for kv in value.kvlist_value.values}
    return getattr(value, kind)


def attributes(key_values: Any) -> dict[str, Any]:
    """Repeated ``KeyValue`` (span / point / resource attributes) as a dict."""
    return {kv.key: any_value(kv.value) for kv in key_values}


class _Server(LocalHTTPServer):
    def __init__(self, owner: OTLPReceiver) -> None:
        self.owner = owner
        super().__init__(_Handler)


class _Handler(QuietHandler):
    server: _Server

    def do_POST(self) -> None:
        body = self.read_body()
        route = _ROUTES.get(self.path.split("?", 1)[0])
        if route is None:
            self._reply(404, b"", "text/plain")
            return
        signal, request_cls, response_cls = route
        try:
            if self.headers.get("Content-Encoding", "").lower() == "gzip":
                body = gzip.decompress(body)
            request = request_cls()
            request.ParseFromString(body)
        except Exception as exc:  # a malformed export: tell the exporter, keep the reason
            self.server.owner._record_error(signal, exc)
            self._reply(400, b"", "text/plain")
            return
        self.server.owner._record(signal, request)
        self._reply(200, response_cls().SerializeToString(), "application/x-protobuf")

    def _reply(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class OTLPReceiver:
    """OTLP/HTTP protobuf receiver on ``127.0.0.1`` at a random port."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: dict[str, list[Any]] = {"traces": [], "metrics": [], "logs": []}
        self.errors: list[tuple[str, BaseException]] = []
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> OTLPReceiver:
        if self._httpd is None:
            self._httpd = _Server(self)
            self._thread = serve_in_background(self._httpd, name="otlp-receiver")
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        thread, self._thread = self._thread, None
        if httpd is not None and thread is not None:
            stop_serving(httpd, thread)

    def __enter__(self) -> OTLPReceiver:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("OTLPReceiver is not running")
        return int(self._httpd.server_address[1])

    @property
    def endpoint(self) -> str:
        """The value for ``OTEL_EXPORTER_OTLP_ENDPOINT``."""
        return f"http://127.0.0.1:{self.port}"

    # -- storage --------------------------------------------------------------------------------
    def _record(self, signal: str, request: Any) -> None:
        with self._lock:
            self._requests[signal].append(request)

    def _record_error(self, signal: str, exc: BaseException) -> None:
        with self._lock:
            self.errors.append((signal, exc))

    def requests(self, signal: str) -> list[Any]:
        """Decoded ``Export*ServiceRequest`` objects received for ``traces``/``metrics``/``logs``."""
        with self._lock:
            return list(self._requests[signal])

    def clear(self) -> None:
        with self._lock:
            for received in self._requests.values():
                received.clear()
            self.errors.clear()

    # -- views ----------------------------------------------------------------------------------
    def _scope_spans(self) -> Iterator[Any]:
        for request in self.requests("traces"):
            for rs in request.resource_spans:
                yield from rs.scope_spans

    def spans(self) -> list[Any]:
        """Every received protobuf ``Span``, in arrival order."""
        return [span for ss in self._scope_spans() for span in ss.spans]

    def span_scopes(self) -> list[str]:
        """The instrumentation scope name of every received span, parallel to :meth:`spans`."""
        return [ss.scope.name for ss in self._scope_spans() for _ in ss.spans]

    def metrics(self) -> list[Any]:
        """Every received protobuf ``Metric``, in arrival order (one per export that carried it)."""
        return [
            metric
            for request in self.requests("metrics")
            for rm in request.resource_metrics
            for sm in rm.scope_metrics
            for metric in sm.metrics
        ]

    def metric_names(self) -> set[str]:
        return {m.name for m in self.metrics()}

    def wait_for(self, predicate: Callable[[OTLPReceiver], bool], timeout: float = 10.0) -> bool:
        """Poll until ``predicate(self)`` holds; False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self):
                return True
            time.sleep(0.02)
        return predicate(self)
