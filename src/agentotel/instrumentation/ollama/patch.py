"""The Ollama operations: which extractors and accumulator each request path uses.

Imported only when ``ollama`` is (it imports ``ollama``). The patched method is the SDK's one
request method, ``Client._request(cls, method, path, json=..., stream=...)`` (and
``AsyncClient._request``): the public ``chat`` / ``generate`` / ``embed`` call it through
``self``, so the module-level ``ollama.chat`` & co. (methods of a ``Client`` made when ``ollama``
is imported, bound before we patch) are covered too, and a call the SDK refuses before building
the request (no model) makes no span. :func:`requests` picks the operation by the request path;
any other path (``/api/pull``, ``/api/tags``, ...) runs untouched. A streamed reply is a generator
(an async generator for ``AsyncClient``) that sends the request when first iterated: its span
opens then.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import AsyncGeneratorType, GeneratorType
from typing import Any

from agentotel._safe import Boundary
from agentotel._telemetry import Telemetry
from agentotel.instrumentation._operation import Operation, SdkTypes, server_of
from agentotel.instrumentation._sdk_hooks import lazy_stream
from agentotel.instrumentation.ollama import content, extract
from agentotel.instrumentation.ollama.stream import ChatAccumulator, GenerateAccumulator

SDK = SdkTypes(
    stream=GeneratorType,
    async_stream=AsyncGeneratorType,
    raw=(),
    async_raw=(),
    server=server_of(extract.server_attributes),  # ``client._client``: the httpx client
)


def chat(telemetry: Telemetry, boundary: Boundary) -> Operation:
    """``/api/chat`` (``chat``)."""
    return Operation(
        telemetry,
        boundary,
        SDK,
        request=extract.chat_request_attributes,
        response=extract.response_attributes,
        content_in=content.chat_request_content,
        content_out=content.chat_output_messages,
        accumulator=ChatAccumulator,
        tool_results=content.tool_results,
    )


def generate(telemetry: Telemetry, boundary: Boundary) -> Operation:
    """``/api/generate`` (``text_completion``)."""
    return Operation(
        telemetry,
        boundary,
        SDK,
        request=extract.generate_request_attributes,
        response=extract.response_attributes,
        content_in=content.generate_request_content,
        content_out=content.generate_output_messages,
        accumulator=GenerateAccumulator,
    )


def embed(telemetry: Telemetry, boundary: Boundary) -> Operation:
    """``/api/embed`` and ``/api/embeddings`` (``embeddings``)."""
    return Operation(
        telemetry,
        boundary,
        SDK,
        request=extract.embed_request_attributes,
        response=extract.embed_response_attributes,
        content_in=content.embed_request_content,
        content_out=content.no_output,
        accumulator=None,
    )


def _by_path(wrappers: Mapping[str, tuple[Callable[..., Any], Callable[..., Any]]]) -> Callable[..., Any]:
    """A ``wrapt`` wrapper of ``_request(cls, method, path, ..., stream=)`` running the wrappers
    of ``path``: the first for a call, the second for a stream (sync or async alike: it returns
    what that wrapper returns); any other path runs untouched."""

    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        path = args[2] if type(args) is tuple and len(args) > 2 else None
        found = wrappers.get(path) if type(path) is str else None
        if found is None:
            return wrapped(*args, **kwargs)
        return found[kwargs.get("stream") is True](wrapped, instance, args, kwargs)

    return wrapper


_OPERATIONS = {"/api/chat": chat, "/api/generate": generate, "/api/embed": embed, "/api/embeddings": embed}


def requests(telemetry: Telemetry, boundary: Boundary, is_async: bool) -> Callable[..., Any]:
    """The wrapper of ``Client._request`` (``AsyncClient._request`` when ``is_async``). A streamed
    reply is a generator that sends the request when first read: its span opens then
    (:func:`~agentotel.instrumentation._sdk_hooks.lazy_stream`), so a stream never read makes none."""
    wrappers = {}
    for path, make in _OPERATIONS.items():
        op = make(telemetry, boundary)
        wrappers[path] = (op.async_() if is_async else op.sync(), lazy_stream(op, is_async))
    return _by_path(wrappers)
