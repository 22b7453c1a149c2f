"""What every agentotel instrumentor shares: settings, telemetry, and paired wrap/unwrap.

A subclass lists its patch points as :class:`Patch` entries. ``_instrument`` imports no SDK: it
registers a post-import hook per SDK package, which wraps each patch point that the installed SDK
version has (a missing method is skipped, never an error) when the app imports that package, or at
once if it already has. ``_uninstrument`` unwraps exactly what was wrapped and disarms the hooks
that have not fired yet (wrapt cannot remove a hook: a disarmed one does nothing).
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from functools import partial
from types import ModuleType
from typing import Any, ClassVar

from opentelemetry.instrumentation.dependencies import get_dependency_conflicts
from opentelemetry.instrumentation.instrumentor import BaseInstrumentor  # type: ignore[attr-defined]
from opentelemetry.instrumentation.utils import unwrap
from wrapt import register_post_import_hook, wrap_function_wrapper

from agentotel._invocation import Telemetry
from agentotel._wiring import wire
from agentotel.agent._telemetry import AgentTelemetry
from agentotel.config import Settings

_log = logging.getLogger("agentotel")

_ARMING = threading.Lock()
"""Held while a hook wraps or uninstrument() unwraps, so an uninstrument() racing an import in
another thread leaves nothing wrapped."""


@dataclass(frozen=True)
class Patch:
    """One method to wrap: ``module``, ``"Class.method"``, and a factory of its wrapper."""

    module: str
    name: str
    factory: Callable[[Any], Callable[..., Any]]
    """Gets the instrumentor's :class:`Telemetry` (an ``AgentTelemetry`` for agent-layer ones)."""
    trigger: str = ""
    """The package whose import applies this patch; by default the top-level package of ``module``,
    so the SDK is wholly imported before we touch it. Name a regular package below it when the top
    level is a namespace package (no post-import hook sees those)."""

    @property
    def trigger_package(self) -> str:
        """The package whose post-import hook applies this patch."""
        return self.trigger or self.module.partition(".")[0]

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


def _wrap(target: tuple[Any, str], wrapper: Callable[..., Any]) -> bool:
    wrap_function_wrapper(*target, wrapper)
    return True


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
        # A new arming for this instrument(): hooks of an earlier one, not fired yet, stay disarmed.
        self._armed = object()
        # ``instrument()`` checks the versions itself, but ``opentelemetry-instrument`` skips that
        # check for packages (like ours) that declare no per-library extras: check here too, and
        # leave a library outside its supported range alone, with one message.
        conflict = get_dependency_conflicts(self.requirements)
        if conflict is not None:
            log = _log.warning if getattr(conflict, "found", None) else _log.debug
            log("agentotel %s: not instrumented: %s", self.component, conflict)
            return
        telemetry: Any = self._agent_telemetry(**kwargs) if self.agent_layer else self._telemetry(**kwargs)
        by_package: dict[str, list[Patch]] = {}
        for patch in self.patches:
            by_package.setdefault(patch.trigger_package, []).append(patch)
        for package, patches in by_package.items():
            # Fires now if the app has imported the package already, else when it does.
            register_post_import_hook(partial(self._apply, self._armed, telemetry, tuple(patches)), package)
        if not self.agent_layer:
            self._after_instrument(telemetry)
        # Under opentelemetry-instrument this is our first chance to see the SDK provider the
        # configurator set (ours or another distro's): attach what the environment asks for.
        wire(kwargs.get("tracer_provider"), kwargs.get("meter_provider"), kwargs.get("logger_provider"))

    def _apply(self, armed: object, telemetry: Any, patches: tuple[Patch, ...], _package: ModuleType) -> None:
        """Post-import hook: wrap ``patches``, unless uninstrument() came since ``armed``.

        It runs inside the app's own ``import``: an error of ours is reported, never raised.
        """
        if armed is not self._armed:
            return
        # Imports (the SDK's submodules, our wrappers) happen outside the lock, which guards the
        # wrapping only.
        wrappers: list[tuple[tuple[Any, str], Callable[..., Any]]] = []
        for patch in patches:
            target = telemetry.boundary.call(None, patch.owner)
            if target is None:
                _log.debug("agentotel %s: %s.%s not found, skipped", self.component, patch.module, patch.name)
                continue
            wrapper = telemetry.boundary.call(None, patch.factory, telemetry)
            if wrapper is not None:
                wrappers.append((target, wrapper))
        with _ARMING:
            if armed is not self._armed:
                return
            for target, wrapper in wrappers:
                if telemetry.boundary.call(False, _wrap, target, wrapper):
                    self._wrapped.append(target)

    def _agent_telemetry(self, **kwargs: Any) -> AgentTelemetry:
        return AgentTelemetry(
            self.component,
            Settings.from_env(),
            tracer_provider=kwargs.get("tracer_provider"),
            meter_provider=kwargs.get("meter_provider"),
        )

    def _uninstrument(self, **kwargs: Any) -> None:
        with _ARMING:
            self._armed = None
            for owner, attr in getattr(self, "_wrapped", ()):
                unwrap(owner, attr)
            self._wrapped = []
        self._after_uninstrument()

    def _after_instrument(self, telemetry: Telemetry) -> None:
        """Hook for provider-specific set-up beyond method wrapping."""

    def _after_uninstrument(self) -> None:
        """Hook undoing :meth:`_after_instrument`."""
