"""Stream proxies that end their call's span exactly once, however the stream is left.

A proxy wraps the SDK's stream object (``wrapt.ObjectProxy``): every attribute and method of the
SDK stream stays reachable (``response``, ``close()``, helpers), while iteration, ``close``,
``with`` and garbage collection pass through here. The provider supplies a pure
:class:`~agentotel.instrumentation._accumulator.StreamAccumulator` that only processes chunks and
reports the outcome; this module does the rest: the chunk timing, the captured output content
(encoded, redacted, cut), and the ending: exhausted, closed (``close()``/``with`` exit, also after
``break``), abandoned (collected unclosed) -> the span ends with what was accumulated and no error
status; an exception raised by the stream -> ERROR with ``error.type``. The first of these wins,
the rest are no-ops.
"""

from __future__ import annotations

from collections.abc import Iterator
from time import perf_counter_ns
from typing import TYPE_CHECKING, Any

import wrapt
from opentelemetry.util.types import AttributeValue

from agentotel import semconv
from agentotel._content import content_attributes
from agentotel._lifecycle import Attributes
from agentotel.instrumentation._accumulator import Outcome, StreamAccumulator

if TYPE_CHECKING:
    from agentotel.instrumentation._invocation import Invocation


class OpenStream:
    """One open stream, shared by its stream proxy and its response proxy.

    ``acc`` is the provider's accumulator until the stream ends: whichever proxy ends it first
    takes it out (sets it to None), so the span ends once. (A shared object, not a reference
    between the proxies, so an abandoned stream leaves no cycle.) The chunk timing lives here,
    beside the one per-chunk call into the provider, the accumulator's ``process``.
    """

    __slots__ = ("acc", "chunks", "first_ns", "inv", "last_ns")

    def __init__(self, acc: StreamAccumulator, inv: Invocation) -> None:
        self.acc: StreamAccumulator | None = acc
        self.inv: Invocation | None = inv
        self.chunks = 0
        self.first_ns = 0
        self.last_ns = 0

    def took(self, chunk: Any) -> Any:
        """One chunk read: its timing, then the accumulator's ``process`` (all the per-chunk work
        there is; an error of ours is reported). Returns ``chunk`` as it came. (``_chunks``, the
        sync ``for`` loop, does the same inline.)"""
        acc = self.acc
        if acc is not None:
            try:
                now = perf_counter_ns()
                if not self.chunks:
                    self.first_ns = now
                self.chunks += 1
                self.last_ns = now
                acc.process(chunk)
            except Exception as bug:
                _report(self, bug)
        return chunk

    def stopped(self, exc: BaseException) -> BaseException:
        """The stream raised ``exc``: exhausted (``StopIteration`` / ``StopAsyncIteration``) or
        failed. Returns ``exc`` for the proxy to raise on, unchanged but for its traceback, which
        loses its first entry (the proxy's frame, which the raise puts back): the app sees the
        traceback it would have seen through a bare ``raise``."""
        if isinstance(exc, (StopIteration, StopAsyncIteration)):
            self.end(semconv.STREAM_EXHAUSTED)
        else:
            self.fail(exc)
        tb = exc.__traceback__
        return exc if tb is None else exc.with_traceback(tb.tb_next)

    def take(self) -> tuple[StreamAccumulator, Invocation] | None:
        """The accumulator and the call, the first time only (the stream ends now)."""
        acc, inv = self.acc, self.inv
        if acc is None or inv is None:
            return None
        self.acc = self.inv = None
        return acc, inv

    def outcome(self, acc: StreamAccumulator, inv: Invocation) -> Outcome:
        """The accumulator's outcome; with content capture on, its output messages are recorded."""
        found = acc.outcome()
        secrets = inv.secrets
        if secrets is not None:
            outputs = acc.output_messages()
            if outputs:
                limit = inv.telemetry.settings.content_max_length
                inv.add_content(content_attributes(limit, secrets, outputs=outputs))
        return found

    def timing(self, inv: Invocation, attrs: Attributes) -> None:
        """Hand the chunk timing to the call and put time-to-first-chunk on ``attrs``."""
        if self.chunks:
            ttfc = inv.chunks_seen(self.chunks, self.first_ns, self.last_ns)
            attrs[semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] = ttfc

    def end(self, how: str) -> None:
        """End the span with the outcome so far (exhausted, closed, abandoned)."""
        if self.acc is None:  # ended already (the proxy's finaliser comes here after every stream)
            return
        taken = self.take()
        if taken is None:
            return
        acc, inv = taken
        try:
            attrs, input_tokens, output_tokens, model = self.outcome(acc, inv)
            attrs[semconv.AGENTOTEL_STREAM_END] = how
            self.timing(inv, attrs)
            inv.finish(attrs, input_tokens, output_tokens, model)
        except Exception as exc:
            inv.boundary.report(exc)
            inv.end()

    def fail(self, exc: BaseException) -> None:
        """End the span with the stream's exception (ERROR), keeping what was accumulated."""
        taken = self.take()
        if taken is None:
            return
        acc, inv = taken
        attrs: dict[str, AttributeValue] = {}
        try:
            attrs = self.outcome(acc, inv)[0]
            self.timing(inv, attrs)
        except Exception as bug:
            inv.boundary.report(bug)
        attrs[semconv.AGENTOTEL_STREAM_END] = semconv.STREAM_ERROR
        try:
            inv.fail(exc, attrs)
        except Exception as bug:
            inv.boundary.report(bug)


def _report(stream: OpenStream, bug: Exception) -> None:
    inv = stream.inv
    if inv is not None:
        inv.boundary.report(bug)


class _StreamProxyBase(wrapt.ObjectProxy):  # type: ignore[type-arg]
    def __init__(self, wrapped: Any, accumulator: StreamAccumulator, invocation: Invocation) -> None:
        super().__init__(wrapped)
        self._self_open = OpenStream(accumulator, invocation)
        self._self_response: _ResponseProxy | None = None

    def _self_end(self, how: str) -> None:
        self._self_open.end(how)

    @property
    def response(self) -> Any:
        """The SDK stream's HTTP response; closing it (as the SDKs' stream helpers do) ends the span."""
        proxy = self._self_response
        if proxy is None:
            proxy = self._self_response = _ResponseProxy(self.__wrapped__.response, self._self_open)
        return proxy

    def __del__(self) -> None:
        # Abandoned: the reader dropped the stream without exhausting or closing it.
        # Never raise from a finaliser. (Not ``contextlib.suppress``: three Python calls more for
        # every stream, which has mostly ended before it is collected.)
        try:  # noqa: SIM105
            self._self_open.end(semconv.STREAM_ABANDONED)
        except Exception:
            pass

    def __copy__(self) -> Any:  # pragma: no cover - a copied proxy would end the span twice
        raise TypeError("agentotel stream proxies cannot be copied")

    def __reduce_ex__(self, protocol: Any) -> Any:  # pragma: no cover
        return self.__wrapped__.__reduce_ex__(protocol)


class _ResponseProxy(wrapt.ObjectProxy):  # type: ignore[type-arg]
    """The stream's HTTP response; ``close()``/``aclose()`` also end the stream's span (closed)."""

    def __init__(self, wrapped: Any, stream: OpenStream) -> None:
        super().__init__(wrapped)
        self._self_open = stream

    def close(self) -> Any:
        try:
            return self.__wrapped__.close()
        finally:
            self._self_open.end(semconv.STREAM_CLOSED)

    async def aclose(self) -> Any:
        try:
            return await self.__wrapped__.aclose()
        finally:
            self._self_open.end(semconv.STREAM_CLOSED)


class SyncStreamProxy(_StreamProxyBase):
    """Proxy for a sync SDK stream (an iterator with ``close()`` and ``with`` support)."""

    def __iter__(self) -> Iterator[Any]:
        # A ``for`` loop gets a generator over the SDK stream's own iterator: per chunk a generator
        # resume, where ``__next__`` costs two Python calls (ours and the SDK's ``__next__``).
        return _chunks(self)

    def __next__(self) -> Any:
        wrapped = self.__wrapped__
        step = getattr(type(wrapped), "__next__", None)
        if step is None:
            # Not an iterator, only iterable (botocore's ``EventStream``): ``next()`` raises the
            # TypeError the app gets without us, and the stream is left as it was.
            return next(wrapped)
        try:
            return self._self_open.took(step(wrapped))
        except BaseException as exc:
            raise self._self_open.stopped(exc)  # noqa: B904 - the stream's own exception, as it came

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


def _chunks(proxy: SyncStreamProxy) -> Iterator[Any]:
    """The chunks of ``proxy``'s SDK stream as its ``__iter__`` yields them, each taken as
    :meth:`OpenStream.took` takes it; the end as in ``__next__`` (:meth:`OpenStream.stopped`).

    The generator holds ``proxy``, so the proxy is not collected (abandoned) while a loop reads
    it. Leaving the loop early ends nothing: the stream ends when it is closed, exhausted or
    collected, as with ``__next__``. A ``for`` loop over the SDK's iterator (a ``next()`` call per
    chunk costs about 280 instructions more); what is raised inside the loop's body (our code's
    ``BaseException``, or what the app's ``close()`` / ``throw()`` raises at the ``yield``) is
    noted in ``inside`` and passes through as it came, ending nothing: only the SDK's iterator
    ends the stream here.
    """
    opened = proxy._self_open
    chunks = iter(proxy.__wrapped__)
    inside: BaseException | None = None
    try:
        for chunk in chunks:
            try:
                # OpenStream.took inline (keep the two alike): one Python call less per chunk.
                acc = opened.acc
                if acc is not None:
                    try:
                        now = perf_counter_ns()
                        if not opened.chunks:
                            opened.first_ns = now
                        opened.chunks += 1
                        opened.last_ns = now
                        acc.process(chunk)
                    except Exception as bug:
                        _report(opened, bug)
                yield chunk
            except BaseException as exc:
                inside = exc
                raise
    except BaseException as exc:
        if exc is inside:
            inside = None  # no cycle: this frame -> the exception -> its traceback -> this frame
            raise
        raise opened.stopped(exc)  # noqa: B904 - the stream's own exception, as it came
    opened.end(semconv.STREAM_EXHAUSTED)


class AsyncStreamProxy(_StreamProxyBase):
    """Proxy for an async SDK stream (``async for``, ``await close()``, ``async with``)."""

    def __aiter__(self) -> AsyncStreamProxy:
        return self

    async def __anext__(self) -> Any:
        try:
            return self._self_open.took(await self.__wrapped__.__anext__())
        except BaseException as exc:
            raise self._self_open.stopped(exc)  # noqa: B904 - the stream's own exception, as it came

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
