"""Stream proxies that end their call's span exactly once, however the stream is left.

A proxy wraps the SDK's stream object (``wrapt.ObjectProxy``): every attribute and method of the
SDK stream stays reachable (``response``, ``close()``, helpers), while iteration, ``close``,
``with`` and garbage collection pass through here. Provider code supplies a
:class:`StreamAccumulator` that only processes chunks and reports the outcome; the proxy owns the
ending: exhausted, closed (``close()``/``with`` exit, also after ``break``), abandoned (collected
unclosed) -> the span ends with what was accumulated and no error status; an exception raised by
the stream -> ERROR with ``error.type``. The first of these wins, the rest are no-ops.
"""

from __future__ import annotations

import contextlib
from time import perf_counter_ns
from typing import Any

import wrapt
from opentelemetry.util.types import AttributeValue

from agentotel import semconv
from agentotel._invocation import Invocation
from agentotel._lifecycle import Attributes


class StreamAccumulator:
    """Per-call chunk processing; subclasses implement :meth:`process` and :meth:`outcome`.

    The proxy keeps the chunk timing here (``chunks``, ``first_ns``, ``last_ns``) so that one
    Python call per chunk, :meth:`process`, is all the per-chunk work there is.
    """

    __slots__ = ("chunks", "first_ns", "invocation", "last_ns")

    def __init__(self, invocation: Invocation) -> None:
        self.invocation = invocation
        self.chunks = 0
        self.first_ns = 0
        self.last_ns = 0

    def process(self, chunk: Any) -> None:
        """Take what the span needs from one chunk (may raise: the proxy's boundary catches)."""
        raise NotImplementedError

    def outcome(self) -> tuple[Attributes, int | None, int | None, str | None]:
        """Response attributes, input tokens, output tokens and response model seen so far."""
        raise NotImplementedError

    def timing(self, attrs: Attributes) -> None:
        """Hand the chunk timing to the invocation and put time-to-first-chunk on ``attrs``."""
        if self.chunks:
            ttfc = self.invocation.chunks_seen(self.chunks, self.first_ns, self.last_ns)
            attrs[semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] = ttfc


def _finish(acc: StreamAccumulator, how: str) -> None:
    inv = acc.invocation
    try:
        attrs, input_tokens, output_tokens, model = acc.outcome()
        attrs[semconv.AGENTOTEL_STREAM_END] = how
        acc.timing(attrs)
        inv.finish(attrs, input_tokens, output_tokens, model)
    except Exception as exc:
        inv.telemetry.boundary.report(exc)
        inv.end()


def _fail(acc: StreamAccumulator, exc: BaseException) -> None:
    inv = acc.invocation
    attrs: dict[str, AttributeValue] = {}
    try:
        attrs = acc.outcome()[0]
        acc.timing(attrs)
    except Exception as bug:
        inv.telemetry.boundary.report(bug)
    attrs[semconv.AGENTOTEL_STREAM_END] = semconv.STREAM_ERROR
    try:
        inv.fail(exc, attrs)
    except Exception as bug:
        inv.telemetry.boundary.report(bug)


# The accumulator of an open stream sits in a one-element list shared by the stream proxy and its
# response proxy: whichever ends the stream first takes it out, so the span ends once. (A shared
# cell, not a reference between the proxies, so an abandoned stream leaves no cycle.)


def _end(cell: list[StreamAccumulator | None], how: str) -> None:
    acc, cell[0] = cell[0], None
    if acc is not None:
        _finish(acc, how)


class _StreamProxyBase(wrapt.ObjectProxy):  # type: ignore[type-arg]
    def __init__(self, wrapped: Any, accumulator: StreamAccumulator) -> None:
        super().__init__(wrapped)
        self._self_cell: list[StreamAccumulator | None] = [accumulator]
        self._self_response: _ResponseProxy | None = None

    def _self_end(self, how: str) -> None:
        _end(self._self_cell, how)

    def _self_error(self, exc: BaseException) -> None:
        cell = self._self_cell
        acc, cell[0] = cell[0], None
        if acc is not None:
            _fail(acc, exc)

    @property
    def response(self) -> Any:
        """The SDK stream's HTTP response; closing it (as the SDKs' stream helpers do) ends the span."""
        proxy = self._self_response
        if proxy is None:
            proxy = self._self_response = _ResponseProxy(self.__wrapped__.response, self._self_cell)
        return proxy

    def __del__(self) -> None:
        # Abandoned: the reader dropped the stream without exhausting or closing it.
        with contextlib.suppress(Exception):  # never raise from a finaliser
            self._self_end(semconv.STREAM_ABANDONED)

    def __copy__(self) -> Any:  # pragma: no cover - a copied proxy would end the span twice
        raise TypeError("agentotel stream proxies cannot be copied")

    def __reduce_ex__(self, protocol: Any) -> Any:  # pragma: no cover
        return self.__wrapped__.__reduce_ex__(protocol)


class _ResponseProxy(wrapt.ObjectProxy):  # type: ignore[type-arg]
    """The stream's HTTP response; ``close()``/``aclose()`` also end the stream's span (closed)."""

    def __init__(self, wrapped: Any, cell: list[StreamAccumulator | None]) -> None:
        super().__init__(wrapped)
        self._self_cell = cell

    def close(self) -> Any:
        try:
            return self.__wrapped__.close()
        finally:
            _end(self._self_cell, semconv.STREAM_CLOSED)

    async def aclose(self) -> Any:
        try:
            return await self.__wrapped__.aclose()
        finally:
            _end(self._self_cell, semconv.STREAM_CLOSED)


class SyncStreamProxy(_StreamProxyBase):
    """Proxy for a sync SDK stream (an iterator with ``close()`` and ``with`` support)."""

    def __iter__(self) -> SyncStreamProxy:
        return self

    def __next__(self) -> Any:
        try:
            chunk = self.__wrapped__.__next__()
        except StopIteration:
            self._self_end(semconv.STREAM_EXHAUSTED)
            raise
        except BaseException as exc:
            self._self_error(exc)
            raise
        acc = self._self_cell[0]
        if acc is not None:
            # Per-chunk work, inline (this runs for every chunk): timing, then the provider's process.
            try:
                now = perf_counter_ns()
                if not acc.chunks:
                    acc.first_ns = now
                acc.chunks += 1
                acc.last_ns = now
                acc.process(chunk)
            except Exception as bug:
                acc.invocation.telemetry.boundary.report(bug)
        return chunk

    def close(self) -> Any:
        try:
            return self.__wrapped__.close()
        finally:
            self._self_end(semconv.STREAM_CLOSED)

    def __enter__(self) -> SyncStreamProxy:
        self.__wrapped__.__enter__()
        return self

    def __exit__(self, *exc_info: Any) -> Any:
        try:
            return self.__wrapped__.__exit__(*exc_info)
        finally:
            self._self_end(semconv.STREAM_CLOSED)


class AsyncStreamProxy(_StreamProxyBase):
    """Proxy for an async SDK stream (``async for``, ``await close()``, ``async with``)."""

    def __aiter__(self) -> AsyncStreamProxy:
        return self

    async def __anext__(self) -> Any:
        try:
            chunk = await self.__wrapped__.__anext__()
        except StopAsyncIteration:
            self._self_end(semconv.STREAM_EXHAUSTED)
            raise
        except BaseException as exc:
            self._self_error(exc)
            raise
        acc = self._self_cell[0]
        if acc is not None:
            # Per-chunk work, inline (this runs for every chunk): timing, then the provider's process.
            try:
                now = perf_counter_ns()
                if not acc.chunks:
                    acc.first_ns = now
                acc.chunks += 1
                acc.last_ns = now
                acc.process(chunk)
            except Exception as bug:
                acc.invocation.telemetry.boundary.report(bug)
        return chunk

    async def close(self) -> Any:
        try:
            return await self.__wrapped__.close()
        finally:
            self._self_end(semconv.STREAM_CLOSED)

    async def aclose(self) -> Any:
        try:
            closer = getattr(self.__wrapped__, "aclose", None) or self.__wrapped__.close
            return await closer()
        finally:
            self._self_end(semconv.STREAM_CLOSED)

    async def __aenter__(self) -> AsyncStreamProxy:
        await self.__wrapped__.__aenter__()
        return self

    async def __aexit__(self, *exc_info: Any) -> Any:
        try:
            return await self.__wrapped__.__aexit__(*exc_info)
        finally:
            self._self_end(semconv.STREAM_CLOSED)
