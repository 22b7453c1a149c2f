"""Tool-call arguments that satisfy a tool's JSON schema (pure, deterministic).

The fake server calls a tool with :func:`arguments_for` its schema (OpenAI
``function.parameters``, Responses ``parameters``, Anthropic ``input_schema``):

* every **required** property, in schema order, and nothing optional — except a string property
  named ``city``, always ``"Paris"`` (what the fake server has always sent to ``get_weather``);
* ``const``, else the first ``enum`` value, else ``default``, else a value of the declared type:
  a string is the property's name (padded/cut to ``minLength``/``maxLength``; ``date``,
  ``date-time``, ``email``, ``uri``, ``uuid`` formats get a fixed value of that format), a number
  the smallest allowed at or above 1 (``minimum``, ``exclusiveMinimum``, ``maximum``,
  ``multipleOf``), a boolean ``true``, an array ``max(minItems, 1)`` items, an object its own
  required properties;
* ``anyOf`` / ``oneOf``: the first non-null alternative; ``allOf``: the parts merged; a type list:
  its first non-null type; local ``$ref`` (``#``, ``#/$defs/…``, ``#/definitions/…``) resolved,
  recursion cut after a few levels. ``pattern`` is not honoured.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

__all__ = ["arguments_for"]

JSON = dict[str, Any]

_MAX_DEPTH = 6
_FORMATS = {
    "date": "2024-01-01",
    "date-time": "2024-01-01T00:00:00Z",
    "time": "00:00:00Z",
    "email": "user@example.com",
    "uri": "https://example.com",
    "url": "https://example.com",
    "uuid": "00000000-0000-4000-8000-000000000000",
}


def arguments_for(schema: object) -> JSON:
    """The arguments object for a tool whose parameters are ``schema`` (``{}`` if it is no object schema)."""
    if not isinstance(schema, Mapping):
        return {}
    value = _Generator(schema).value(schema, "arguments", 0)
    return value if isinstance(value, dict) else {}


class _Generator:
    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root = root

    def value(self, schema: object, name: str, depth: int) -> Any:
        if not isinstance(schema, Mapping):
            return name
        schema = self._resolve(schema, depth)
        if "const" in schema:
            return schema["const"]
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            return schema["enum"][0]
        if "default" in schema:
            return schema["default"]
        for key in ("anyOf", "oneOf"):
            options = schema.get(key)
            if isinstance(options, list) and options:
                return self.value(_first_not_null(options), name, depth + 1)
        kind = _type_of(schema)
        if kind == "object":
            return self._object(schema, depth)
        if kind == "array":
            return self._array(schema, name, depth)
        if kind in ("integer", "number"):
            return _number(schema, integer=kind == "integer")
        if kind == "boolean":
            return True
        if kind == "null":
            return None
        return _string(schema, name)

    def _resolve(self, schema: Mapping[str, Any], depth: int) -> Mapping[str, Any]:
        for _ in range(_MAX_DEPTH):
            ref = schema.get("$ref")
            if not isinstance(ref, str):
                break
            target = self._lookup(ref)
            if target is None:
                return {k: v for k, v in schema.items() if k != "$ref"}
            schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
        parts = schema.get("allOf")
        if isinstance(parts, list) and parts:
            merged: JSON = {k: v for k, v in schema.items() if k != "allOf"}
            for part in parts:
                if isinstance(part, Mapping):
                    _merge(merged, self._resolve(part, depth))
            return merged
        return schema

    def _lookup(self, ref: str) -> Mapping[str, Any] | None:
        if not ref.startswith("#"):
            return None
        node: Any = self.root
        for token in filter(None, ref[1:].split("/")):
            key = token.replace("~1", "/").replace("~0", "~")
            node = node.get(key) if isinstance(node, Mapping) else None
        return node if isinstance(node, Mapping) else None

    def _object(self, schema: Mapping[str, Any], depth: int) -> JSON:
        if depth >= _MAX_DEPTH:
            return {}
        props = schema.get("properties")
        props = props if isinstance(props, Mapping) else {}
        required = schema.get("required")
        wanted = {str(r) for r in required} if isinstance(required, list) else set()
        out: JSON = {}
        for key, sub in props.items():
            if key in wanted:
                out[key] = self.value(sub, key, depth + 1)
            elif key == "city" and isinstance(sub, Mapping) and _type_of(sub) in ("string", None):
                out[key] = "Paris"
        for key in sorted(wanted - set(props)):
            out[key] = key  # required but undeclared: any value is allowed
        return out

    def _array(self, schema: Mapping[str, Any], name: str, depth: int) -> list[Any]:
        low = schema.get("minItems")
        high = schema.get("maxItems")
        count = max(low if isinstance(low, int) else 0, 1)
        if isinstance(high, int):
            count = min(count, high)
        if depth >= _MAX_DEPTH:
            count = min(count, low if isinstance(low, int) else 0)
        items = schema.get("items", {})
        return [self.value(items, name, depth + 1) for _ in range(count)]


def _merge(into: JSON, part: Mapping[str, Any]) -> None:
    for key, value in part.items():
        if key == "properties" and isinstance(value, Mapping):
            into["properties"] = {**into.get("properties", {}), **value}
        elif key == "required" and isinstance(value, list):
            into["required"] = [*into.get("required", []), *value]
        else:
            into.setdefault(key, value)


def _first_not_null(options: list[Any]) -> Any:
    for option in options:
        if not (isinstance(option, Mapping) and option.get("type") == "null"):
            return option
    return options[0]


def _type_of(schema: Mapping[str, Any]) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), kind[0] if kind else None)
    if isinstance(kind, str):
        return kind
    if "properties" in schema or "required" in schema:
        return "object"
    if "items" in schema:
        return "array"
    return None


def _number(schema: Mapping[str, Any], integer: bool) -> int | float:
    low, high = _bound(schema, "minimum"), _bound(schema, "maximum")
    x_low, x_high = _bound(schema, "exclusiveMinimum"), _bound(schema, "exclusiveMaximum")
    step = _bound(schema, "multipleOf")
    value = low if low is not None else 1.0
    if x_low is not None:
        above = x_low + (1 if integer else 0.5)
        value = max(value, above) if low is not None else x_low + 1
    if step is not None and step > 0:
        value = math.ceil(value / step) * step
    if high is not None and value > high:
        value = high
    if x_high is not None and value >= x_high:
        value = x_high - 1
    if integer or float(value).is_integer():
        return int(value)
    return value


def _bound(schema: Mapping[str, Any], key: str) -> float | None:
    value = schema.get(key)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


def _string(schema: Mapping[str, Any], name: str) -> str:
    fmt = schema.get("format")
    if isinstance(fmt, str) and fmt in _FORMATS:
        return _FORMATS[fmt]
    text = "Paris" if name == "city" else name
    low, high = schema.get("minLength"), schema.get("maxLength")
    if isinstance(low, int) and len(text) < low:
        text += "x" * (low - len(text))
    if isinstance(high, int):
        text = text[:high]
    return text
