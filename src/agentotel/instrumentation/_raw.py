"""Proxies for the SDKs' raw-response objects (``with_raw_response`` / ``with_streaming_response``).

The wrapped ``create`` returns an HTTP-level response object instead of the parsed result. The call's
span is finished when the application parses it (``parse()`` -> the parsed object goes through the
normal result handler, so a parsed stream is proxied too), and otherwise ended when the response is
closed or garbage-collected.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import wrapt

from agentotel.instrumentation._invocation import Invocation

Handler = Callable[[Invocation, Any], Any]


class _RawBase(wrapt.ObjectProxy):  # type: ignore[type-arg]
    def __init__(self, wrapped: Any, invocation: Invocation, handler: Handler) -> None:
        super().__init__(wrapped)
        self._self_inv: Invocation | None = invocation
        self._self_handler = handler

    def _self_parsed(self, parsed: Any) -> Any:
        inv, self._self_inv = self._self_inv, None
        if inv is None:
            return parsed
        try:
            return self._self_handler(inv, parsed)
        except Exception as bug:
            inv.boundary.report(bug)
            inv.end()
            return parsed

    def _self_end(self) -> None:
        # Closed or dropped unparsed: the HTTP call succeeded (the SDK raises on error statuses),
        # so it counts in the duration metric, without response attributes or tokens.
        inv, self._self_inv = self._self_inv, None
        if inv is not None:
            try:
                inv.finish(None)
            except Exception as bug:  # pragma: no cover
                inv.boundary.report(bug)

    def __del__(self) -> None:
        self._self_end()


class RawResponseProxy(_RawBase):
    """Sync raw response: ``parse()`` and ``close()`` are observed."""

    def parse(self, *args: Any, **kwargs: Any) -> Any:
        return self._self_parsed(self.__wrapped__.parse(*args, **kwargs))

    def close(self) -> Any:
        try:
            return self.__wrapped__.close()
        finally:
            self._self_end()


class AsyncRawResponseProxy(_RawBase):
    """Async raw response: ``await parse()`` and ``await close()`` are observed."""

    async def parse(self, *args: Any, **kwargs: Any) -> Any:
        return self._self_parsed(await self.__wrapped__.parse(*args, **kwargs))

    async def close(self) -> Any:
        try:
            return await self.__wrapped__.close()
        finally:
            self._self_end()
