"""``agentotel runs replay --rerun``: re-execute a run's recorded tool calls through a registry.

The registry is ``module:function``: the function returns a dict of tool name -> callable; the
module is imported with the current folder first on ``sys.path``, as ``python -m`` would. A tool
call is re-executed only when its arguments are on its span (``gen_ai.tool.call.arguments``, which
content capture records); the others are listed as skipped, with the reason: content capture was
off (no span of the run has content), the call was given no arguments (capture was on), the span
was inferred from the model's tool call, the arguments were cut, or the tool is not in the
registry. Arguments recorded as a JSON object are passed as keyword arguments, anything else as
one positional argument; a coroutine result is awaited. The new result is compared with the
recorded one when there is one.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from rich.console import Console

from agentotel import semconv
from agentotel._content import TRUNCATED, dumps
from agentotel._safe import error_type
from agentotel.cli._text import say
from agentotel.processors.runstore import RunStoreError

_CAPTURE_OFF = "arguments not recorded (no span of this run has content: content capture on spans was off)"
_NO_ARGUMENTS = "no arguments were given to the tool span (content capture was on)"
_INFERRED = "inferred from the model's tool call, the tool ran without a tool span recording its arguments"
_CUT = "arguments were cut at the content length limit"
_UNKNOWN = "not in the registry"
_LIMIT = 1 << 30
_SHOWN = 80


def load_registry(spec: str) -> Mapping[str, Callable[..., Any]]:
    """Import ``module:function`` and call it; RunStoreError (one line) when that fails."""
    module_name, _, function_name = spec.partition(":")
    if not module_name or not function_name:
        raise RunStoreError(f"--registry {spec!r} is not module:function")
    try:
        factory = getattr(_import_from_here(module_name), function_name)
        registry = factory()
    except Exception as exc:
        raise RunStoreError(f"cannot load registry {spec!r}: {error_type(exc)}: {exc}") from None
    if not isinstance(registry, Mapping) or not all(callable(fn) for fn in registry.values()):
        raise RunStoreError(f"registry {spec!r} did not return a dict of name -> callable")
    return registry


def _import_from_here(module_name: str) -> Any:
    """``import module_name`` with the current folder first on ``sys.path`` for that import only."""
    here = os.getcwd()
    sys.path.insert(0, here)
    try:
        importlib.invalidate_caches()
        return importlib.import_module(module_name)
    finally:
        if sys.path and sys.path[0] == here:
            del sys.path[0]
        elif here in sys.path:
            sys.path.remove(here)


def confirm(console: Console, count: int) -> bool:
    """Ask on the terminal; only ``y`` / ``yes`` says yes."""
    say(console, f"Re-execute {count} tool call(s) with the registry's functions? [y/N] ", end="")
    answer = sys.stdin.readline()
    if not sys.stdin.isatty():
        console.print()  # nobody typed the line end
    return answer.strip().lower() in ("y", "yes")


def _short(text: str) -> str:
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."


class Rerun:
    """The tool calls of one run that can be re-executed, and what happened when they were."""

    def __init__(
        self, registry: Mapping[str, Callable[..., Any]], events: Sequence[Mapping[str, Any]]
    ) -> None:
        self.registry = registry
        self.calls: dict[str, Any] = {}  # span id -> parsed arguments
        self.skipped: list[tuple[str, str]] = []
        self.same = self.different = self.unchecked = self.failed = 0
        captured = any(_has_content(event.get("attributes") or {}) for event in events)
        for event in events:
            attrs = event.get("attributes") or {}
            if attrs.get(semconv.GEN_AI_OPERATION_NAME) != semconv.OP_EXECUTE_TOOL:
                continue
            reason = self._reason(attrs, captured)
            if reason is None:
                self.calls[str(event.get("span_id"))] = json.loads(attrs[semconv.GEN_AI_TOOL_CALL_ARGUMENTS])
            else:
                self.skipped.append((str(event.get("name")), reason))

    def _reason(self, attrs: Mapping[str, Any], captured: bool) -> str | None:
        raw = attrs.get(semconv.GEN_AI_TOOL_CALL_ARGUMENTS)
        if not isinstance(raw, str):
            if attrs.get(semconv.AGENTOTEL_TOOL_INFERRED) is True:
                return _INFERRED
            return _NO_ARGUMENTS if captured else _CAPTURE_OFF
        try:
            json.loads(raw)
        except ValueError:
            return _CUT
        return None if attrs.get(semconv.GEN_AI_TOOL_NAME) in self.registry else _UNKNOWN

    def print_plan(self, console: Console) -> None:
        say(console, f"tool calls to re-execute: {len(self.calls)}; skipped: {len(self.skipped)}")
        for name, reason in self.skipped:
            say(console, f"  skipped {name}: {reason}")

    def on_end(self, console: Console, event: Mapping[str, Any], indent: str) -> None:
        """Re-execute the tool call of ``event`` if it is one of :attr:`calls`."""
        span_id = str(event.get("span_id"))
        if span_id not in self.calls:
            return
        attrs = event.get("attributes") or {}
        name = str(attrs.get(semconv.GEN_AI_TOOL_NAME))
        arguments = self.calls[span_id]
        call = f"{name}({json.dumps(arguments, ensure_ascii=False)})"
        try:
            result = _call(self.registry[name], arguments)
        except Exception as exc:
            self.failed += 1
            say(console, f"{indent}rerun {call} failed: {error_type(exc)}: {exc}")
            return
        new = dumps(result, _LIMIT)
        recorded = attrs.get(semconv.GEN_AI_TOOL_CALL_RESULT)
        if not isinstance(recorded, str):
            verdict = "no recorded result to compare"
            self.unchecked += 1
        elif new == recorded or (
            recorded.endswith(TRUNCATED) and new.startswith(recorded[: -len(TRUNCATED)])
        ):
            verdict = "same as recorded"
            self.same += 1
        else:
            verdict = f"recorded {_short(recorded)}"
            self.different += 1
        say(console, f"{indent}rerun {call} -> {_short(new)}  ({verdict})")

    def print_totals(self, console: Console) -> int:
        """Print the counts; 1 if a re-executed call raised."""
        ran = self.same + self.different + self.unchecked + self.failed
        say(
            console,
            f"re-executed {ran} tool call(s): {self.same} same, {self.different} different, "
            f"{self.unchecked} not compared, {self.failed} failed; {len(self.skipped)} skipped",
        )
        return 1 if self.failed else 0


_CONTENT = (
    semconv.GEN_AI_INPUT_MESSAGES,
    semconv.GEN_AI_OUTPUT_MESSAGES,
    semconv.GEN_AI_SYSTEM_INSTRUCTIONS,
    semconv.GEN_AI_TOOL_CALL_ARGUMENTS,
    semconv.GEN_AI_TOOL_CALL_RESULT,
)


def _has_content(attrs: Mapping[str, Any]) -> bool:
    """True when the span carries content, which only content capture on spans records."""
    return any(key in attrs for key in _CONTENT)


def _call(fn: Callable[..., Any], arguments: Any) -> Any:
    result = fn(**arguments) if isinstance(arguments, dict) else fn(arguments)
    if inspect.isawaitable(result):
        return asyncio.run(_wait(result))
    return result


async def _wait(awaitable: Any) -> Any:
    return await awaitable
