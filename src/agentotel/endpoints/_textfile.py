"""The metrics as a node_exporter textfile, for batch agents and cron jobs that live shorter than
a scrape interval.

node_exporter's textfile collector (``--collector.textfile.directory``) reads every ``*.prom``
file of a folder at each scrape, in the Prometheus text exposition format. :class:`TextfileWriter`
writes that file at an interval and once more at exit, atomically: the text goes to a hidden
temporary file in the same folder (``.name.prom.<random>.tmp``, which the collector's ``*.prom``
glob never matches), is flushed to disk, and replaces the file with one ``rename(2)``. A reader
sees the previous complete file or the new complete file, never a partial one.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections.abc import Callable

from agentotel import _files

_log = logging.getLogger("agentotel")

DEFAULT_INTERVAL = 15.0


def write_atomically(path: str, data: bytes, mode: int = 0o644) -> None:
    """Replace ``path`` by a file holding ``data``, in one rename: never seen half-written.
    Readable by all by default: node_exporter usually runs as another user."""
    _files.write_atomically(path, data, mode)


class TextfileWriter:
    """Writes ``render()`` to ``path`` every ``interval`` seconds from :meth:`start`, and at exit.

    A failed write (disk full, folder gone) is logged once at WARNING, passed to ``on_error`` and
    retried at the next interval; :attr:`healthy` is False until a write succeeds again.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        render: Callable[[], bytes],
        interval: float = DEFAULT_INTERVAL,
        *,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        self.path = os.fspath(path)
        self.interval = interval
        self.last_error: BaseException | None = None
        self.writes = 0
        self._render = render
        self._on_error = on_error
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = False

    @property
    def healthy(self) -> bool:
        """False while the last write failed."""
        return self.last_error is None

    def write(self) -> None:
        """Write the file now; raises what the write raised (see :meth:`flush` for the safe one)."""
        with self._lock:
            write_atomically(self.path, self._render())
            self.writes += 1

    def flush(self) -> bool:
        """Write the file now; a failure is recorded and logged, never raised. True on success."""
        try:
            self.write()
        except Exception as exc:
            if self.last_error is None:
                _log.warning("agentotel: cannot write the metrics textfile %s (%s)", self.path, exc)
            self.last_error = exc
            if self._on_error is not None:
                self._on_error(exc)
            return False
        if self.last_error is not None:
            _log.warning("agentotel: writing the metrics textfile %s again", self.path)
            self.last_error = None
        return True

    def start(self) -> TextfileWriter:
        """Write now (an error raises, so that a bad path fails at start-up), then every
        ``interval`` seconds from a daemon thread, and at interpreter exit."""
        if self._thread is None:
            self.write()
            self._thread = threading.Thread(
                target=self._run, name=f"agentotel-textfile:{self.path}", daemon=True
            )
            self._thread.start()
            atexit.register(self.close)
        return self

    def close(self) -> None:
        """Stop the thread and write the file one last time (the process's final numbers)."""
        if self._closed:
            return
        self._closed = True
        atexit.unregister(self.close)
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.flush()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.flush()
