"""Secret redaction: the one function every string agentotel records about a call goes through.

Used for captured content and, whether or not content is captured, for everything recorded about a
failure: span status descriptions, ``exception`` span events, our log lines and Sentry events. A
provider that rejects a key often repeats it ("Incorrect API key provided: sk-...") and a gateway
may repeat the URL with its query (``?api-key=...``): the SDK's exception then carries the secret,
and the app still gets that exception unchanged, but what we record does not.

What is replaced by ``[REDACTED]``:

* credentials the instrumentors saw a client configured with (:func:`remember`: up to
  :data:`MAX_KNOWN`, the oldest forgotten first and remembered again on their next call),
  whatever their shape; those of the failed request when its exception holds it; and any passed
  explicitly;
* common credential shapes: ``sk-...`` (OpenAI, ``sk-proj-``, Anthropic ``sk-ant-``), AWS access
  key ids (``AKIA...``/``ASIA...``), Google API keys (``AIza...``), ``Bearer <token>``, and the
  value of ``key=`` / ``api-key=`` / ``api_key=`` / ``apikey=`` / ``token=`` / ``access_token=``
  / ``secret=`` / ``password=`` / ``sig=`` parameters (the name stays).
"""

from __future__ import annotations

import re
import threading
import traceback
from collections.abc import Iterable
from typing import Any

from opentelemetry.util.types import AttributeValue

from agentotel import semconv

REDACTED = "[REDACTED]"
MAX_KNOWN = 64
"""Client credentials remembered for redaction. Process-wide, because what fails is often
recorded far from the client: an agent round's span, a log line, a Sentry event."""
_MIN_SECRET = 8
"""Shorter strings are not redacted by value (they would mangle ordinary text)."""

_SECRET_SHAPES = re.compile(
    r"sk-(?:ant-|proj-)?[A-Za-z0-9_\-]{8,}"
    r"|(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])"
    r"|AIza[A-Za-z0-9_\-]{35}"
    r"|(?i:bearer)\s+[A-Za-z0-9._~+/\-]{8,}=*"
)
# A query or form parameter whose value is a credential: keep ``name=``, drop the value. The name
# must not continue a word ("monkey=" is not "key="); the value stops at the next separator, quote
# or backslash (so a JSON-escaped quote is never half-replaced).
_SECRET_PARAMS = re.compile(
    r"(?<![A-Za-z0-9])((?i:api[-_]?key|key|access[-_]?token|token|secret|password|sig)=)[^&#\s\"'\\]+"
)

_lock = threading.Lock()
_known: dict[str, None] = {}  # insertion-ordered set
# Tuples of credentials every one of which is in _known (or too short to redact): a client's
# credentials, seen again on each of its calls, cost one set look-up. Emptied whenever a
# credential is forgotten, so a forgotten one is remembered again on its next call.
_all_known: set[tuple[str, ...]] = set()
_ALL_KNOWN_MAX = 256
_known_snapshot: tuple[str, ...] = ()


def remember(credentials: Iterable[str]) -> None:
    """Redact these credentials from now on, wherever they appear (a client's API key)."""
    global _known_snapshot
    seen = type(credentials) is tuple
    if seen and credentials in _all_known:
        return
    new = [c for c in credentials if c and len(c) >= _MIN_SECRET and c not in _known]
    with _lock:
        for credential in new:
            _known.pop(credential, None)
            _known[credential] = None
        if len(_known) > MAX_KNOWN:
            _all_known.clear()
            while len(_known) > MAX_KNOWN:
                del _known[next(iter(_known))]
        if new:
            _known_snapshot = tuple(_known)
        if seen and all(c in _known for c in new):
            if len(_all_known) >= _ALL_KNOWN_MAX:
                _all_known.clear()
            _all_known.add(credentials)  # type: ignore[arg-type]


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with ``secrets``, the remembered client credentials and credential-shaped strings
    replaced by ``[REDACTED]``."""
    for secret in (*secrets, *_known_snapshot):
        if secret and len(secret) >= _MIN_SECRET and secret in text:
            text = text.replace(secret, REDACTED)
    text = _SECRET_SHAPES.sub(REDACTED, text)
    return _SECRET_PARAMS.sub(lambda m: m.group(1) + REDACTED, text)


_CREDENTIAL_HEADERS = ("authorization", "x-api-key", "api-key", "proxy-authorization")


def request_credentials(exc: BaseException) -> tuple[str, ...]:
    """The credentials the failed request carried, when the exception holds the request (the
    OpenAI and Anthropic SDKs' ``APIError.request``): its credential header values, with and
    without a ``Bearer`` prefix. Never raises: some exceptions' ``request`` does (httpx's, unset)."""
    found: list[str] = []
    try:
        headers: Any = getattr(getattr(exc, "request", None), "headers", None)
        for name in _CREDENTIAL_HEADERS if headers is not None else ():
            value = headers.get(name)
            if isinstance(value, str) and value:
                found.append(value)
                scheme, _, token = value.partition(" ")
                if token and scheme.lower() in ("bearer", "basic", "token"):
                    found.append(token.strip())
    except Exception:
        pass
    return tuple(found)


def _text(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception:
        return "<exception str() failed>"


def exception_message(exc: BaseException) -> str:
    """``str(exc)``, redacted (with the credentials of the request it failed, if it says)."""
    return redact(_text(exc), request_credentials(exc))


def exception_attributes(exc: BaseException) -> tuple[str, dict[str, AttributeValue]]:
    """The redacted message of ``exc`` and the attributes of its ``exception`` span event, as
    ``Span.record_exception`` makes them but with the message and the stack trace (which repeats
    the message and any chained ones) redacted."""
    secrets = request_credentials(exc)
    cls = type(exc)
    module = cls.__module__
    message = redact(_text(exc), secrets)
    return message, {
        semconv.EXCEPTION_TYPE: (
            f"{module}.{cls.__qualname__}" if module and module != "builtins" else cls.__qualname__
        ),
        semconv.EXCEPTION_MESSAGE: message,
        semconv.EXCEPTION_STACKTRACE: redact("".join(traceback.format_exception(exc)), secrets),
    }
