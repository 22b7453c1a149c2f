"""LLM spans that start when the SDK sends: one span per HTTP call, none for a refused call.

An SDK checks a call before it sends anything (a missing required argument, a value it refuses,
``anthropic``'s "Streaming is required" for a large non-stream ``max_tokens``) and raises: no HTTP
request is made, so no LLM span, metric point, audit or run-store record may be made either. For an
SDK whose every request goes through one method (``SyncAPIClient.request`` /
``AsyncAPIClient.request`` in the OpenAI and Anthropic SDKs: the retry loop that sends), the
operation's wrapper only notes the call (:func:`sync_wrapper`, :func:`async_wrapper`) and the call
starts, span and all, when that method is entered (:func:`request_reached`, which the provider
patches on it). A call that raises before it never starts; one that raises from inside it (a
connection error, a timeout, an HTTP status, a cancellation while waiting) fails its span as any
call does. The app's exception propagates unchanged either way.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from agentotel._safe import Boundary, OnResult, Start, _Call, _failed, _returned, _start

# While an operation's wrapper runs: what to start (boundary, start, instance, args, kwargs) until
# the SDK sends; then what was started (the call, or None when it did not start one), so retries and
# nested requests do not start it again. A tuple, not an object: this is paid on every call.
_PENDING: ContextVar[tuple[Any, ...] | _Call | None] = ContextVar("agentotel_pending_llm_call", default=None)


def request_reached() -> Callable[..., Any]:
    """Wrapper for the SDK's request method (sync or async: it starts the call, then calls it)."""

    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        pending = _PENDING.get()
        if pending.__class__ is tuple:
            _PENDING.set(_start(*pending))
        return wrapped(*args, **kwargs)

    return wrapper


def reached(**_: Any) -> None:
    """The SDK is sending the pending call's request: start it (once). For an SDK that announces
    its sends (an event handler, as botocore's ``request-created``) rather than a method to wrap."""
    pending = _PENDING.get()
    if pending.__class__ is tuple:
        _PENDING.set(_start(*pending))


def _started(token: Any) -> _Call | None:
    """What the SDK's request method started (None if it was never reached, or started nothing);
    the wrapper's value is reset."""
    call = _PENDING.get()
    _PENDING.reset(token)
    return None if call.__class__ is tuple else call  # type: ignore[return-value]


def _raised(token: Any, boundary: Boundary, exc: BaseException) -> None:
    """The SDK raised: the call fails if it was started, and is forgotten if it was not."""
    call = _started(token)
    if call is not None:
        _failed(boundary, call, exc)


def sync_wrapper(boundary: Boundary, start: Start, on_result: OnResult) -> Callable[..., Any]:
    """:func:`agentotel._safe.sync_wrapper` whose ``start`` runs when the SDK sends."""

    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        token = _PENDING.set((boundary, start, instance, args, kwargs))
        try:
            result = wrapped(*args, **kwargs)
        except BaseException as exc:
            _raised(token, boundary, exc)
            raise
        # The SDK returned: the result as ``on_result`` makes it if the call was started
        # (``_started`` inline: this runs on every call).
        call = _PENDING.get()
        _PENDING.reset(token)
        if call is None or call.__class__ is tuple:
            return result
        return _returned(boundary, call, on_result, result)  # type: ignore[arg-type]

    return wrapper


def async_wrapper(boundary: Boundary, start: Start, on_result: OnResult) -> Callable[..., Any]:
    """The ``async`` twin of :func:`sync_wrapper`; it differs only by ``await``."""

    async def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        token = _PENDING.set((boundary, start, instance, args, kwargs))
        try:
            result = await wrapped(*args, **kwargs)
        except BaseException as exc:
            _raised(token, boundary, exc)
            raise
        # The SDK returned: the result as ``on_result`` makes it if the call was started
        # (``_started`` inline: this runs on every call).
        call = _PENDING.get()
        _PENDING.reset(token)
        if call is None or call.__class__ is tuple:
            return result
        return _returned(boundary, call, on_result, result)  # type: ignore[arg-type]

    return wrapper
