"""Text that comes from users and their runs, shown as it is.

Objectives, tool and model names, error messages, paths: ``rich`` reads a ``str`` as markup
(``[bold]``, ``[/]``) and emoji codes (``:smile:``), so such text goes to a console or a table
only as a :class:`rich.text.Text`, which neither parses. Control characters (an ``ESC`` would
let a run's data drive the terminal; a newline would break a table row), line separators and lone
surrogates (which no terminal encoding can write) are shown as their Python escapes: ``\\x1b``,
``\\n``, ``\\u2028``, ``\\udc80``.
"""

from __future__ import annotations

import re

from rich.console import Console
from rich.text import Text

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def shown(value: object) -> str:
    """``str(value)`` with its control characters, line separators and lone surrogates written as
    escapes; every other character (``[``, ``]``, ``:``, wide characters) as it is."""
    return _CONTROL.sub(_escape, str(value))


def literal(value: object, style: str = "") -> Text:
    """``value`` as a :class:`~rich.text.Text` (no markup, no emoji codes), see :func:`shown`."""
    return Text(shown(value), style=style)


def say(console: Console, line: object, *, end: str = "\n") -> None:
    """Print ``line`` on ``console`` literally (see :func:`literal`)."""
    console.print(literal(line), end=end)
