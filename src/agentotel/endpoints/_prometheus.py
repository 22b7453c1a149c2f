"""agentotel's metrics for Prometheus: a scrape endpoint with health probes, and a textfile.

Needs the ``prometheus`` extra (``opentelemetry-exporter-prometheus``, which brings
``prometheus_client``). Three ways in:

- ``opentelemetry-instrument --metrics_exporter prometheus``: the upstream reader and its own
  server on ``OTEL_EXPORTER_PROMETHEUS_HOST``:``OTEL_EXPORTER_PROMETHEUS_PORT`` (9464). Nothing of
  ours is involved; metrics only, no health endpoints.
- ``AGENTOTEL_METRICS_SERVER=127.0.0.1:9464`` (``/metrics``, ``/healthz``, ``/readyz``) and/or
  ``AGENTOTEL_METRICS_FILE=/var/lib/node_exporter/agent.prom`` (every
  ``AGENTOTEL_METRICS_FILE_INTERVAL`` seconds and at exit): :func:`attach_from_env`, called when
  agentotel is set up, adds one reader to the SDK meter provider in place.
- In code: :func:`serve`, :func:`write_textfile` (public as ``agentotel.endpoints``).

Adding a reader to a provider that already exists needs ``MeterProvider.add_metric_reader``
(OpenTelemetry SDK >= 1.43); the reader counts from the moment it is added. Our reader has its
own ``prometheus_client`` registry, so it never doubles the series of the upstream reader (which
fills the global one) when both are in use.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from opentelemetry.metrics import get_meter, get_meter_provider

from agentotel import _shutdown, semconv
from agentotel._safe import Boundary
from agentotel._version import __version__
from agentotel.config import (
    METRICS_FILE,
    METRICS_FILE_INTERVAL,
    METRICS_SERVER,
    ConfigError,
    positive_int,
)
from agentotel.endpoints._health import CHECKS, HealthChecks, healthy_of
from agentotel.endpoints._server import DEFAULT_HOST, MetricsServer, parse_address
from agentotel.endpoints._textfile import DEFAULT_INTERVAL, TextfileWriter

if TYPE_CHECKING:
    from opentelemetry.exporter.prometheus import PrometheusMetricReader
    from prometheus_client import CollectorRegistry

_log = logging.getLogger("agentotel")

TEXTFILE_CHECK = "textfile"
"""Name of the readiness check of the textfile writer (and its ``agentotel.component``)."""
_EXTRA_HINT = "it needs the prometheus extra: pip install 'agentotel[prometheus]'"


class Exposition:
    """A ``PrometheusMetricReader`` and the ``prometheus_client`` registry it fills.

    Pass :attr:`reader` to ``MeterProvider(metric_readers=[...])``, or :meth:`attach` it to a
    provider that exists. :meth:`render` gives the exposition, one collection at a time (the
    reader hands each collection to one caller: two concurrent ones would split it).
    """

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        from opentelemetry.exporter.prometheus import PrometheusMetricReader
        from prometheus_client import CollectorRegistry

        self.registry: CollectorRegistry = registry if registry is not None else CollectorRegistry()
        self.reader: PrometheusMetricReader = PrometheusMetricReader(registry=self.registry)
        self.meter_provider: Any = None
        self._lock = threading.Lock()

    def render(self, accept: str = "") -> tuple[bytes, str]:
        """(body, content type) for an HTTP ``Accept`` header: OpenMetrics if it asks for it."""
        from prometheus_client.exposition import choose_encoder

        encoder, content_type = choose_encoder(accept)
        with self._lock:
            return encoder(self.registry), content_type

    def text(self) -> bytes:
        """The Prometheus text format (0.0.4): what node_exporter's textfile collector reads."""
        return self.render("")[0]

    def attach(self, meter_provider: Any = None) -> Exposition:
        """Add :attr:`reader` to ``meter_provider`` (default: the global one); returns self.

        Raises ``TypeError`` for a provider that takes no readers after construction (not the
        OpenTelemetry SDK's, or an SDK older than 1.43).
        """
        provider = meter_provider if meter_provider is not None else get_meter_provider()
        add = getattr(provider, "add_metric_reader", None)
        if add is None:
            raise TypeError(
                f"{type(provider).__name__} takes no metric reader after construction (an OpenTelemetry "
                "SDK MeterProvider >= 1.43 does): pass Exposition().reader to "
                "MeterProvider(metric_readers=[...])"
            )
        add(self.reader)
        self.meter_provider = provider
        return self

    def detach(self) -> None:
        """Remove :attr:`reader` from the provider :meth:`attach` added it to (and shut it down)."""
        provider, self.meter_provider = self.meter_provider, None
        if provider is not None:
            provider.remove_metric_reader(self.reader)


@dataclass
class Exposed:
    """What :func:`expose` started: close it to stop serving, write the file a last time and
    take the reader off the provider."""

    exposition: Exposition
    server: MetricsServer | None = None
    textfile: TextfileWriter | None = None
    checks: HealthChecks = field(default=CHECKS)

    def start_textfile(self, path: str | os.PathLike[str], interval: float = DEFAULT_INTERVAL) -> None:
        """Write ``path`` now (``OSError`` if it cannot be), then every ``interval`` s and at exit."""
        meter = get_meter(semconv.SCOPE_NAME, __version__, self.exposition.meter_provider)
        writer = TextfileWriter(
            path, self.exposition.text, interval, on_error=Boundary(TEXTFILE_CHECK, meter).report
        )
        self.textfile = writer.start()
        self.checks.register(TEXTFILE_CHECK, healthy_of(writer))

    def start_server(self, host: str = DEFAULT_HOST, port: int = 9464) -> None:
        """Serve on ``host:port`` (``OSError`` if the address is in use)."""
        self.server = MetricsServer(self.exposition.render, host, port, checks=self.checks).start()

    def close(self) -> None:
        """Stop serving, write the textfile a last time, take the reader off the provider."""
        global _ACTIVE
        if self.server is not None:
            self.server.close()
        if self.textfile is not None:
            self.textfile.close()
            self.checks.unregister(TEXTFILE_CHECK)
        self.exposition.detach()
        with _active_lock:
            if _ACTIVE is self:
                _ACTIVE = None


def expose(
    *,
    server: tuple[str, int] | None = None,
    textfile: str | os.PathLike[str] | None = None,
    interval: float = DEFAULT_INTERVAL,
    meter_provider: Any = None,
    exposition: Exposition | None = None,
    checks: HealthChecks | None = None,
) -> Exposed:
    """Serve ``/metrics`` ``/healthz`` ``/readyz`` on ``server`` (host, port) and/or write
    ``textfile`` every ``interval`` seconds and at exit, from one reader.

    Without ``exposition``, a new one is attached to ``meter_provider`` (default: the global SDK
    provider). A port in use or an unwritable textfile raises ``OSError`` here, at start-up.
    """
    checks = checks if checks is not None else CHECKS
    if exposition is None:
        exposition = Exposition().attach(meter_provider)
    exposed = Exposed(exposition, checks=checks)
    try:
        if textfile is not None:
            exposed.start_textfile(textfile, interval)
        if server is not None:
            exposed.start_server(*server)
    except BaseException:
        exposed.close()
        raise
    return exposed


def serve(
    host: str = DEFAULT_HOST,
    port: int = 9464,
    *,
    meter_provider: Any = None,
    exposition: Exposition | None = None,
    checks: HealthChecks | None = None,
) -> Exposed:
    """Serve ``/metrics``, ``/healthz`` and ``/readyz`` on ``host:port`` (127.0.0.1 unless told
    otherwise; port 0 picks a free one: ``exposed.server.port``)."""
    return expose(server=(host, port), meter_provider=meter_provider, exposition=exposition, checks=checks)


def write_textfile(
    path: str | os.PathLike[str],
    interval: float = DEFAULT_INTERVAL,
    *,
    meter_provider: Any = None,
    exposition: Exposition | None = None,
    checks: HealthChecks | None = None,
) -> Exposed:
    """Write the node_exporter textfile ``path`` now, every ``interval`` seconds and at exit."""
    return expose(
        textfile=path, interval=interval, meter_provider=meter_provider, exposition=exposition, checks=checks
    )


_ACTIVE: Exposed | None = None
_active_lock = threading.RLock()
_warned: list[str] = []


def active() -> Exposed | None:
    """What :func:`attach_from_env` started in this process (None if nothing)."""
    return _ACTIVE


def attach_from_env(meter_provider: Any = None, environ: Mapping[str, str] | None = None) -> Exposed | None:
    """Start what ``AGENTOTEL_METRICS_SERVER`` / ``AGENTOTEL_METRICS_FILE`` ask for, once per
    process, on ``meter_provider`` (default: the global one); None when neither is set.

    A second call returns the first one's result. A malformed value, an unwritable file or a
    missing ``prometheus`` extra raise :class:`~agentotel.config.ConfigError` naming the variable;
    an address that cannot be bound (a port in use) logs one warning naming the variable and the
    port, and everything else carries on without the endpoint; a provider that takes no reader
    (not the SDK's: the API's proxy before the app sets one) gives None, with one warning per
    process, and a later call tries again. The last textfile write is part of the bounded
    shut-down at exit and on SIGTERM.
    """
    global _ACTIVE
    env = os.environ if environ is None else environ
    address_text = env.get(METRICS_SERVER, "").strip()
    path = env.get(METRICS_FILE, "").strip()
    if not address_text and not path:
        return None
    with _active_lock:
        if _ACTIVE is not None:
            return _ACTIVE
        variable = METRICS_SERVER if address_text else METRICS_FILE
        address = parse_address(address_text, METRICS_SERVER) if address_text else None
        interval = positive_int(env, METRICS_FILE_INTERVAL, int(DEFAULT_INTERVAL))
        try:
            exposition = Exposition()
        except ImportError as exc:
            raise ConfigError(f"{variable} is set, but {_EXTRA_HINT} ({exc})") from exc
        try:
            exposition.attach(meter_provider)
        except TypeError as exc:
            if not _warned:  # called by every instrumentor: say it once
                _warned.append(variable)
                _log.warning("agentotel: %s is set, but %s", variable, exc)
            return None
        exposed = Exposed(exposition)
        if path:
            _start(exposed, METRICS_FILE, path, lambda: exposed.start_textfile(path, interval))
        if address is not None:
            _start_server(exposed, address_text, address)
        if exposed.server is None and exposed.textfile is None:
            exposition.detach()  # nobody reads it: no cost per measurement
        _ACTIVE = exposed
        _shutdown.on_shutdown(exposed.close)
        return exposed


def _start_server(exposed: Exposed, text: str, address: tuple[str, int]) -> None:
    """A port in use (another agent, a previous run) costs the endpoint, never the rest: one line."""
    try:
        exposed.start_server(*address)
    except OSError as exc:
        _log.warning(
            "agentotel: %s=%s: port %d is in use (%s); carrying on without /metrics, /healthz and /readyz",
            METRICS_SERVER,
            text,
            address[1],
            exc,
        )


def _start(exposed: Exposed, variable: str, value: str, start: Callable[[], None]) -> None:
    try:
        start()
    except OSError as exc:
        exposed.close()
        raise ConfigError(f"{variable}: cannot use {value!r} ({exc})") from exc
