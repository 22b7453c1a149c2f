"""One machinery for every agent-layer API: context manager (``with`` / ``async with``) and
decorator (sync and async functions, generators and async generators).

A :class:`Block` subclass implements three steps, each of which may raise (our bugs are caught
here, reported through the layer's boundary, and never reach the app):

* ``_open()``: start the span (or the session state);
* ``_context()``: the context to make current while the user's code runs;
* ``_close(exc)``: end it, ``exc`` being the app's exception or None.

The user's code runs exactly once, outside the boundary; its exceptions propagate unchanged. A
decorated generator's span covers the whole iteration, and its context is current only while the
generator's own code runs (never in the consumer between two items).
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import AsyncGenerator, Callable, Generator
from types import TracebackType
from typing import Any, ClassVar, TypeVar

from opentelemetry import context as otel_context

from agentotel._safe import _enabled as is_instrumentation_enabled  # the context read once
from agentotel._telemetry import Telemetry
from agentotel.agent._layer import current_layer

_log = logging.getLogger("agentotel")
F = TypeVar("F", bound=Callable[..., Any])
B = TypeVar("B", bound="Block")


class Block:
    """Base of the agent-layer context managers and decorators."""

    __slots__ = ("_layer", "_live", "_token")
    component: ClassVar[str] = "agent"
    """The name our errors are counted under (``agentotel.component``): an instrumentor's blocks
    use the instrumentor's."""

    def __init__(self, layer: Telemetry | None = None) -> None:
        self._layer = layer
        self._live = False
        self._token: object | None = None

    # --- what subclasses implement -----------------------------------------------------------
    def _open(self, layer: Telemetry) -> None:
        raise NotImplementedError

    def _context(self) -> otel_context.Context | None:
        return None

    def _close(self, layer: Telemetry, exc: BaseException | None) -> None:
        raise NotImplementedError

    def _fresh(self: B) -> B:
        """A new, unopened block with the same configuration (one per decorated call)."""
        raise NotImplementedError

    def _decorating(self, fn: Callable[..., Any]) -> None:
        """Called once when used as a decorator (a tool takes its default name from ``fn``)."""

    def _called(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        """Called before each decorated call is opened (a tool captures its arguments)."""

    def _returned(self, value: Any) -> None:
        """Called with a decorated function's return value (a guard reads its verdict)."""

    # --- the boundary --------------------------------------------------------------------------
    @property
    def layer(self) -> Telemetry:
        return self._layer if self._layer is not None else current_layer()

    def _report(self, bug: Exception) -> None:
        self.layer.boundary(self.component).report(bug)

    def _start(self) -> bool:
        """Open; True if there is something to close later."""
        if not is_instrumentation_enabled():
            return False
        layer = self._layer  # ``self.layer`` inline: a bridge's blocks are given theirs
        if layer is None:
            try:
                layer = current_layer()
            except Exception:  # no layer, so no boundary to count it in: the log is all we have
                _log.debug("agentotel: the agent layer could not be set up", exc_info=True)
                return False
        try:
            self._open(layer)
        except Exception as bug:
            self._report(bug)
            return False
        self._live = True
        return True

    def _attach(self) -> object | None:
        if not self._live:
            return None
        try:
            ctx = self._context()
            return otel_context.attach(ctx) if ctx is not None else None
        except Exception as bug:
            self._report(bug)
            return None

    def _detach(self, token: object | None) -> None:
        if token is not None:
            try:
                otel_context.detach(token)  # type: ignore[arg-type]
            except Exception as bug:  # pragma: no cover - the OTel API logs rather than raises
                self._report(bug)

    def _finish(self, exc: BaseException | None) -> None:
        if not self._live:
            return
        self._live = False
        layer = self._layer
        if layer is None:
            layer = current_layer()
        if exc is not None and isinstance(exc, GeneratorExit):
            exc = None  # a generator closed early by its consumer has not failed
        try:
            self._close(layer, exc)
        except Exception as bug:
            self._report(bug)

    def _prepare(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        try:
            self._called(fn, args, kwargs)
        except Exception as bug:
            self._report(bug)

    def _deliver(self, value: Any) -> None:
        if self._live:
            try:
                self._returned(value)
            except Exception as bug:
                self._report(bug)

    # --- context manager -----------------------------------------------------------------------
    def __enter__(self: B) -> B:
        if self._start():
            self._token = self._attach()
        return self

    def __exit__(
        self, et: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        token, self._token = self._token, None
        self._detach(token)
        self._finish(exc)

    async def __aenter__(self: B) -> B:
        return self.__enter__()

    async def __aexit__(
        self, et: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.__exit__(et, exc, tb)

    # --- decorator -----------------------------------------------------------------------------
    def __call__(self, fn: F) -> F:
        self._decorating(fn)
        if inspect.isasyncgenfunction(fn):
            wrapper: Callable[..., Any] = _async_generator(self, fn)
        elif inspect.isgeneratorfunction(fn):
            wrapper = _generator(self, fn)
        elif inspect.iscoroutinefunction(fn):
            wrapper = _coroutine(self, fn)
        else:
            wrapper = _function(self, fn)
        return functools.wraps(fn)(wrapper)  # type: ignore[return-value]


class _Call:
    """One decorated call's block: opened on entry with its context current, closed on exit
    (the return value is delivered first). The sync and async wrappers share it, and differ only
    by ``await``."""

    __slots__ = ("_token", "block", "result")

    def __init__(self, spec: Block, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]):
        self.block = spec._fresh()
        self.block._prepare(fn, args, kwargs)
        self.result: Any = None
        self._token: object | None = None

    def __enter__(self) -> _Call:
        block = self.block
        self._token = block._attach() if block._start() else None
        return self

    def __exit__(
        self, et: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        block = self.block
        block._detach(self._token)
        if exc is None:
            block._deliver(self.result)
        block._finish(exc)


class _Steps:
    """One decorated generator's block across its steps: each step (``with steps:``) runs the
    user's generator with the block's context current; its end (return, error, or a ``with
    steps.closing():`` early close) closes the block. The sync and async generator wrappers share
    it, and differ only by ``await``."""

    __slots__ = ("_closing", "_stop", "_token", "block", "done", "value")

    def __init__(
        self,
        spec: Block,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        stop: type[Exception] = StopIteration,
    ) -> None:
        self.block = spec._fresh()
        self.block._prepare(fn, args, kwargs)
        self._stop = stop  # what ends the iteration (StopAsyncIteration for an async one)
        self.done = False
        self.value: Any = None
        self._closing = False
        self._token: object | None = None

    def closing(self) -> _Steps:
        """The next ``with`` block closes the user's generator: the block ends after it, without
        an error unless closing raised (stopping early is not a failure)."""
        self._closing = True
        return self

    def __enter__(self) -> _Steps:
        self._token = self.block._attach()
        return self

    def __exit__(
        self, et: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool:
        block = self.block
        block._detach(self._token)
        if isinstance(exc, self._stop):
            self.done = True
            if isinstance(exc, StopIteration):
                self.value = exc.value
                block._deliver(exc.value)
            block._finish(None)
            return True
        if exc is not None or self._closing:
            block._finish(exc)
        return False


def _function(spec: Block, fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with _Call(spec, fn, args, kwargs) as call:
            call.result = fn(*args, **kwargs)
        return call.result

    return wrapper


def _coroutine(spec: Block, fn: Callable[..., Any]) -> Callable[..., Any]:
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        with _Call(spec, fn, args, kwargs) as call:
            call.result = await fn(*args, **kwargs)
        return call.result

    return wrapper


def _generator(spec: Block, fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
        steps = _Steps(spec, fn, args, kwargs)
        gen = fn(*args, **kwargs)
        steps.block._start()
        step: Callable[[Any], Any] = gen.send
        value: Any = None
        while True:
            with steps:
                item = step(value)
            if steps.done:
                return steps.value
            try:
                value = yield item
            except GeneratorExit:
                with steps.closing():
                    gen.close()
                raise
            except BaseException as exc:
                step, value = gen.throw, exc
            else:
                step = gen.send

    return wrapper


def _async_generator(spec: Block, fn: Callable[..., Any]) -> Callable[..., Any]:
    async def wrapper(*args: Any, **kwargs: Any) -> AsyncGenerator[Any, Any]:
        steps = _Steps(spec, fn, args, kwargs, StopAsyncIteration)
        agen = fn(*args, **kwargs)
        steps.block._start()
        step: Callable[[Any], Any] = agen.asend
        value: Any = None
        while True:
            with steps:
                item = await step(value)
            if steps.done:
                return
            try:
                value = yield item
            except GeneratorExit:
                with steps.closing():
                    await agen.aclose()
                raise
            except BaseException as exc:
                step, value = agen.athrow, exc
            else:
                step = agen.asend

    return wrapper
