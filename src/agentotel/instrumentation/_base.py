"""What every agentotel instrumentor shares: settings, telemetry, and paired wrap/unwrap.

A subclass lists its patch points as :class:`Patch` entries; ``_instrument`` wraps each that the
installed SDK version has (a missing method is skipped, never an error) and ``_uninstrument``
unwraps exactly those.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from opentelemetry.instrumentation.dependencies import get_dependency_conflicts
from opentelemetry.instrumentation.instrumentor import BaseInstrumentor  # type: ignore[attr-defined]
from opentelemetry.instrumentation.utils import unwrap
from wrapt import wrap_function_wrapper

from agentotel._invocation import Telemetry
from agentotel._wiring import wire
from agentotel.agent._telemetry import AgentTelemetry
from agentotel.config import Settings

_log = logging.getLogger("agentotel")


@dataclass(frozen=True)
class Patch:
    """One method to wrap: ``module``, ``"Class.method"``, and a factory of its wrapper."""

    module: str
    name: str
    factory: Callable[[Any], Callable[..., Any]]
    """Gets the instrumentor's :class:`Telemetry` (an ``AgentTelemetry`` for agent-layer ones)."""

    def owner(self) -> tuple[Any, str] | None:
        """The class that holds the method, and the method's name; None if this SDK lacks it."""
        try:
            obj: Any = importlib.import_module(self.module)
        except ImportError:
            return None
        *path, attr = self.name.split(".")
        for part in path:
            obj = getattr(obj, part, None)
            if obj is None:
                return None
        return (obj, attr) if hasattr(obj, attr) else None


class AgentotelInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    """Base of our instrumentors; subclasses set ``component``, ``requirements`` and ``patches``."""

    component: ClassVar[str]
    requirements: ClassVar[Collection[str]]
    patches: ClassVar[Sequence[Patch]]
    agent_layer: ClassVar[bool] = False
    """True: the patches record agent-layer spans (tools, workflows), so their factories get an
    ``AgentTelemetry`` built on the given providers instead of the LLM ``Telemetry``."""

    def instrumentation_dependencies(self) -> Collection[str]:
        return self.requirements

    def _telemetry(self, **kwargs: Any) -> Telemetry:
        return Telemetry(
            self.component,
            Settings.from_env(),
            tracer_provider=kwargs.get("tracer_provider"),
            meter_provider=kwargs.get("meter_provider"),
            logger_provider=kwargs.get("logger_provider"),
        )

    def _instrument(self, **kwargs: Any) -> None:
        self._wrapped: list[tuple[Any, str]] = []
        # ``instrument()`` checks the versions itself, but ``opentelemetry-instrument`` skips that
        # check for packages (like ours) that declare no per-library extras: check here too, and
        # leave a library outside its supported range alone, with one message.
        conflict = get_dependency_conflicts(self.requirements)
        if conflict is not None:
            log = _log.warning if getattr(conflict, "found", None) else _log.debug
            log("agentotel %s: not instrumented: %s", self.component, conflict)
            return
        telemetry: Any = self._agent_telemetry(**kwargs) if self.agent_layer else self._telemetry(**kwargs)
        for patch in self.patches:
            target = patch.owner()
            if target is None:
                _log.debug("agentotel %s: %s.%s not found, skipped", self.component, patch.module, patch.name)
                continue
            owner, attr = target
            wrap_function_wrapper(owner, attr, patch.factory(telemetry))
            self._wrapped.append(target)
        if not self.agent_layer:
            self._after_instrument(telemetry)
        # Under opentelemetry-instrument this is our first chance to see the SDK provider the
        # configurator set (ours or another distro's): attach what the environment asks for.
        wire(kwargs.get("tracer_provider"), kwargs.get("meter_provider"), kwargs.get("logger_provider"))

    def _agent_telemetry(self, **kwargs: Any) -> AgentTelemetry:
        return AgentTelemetry(
            self.component,
            Settings.from_env(),
            tracer_provider=kwargs.get("tracer_provider"),
            meter_provider=kwargs.get("meter_provider"),
        )

    def _uninstrument(self, **kwargs: Any) -> None:
        for owner, attr in getattr(self, "_wrapped", ()):
            unwrap(owner, attr)
        self._wrapped = []
        self._after_uninstrument()

    def _after_instrument(self, telemetry: Telemetry) -> None:
        """Hook for provider-specific set-up beyond method wrapping."""

    def _after_uninstrument(self) -> None:
        """Hook undoing :meth:`_after_instrument`."""
