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
from collections.abc import Awaitable, Callable
from typing import Any

import wrapt

from agentotel.agent import Workflow


class _RunStream(wrapt.ObjectProxy):  # type: ignore[type-arg]
    def __init__(self, wrapped: Any, block: Workflow) -> None:
        super().__init__(wrapped)
        self._self_block = block
        self._self_started = False

    def _self_enter(self) -> object | None:
        block = self._self_block
        if not self._self_started:
            self._self_started = True
            block._start()
        return block._attach()

    def _self_exit(self, token: object | None, ended: bool, exc: BaseException | None = None) -> None:
        block = self._self_block
        block._detach(token)
        if ended:
            block._finish(exc)

    def _self_closing(self) -> object | None:
        """Before closing: a stream closed before its first item opens no span."""
        self._self_started = True
        return self._self_block._attach()

    def __del__(self) -> None:
        # Dropped unfinished: the consumer stopped early without closing (no error).
        with contextlib.suppress(Exception):  # never raise from a finaliser
            self._self_block._finish(None)

    def __copy__(self) -> Any:  # pragma: no cover - a copy would end the span twice
        raise TypeError("agentotel stream proxies cannot be copied")


class SyncRunStream(_RunStream):
    """A sync graph stream (a generator)."""

    def __iter__(self) -> SyncRunStream:
        return self

    def __next__(self) -> Any:
        return self._self_step(self.__wrapped__.__next__)

    def send(self, value: Any) -> Any:
        return self._self_step(self.__wrapped__.send, value)

    def throw(self, *args: Any) -> Any:
        return self._self_step(self.__wrapped__.throw, *args)

    def close(self) -> None:
        token = self._self_closing()
        try:
            self.__wrapped__.close()
        except BaseException as exc:
            self._self_exit(token, True, exc)
            raise
        self._self_exit(token, True)

    def _self_step(self, fn: Callable[..., Any], *args: Any) -> Any:
        token = self._self_enter()
        try:
            item = fn(*args)
        except StopIteration:
            self._self_exit(token, True)
            raise
        except BaseException as exc:
            self._self_exit(token, True, exc)
            raise
        self._self_exit(token, False)
        return item


class AsyncRunStream(_RunStream):
    """An async graph stream (an async generator); :class:`SyncRunStream` with ``await``."""

    def __aiter__(self) -> AsyncRunStream:
        return self

    async def __anext__(self) -> Any:
        return await self._self_step(self.__wrapped__.__anext__)

    async def asend(self, value: Any) -> Any:
        return await self._self_step(self.__wrapped__.asend, value)

    async def athrow(self, *args: Any) -> Any:
        return await self._self_step(self.__wrapped__.athrow, *args)

    async def aclose(self) -> None:
        token = self._self_closing()
        try:
            await self.__wrapped__.aclose()
        except BaseException as exc:
            self._self_exit(token, True, exc)
            raise
        self._self_exit(token, True)

    async def _self_step(self, fn: Callable[..., Awaitable[Any]], *args: Any) -> Any:
        token = self._self_enter()
        try:
            item = await fn(*args)
        except StopAsyncIteration:
            self._self_exit(token, True)
            raise
        except BaseException as exc:
            self._self_exit(token, True, exc)
            raise
        self._self_exit(token, False)
        return item
