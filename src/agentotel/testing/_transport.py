"""In-process transport serving the fake LLM API without sockets, for ``httpx`` and ``httpx2``.

``openai`` 1.x/2.x and ``anthropic`` 0.x are built on ``httpx``; ``openai`` 3.x and ``anthropic``
1.x/2.x on ``httpx2``. The one transport works with either client: it answers each request with the
response and exception classes of the library that request came from, so the SDK sees exactly what
a real server would make its own transport raise.
"""

from __future__ import annotations

import asyncio
import importlib
import sys
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from types import ModuleType, TracebackType
from typing import Any

from ._fake import FakeLLM, FakeResponse, handle_request
from ._script import Reply

__all__ = ["FakeTransport", "fake_transport"]

_INCOMPLETE = "peer closed connection without sending complete message body: incomplete chunked read"
_LIBRARIES = ("httpx2", "httpx")


def _installed() -> tuple[ModuleType, ...]:
    found = []
    for name in _LIBRARIES:
        try:
            found.append(importlib.import_module(name))
        except ImportError:
            continue
    return tuple(found)


def _library_of(request: Any) -> Any:
    """``httpx`` or ``httpx2``: the library whose ``Request`` this is."""
    return sys.modules[type(request).__module__.partition(".")[0]]


class _BrokenStream:
    """Yields some chunks, then fails like a dropped connection."""

    def __init__(self, chunks: list[bytes], request: Any) -> None:
        self._chunks = chunks
        self._request = request

    def _error(self) -> Exception:
        error: Exception = _library_of(self._request).RemoteProtocolError(_INCOMPLETE, request=self._request)
        return error

    def __iter__(self) -> Iterator[bytes]:
        yield from self._chunks
        raise self._error()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self._chunks:
            yield chunk
        raise self._error()

    def close(self) -> None:
        """Nothing to release."""

    async def aclose(self) -> None:
        """Nothing to release."""


def _read_timeout(request: Any) -> float | None:
    timeout = request.extensions.get("timeout")
    value = timeout.get("read") if isinstance(timeout, dict) else None
    return float(value) if isinstance(value, (int, float)) else None


def _wait(fake: FakeResponse, request: Any) -> float:
    """Seconds to sleep before answering (capped at the client's read timeout)."""
    limit = _read_timeout(request)
    return fake.delay_s if limit is None else min(fake.delay_s, limit)


def _to_response(fake: FakeResponse, request: Any) -> Any:
    http = _library_of(request)
    limit = _read_timeout(request)
    if limit is not None and fake.delay_s > limit:
        raise http.ReadTimeout("timed out", request=request)
    if fake.disconnect_after == 0:
        raise http.RemoteProtocolError("Server disconnected without sending a response.", request=request)
    if fake.disconnect_after is not None:
        stream = _BROKEN_STREAM(fake.chunks[: fake.disconnect_after], request)
        return http.Response(fake.status, headers=fake.headers, stream=stream, request=request)
    return http.Response(fake.status, headers=fake.headers, content=fake.body, request=request)


class FakeTransport:
    """A sync and async transport for ``httpx`` and ``httpx2`` clients alike (it is an instance of
    each installed library's ``BaseTransport`` and ``AsyncBaseTransport``)."""

    def __init__(self, state: FakeLLM) -> None:
        self.state = state

    def _fake(self, request: Any) -> FakeResponse:
        headers = {k.lower(): v for k, v in request.headers.items()}
        return handle_request(
            request.method, request.url.raw_path.decode("ascii"), headers, request.content, state=self.state
        )

    def handle_request(self, request: Any) -> Any:
        request.read()
        fake = self._fake(request)
        if fake.delay_s > 0:
            time.sleep(_wait(fake, request))
        return _to_response(fake, request)

    async def handle_async_request(self, request: Any) -> Any:
        # Same handler logic, but never block the event loop while `slow` sleeps.
        await request.aread()
        fake = self._fake(request)
        if fake.delay_s > 0:
            await asyncio.sleep(_wait(fake, request))
        return _to_response(fake, request)

    def close(self) -> None:
        """Nothing to release."""

    async def aclose(self) -> None:
        """Nothing to release."""

    def __enter__(self) -> FakeTransport:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    async def __aenter__(self) -> FakeTransport:
        return self

    async def __aexit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        await self.aclose()


def _with_bases(cls: type[Any], *names: str) -> type[Any]:
    """``cls`` made a subclass of the named base classes of each installed HTTP library (the
    clients check ``isinstance`` on transports' streams)."""
    bases = tuple(getattr(http, name) for http in _installed() for name in names)
    return type(cls.__name__, (cls, *bases), {"__module__": __name__, "__doc__": cls.__doc__})


_TRANSPORT: type[FakeTransport] = _with_bases(FakeTransport, "BaseTransport", "AsyncBaseTransport")
_BROKEN_STREAM: type[_BrokenStream] = _with_bases(_BrokenStream, "SyncByteStream", "AsyncByteStream")


def fake_transport(
    state: FakeLLM | None = None, *, script: Iterable[Reply | str] | None = None
) -> FakeTransport:
    """A transport answering like the fake server, for an ``httpx2`` or an ``httpx`` client.

    Pass it to the SDK through the client of the HTTP library that SDK major is built on:
    ``http_client=httpx2.Client(transport=fake_transport())`` for ``openai`` 3.x and ``anthropic``
    1.x/2.x, ``httpx.Client(...)`` for ``openai`` 1.x/2.x and ``anthropic`` 0.x (``AsyncClient``
    for the async SDK clients), with any base URL (e.g. ``http://fake/v1`` for OpenAI,
    ``http://fake`` for Anthropic). ``script`` queues scripted replies (on ``state`` when given).
    """
    state = state if state is not None else FakeLLM()
    if script is not None:
        state.script(script)
    return _TRANSPORT(state)
