"""The Groq package's pure functions and accumulator, without an exporter: Groq's usage block
(queue time, cached and reasoning tokens, fields an older SDK keeps as plain dicts), ``x_groq``,
and what a stream's chunks add up to."""

from __future__ import annotations

from types import SimpleNamespace as NS
from typing import Any

import groq
from groq.types.chat import ChatCompletion, ChatCompletionChunk

from agentotel._usage import NOT_A_COUNT
from agentotel.instrumentation.groq import content, extract
from agentotel.instrumentation.groq.stream import ChatStreamAccumulator, LastChunksAccumulator


def chunk(**fields: Any) -> ChatCompletionChunk:
    base: dict[str, Any] = {
        "id": "chatcmpl-9",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "llama-3.1-8b-instant",
        "choices": [],
    }
    # ``construct``: the types of older SDKs require fields a real chunk may leave out.
    return ChatCompletionChunk.construct(**{**base, **fields})


def delta(text: str | None = None, finish: str | None = None, **more: Any) -> dict[str, Any]:
    return {"index": 0, "delta": {"content": text, **more}, "finish_reason": finish}


USAGE = {
    "queue_time": 0.25,
    "prompt_tokens": 10,
    "prompt_time": 0.001,
    "completion_tokens": 4,
    "completion_time": 0.002,
    "total_tokens": 14,
    "total_time": 0.003,
}


def test_server_attributes_are_always_groq() -> None:
    assert extract.server_attributes("https", "api.groq.com", None) == (
        ("gen_ai.provider.name", "groq"),
        ("server.address", "api.groq.com"),
        ("server.port", 443),
    )
    assert extract.server_attributes("http", "proxy.local", 8080)[0] == ("gen_ai.provider.name", "groq")


def test_request_attributes() -> None:
    kw = {"model": "m", "messages": [], "max_tokens": 5, "n": 2, "stop": ["a", "b"], "stream": True}
    assert extract.request_attributes(kw) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "m",
        "gen_ai.request.max_tokens": 5,
        "gen_ai.request.choice.count": 2,
        "gen_ai.request.stop_sequences": ["a", "b"],
        "gen_ai.request.stream": True,
    }
    assert extract.request_attributes({"model": groq.NOT_GIVEN, "temperature": groq.NOT_GIVEN}) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "",
    }
    assert (
        extract.request_attributes({"model": "m", "response_format": {"type": "text"}})["gen_ai.output.type"]
        == "text"
    )


def test_response_attributes_of_a_completion() -> None:
    completion = ChatCompletion.construct(
        **{
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 1,
            "model": "llama-3.1-8b-instant",
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}
            ],
            "usage": {
                **USAGE,
                "prompt_tokens_details": {"cached_tokens": 3},
                "completion_tokens_details": {"reasoning_tokens": 2},
            },
            "x_groq": {"id": "req_01abc", "usage": {"dram_cached_tokens": 1, "sram_cached_tokens": 2}},
        }
    )
    assert extract.response_attributes(completion) == (
        {
            "gen_ai.response.id": "chatcmpl-1",
            "gen_ai.response.model": "llama-3.1-8b-instant",
            "gen_ai.response.finish_reasons": ["stop"],
            "groq.request.id": "req_01abc",
            "gen_ai.usage.input_tokens": 10,
            "gen_ai.usage.output_tokens": 4,
            "gen_ai.usage.cache_read.input_tokens": 3,
            "gen_ai.usage.reasoning.output_tokens": 2,
            "groq.usage.queue_time": 0.25,
        },
        10,
        4,
        "llama-3.1-8b-instant",
    )


def test_usage_of_an_older_sdk_as_plain_dicts() -> None:
    """An SDK whose usage type lacks the details keeps them as extra fields: plain dicts."""
    a: dict[str, Any] = {}
    block = NS(prompt_tokens=1, completion_tokens=2, prompt_tokens_details={"cached_tokens": 1}, queue_time=0)
    assert extract.usage(a, block) == (1, 2)
    assert a == {
        "gen_ai.usage.input_tokens": 1,
        "gen_ai.usage.output_tokens": 2,
        "gen_ai.usage.cache_read.input_tokens": 1,
        "groq.usage.queue_time": 0.0,
    }


def test_queue_time_that_is_not_a_duration_is_left_out() -> None:
    for value in (-1.0, True, "0.1", None):
        a: dict[str, Any] = {}
        extract.usage(a, NS(prompt_tokens=1, completion_tokens=1, queue_time=value))
        assert "groq.usage.queue_time" not in a


def test_a_count_that_is_not_an_int_is_reported_invalid() -> None:
    a: dict[str, Any] = {}
    assert extract.usage(a, NS(prompt_tokens="10", completion_tokens=None)) == (NOT_A_COUNT, None)


def test_no_usage_no_x_groq() -> None:
    assert extract.usage({}, None) == (None, None)
    a: dict[str, Any] = {}
    extract.put_request_id(a, NS(id=None))
    assert a == {}


# The outcome of a finished stream of "Hi" with USAGE in its last chunk's ``x_groq``.
FINISHED = (
    {
        "gen_ai.response.id": "chatcmpl-9",
        "gen_ai.response.model": "llama-3.1-8b-instant",
        "gen_ai.response.finish_reasons": ["stop"],
        "groq.request.id": "req_7",
        "gen_ai.usage.input_tokens": 10,
        "gen_ai.usage.output_tokens": 4,
        "groq.usage.queue_time": 0.25,
    },
    10,
    4,
    "llama-3.1-8b-instant",
)


def test_stream_usage_from_x_groq_of_the_last_chunk() -> None:
    acc = ChatStreamAccumulator(capture=False)
    acc.process(chunk(choices=[delta("", role="assistant")], x_groq={"id": "req_7"}))
    acc.process(chunk(choices=[delta("Hi")]))
    acc.process(chunk(choices=[delta(None, "stop")], x_groq={"id": "req_7", "usage": USAGE}))

    assert acc.outcome() == FINISHED


def test_stream_usage_field_wins_over_x_groq() -> None:
    """With ``stream_options.include_usage`` the last chunk has both: one usage, counted once."""
    acc = ChatStreamAccumulator(capture=False)
    other = {**USAGE, "prompt_tokens": 99}
    acc.process(chunk(choices=[delta(None, "stop")], usage=USAGE, x_groq={"id": "req_7", "usage": other}))

    _, i, o, _ = acc.outcome()
    assert (i, o) == (10, 4)


def test_stream_left_before_its_last_chunk_has_no_usage() -> None:
    acc = ChatStreamAccumulator(capture=True)
    acc.process(chunk(choices=[delta("Hi ", role="assistant")], x_groq={"id": "req_7"}))
    acc.process(chunk(choices=[delta("there")]))

    assert acc.outcome() == (
        {
            "gen_ai.response.id": "chatcmpl-9",
            "gen_ai.response.model": "llama-3.1-8b-instant",
            "groq.request.id": "req_7",
        },
        None,
        None,
        "llama-3.1-8b-instant",
    )
    assert acc.output_messages() == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Hi there"}], "finish_reason": None}
    ]


def test_empty_stream() -> None:
    assert ChatStreamAccumulator(capture=False).outcome() == ({}, None, None, None)


def test_content_is_openai_chat_shaped() -> None:
    kw = {
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": [{"type": "text", "text": "hi"}]},
            {"role": "assistant", "tool_calls": [{"id": "c1", "function": {"name": "f", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "c1", "content": "ok"},
        ],
        "tools": [{"type": "function", "function": {"name": "f"}}],
    }
    assert content.request_content(kw) == {
        "inputs": [
            {"role": "system", "parts": [{"type": "text", "content": "Be brief."}]},
            {"role": "user", "parts": [{"type": "text", "content": "hi"}]},
            {
                "role": "assistant",
                "parts": [{"type": "tool_call", "id": "c1", "name": "f", "arguments": "{}"}],
            },
            {"role": "tool", "parts": [{"type": "tool_call_response", "id": "c1", "response": "ok"}]},
        ],
        "tools": kw["tools"],
    }
    assert content.tool_results(kw) == [("c1", False)]


def test_x_groq_and_usage_kept_as_plain_dicts() -> None:
    """``groq`` 0.9's ``ChatCompletion`` has no ``x_groq`` field: the SDK keeps it as a dict."""
    a: dict[str, Any] = {}
    extract.put_request_id(a, {"id": "req_old"})
    assert extract.usage(a, {"prompt_tokens": 2, "completion_tokens": 3, "queue_time": 0.5}) == (2, 3)
    assert a == {
        "groq.request.id": "req_old",
        "gen_ai.usage.input_tokens": 2,
        "gen_ai.usage.output_tokens": 3,
        "groq.usage.queue_time": 0.5,
    }


def test_one_plain_choice() -> None:
    """Only a streamed request that offers no tools or functions and asks for one choice is read
    from its first and last chunks."""
    assert extract.one_plain_choice({"model": "m", "messages": [], "stream": True}) is True
    assert extract.one_plain_choice({"stream": True, "tools": None, "functions": [], "n": 1}) is True
    assert extract.one_plain_choice({"stream": True, "tools": ()}) is True
    assert extract.one_plain_choice({"model": "m", "messages": []}) is False  # not streamed
    assert extract.one_plain_choice({"stream": False}) is False
    assert extract.one_plain_choice({"stream": 1}) is False
    assert extract.one_plain_choice({"stream": True, "tools": [{"type": "function"}]}) is False
    assert extract.one_plain_choice({"stream": True, "functions": [{"name": "f"}]}) is False
    assert extract.one_plain_choice({"stream": True, "tools": iter([])}) is False  # the app's: not read
    assert extract.one_plain_choice({"stream": True, "tools": groq.NOT_GIVEN}) is False
    assert extract.one_plain_choice({"stream": True, "n": 2}) is False
    assert extract.one_plain_choice({"stream": True, "n": groq.NOT_GIVEN}) is False
    assert extract.one_plain_choice({"stream": True, "n": True}) is False


def _both(chunks: list[Any]) -> tuple[Any, Any]:
    full, last = ChatStreamAccumulator(False), LastChunksAccumulator(False)
    for one in chunks:
        full.process(one)
        last.process(one)
    return full.outcome(), last.outcome()


def test_first_and_last_chunks_read_as_every_chunk_is() -> None:
    """A plain stream's outcome from its first and last two chunks is the one every chunk gives."""
    opening = chunk(choices=[delta("", role="assistant")], x_groq={"id": "req_7"})
    words = [chunk(choices=[delta(w)]) for w in "abcdef"]
    usage_chunk = chunk(choices=[], usage=USAGE, x_groq={"id": "req_7", "usage": USAGE})
    shapes = {
        "finished": [
            opening,
            *words,
            chunk(choices=[delta(None, "stop")], x_groq={"id": "req_7", "usage": USAGE}),
        ],
        "cut short": [
            opening,
            *words,
            chunk(choices=[delta("g", "length")], x_groq={"id": "req_7", "usage": USAGE}),
        ],
        "usage in a chunk of its own": [opening, *words, chunk(choices=[delta(None, "stop")]), usage_chunk],
        "left before the end": [opening, *words],
        "two chunks": [opening, words[0]],
        "one chunk": [opening],
        "none": [],
    }
    for name, chunks in shapes.items():
        full, last = _both(chunks)
        assert last == full, name
    assert _both(shapes["left before the end"])[1][0]["groq.request.id"] == "req_7"  # the first chunk's
    assert _both(shapes["usage in a chunk of its own"])[1] == FINISHED


def test_last_chunks_run_no_python_after_the_first() -> None:
    """After the first chunk its ``process`` is the window's C ``append``: no Python frame per chunk."""
    acc = LastChunksAccumulator(False)
    assert type(acc.process).__name__ == "method"  # the first chunk's take
    acc.process(chunk(choices=[delta("", role="assistant")]))
    assert type(acc.process).__name__ == "builtin_function_or_method"
    assert acc.output_messages() == []
