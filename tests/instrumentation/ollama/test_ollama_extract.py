"""The Ollama package's pure functions and accumulators, on the SDK's own types, without OTel."""

from __future__ import annotations

from typing import Any

from ollama import ChatResponse, EmbedResponse, GenerateResponse, Message

from agentotel.instrumentation.ollama import content, extract
from agentotel.instrumentation.ollama.stream import ChatAccumulator, GenerateAccumulator

# ``Message.thinking``: ollama>=0.5.0 (older SDKs drop the field, and no reasoning part comes).
THINKS = "thinking" in Message.model_fields

DONE = {
    "done": True,
    "done_reason": "stop",
    "total_duration": 1_500_000_000,
    "load_duration": 1_000_000_000,
    "prompt_eval_count": 12,
    "prompt_eval_duration": 250_000_000,
    "eval_count": 5,
    "eval_duration": 125_000_000,
}


def call(name: str, **arguments: Any) -> dict[str, Any]:
    return {"function": {"name": name, "arguments": arguments}}


def test_server_attributes_fill_the_default_ports() -> None:
    assert extract.server_attributes("http", "localhost", 11434) == (
        ("gen_ai.provider.name", "ollama"),
        ("server.address", "localhost"),
        ("server.port", 11434),
    )
    assert dict(extract.server_attributes("https", "ollama.com", None))["server.port"] == 443
    assert dict(extract.server_attributes("http", "box", None))["server.port"] == 80


def test_request_attributes_read_the_body_the_sdk_sends() -> None:
    kw = {
        "json": {
            "model": "qwen3:8b",
            "options": {"temperature": 0, "top_k": 20, "num_predict": 64, "stop": ["\n\n"], "seed": 3},
            "format": {"type": "object"},
        },
        "stream": True,
    }
    assert extract.chat_request_attributes(kw) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "qwen3:8b",
        "gen_ai.request.temperature": 0.0,
        "gen_ai.request.top_k": 20.0,
        "gen_ai.request.max_tokens": 64,
        "gen_ai.request.stop_sequences": ["\n\n"],
        "gen_ai.request.seed": 3,
        "gen_ai.output.type": "json",
        "gen_ai.request.stream": True,
    }
    assert extract.generate_request_attributes({"json": {"model": "m"}}) == {
        "gen_ai.operation.name": "text_completion",
        "gen_ai.request.model": "m",
    }


def test_odd_bodies_give_what_is_known() -> None:
    assert extract.chat_request_attributes({}) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "",
    }
    odd = {
        "json": {"model": 3, "options": {"temperature": "hot", "num_predict": -2, "stop": "x", "seed": True}}
    }
    assert extract.chat_request_attributes(odd) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "",
    }


def test_response_durations_in_seconds_and_usage() -> None:
    response = ChatResponse(model="qwen3:8b", message=Message(role="assistant", content="hi"), **DONE)

    assert extract.response_attributes(response) == (
        {
            "gen_ai.response.model": "qwen3:8b",
            "gen_ai.response.finish_reasons": ["stop"],
            "ollama.total_duration": 1.5,
            "ollama.load_duration": 1.0,
            "ollama.prompt_eval_duration": 0.25,
            "ollama.eval_duration": 0.125,
            "gen_ai.usage.input_tokens": 12,
            "gen_ai.usage.output_tokens": 5,
        },
        12,
        5,
        "qwen3:8b",
    )


def test_a_cached_prompt_has_no_input_count() -> None:
    """Ollama leaves ``prompt_eval_count`` out when the whole prompt came from its cache."""
    done = {k: v for k, v in DONE.items() if k != "prompt_eval_count"}
    attrs, i, o, _ = extract.response_attributes(GenerateResponse(model="m", response="x", **done))
    assert (i, o) == (None, 5)
    assert "gen_ai.usage.input_tokens" not in attrs


def test_embed_response() -> None:
    response = EmbedResponse(
        model="e", embeddings=[[0.1]], total_duration=2_000_000, load_duration=1_000_000, prompt_eval_count=4
    )
    assert extract.embed_response_attributes(response) == (
        {
            "gen_ai.response.model": "e",
            "ollama.total_duration": 0.002,
            "ollama.load_duration": 0.001,
            "gen_ai.usage.input_tokens": 4,
        },
        4,
        None,
        "e",
    )


def test_call_ids_tell_equal_calls_apart() -> None:
    ids = extract.call_ids([("f", {"a": 1}), ("f", {"a": 1}), ("f", {"a": 2}), ("g", {})])
    assert [i.rsplit(":", 1)[1] for i in ids] == ["0", "1", "0", "0"]
    assert ids[0].rsplit(":", 1)[0] == ids[1].rsplit(":", 1)[0] != ids[2].rsplit(":", 1)[0]
    assert ids == extract.call_ids([("f", {"a": 1}), ("f", {"a": 1}), ("f", {"a": 2}), ("g", {})])


def test_tool_results_join_by_name_then_order() -> None:
    calls = [call("f", a=1), call("g"), call("f", a=2)]
    ids = extract.call_ids(extract.calls_of(calls))
    messages = [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": "", "tool_calls": calls},
        {"role": "tool", "content": "g done", "tool_name": "g"},
        {"role": "tool", "content": "f one", "tool_name": "f"},
        {"role": "tool", "content": "no name"},
    ]
    assert content.tool_results({"json": {"messages": messages}}) == [
        (ids[1], False),
        (ids[0], False),
        (ids[2], False),
    ]
    # Only the results after the last assistant turn count.
    later = [*messages, {"role": "assistant", "content": "done"}, {"role": "user", "content": "thanks"}]
    assert content.tool_results({"json": {"messages": later}}) == []


def test_input_messages_convert_each_shape() -> None:
    messages = [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "look", "images": ["aGk="]},
        {"role": "assistant", "content": "", "thinking": "hmm", "tool_calls": [call("f", a=1)]},
        {"role": "tool", "content": "42", "tool_name": "f"},
    ]
    [call_id] = extract.call_ids([("f", {"a": 1})])
    assert content.input_messages({"messages": messages}) == [
        {"role": "system", "parts": [{"type": "text", "content": "sys"}]},
        {
            "role": "user",
            "parts": [{"type": "text", "content": "look"}, {"type": "blob", "modality": "image"}],
        },
        {
            "role": "assistant",
            "parts": [
                {"type": "reasoning", "content": "hmm"},
                {"type": "tool_call", "id": call_id, "name": "f", "arguments": {"a": 1}},
            ],
        },
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": call_id, "response": "42"}]},
    ]


def chunks(cls: type, pieces: list[dict[str, Any]]) -> list[Any]:
    return [cls(model="m", **p) for p in pieces]


def test_chat_accumulator() -> None:
    acc = ChatAccumulator(capture=True)
    for chunk in chunks(
        ChatResponse,
        [
            {"message": Message(role="assistant", content="", thinking="hm"), "done": False},
            {"message": Message(role="assistant", content="Hel"), "done": False},
            {"message": Message(role="assistant", content="lo"), "done": False},
            {"message": Message(role="assistant", content="", tool_calls=[call("f", a=1)]), "done": False},
            {"message": Message(role="assistant", content=""), **DONE},
        ],
    ):
        acc.process(chunk)
    [call_id] = extract.call_ids([("f", {"a": 1})])
    attrs, i, o, model = acc.outcome()
    assert (i, o, model) == (12, 5, "m")
    assert attrs["agentotel.response.tool_calls.ids"] == [call_id]
    assert attrs["gen_ai.response.finish_reasons"] == ["stop"]
    assert acc.output_messages() == [
        {
            "role": "assistant",
            "parts": [
                *([{"type": "reasoning", "content": "hm"}] if THINKS else []),
                {"type": "text", "content": "Hello"},
                {"type": "tool_call", "id": call_id, "name": "f", "arguments": {"a": 1}},
            ],
            "finish_reason": "stop",
        }
    ]


def test_a_stream_cut_before_its_done_line() -> None:
    acc = GenerateAccumulator(capture=False)
    for chunk in chunks(
        GenerateResponse, [{"response": "a", "done": False}, {"response": "b", "done": False}]
    ):
        acc.process(chunk)
    assert acc.outcome() == ({"gen_ai.response.model": "m"}, None, None, "m")
    assert acc.output_messages() == []
