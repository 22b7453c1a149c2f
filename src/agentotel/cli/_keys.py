"""Keys pressed while a live command (``agentotel top``) runs.

:meth:`Keys.wait` pauses like ``time.sleep`` but returns early with what was typed. On a terminal
the keys come without Enter and are not echoed (cbreak mode, the terminal's settings restored on
exit; Ctrl-C still interrupts); from a pipe they are read as they come. Without a readable stdin
(closed, at its end, a terminal the command runs in the background of, or on Windows) it only
sleeps.
"""

from __future__ import annotations

import os
import select
import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import IO, Any

if sys.platform != "win32":
    import termios
    import tty


class Keys:
    """The keys typed on ``stream`` (``sys.stdin``), within a ``with`` block."""

    def __init__(self, stream: IO[Any] | None, sleep: Callable[[float], None] = time.sleep) -> None:
        self._stream = stream
        self._sleep = sleep
        self._fd: int | None = None
        self._saved: list[Any] | None = None

    def __enter__(self) -> Keys:
        if sys.platform == "win32" or self._stream is None:
            return self
        try:
            fd = self._stream.fileno()
        except (AttributeError, OSError, ValueError):  # pytest's stdin, a closed or in-memory one
            return self
        if os.isatty(fd):
            if _in_background(fd):
                return self  # reading or setting the terminal would stop the process (SIGTTIN)
            self._saved = termios.tcgetattr(fd)
            tty.setcbreak(fd)
        self._fd = fd
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._saved is not None and self._fd is not None and sys.platform != "win32":
            termios.tcsetattr(self._fd, termios.TCSADRAIN, self._saved)
        self._fd = self._saved = None

    def wait(self, seconds: float) -> str:
        """Wait ``seconds``, or less if keys are typed: then return them (else ``""``)."""
        if self._fd is None:
            self._sleep(seconds)
            return ""
        ready, _, _ = select.select([self._fd], [], [], seconds)
        if not ready:
            return ""
        data = os.read(self._fd, 64)
        if not data:  # the end of a pipe: no key will come
            self._fd = None
            self._sleep(seconds)
        return data.decode("utf-8", "replace")


def _in_background(fd: int) -> bool:
    """True when ``fd`` is our controlling terminal and another process group has it."""
    try:
        return os.tcgetpgrp(fd) != os.getpgrp()
    except OSError:  # not our controlling terminal: no job control on it
        return False
