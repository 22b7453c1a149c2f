"""The Google GenAI provider's pure functions and stream accumulator, on the SDK's own types (no
exporter, no server)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from google.genai import types

from agentotel.instrumentation.google_genai import content, extract
from agentotel.instrumentation.google_genai.stream import GenerateContentAccumulator


def call_part(name: str, args: dict[str, Any], call_id: str | None = None) -> types.Part:
    return types.Part(function_call=types.FunctionCall(id=call_id, name=name, args=args))


def answer_part(name: str, response: dict[str, Any], call_id: str | None = None) -> types.Part:
    return types.Part(function_response=types.FunctionResponse(id=call_id, name=name, response=response))


def test_call_ids_are_the_apis_or_name_digest_and_ordinal() -> None:
    ids = extract.call_ids(
        [("fc-1", "a", {"x": 1}), (None, "a", {"x": 1}), (None, "a", {"x": 1}), (None, "a", {"x": 2})]
    )
    assert ids[0] == "fc-1"
    assert ids[1].startswith("a:") and ids[1].endswith(":0")
    assert ids[2] == ids[1][:-1] + "1"  # the same call twice in one turn: told apart by the ordinal
    assert ids[3].endswith(":0") and ids[3] != ids[1]
    # The digest does not depend on the order of the keys (the history may re-serialize them).
    assert extract.call_ids([(None, "b", {"x": 1, "y": 2})]) == extract.call_ids(
        [(None, "b", {"y": 2, "x": 1})]
    )


def test_tool_results_join_by_id_then_by_name_in_order() -> None:
    model = types.Content(
        role="model",
        parts=[call_part("f", {"n": 1}), call_part("f", {"n": 2}), call_part("g", {}, "fc-9")],
    )
    ids = extract.call_ids(extract.function_calls(model.parts))
    answers = types.Content(
        role="user",
        parts=[
            answer_part("g", {"output": 1}, "fc-9"),
            answer_part("f", {"output": 1}),
            answer_part("f", {"error": "boom"}),
            answer_part("h", {"output": 0}),  # no call of that name: not joined
        ],
    )
    older = types.Content(role="model", parts=[call_part("old", {})])
    contents = [types.Content(role="user", parts=[types.Part(text="q")]), older, model, answers]

    assert content.tool_results({"contents": contents}) == [("fc-9", False), (ids[0], False), (ids[1], True)]


def test_tool_results_read_dicts_and_need_a_list() -> None:
    model = {"role": "model", "parts": [{"function_call": {"name": "f", "args": {}}}]}
    answer = {"role": "user", "parts": [{"functionResponse": {"name": "f", "response": {"output": 1}}}]}
    [call_id] = extract.call_ids([(None, "f", {})])
    assert content.tool_results({"contents": [model, answer]}) == [(call_id, False)]
    assert content.tool_results({"contents": iter([model, answer])}) == []
    assert content.tool_results({"contents": "hi"}) == []
    assert content.tool_results({"contents": [answer]}) == []  # no model turn to join with


def test_usage_counts() -> None:
    usage = types.GenerateContentResponseUsageMetadata(
        prompt_token_count=10,
        cached_content_token_count=4,
        candidates_token_count=5,
        thoughts_token_count=3,
        tool_use_prompt_token_count=2,
    )
    response = types.GenerateContentResponse(
        usage_metadata=usage,
        response_id="r1",
        model_version="gemini-x-001",
        candidates=[
            types.Candidate(finish_reason=types.FinishReason.MAX_TOKENS),
            types.Candidate(finish_reason=types.FinishReason.SAFETY),
        ],
    )
    attrs, i, o, model = extract.response_attributes(response)
    assert (i, o, model) == (12, 8, "gemini-x-001")
    assert attrs == {
        "gen_ai.response.id": "r1",
        "gen_ai.response.model": "gemini-x-001",
        "gen_ai.response.finish_reasons": ["max_tokens", "safety"],
        "gen_ai.usage.input_tokens": 12,
        "gen_ai.usage.cache_read.input_tokens": 4,
        "gen_ai.usage.output_tokens": 8,
        "gen_ai.usage.reasoning.output_tokens": 3,
    }


def test_no_usage_no_token_attributes() -> None:
    attrs, i, o, model = extract.response_attributes(types.GenerateContentResponse())
    assert (attrs, i, o, model) == ({}, None, None, None)


def test_server_attributes() -> None:
    gemini = SimpleNamespace(
        vertexai=None, _http_options=SimpleNamespace(base_url="https://generativelanguage.googleapis.com/")
    )
    vertex = SimpleNamespace(vertexai=True, _http_options=SimpleNamespace(base_url="http://10.0.0.1:8080/"))
    assert extract.server_attributes(gemini) == (
        ("gen_ai.provider.name", "gcp.gemini"),
        ("server.address", "generativelanguage.googleapis.com"),
        ("server.port", 443),
    )
    assert extract.server_attributes(vertex) == (
        ("gen_ai.provider.name", "gcp.vertex_ai"),
        ("server.address", "10.0.0.1"),
        ("server.port", 8080),
    )


def test_request_attributes_from_a_camel_case_dict() -> None:
    attrs = extract.request_attributes({"model": "m", "config": {"maxOutputTokens": 5, "candidateCount": 2}})
    assert attrs == {
        "gen_ai.operation.name": "generate_content",
        "gen_ai.request.model": "m",
        "gen_ai.request.max_tokens": 5,
        "gen_ai.request.choice.count": 2,
    }


def chunk(
    parts: list[types.Part] | None, *, reason: Any = None, usage: Any = None
) -> types.GenerateContentResponse:
    candidate = types.Candidate(content=types.Content(role="model", parts=parts), finish_reason=reason)
    return types.GenerateContentResponse(
        candidates=[candidate], usage_metadata=usage, response_id="r", model_version="v"
    )


def test_accumulator_replaces_usage_and_merges_text() -> None:
    acc = GenerateContentAccumulator(capture=True)
    acc.process(
        chunk(
            [types.Part(text="Hel")], usage=types.GenerateContentResponseUsageMetadata(prompt_token_count=3)
        )
    )
    acc.process(
        chunk([types.Part(text="lo")], usage=types.GenerateContentResponseUsageMetadata(prompt_token_count=3))
    )
    acc.process(chunk([call_part("f", {"a": 1})]))
    last_usage = types.GenerateContentResponseUsageMetadata(prompt_token_count=3, candidates_token_count=4)
    acc.process(chunk(None, reason=types.FinishReason.STOP, usage=last_usage))

    attrs, i, o, model = acc.outcome()
    [call_id] = extract.call_ids([(None, "f", {"a": 1})])
    assert (i, o, model) == (3, 4, "v")
    assert attrs == {
        "gen_ai.response.id": "r",
        "gen_ai.response.model": "v",
        "gen_ai.response.finish_reasons": ["stop"],
        "agentotel.response.tool_calls.names": ["f"],
        "agentotel.response.tool_calls.ids": [call_id],
        "gen_ai.usage.input_tokens": 3,
        "gen_ai.usage.output_tokens": 4,
    }
    assert acc.output_messages() == [
        {
            "role": "assistant",
            "parts": [
                {"type": "text", "content": "Hello"},
                {"type": "tool_call", "id": call_id, "name": "f", "arguments": {"a": 1}},
            ],
            "finish_reason": "stop",
        }
    ]


def test_accumulator_keeps_no_text_without_capture() -> None:
    acc = GenerateContentAccumulator(capture=False)
    acc.process(chunk([types.Part(text="secret")]))
    assert acc.output_messages() == []
    assert "secret" not in repr(acc.outcome())
