"""A graph's stream (``Pregel.stream`` / ``astream``) inside its run block, as a proxy.

The block opens on the first item asked for and ends exactly once: on exhaustion, on an error
(ERROR), on ``close()`` / ``aclose()``, or when the stream is dropped unfinished (garbage
collected); a stream closed before it started leaves no span. The block's context is current only
while the graph's own code runs (so LangGraph's tasks inherit it), never in the consumer between
two items.

A proxy rather than a wrapping generator: asyncio finalizes every async generator it has seen,
all at once, when a loop shuts down; a generator around LangGraph's would then be closed
concurrently with it and fail (``aclose(): asynchronous generator is already running``).
"""

from __future__ import annotations

import contextlib
from types import TracebackType
from typing import Any

import wrapt

from agentotel.agent import Workflow


class _Step:
    """One step of a graph stream (``with`` around the wrapped generator's own call): the run
    block opens on the first, its context is current during each, and it ends with the stream
    (exhausted, failed, or closed: ``closing=True``). Shared by the sync and async proxies."""

    __slots__ = ("_closing", "_stream", "_token")

    def __init__(self, stream: _RunStream, closing: bool) -> None:
        self._stream = stream
        self._closing = closing
        self._token: object | None = None

    def __enter__(self) -> None:
        stream = self._stream
        block = stream._self_block
        if not stream._self_started:
            stream._self_started = True
            if not self._closing:  # a stream closed before its first item opens no span
                block._start()
        self._token = block._attach()

    def __exit__(
        self, et: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        block = self._stream._self_block
        block._detach(self._token)
        if isinstance(exc, self._stream._self_stop):
            block._finish(None)
        elif exc is not None or self._closing:
            block._finish(exc)


class _RunStream(wrapt.ObjectProxy):  # type: ignore[type-arg]
    _self_stop: type[Exception]
    """What ends the stream: ``StopIteration``, or ``StopAsyncIteration`` for an async one."""

    def __init__(self, wrapped: Any, block: Workflow) -> None:
        super().__init__(wrapped)
        self._self_block = block
        self._self_started = False

    def _self_step(self, closing: bool = False) -> _Step:
        return _Step(self, closing)

    def __del__(self) -> None:
        # Dropped unfinished: the consumer stopped early without closing (no error).
        with contextlib.suppress(Exception):  # never raise from a finaliser
            self._self_block._finish(None)

    def __copy__(self) -> Any:  # pragma: no cover - a copy would end the span twice
        raise TypeError("agentotel stream proxies cannot be copied")


class SyncRunStream(_RunStream):
    """A sync graph stream (a generator)."""

    _self_stop = StopIteration

    def __iter__(self) -> SyncRunStream:
        return self

    def __next__(self) -> Any:
        with self._self_step():
            return self.__wrapped__.__next__()

    def send(self, value: Any) -> Any:
        with self._self_step():
            return self.__wrapped__.send(value)

    def throw(self, *args: Any) -> Any:
        with self._self_step():
            return self.__wrapped__.throw(*args)

    def close(self) -> None:
        with self._self_step(closing=True):
            self.__wrapped__.close()


class AsyncRunStream(_RunStream):
    """An async graph stream (an async generator); :class:`SyncRunStream` with ``await``."""

    _self_stop = StopAsyncIteration

    def __aiter__(self) -> AsyncRunStream:
        return self

    async def __anext__(self) -> Any:
        with self._self_step():
            return await self.__wrapped__.__anext__()

    async def asend(self, value: Any) -> Any:
        with self._self_step():
            return await self.__wrapped__.asend(value)

    async def athrow(self, *args: Any) -> Any:
        with self._self_step():
            return await self.__wrapped__.athrow(*args)

    async def aclose(self) -> None:
        with self._self_step(closing=True):
            await self.__wrapped__.aclose()
