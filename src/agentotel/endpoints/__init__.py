"""What the process shows the outside: ``/metrics``, ``/healthz``, ``/readyz`` and a textfile.

Needs the ``prometheus`` extra (``pip install "agentotel[prometheus]"``) for the metrics;
``AGENTOTEL_METRICS_SERVER`` / ``AGENTOTEL_METRICS_FILE`` start the same without code. In code::

    from agentotel import endpoints

    exposed = endpoints.serve("127.0.0.1", 9464)             # on the global SDK MeterProvider
    exposed = endpoints.write_textfile("job.prom", interval=15, meter_provider=mp)
    endpoints.register("db", lambda: (db.ping(), "database unreachable"))   # a /readyz check
    exposed.close()

or build the provider with the reader: ``e = endpoints.Exposition()``,
``MeterProvider(metric_readers=[e.reader])``, then ``endpoints.serve(exposition=e)``.

A check is a callable returning ``True``/``False`` or ``(ok, reason)``; one that raises counts as
failing. ``/readyz`` answers 200 when every check passes, else 503 with JSON naming the failing
ones (the audit and run-store writers, the textfile writer and the exporters register
themselves). Nothing on the path of an LLM call or an agent span imports this package.
"""

from agentotel.endpoints._health import register, unregister
from agentotel.endpoints._prometheus import Exposed, Exposition, serve, write_textfile

__all__ = ["Exposed", "Exposition", "register", "serve", "unregister", "write_textfile"]
