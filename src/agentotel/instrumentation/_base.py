"""What every agentotel instrumentor shares: settings, telemetry, and paired wrap/unwrap.

A subclass lists its patch points as :class:`Patch` entries. Every instrumentor records through the
one telemetry holder of its providers (:func:`agentotel._telemetry.telemetry_for`, or the one
``agentotel.instrument()`` passes as ``telemetry=``), so LLM instrumentors, framework
instrumentors and the agent API share settings, pending tool calls and the cardinality guard.
``_instrument`` imports no SDK: it registers a post-import hook per SDK package, which wraps each
patch point meant for the installed SDK version (:attr:`Patch.versions`; a missing method is
skipped, never an error) when the app imports that package, or at once if it already has.
``_uninstrument`` unwraps exactly what was wrapped and disarms the hooks
that have not fired yet (wrapt cannot remove a hook: a disarmed one does nothing).
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from functools import partial
from importlib.metadata import PackageNotFoundError, version
from types import ModuleType
from typing import Any, ClassVar

from opentelemetry.instrumentation.dependencies import get_dependency_conflicts
from opentelemetry.instrumentation.instrumentor import BaseInstrumentor  # type: ignore[attr-defined]
from opentelemetry.instrumentation.utils import unwrap
from packaging.specifiers import SpecifierSet
from wrapt import register_post_import_hook, wrap_function_wrapper

from agentotel._safe import Boundary
from agentotel._telemetry import Telemetry, telemetry_for
from agentotel._wiring import wire

_log = logging.getLogger("agentotel")

_ARMING = threading.Lock()
"""Held while a hook wraps or uninstrument() unwraps, so an uninstrument() racing an import in
another thread leaves nothing wrapped."""


@dataclass(frozen=True)
class Patch:
    """One method to wrap: ``module``, ``"Class.method"``, and a factory of its wrapper."""

    module: str
    name: str
    factory: Callable[[Telemetry, Boundary], Callable[..., Any]]
    """Gets the instrumentor's :class:`~agentotel._telemetry.Telemetry` and its component's
    :class:`~agentotel._safe.Boundary`."""
    trigger: str = ""
    """The package whose import applies this patch; by default the top-level package of ``module``,
    so the SDK is wholly imported before we touch it. Name a regular package below it when the top
    level is a namespace package (no post-import hook sees those)."""
    versions: str = ""
    """The versions of the SDK where this method is wrapped, as a PEP 440 specifier (``">=1.66"``);
    empty for every supported version. Outside them it is never wrapped, even where it exists (a
    method that calls another patched one in those versions would make a second span); within them
    a missing method is a defect (the tests check every expected patch against the installed SDK)."""
    distribution: str = ""
    """The SDK's distribution name for :attr:`versions`; by default the top-level package of ``module``."""

    @property
    def trigger_package(self) -> str:
        """The package whose post-import hook applies this patch."""
        return self.trigger or self.module.partition(".")[0]

    def expected(self) -> bool:
        """Whether the installed SDK's version is one that has this method (see :attr:`versions`)."""
        if not self.versions:
            return True
        try:
            installed = version(self.distribution or self.module.partition(".")[0])
        except PackageNotFoundError:
            return False
        return SpecifierSet(self.versions).contains(installed, prereleases=True)

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


def _unwrap(owner: Any, attr: str) -> None:
    """``unwrap``, putting back a static or class method as it was: ``unwrap`` reads the attribute
    through the class, which binds it, and would put back the bare function."""
    raw = vars(owner).get(attr) if isinstance(owner, type) else None
    original = getattr(raw, "__wrapped__", None)
    if isinstance(original, (staticmethod, classmethod)):
        setattr(owner, attr, original)
    else:
        unwrap(owner, attr)


class AgentotelInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    """Base of our instrumentors; subclasses set ``component``, ``requirements`` and ``patches``."""

    component: ClassVar[str]
    requirements: ClassVar[Collection[str]]
    patches: ClassVar[Sequence[Patch]]
    arms_on_import: ClassVar[str | None] = None
    """For a framework that offers a hook of its own (a trace processor, a span handler) instead
    of methods to wrap: the module whose import (now, if it is imported already) calls
    :meth:`_arm`; :meth:`_after_uninstrument` undoes it."""

    def instrumentation_dependencies(self) -> Collection[str]:
        return self.requirements

    @staticmethod
    def _telemetry(**kwargs: Any) -> Telemetry:
        """The holder given as ``telemetry=``, else the one of the given (or global) providers."""
        given: Telemetry | None = kwargs.get("telemetry")
        if given is not None:
            return given
        return telemetry_for(
            kwargs.get("tracer_provider"), kwargs.get("meter_provider"), kwargs.get("logger_provider")
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
        telemetry = self._telemetry(**kwargs)
        boundary = telemetry.boundary(self.component)
        by_package: dict[str, list[Patch]] = {}
        for patch in self.patches:
            by_package.setdefault(patch.trigger_package, []).append(patch)
        for package, patches in by_package.items():
            # Fires now if the app has imported the package already, else when it does.
            register_post_import_hook(
                partial(self._apply, self._armed, telemetry, boundary, tuple(patches)), package
            )
        if self.arms_on_import is not None:
            # Fires now if the app has imported the module already, else when it does.
            register_post_import_hook(partial(self._arm_hook, self._armed, telemetry), self.arms_on_import)
        # Under opentelemetry-instrument this is our first chance to see the SDK provider the
        # configurator set (ours or another distro's): attach what the environment asks for.
        wire(kwargs.get("tracer_provider"), kwargs.get("meter_provider"), kwargs.get("logger_provider"))

    def _apply(
        self,
        armed: object,
        telemetry: Telemetry,
        boundary: Boundary,
        patches: tuple[Patch, ...],
        _package: ModuleType,
    ) -> None:
        """Post-import hook: wrap ``patches``, unless uninstrument() came since ``armed``.

        It runs inside the app's own ``import``: an error of ours is reported, never raised.
        """
        if armed is not self._armed:
            return
        # Imports (the SDK's submodules, our wrappers) happen outside the lock, which guards the
        # wrapping only.
        wrappers: list[tuple[tuple[Any, str], Callable[..., Any]]] = []
        for patch in patches:
            if not boundary.call(False, patch.expected):
                continue  # not this SDK version's method (or one that must not be wrapped in it)
            target = boundary.call(None, patch.owner)
            if target is None:
                # Absent by design outside ``patch.versions``; inside them the tests make it impossible.
                _log.debug("agentotel %s: %s.%s not found, skipped", self.component, patch.module, patch.name)
                continue
            wrapper = boundary.call(None, patch.factory, telemetry, boundary)
            if wrapper is not None:
                wrappers.append((target, wrapper))
        with _ARMING:
            if armed is not self._armed:
                return
            for target, wrapper in wrappers:
                if boundary.call(False, _wrap, target, wrapper):
                    self._wrapped.append(target)

    def _uninstrument(self, **kwargs: Any) -> None:
        with _ARMING:
            self._armed = None
            for owner, attr in getattr(self, "_wrapped", ()):
                _unwrap(owner, attr)
            self._wrapped = []
        self._after_uninstrument()

    def _arm_hook(self, armed: object, telemetry: Telemetry, _module: ModuleType) -> None:
        """Post-import hook of ``arms_on_import``: :meth:`_arm`, unless uninstrument() came since
        ``armed``; an error of ours is reported, never raised into the app's import."""
        if armed is not self._armed:
            return
        boundary = telemetry.boundary(self.component)
        boundary.call(None, self._arm, telemetry, boundary)

    def _arm(self, telemetry: Telemetry, boundary: Boundary) -> None:
        """Register with the framework (``arms_on_import``)."""

    def _after_uninstrument(self) -> None:
        """Hook undoing :meth:`_after_instrument`."""
