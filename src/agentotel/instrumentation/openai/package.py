"""Supported versions of the ``openai`` SDK, and the version facts the patch table needs.

Read from the installed distribution's metadata, without importing ``openai``.
"""

from __future__ import annotations

import re
from importlib.metadata import PackageNotFoundError, version

_instruments = ("openai >= 1.40, < 4",)

# ``beta.chat.completions.parse`` sends its own request from 1.50.0 to 1.91.x; before 1.50 it calls
# ``chat.completions.create`` (wrapped already), and 1.92.0 made it ``chat.completions.parse``.
_BETA_PARSE_OWN_REQUEST = ((1, 50), (1, 92))


def installed_version() -> tuple[int, int] | None:
    """(major, minor) of the installed ``openai`` distribution; None if it is not installed."""
    try:
        found = re.match(r"(\d+)\.(\d+)", version("openai"))
    except PackageNotFoundError:
        return None
    return (int(found[1]), int(found[2])) if found else None


def beta_parse_sends_its_own_request() -> bool:
    """Whether the installed ``openai`` has a ``beta.chat.completions.parse`` that does not go
    through ``chat.completions.create`` (so wrapping it makes the one span of its request)."""
    installed = installed_version()
    low, high = _BETA_PARSE_OWN_REQUEST
    return installed is not None and low <= installed < high
