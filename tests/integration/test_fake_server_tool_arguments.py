"""The fake server's tool-call arguments satisfy each tool's JSON schema (real SDKs over HTTP)."""

from __future__ import annotations

import json
from typing import Any

import anthropic
import jsonschema
import openai
import pytest
from helpers import CLAUDE, GPT, QUESTION, user

from agentotel.testing._schema_args import arguments_for

LOOKUP_STOCK: dict[str, Any] = {
    "type": "object",
    "properties": {
        "sku": {"type": "string", "minLength": 3, "description": "stock keeping unit"},
        "warehouse": {"type": "string", "enum": ["north", "south", "east"]},
        "qty": {"type": "integer", "minimum": 1, "maximum": 100},
        "opts": {
            "type": "object",
            "properties": {
                "express": {"type": "boolean"},
                "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                "max_price": {"type": "number", "exclusiveMinimum": 0},
                "note": {"type": "string"},
            },
            "required": ["express", "tags", "max_price"],
            "additionalProperties": False,
        },
        "comment": {"type": "string"},
    },
    "required": ["sku", "warehouse", "qty", "opts"],
    "additionalProperties": False,
}
# Required properties only, in schema order; enums take their first value.
EXPECTED = {
    "sku": "sku",
    "warehouse": "north",
    "qty": 1,
    "opts": {"express": True, "tags": ["tags"], "max_price": 1},
}
DESCRIPTION = "Units of a product in stock"


def lookup_stock(sku: str, warehouse: str, qty: int, opts: dict[str, Any]) -> str:
    """The user's tool that crashed on ``{"city": "Paris"}``."""
    return f"{qty} x {sku} from {warehouse} ({'express' if opts['express'] else 'standard'})"


CHAT_TOOLS: Any = [
    {
        "type": "function",
        "function": {"name": "lookup_stock", "description": DESCRIPTION, "parameters": LOOKUP_STOCK},
    }
]
RESP_TOOLS: Any = [{"type": "function", "name": "lookup_stock", "parameters": LOOKUP_STOCK}]
CLAUDE_TOOLS: Any = [{"name": "lookup_stock", "description": DESCRIPTION, "input_schema": LOOKUP_STOCK}]


def _valid(arguments: dict[str, Any]) -> dict[str, Any]:
    jsonschema.validate(arguments, LOOKUP_STOCK)
    assert arguments == EXPECTED
    assert lookup_stock(**arguments) == "1 x sku from north (express)"
    return arguments


def test_openai_chat_arguments_satisfy_the_schema(own_openai: openai.OpenAI) -> None:
    r = own_openai.chat.completions.create(model=GPT, messages=user(QUESTION), tools=CHAT_TOOLS)
    [call] = r.choices[0].message.tool_calls or []
    assert call.function.name == "lookup_stock"
    _valid(json.loads(call.function.arguments))


def test_openai_chat_stream_arguments_satisfy_the_schema(own_openai: openai.OpenAI) -> None:
    with own_openai.chat.completions.stream(model=GPT, messages=user(QUESTION), tools=CHAT_TOOLS) as stream:
        final = stream.get_final_completion()
    [call] = final.choices[0].message.tool_calls or []
    _valid(json.loads(call.function.arguments))


def test_openai_responses_arguments_satisfy_the_schema(own_openai: openai.OpenAI) -> None:
    r = own_openai.responses.create(model=GPT, input=QUESTION, tools=RESP_TOOLS)
    [item] = r.output
    assert item.type == "function_call" and item.name == "lookup_stock"
    _valid(json.loads(item.arguments))
    with own_openai.responses.stream(model=GPT, input=QUESTION, tools=RESP_TOOLS) as stream:
        final = stream.get_final_response()
    assert final.output[0].type == "function_call"
    _valid(json.loads(final.output[0].arguments))


def test_anthropic_arguments_satisfy_the_schema(own_anthropic: anthropic.Anthropic) -> None:
    r = own_anthropic.messages.create(
        model=CLAUDE, max_tokens=100, messages=user(QUESTION), tools=CLAUDE_TOOLS
    )
    [block] = r.content
    assert block.type == "tool_use" and block.name == "lookup_stock"
    _valid(dict(block.input))  # type: ignore[arg-type]
    with own_anthropic.messages.stream(
        model=CLAUDE, max_tokens=100, messages=user(QUESTION), tools=CLAUDE_TOOLS
    ) as stream:
        final = stream.get_final_message()
    [block] = final.content
    assert block.type == "tool_use"
    _valid(dict(block.input))  # type: ignore[arg-type]


def test_output_tokens_count_the_arguments_words(own_openai: openai.OpenAI) -> None:
    r = own_openai.chat.completions.create(model=GPT, messages=user(QUESTION), tools=CHAT_TOOLS)
    [call] = r.choices[0].message.tool_calls or []
    assert r.usage is not None
    assert r.usage.completion_tokens == len(call.function.arguments.split()) == 13


# --- the generator alone: one schema feature per case, each result valid against its schema ---
def required(**properties: Any) -> dict[str, Any]:
    """An object schema whose properties are all required."""
    return {"type": "object", "properties": properties, "required": list(properties)}


STRING, INTEGER = {"type": "string"}, {"type": "integer"}
FORMATS = {"d": "date", "t": "date-time", "e": "email", "u": "uri", "i": "uuid"}
ROW = required(k={"type": "boolean"})
CASES: list[tuple[str, dict[str, Any], Any]] = [
    ("city is always Paris", {"type": "object", "properties": {"city": STRING}}, {"city": "Paris"}),
    ("no required, no city", {"type": "object", "properties": {"x": STRING}}, {}),
    ("empty object", {"type": "object"}, {}),
    ("const", required(v={"const": 3}), {"v": 3}),
    ("default", required(v={"type": "integer", "default": 7}), {"v": 7}),
    ("multipleOf", required(n={"type": "integer", "minimum": 5, "multipleOf": 4}), {"n": 8}),
    ("maximum below one", required(n={"type": "integer", "maximum": -2}), {"n": -2}),
    ("exclusiveMinimum", required(n={"type": "integer", "exclusiveMinimum": 9}), {"n": 10}),
    ("nullable type list", required(s={"type": ["null", "string"]}), {"s": "s"}),
    ("minLength", required(id={"type": "string", "minLength": 6}), {"id": "idxxxx"}),
    ("maxLength", required(name={"type": "string", "maxLength": 2}), {"name": "na"}),
    (
        "formats",
        required(**{k: {"type": "string", "format": f} for k, f in FORMATS.items()}),
        {
            "d": "2024-01-01",
            "t": "2024-01-01T00:00:00Z",
            "e": "user@example.com",
            "u": "https://example.com",
            "i": "00000000-0000-4000-8000-000000000000",
        },
    ),
    (
        "array of objects",
        required(rows={"type": "array", "minItems": 2, "items": ROW}),
        {"rows": [{"k": True}] * 2},
    ),
    ("array without items", required(a={"type": "array"}), {"a": ["a"]}),
    ("anyOf takes the first", required(v={"anyOf": [INTEGER, STRING]}), {"v": 1}),
    ("oneOf skips null", required(v={"oneOf": [{"type": "null"}, {"type": "boolean"}]}), {"v": True}),
    (
        "allOf merges",
        {"type": "object", "allOf": [required(a=INTEGER), required(b=STRING)]},
        {"a": 1, "b": "b"},
    ),
    (
        "local $ref",
        {**required(item={"$ref": "#/$defs/Item"}), "$defs": {"Item": required(sku=STRING)}},
        {"item": {"sku": "sku"}},
    ),
    ("untyped with properties", {"properties": {"q": {"type": "number"}}, "required": ["q"]}, {"q": 1}),
]


@pytest.mark.parametrize(("schema", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_generated_arguments(schema: dict[str, Any], expected: Any) -> None:
    arguments = arguments_for(schema)
    jsonschema.validate(arguments, schema)
    assert arguments == expected
    assert arguments_for(schema) == arguments  # deterministic


def test_a_recursive_schema_ends() -> None:
    node = {
        "type": "object",
        "properties": {"child": {"$ref": "#"}, "v": {"type": "integer"}},
        "required": ["v", "child"],
    }
    arguments = arguments_for(node)
    depth = 0
    while isinstance(arguments, dict) and "child" in arguments:
        arguments, depth = arguments["child"], depth + 1
    assert 1 <= depth <= 8


@pytest.mark.parametrize("schema", [None, "nope", [], {"type": "string"}])
def test_a_schema_that_is_not_an_object_gives_no_arguments(schema: Any) -> None:
    assert arguments_for(schema) == {}
