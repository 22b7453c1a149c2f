"""In-process ``httpx2.MockTransport`` serving the fake LLM API without sockets."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterable, Iterator

import httpx2

from ._fake import FakeLLM, FakeResponse, handle_request
from ._script import Reply

__all__ = ["fake_transport"]

_INCOMPLETE = "peer closed connection without sending complete message body: incomplete chunked read"


class _BrokenStream(httpx2.SyncByteStream, httpx2.AsyncByteStream):
    """Yields some chunks, then fails like a dropped connection."""

    def __init__(self, chunks: list[bytes], request: httpx2.Request) -> None:
        self._chunks = chunks
        self._request = request

    def __iter__(self) -> Iterator[bytes]:
        yield from self._chunks
        raise httpx2.RemoteProtocolError(_INCOMPLETE, request=self._request)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self._chunks:
            yield chunk
        raise httpx2.RemoteProtocolError(_INCOMPLETE, request=self._request)


def _read_timeout(request: httpx2.Request) -> float | None:
    timeout = request.extensions.get("timeout")
    value = timeout.get("read") if isinstance(timeout, dict) else None
    return float(value) if isinstance(value, (int, float)) else None


def _wait(fake: FakeResponse, request: httpx2.Request) -> float:
    """Seconds to sleep before answering (capped at the client's read timeout)."""
    limit = _read_timeout(request)
    return fake.delay_s if limit is None else min(fake.delay_s, limit)


def _to_response(fake: FakeResponse, request: httpx2.Request) -> httpx2.Response:
    limit = _read_timeout(request)
    if limit is not None and fake.delay_s > limit:
        raise httpx2.ReadTimeout("timed out", request=request)
    if fake.disconnect_after == 0:
        raise httpx2.RemoteProtocolError("Server disconnected without sending a response.", request=request)
    if fake.disconnect_after is not None:
        stream = _BrokenStream(fake.chunks[: fake.disconnect_after], request)
        return httpx2.Response(fake.status, headers=fake.headers, stream=stream, request=request)
    return httpx2.Response(fake.status, headers=fake.headers, content=fake.body, request=request)


class _FakeTransport(httpx2.MockTransport):
    def __init__(self, state: FakeLLM) -> None:
        self.state = state
        super().__init__(self._handle)

    def _fake(self, request: httpx2.Request) -> FakeResponse:
        headers = {k.lower(): v for k, v in request.headers.items()}
        return handle_request(
            request.method, request.url.raw_path.decode("ascii"), headers, request.content, state=self.state
        )

    def _handle(self, request: httpx2.Request) -> httpx2.Response:
        fake = self._fake(request)
        if fake.delay_s > 0:
            time.sleep(_wait(fake, request))
        return _to_response(fake, request)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        # Same handler logic, but never block the event loop while `slow` sleeps.
        await request.aread()
        fake = self._fake(request)
        if fake.delay_s > 0:
            await asyncio.sleep(_wait(fake, request))
        return _to_response(fake, request)


def fake_transport(
    state: FakeLLM | None = None, *, script: Iterable[Reply | str] | None = None
) -> httpx2.MockTransport:
    """A transport for ``httpx2.Client`` / ``httpx2.AsyncClient`` answering like the fake server.

    Pass it to the SDKs via ``http_client=httpx2.Client(transport=fake_transport())`` and
    any base URL (e.g. ``http://fake/v1`` for OpenAI, ``http://fake`` for Anthropic).
    ``script`` queues scripted replies (on ``state`` when given).
    """
    state = state if state is not None else FakeLLM()
    if script is not None:
        state.script(script)
    return _FakeTransport(state)
