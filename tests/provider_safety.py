"""What every provider's "never break the host app" test shares
(``tests/instrumentation/<provider>/test_<provider>_safety.py``).

A test breaks one of the provider's pure functions or accumulator methods (:meth:`Trial.breaks`:
it raises :class:`TelemetryBug`), makes the same SDK call uninstrumented and instrumented against
the fake server (:meth:`Trial.same_outcome`: the same result, the same requests), then checks
what is left (:meth:`Trial.check`: the spans named, none marked ERROR, the failure counted in
``agentotel.telemetry.errors`` and logged at DEBUG). Our functions are broken before instrument():
the operations take their function references when the wrappers are built.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pytest
from helpers import TELEMETRY_ERRORS, instrumented

from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture

BUG_TYPE = "provider_safety.TelemetryBug"
"""The ``error.type`` our simulated bug is counted with."""


class TelemetryBug(RuntimeError):
    """Stands for any bug in our own code."""


def boom(*_args: Any, **_kwargs: Any) -> Any:
    raise TelemetryBug("agentotel bug (simulated)")


def dump(value: Any, exclude: set[str] | None = None) -> Any:
    """A response (or a list of stream chunks) as data: its type and its ``model_dump``."""
    if isinstance(value, list):
        return [dump(v, exclude) for v in value]
    return (type(value), value.model_dump(exclude=exclude))


@dataclass(frozen=True)
class Trial:
    """One provider's instrumentor, its clients on the fake server and its ``patch`` module."""

    component: str
    instrumentor: type[Any]
    client: Callable[[FakeLLMServer], Any]
    async_client: Callable[[FakeLLMServer], Any]
    patch: ModuleType
    """Where ``SDK`` lives: a target ``(patch, "SDK.<field>")`` replaces that field of it."""

    def breaks(self, monkeypatch: pytest.MonkeyPatch, target: tuple[Any, str]) -> None:
        """Make ``owner.name`` raise (``SDK.<field>``: that field of the provider's ``SdkTypes``)."""
        owner, name = target
        if name.startswith("SDK."):
            replaced = dataclasses.replace(self.patch.SDK, **{name[4:]: boom})
            monkeypatch.setattr(self.patch, "SDK", replaced)
        else:
            monkeypatch.setattr(owner, name, boom)

    def same_outcome(self, server: FakeLLMServer, cap: TelemetryCapture, call: Callable[[Any], Any]) -> Any:
        """``call`` on a fresh client, uninstrumented then instrumented: the same result and the
        same requests to the server. Returns the result."""
        server.state.reset()
        server.clear()
        plain = call(self.client(server))
        plain_requests = [(r.path, r.body) for r in server.requests]
        server.state.reset()
        server.clear()
        with instrumented(cap, self.instrumentor):
            traced = call(self.client(server))
        assert [(r.path, r.body) for r in server.requests] == plain_requests
        assert traced == plain
        return plain

    async def same_outcome_async(
        self, server: FakeLLMServer, cap: TelemetryCapture, call: Callable[[Any], Awaitable[Any]]
    ) -> Any:
        """:meth:`same_outcome` with the async client."""
        server.state.reset()
        server.clear()
        plain = await call(self.async_client(server))
        plain_requests = [(r.path, r.body) for r in server.requests]
        server.state.reset()
        server.clear()
        with instrumented(cap, self.instrumentor):
            traced = await call(self.async_client(server))
        assert [(r.path, r.body) for r in server.requests] == plain_requests
        assert traced == plain
        return plain

    def check(
        self, cap: TelemetryCapture, log: pytest.LogCaptureFixture, names: list[str], count: int
    ) -> None:
        """The spans left are ``names``, none marked ERROR; ``count`` failures counted and logged."""
        spans = cap.spans()
        assert [s.name for s in spans] == names
        for span in spans:
            assert span.status.status_code.name == "UNSET"
            assert "error.type" not in (span.attributes or {})
        assert reported(cap) == [({"agentotel.component": self.component, "error.type": BUG_TYPE}, count)]
        records = [r for r in log.records if r.name == "agentotel" and "telemetry error" in r.getMessage()]
        assert len(records) == count
        for record in records:
            assert record.levelno == logging.DEBUG
            assert record.exc_info is not None and isinstance(record.exc_info[1], TelemetryBug)


def reported(cap: TelemetryCapture) -> list[tuple[dict[str, Any], int]]:
    """The ``agentotel.telemetry.errors`` points: attributes and count."""
    return [(dict(p.attributes), p.value) for p in cap.metric_points(TELEMETRY_ERRORS)]
