"""Engine pieces for SDK patch points that are not the start/result of one call.

* :func:`entered_stream`: a method returning a context manager that sends the request only when
  entered and keeps the raw event stream in an attribute of what it returns (Anthropic's
  ``messages.stream(...)``). The manager is proxied; on enter the call goes through the
  operation's usual start/result lifecycle, and the raw stream is replaced by the engine's stream
  proxy, so every way of consuming it ends the span exactly once.
* :func:`sdk_span_switch`: a wrapper for an SDK's own span-starting function. Inside one of our
  LLM calls the SDK gets a non-recording span carrying our context instead (it still propagates
  ``traceparent``), so each HTTP call has exactly one LLM span; calls we do not instrument keep the
  SDK's spans.
* :func:`sdk_tracing_off`: a wrapper for an SDK's own tracing step that takes a keyword flag
  turning it on (``tracing_enabled=``). Inside one of our LLM calls it runs with the flag off, so
  the SDK starts no span of its own; calls we do not instrument keep the SDK's spans.
* :func:`lazy_stream`: a method returning a stream that sends its request only when first read
  (a generator made by the call, as the ``ollama`` SDK's ``_request(..., stream=True)`` returns).
  The stream is proxied; the span opens at the first read, through the operation's usual
  start/result lifecycle, so a stream never read sends nothing and makes no span, and every way of
  leaving a read one ends its span exactly once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import wrapt
from opentelemetry import context as otel_context
from opentelemetry import trace

from agentotel._lifecycle import LLM_CALL_KEY
from agentotel._safe import async_wrapper, sync_wrapper
from agentotel.instrumentation import _deferred
from agentotel.instrumentation._invocation import Invocation
from agentotel.instrumentation._operation import Operation


class EnteredStream:
    """The start/result pair of a stream opened by entering a manager.

    ``instance`` is (the SDK resource, the request kwargs); ``attribute`` names where the object
    that entering returns keeps its raw stream.
    """

    def __init__(self, op: Operation, attribute: str) -> None:
        self.op = op
        self.attribute = attribute

    def start(self, pair: tuple[Any, Mapping[str, Any]], args: Any, kwargs: Any) -> Invocation | None:
        """Open the span as the operation would for the same request with ``stream=True``."""
        resource, request = pair
        return self.op.start(resource, (), {**request, "stream": True})

    def attach(self, inv: Invocation, entered: Any) -> Any:
        """Put the engine's stream proxy in place of ``entered``'s raw stream.

        An ``entered`` that keeps the raw stream's HTTP response in its own ``response`` attribute
        (rather than reading it through the raw stream) closes that response directly: it is pointed
        at the proxy's response, whose closing ends the span as the raw stream's would.
        """
        raw = getattr(entered, self.attribute)
        proxy = self.op.stream(inv, raw)
        setattr(entered, self.attribute, proxy)
        kept = getattr(entered, "__dict__", {}).get("response")
        if kept is not None and kept is getattr(raw, "response", None):
            entered.response = proxy.response
        return entered


class _ManagerProxy(wrapt.ObjectProxy):  # type: ignore[type-arg]
    def __init__(self, manager: Any, enter: Callable[..., Any], pair: tuple[Any, Mapping[str, Any]]) -> None:
        super().__init__(manager)
        self._self_enter = enter
        self._self_pair = pair

    def __enter__(self) -> Any:
        return self._self_enter(self.__wrapped__.__enter__, self._self_pair, (), {})

    def __exit__(self, *exc_info: Any) -> Any:
        return self.__wrapped__.__exit__(*exc_info)


class _AsyncManagerProxy(_ManagerProxy):
    async def __aenter__(self) -> Any:
        return await self._self_enter(self.__wrapped__.__aenter__, self._self_pair, (), {})

    async def __aexit__(self, *exc_info: Any) -> Any:
        return await self.__wrapped__.__aexit__(*exc_info)


def entered_stream(op: Operation, attribute: str, is_async: bool) -> Callable[..., Any]:
    """Wrapper for a stream-helper method: returns the SDK's manager behind our proxy."""
    helper = EnteredStream(op, attribute)
    boundary = op.boundary
    if op.sdk.sends:
        enter = (_deferred.async_wrapper if is_async else _deferred.sync_wrapper)(
            boundary, helper.start, helper.attach
        )
    else:
        enter = (async_wrapper if is_async else sync_wrapper)(boundary, helper.start, helper.attach)
    proxy_cls = _AsyncManagerProxy if is_async else _ManagerProxy

    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        manager = wrapped(*args, **kwargs)
        try:
            return proxy_cls(manager, enter, (instance, kwargs))
        except Exception as bug:
            boundary.report(bug)
            return manager

    return wrapper


def sdk_span_switch() -> Callable[..., Any]:
    """Wrapper for an SDK's own span-starting function: no SDK span inside one of our LLM calls."""

    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        if otel_context.get_value(LLM_CALL_KEY):
            # A non-recording span with our span's context: the SDK records nothing but still
            # sends the trace context (traceparent) as it would have without us.
            ctx = trace.get_current_span().get_span_context()
            if kwargs.get("propagation", True) and ctx.is_valid:
                return trace.NonRecordingSpan(ctx)
            return None
        return wrapped(*args, **kwargs)

    return wrapper


def sdk_tracing_off(flag: str) -> Callable[..., Any]:
    """Wrapper for an SDK's own tracing step whose keyword argument ``flag`` turns it on: inside one
    of our LLM calls it runs with ``flag=False`` (the SDK records nothing), so each HTTP call has
    exactly one LLM span; outside them it runs as called."""

    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        if kwargs.get(flag) and otel_context.get_value(LLM_CALL_KEY):
            kwargs = {**kwargs, flag: False}
        return wrapped(*args, **kwargs)

    return wrapper


class _LazyStream(wrapt.ObjectProxy):  # type: ignore[type-arg]
    """A stream not read yet: the first read opens the call (``enter``) and reads on through the
    engine's stream proxy; closing it unread closes the SDK's stream, with no span."""

    def __init__(self, stream: Any, enter: Callable[..., Any], call: tuple[Any, Any, Any]) -> None:
        super().__init__(stream)
        self._self_enter = enter
        self._self_call = call
        self._self_stream: Any = None

    def _self_opened(self) -> Any:
        stream = self._self_stream
        if stream is None:
            made = self.__wrapped__
            instance, args, kwargs = self._self_call
            stream = self._self_stream = self._self_enter(lambda *_, **__: made, instance, args, kwargs)
        return stream

    def __iter__(self) -> Any:
        return iter(self._self_opened())

    def __next__(self) -> Any:
        return next(self._self_opened())

    def close(self) -> Any:
        if self._self_stream is None:  # closed unread: nothing was sent, and reading on opens nothing
            self._self_stream = self.__wrapped__
        return self._self_stream.close()


class _AsyncLazyStream(_LazyStream):
    async def _self_aopened(self) -> Any:
        stream = self._self_stream
        if stream is None:
            made = self.__wrapped__

            async def given(*_: Any, **__: Any) -> Any:
                return made

            instance, args, kwargs = self._self_call
            stream = self._self_stream = await self._self_enter(given, instance, args, kwargs)
        return stream

    def __aiter__(self) -> Any:
        return self

    async def __anext__(self) -> Any:
        return await (await self._self_aopened()).__anext__()

    async def aclose(self) -> Any:
        if self._self_stream is None:  # closed unread (see ``close``)
            self._self_stream = self.__wrapped__
        return await self._self_stream.aclose()


def lazy_stream(op: Operation, is_async: bool) -> Callable[..., Any]:
    """Wrapper for a method returning a stream that sends its request when first read: returns
    the SDK's stream behind our proxy (module docstring)."""
    boundary = op.boundary
    enter = (async_wrapper if is_async else sync_wrapper)(boundary, op.start, op.result)

    def lazy(stream: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        try:
            return (_AsyncLazyStream if is_async else _LazyStream)(stream, enter, (instance, args, kwargs))
        except Exception as bug:
            boundary.report(bug)
            return stream

    if is_async:

        async def async_wrapper_(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
            return lazy(await wrapped(*args, **kwargs), instance, args, kwargs)

        return async_wrapper_

    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        return lazy(wrapped(*args, **kwargs), instance, args, kwargs)

    return wrapper
