"""The fake LLM server/transport, driven by the real openai and anthropic SDKs."""

from __future__ import annotations

import http.client
import json
import os
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest
from helpers import (
    CHAT_TOOLS,
    CLAUDE,
    CLAUDE_TOOLS,
    GPT,
    QUESTION,
    REPLY,
    RESP_TOOLS,
    http_library,
    stream_disconnect_error,
    user,
)

from agentotel.testing import FakeLLM, FakeLLMServer, count_tokens, fake_transport
from agentotel.testing._fake import handle_request


@pytest.fixture
def server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as srv:
        yield srv


@pytest.fixture
def oai(server: FakeLLMServer) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=server.openai_base_url, api_key="sk-test", max_retries=0) as client:
        yield client


@pytest.fixture
def claude(server: FakeLLMServer) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(base_url=server.anthropic_base_url, api_key="sk-test", max_retries=0) as client:
        yield client


# --------------------------------------------------------------------------- server basics


def test_urls_and_recorded_requests(server: FakeLLMServer, oai: openai.OpenAI) -> None:
    assert server.base_url == f"http://127.0.0.1:{server.port}"
    assert server.openai_base_url == server.base_url + "/v1"
    assert server.anthropic_base_url == server.base_url
    oai.chat.completions.create(model=GPT, messages=user(QUESTION))
    (rec,) = server.requests
    assert (rec.method, rec.path) == ("POST", "/v1/chat/completions")
    assert rec.body == {"model": GPT, "messages": user(QUESTION)}
    assert rec.headers["authorization"] == "<redacted>"
    server.clear()
    assert server.requests == []


def test_keep_alive_and_plain_http_errors(server: FakeLLMServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    secret = "Bearer sk-very-secret-value"
    conn.request("POST", "/v1/nope", body=b"{}", headers={"Authorization": secret})
    resp = conn.getresponse()
    body = resp.read()
    assert resp.status == 404
    assert json.loads(body)["error"]["code"] == "unknown_url"
    sock = conn.sock
    conn.request("POST", "/v1/chat/completions", body=b"not json", headers={"x-api-key": secret})
    resp = conn.getresponse()
    body = resp.read()
    assert conn.sock is sock  # same connection reused (HTTP/1.1 keep-alive)
    assert resp.status == 400
    assert json.loads(body)["error"]["type"] == "invalid_request_error"
    conn.request("POST", "/v1/messages", body=b"[]")
    resp = conn.getresponse()
    assert resp.status == 400
    assert json.loads(resp.read())["error"]["type"] == "invalid_request_error"
    conn.close()
    assert "sk-very-secret" not in repr(server.requests)


def test_concurrent_requests(server: FakeLLMServer, oai: openai.OpenAI) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(
            pool.map(lambda _: oai.chat.completions.create(model=GPT, messages=user(QUESTION)).id, range(16))
        )
    assert sorted(ids) == sorted(f"chatcmpl-{i}" for i in range(1, 17))
    assert len(server.requests) == 16


def test_handle_request_is_deterministic() -> None:
    body = json.dumps(
        {"model": GPT, "messages": user(QUESTION), "tools": CHAT_TOOLS, "stream": True}
    ).encode()
    first = handle_request("POST", "/v1/chat/completions", {}, body, state=FakeLLM())
    second = handle_request("POST", "/v1/chat/completions", {}, body)
    assert first == second
    assert first.is_stream and first.status == 200 and len(first.chunks) >= 5
    assert count_tokens(QUESTION) == 6


def test_module_main_prints_url() -> None:
    src = str(Path(__file__).resolve().parents[2] / "src")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")]))}
    cmd = [sys.executable, "-m", "agentotel.testing"]
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env) as proc:
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            assert line.startswith("Fake LLM server listening on http://127.0.0.1:")
            url = line.rsplit(" ", 1)[1].strip()
            with openai.OpenAI(base_url=url + "/v1", api_key="sk-test", max_retries=0) as client:
                r = client.chat.completions.create(model=GPT, messages=user(QUESTION))
            assert r.choices[0].message.content == REPLY
        finally:
            proc.terminate()
            proc.wait(timeout=10)


# --------------------------------------------------------------------------- OpenAI chat


def test_chat_text(oai: openai.OpenAI) -> None:
    r = oai.chat.completions.create(model=GPT, messages=user(QUESTION))
    assert r.id == "chatcmpl-1"
    assert r.model == "gpt-4o-2024-08-06"
    assert r.created == 1700000000
    assert r.system_fingerprint == "fp_fake"
    assert r.service_tier == "default"
    assert r._request_id == "req_1"
    (choice,) = r.choices
    assert choice.message.content == REPLY
    assert choice.finish_reason == "stop"
    assert r.usage is not None
    assert (r.usage.prompt_tokens, r.usage.completion_tokens, r.usage.total_tokens) == (6, 6, 12)
    assert r.usage.prompt_tokens_details and r.usage.prompt_tokens_details.cached_tokens == 0
    assert r.usage.completion_tokens_details and r.usage.completion_tokens_details.reasoning_tokens == 0


def test_chat_words_marker_and_dated_model(oai: openai.OpenAI) -> None:
    messages: Any = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "Say [[words:3]] please"}]},
    ]
    r = oai.chat.completions.create(model="gpt-4o-2024-05-13", messages=messages, service_tier="flex")
    assert r.choices[0].message.content == "w1 w2 w3"
    assert r.model == "gpt-4o-2024-05-13"
    assert r.service_tier == "flex"
    assert r.usage is not None
    assert (r.usage.prompt_tokens, r.usage.completion_tokens) == (5, 3)


def test_chat_max_tokens_truncates(oai: openai.OpenAI) -> None:
    r = oai.chat.completions.create(model=GPT, messages=user("[[words:10]]"), max_completion_tokens=4)
    assert r.choices[0].message.content == "w1 w2 w3 w4"
    assert r.choices[0].finish_reason == "length"
    assert r.usage is not None and r.usage.completion_tokens == 4


def test_chat_stream_include_usage(oai: openai.OpenAI) -> None:
    chunks = list(
        oai.chat.completions.create(
            model=GPT, messages=user(QUESTION), stream=True, stream_options={"include_usage": True}
        )
    )
    assert len(chunks) == 1 + 6 + 1 + 1  # role, one per word, finish, usage
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].delta.content for c in chunks[1:7]] == [
        "Hello ",
        "from ",
        "the ",
        "fake ",
        "LLM ",
        "server.",
    ]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == REPLY
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert all(c.usage is None for c in chunks[:-1])
    last = chunks[-1]
    assert last.choices == [] and last.usage is not None
    assert (last.usage.prompt_tokens, last.usage.completion_tokens, last.usage.total_tokens) == (6, 6, 12)
    assert {c.id for c in chunks} == {"chatcmpl-1"}


def test_chat_stream_without_usage(oai: openai.OpenAI) -> None:
    chunks = list(oai.chat.completions.create(model=GPT, messages=user(QUESTION), stream=True))
    assert len(chunks) == 8
    assert all(c.usage is None and len(c.choices) == 1 for c in chunks)


def test_chat_tool_call_then_tool_result(oai: openai.OpenAI) -> None:
    r = oai.chat.completions.create(model=GPT, messages=user(QUESTION), tools=CHAT_TOOLS)
    choice = r.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    assert choice.message.tool_calls is not None
    (call,) = choice.message.tool_calls
    assert call.type == "function"
    assert call.id == "call_1"
    assert (call.function.name, call.function.arguments) == ("get_weather", '{"city": "Paris"}')
    assert r.usage is not None
    assert (r.usage.prompt_tokens, r.usage.completion_tokens) == (6, 2)

    messages: Any = [
        *user(QUESTION),
        choice.message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "Sunny, 22 C"},
    ]
    r2 = oai.chat.completions.create(model=GPT, messages=messages, tools=CHAT_TOOLS)
    assert r2.id == "chatcmpl-2"
    assert r2.choices[0].finish_reason == "stop"
    assert r2.choices[0].message.content == REPLY
    assert r2.usage is not None and r2.usage.prompt_tokens == 6 + 3


def test_chat_tool_without_city_gets_empty_args(oai: openai.OpenAI) -> None:
    tools: Any = [{"type": "function", "function": {"name": "now", "parameters": {"type": "object"}}}]
    r = oai.chat.completions.create(model=GPT, messages=user(QUESTION), tools=tools)
    assert r.choices[0].message.tool_calls is not None
    call = r.choices[0].message.tool_calls[0]
    assert call.type == "function" and call.function.arguments == "{}"
    assert r.usage is not None and r.usage.completion_tokens == 1


def test_chat_tool_call_stream(oai: openai.OpenAI) -> None:
    chunks = list(
        oai.chat.completions.create(model=GPT, messages=user(QUESTION), tools=CHAT_TOOLS, stream=True)
    )
    deltas = [tc for c in chunks for tc in (c.choices[0].delta.tool_calls or [])]
    first = deltas[0]
    assert first.id == "call_1" and first.type == "function"
    assert first.function is not None and first.function.name == "get_weather"
    assert first.function.arguments == ""
    fragments = [d.function.arguments for d in deltas[1:] if d.function]
    assert len(fragments) >= 2
    assert "".join(f or "" for f in fragments) == '{"city": "Paris"}'
    assert chunks[-1].choices[0].finish_reason == "tool_calls"

    with oai.chat.completions.stream(model=GPT, messages=user(QUESTION), tools=CHAT_TOOLS) as stream:
        final = stream.get_final_completion()
    assert final.choices[0].message.tool_calls is not None
    assert final.choices[0].message.tool_calls[0].function.arguments == '{"city": "Paris"}'


def test_chat_n2(oai: openai.OpenAI) -> None:
    r = oai.chat.completions.create(model=GPT, messages=user(QUESTION), n=2)
    assert [c.index for c in r.choices] == [0, 1]
    assert [c.message.content for c in r.choices] == [REPLY, REPLY]
    assert r.usage is not None
    assert (r.usage.prompt_tokens, r.usage.completion_tokens, r.usage.total_tokens) == (6, 12, 18)


def test_chat_cached_and_reasoning(oai: openai.OpenAI) -> None:
    r = oai.chat.completions.create(
        model="o3-mini", messages=user(f"{QUESTION} [[scenario:cached:4]] [[scenario:reasoning:3]]")
    )
    assert r.model == "o3-mini-2024-08-06"
    assert r.usage is not None
    assert r.usage.prompt_tokens == 8
    assert r.usage.completion_tokens == 6 + 3  # reasoning tokens are part of completion tokens
    assert r.usage.total_tokens == 17
    assert r.usage.prompt_tokens_details and r.usage.prompt_tokens_details.cached_tokens == 4
    assert r.usage.completion_tokens_details
    assert r.usage.completion_tokens_details.reasoning_tokens == 3


# --------------------------------------------------------------------------- OpenAI responses


def test_responses_create(oai: openai.OpenAI) -> None:
    r = oai.responses.create(model=GPT, input=QUESTION, instructions="Be brief.")
    assert (r.id, r.object, r.status, r.model) == ("resp_1", "response", "completed", "gpt-4o-2024-08-06")
    assert r.output_text == REPLY
    assert r.output[0].type == "message"
    assert r.service_tier == "default"
    assert r.usage is not None
    assert (r.usage.input_tokens, r.usage.output_tokens, r.usage.total_tokens) == (8, 6, 14)
    assert r.usage.input_tokens_details.cached_tokens == 0
    assert r.usage.output_tokens_details.reasoning_tokens == 0


def test_responses_message_list_cached_reasoning(oai: openai.OpenAI) -> None:
    items: Any = [
        {"role": "user", "content": [{"type": "input_text", "text": QUESTION}]},
        {"role": "user", "content": "[[words:2]] [[scenario:cached:5]] [[scenario:reasoning:2]]"},
    ]
    r = oai.responses.create(model=GPT, input=items)
    assert r.output_text == "w1 w2"
    assert r.usage is not None
    assert (r.usage.input_tokens, r.usage.output_tokens, r.usage.total_tokens) == (9, 4, 13)
    assert r.usage.input_tokens_details.cached_tokens == 5
    assert r.usage.output_tokens_details.reasoning_tokens == 2


def test_responses_stream(oai: openai.OpenAI) -> None:
    events = list(oai.responses.create(model=GPT, input=QUESTION, stream=True))
    assert [e.type for e in events] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        *["response.output_text.delta"] * 6,
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [e.sequence_number for e in events] == list(range(len(events)))
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text == REPLY
    done = events[-1]
    assert done.type == "response.completed"
    assert done.response.output_text == REPLY
    assert done.response.usage is not None
    assert (done.response.usage.input_tokens, done.response.usage.output_tokens) == (6, 6)

    with oai.responses.stream(model=GPT, input=QUESTION) as stream:
        final = stream.get_final_response()
    assert final.output_text == REPLY
    assert final.id == "resp_2"


def test_responses_function_call(oai: openai.OpenAI) -> None:
    r = oai.responses.create(model=GPT, input=QUESTION, tools=RESP_TOOLS)
    (item,) = r.output
    assert item.type == "function_call"
    assert (item.call_id, item.name, item.arguments) == ("call_1", "get_weather", '{"city": "Paris"}')
    assert r.usage is not None and r.usage.output_tokens == 2

    follow: Any = [{"type": "function_call_output", "call_id": item.call_id, "output": "Sunny, 22 C"}]
    r2 = oai.responses.create(model=GPT, input=follow, tools=RESP_TOOLS, previous_response_id=r.id)
    assert r2.output_text == REPLY
    assert r2.usage is not None and r2.usage.input_tokens == 3

    with oai.responses.stream(model=GPT, input=QUESTION, tools=RESP_TOOLS) as stream:
        types = [e.type for e in stream]
        final = stream.get_final_response()
    assert types.count("response.function_call_arguments.delta") >= 2
    assert final.output[0].type == "function_call"
    assert final.output[0].arguments == '{"city": "Paris"}'
    assert final.output[0].call_id == "call_2"


# --------------------------------------------------------------------------- OpenAI embeddings


def _f32(values: list[float]) -> list[float]:
    return list(struct.unpack(f"<{len(values)}f", struct.pack(f"<{len(values)}f", *values)))


def test_embeddings_default_base64(server: FakeLLMServer, oai: openai.OpenAI) -> None:
    r = oai.embeddings.create(model="text-embedding-3-small", input=["hello world", "bye"])
    assert server.requests[0].body["encoding_format"] == "base64"  # the SDK's default
    assert r.model == "text-embedding-3-small"
    assert [d.index for d in r.data] == [0, 1]
    assert r.data[0].embedding == _f32([round(0.001 * (j + 1), 6) for j in range(8)])
    assert r.data[1].embedding == _f32([round(0.002 * (j + 1), 6) for j in range(8)])
    assert (r.usage.prompt_tokens, r.usage.total_tokens) == (3, 3)


def test_embeddings_float_with_dimensions(oai: openai.OpenAI) -> None:
    r = oai.embeddings.create(
        model="text-embedding-3-large", input=QUESTION, encoding_format="float", dimensions=3
    )
    assert r.data[0].embedding == [0.001, 0.002, 0.003]
    assert r.usage.prompt_tokens == 6


# --------------------------------------------------------------------------- Anthropic


def test_anthropic_create(claude: anthropic.Anthropic) -> None:
    m = claude.messages.create(model=CLAUDE, max_tokens=100, system="Be brief.", messages=user(QUESTION))
    assert (m.id, m.type, m.role, m.model) == ("msg_1", "message", "assistant", CLAUDE)
    assert m.stop_reason == "end_turn" and m.stop_sequence is None
    (block,) = m.content
    assert block.type == "text" and block.text == REPLY
    assert (m.usage.input_tokens, m.usage.output_tokens) == (8, 6)
    assert (m.usage.cache_read_input_tokens, m.usage.cache_creation_input_tokens) == (0, 0)
    assert m._request_id == "req_1"


def test_anthropic_max_tokens(claude: anthropic.Anthropic) -> None:
    m = claude.messages.create(model=CLAUDE, max_tokens=4, messages=user("[[words:10]]"))
    assert m.stop_reason == "max_tokens"
    assert m.content[0].type == "text" and m.content[0].text == "w1 w2 w3 w4"
    assert m.usage.output_tokens == 4


def test_anthropic_stream_final_usage(claude: anthropic.Anthropic) -> None:
    with claude.messages.stream(model=CLAUDE, max_tokens=100, messages=user(QUESTION)) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == REPLY
    assert final.content[0].type == "text" and final.content[0].text == REPLY
    assert final.stop_reason == "end_turn"
    assert (final.usage.input_tokens, final.usage.output_tokens) == (6, 6)

    raw = list(claude.messages.create(model=CLAUDE, max_tokens=100, messages=user(QUESTION), stream=True))
    types = [e.type for e in raw]
    assert types[:2] == ["message_start", "content_block_start"]
    assert types.count("content_block_delta") == 6
    assert types[-4:] == ["content_block_stop", "message_delta", "message_delta", "message_stop"]
    start = raw[0]
    assert start.type == "message_start" and start.message.usage.output_tokens == 1
    assert start.message.usage.input_tokens == 6
    # Two cumulative message_delta events (3 then 6): summing them would be wrong.
    assert [e.usage.output_tokens for e in raw if e.type == "message_delta"] == [3, 6]


def test_anthropic_short_reply_single_message_delta(claude: anthropic.Anthropic) -> None:
    raw = list(
        claude.messages.create(model=CLAUDE, max_tokens=100, messages=user("[[words:3]]"), stream=True)
    )
    assert [e.usage.output_tokens for e in raw if e.type == "message_delta"] == [3]


def test_anthropic_tool_use_stream_then_result(claude: anthropic.Anthropic) -> None:
    raw = list(
        claude.messages.create(
            model=CLAUDE, max_tokens=100, messages=user(QUESTION), tools=CLAUDE_TOOLS, stream=True
        )
    )
    start = next(e for e in raw if e.type == "content_block_start")
    assert start.content_block.type == "tool_use" and start.content_block.id == "toolu_1"
    parts = [
        e.delta.partial_json
        for e in raw
        if e.type == "content_block_delta" and e.delta.type == "input_json_delta"
    ]
    assert len(parts) >= 2 and "".join(parts) == '{"city": "Paris"}'

    with claude.messages.stream(
        model=CLAUDE, max_tokens=100, messages=user(QUESTION), tools=CLAUDE_TOOLS
    ) as stream:
        final = stream.get_final_message()
    assert final.stop_reason == "tool_use"
    (block,) = final.content
    assert block.type == "tool_use"
    assert (block.id, block.name, block.input) == ("toolu_2", "get_weather", {"city": "Paris"})
    assert final.usage.output_tokens == 2

    messages: Any = [
        *user(QUESTION),
        {"role": "assistant", "content": [block.model_dump(exclude_none=True)]},
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": block.id, "content": "Sunny, 22 C"}],
        },
    ]
    m = claude.messages.create(model=CLAUDE, max_tokens=100, messages=messages, tools=CLAUDE_TOOLS)
    assert m.stop_reason == "end_turn"
    assert m.content[0].type == "text" and m.content[0].text == REPLY
    assert m.usage.input_tokens == 6 + 3


def test_anthropic_cache_numbers(claude: anthropic.Anthropic) -> None:
    content = f"{QUESTION} [[scenario:cached:2]] [[scenario:cache_write:3]]"  # 8 tokens
    m = claude.messages.create(model=CLAUDE, max_tokens=100, messages=user(content))
    assert m.usage.cache_read_input_tokens == 2
    assert m.usage.cache_creation_input_tokens == 3
    assert m.usage.input_tokens == 8 - 2 - 3
    with claude.messages.stream(model=CLAUDE, max_tokens=100, messages=user(content)) as stream:
        final = stream.get_final_message()
    assert (final.usage.input_tokens, final.usage.cache_read_input_tokens) == (3, 2)
    assert final.usage.cache_creation_input_tokens == 3


def test_anthropic_reasoning(claude: anthropic.Anthropic) -> None:
    content = f"{QUESTION} [[scenario:reasoning:5]]"
    m = claude.messages.create(model=CLAUDE, max_tokens=100, messages=user(content))
    assert [b.type for b in m.content] == ["thinking", "text"]
    assert m.content[0].type == "thinking" and m.content[0].thinking == "Let me think."
    assert m.usage.output_tokens == 6 + 5
    raw = list(claude.messages.create(model=CLAUDE, max_tokens=100, messages=user(content), stream=True))
    kinds = [e.delta.type for e in raw if e.type == "content_block_delta"]
    assert kinds == ["thinking_delta"] * 3 + ["signature_delta"] + ["text_delta"] * 6
    with claude.messages.stream(model=CLAUDE, max_tokens=100, messages=user(content)) as stream:
        final = stream.get_final_message()
    assert final.content[0].type == "thinking" and final.content[0].signature == "fake-signature"
    assert final.content[1].type == "text" and final.content[1].text == REPLY
    assert final.usage.output_tokens == 11


def test_anthropic_count_tokens(claude: anthropic.Anthropic) -> None:
    r = claude.messages.count_tokens(model=CLAUDE, messages=user(QUESTION), system="Be brief.")
    assert r.input_tokens == 8


# --------------------------------------------------------------------------- error scenarios


@pytest.mark.parametrize(
    ("scenario", "exc", "status", "etype"),
    [
        ("rate_limit", openai.RateLimitError, 429, "requests"),
        ("server_error", openai.InternalServerError, 500, "server_error"),
        ("overloaded", openai.InternalServerError, 503, "server_error"),
        ("bad_request", openai.BadRequestError, 400, "invalid_request_error"),
    ],
)
def test_openai_error_scenarios(
    oai: openai.OpenAI, scenario: str, exc: type[openai.APIStatusError], status: int, etype: str
) -> None:
    for stream in (False, True):
        with pytest.raises(exc) as info:
            oai.chat.completions.create(
                model=GPT, messages=user(f"hi [[scenario:{scenario}]]"), stream=stream
            )
        assert info.value.status_code == status
        assert isinstance(info.value.body, dict) and info.value.body["type"] == etype
    if scenario == "rate_limit":
        assert info.value.response.headers["retry-after"] == "0"
        assert info.value.code == "rate_limit_exceeded"


@pytest.mark.parametrize(
    ("scenario", "exc", "status", "etype"),
    [
        ("rate_limit", anthropic.RateLimitError, 429, "rate_limit_error"),
        ("server_error", anthropic.InternalServerError, 500, "api_error"),
        ("overloaded", anthropic.OverloadedError, 529, "overloaded_error"),
        ("bad_request", anthropic.BadRequestError, 400, "invalid_request_error"),
    ],
)
def test_anthropic_error_scenarios(
    claude: anthropic.Anthropic, scenario: str, exc: type[anthropic.APIStatusError], status: int, etype: str
) -> None:
    with pytest.raises(exc) as info:
        claude.messages.create(model=CLAUDE, max_tokens=10, messages=user(f"hi [[scenario:{scenario}]]"))
    assert info.value.status_code == status
    assert isinstance(info.value.body, dict) and info.value.body["error"]["type"] == etype
    with (
        pytest.raises(exc),
        claude.messages.stream(
            model=CLAUDE, max_tokens=10, messages=user(f"hi [[scenario:{scenario}]]")
        ) as stream,
    ):
        stream.get_final_message()


def test_unknown_scenario_is_bad_request(oai: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError, match="unknown scenario"):
        oai.chat.completions.create(model=GPT, messages=user("[[scenario:nope]]"))


def test_malformed(oai: openai.OpenAI, claude: anthropic.Anthropic) -> None:
    # Neither SDK wraps a JSON decode failure: they raise json.JSONDecodeError (a ValueError).
    with pytest.raises(json.JSONDecodeError):
        oai.chat.completions.create(model=GPT, messages=user("[[scenario:malformed]]"))
    stream = oai.chat.completions.create(model=GPT, messages=user("[[scenario:malformed]]"), stream=True)
    got = []
    with pytest.raises(json.JSONDecodeError):
        for chunk in stream:
            got.append(chunk)
    assert len(got) == 1 and got[0].choices[0].delta.role == "assistant"
    with pytest.raises(json.JSONDecodeError):
        claude.messages.create(model=CLAUDE, max_tokens=10, messages=user("[[scenario:malformed]]"))
    with (
        pytest.raises(json.JSONDecodeError),
        claude.messages.stream(
            model=CLAUDE, max_tokens=10, messages=user("[[scenario:malformed]]")
        ) as cstream,
    ):
        cstream.get_final_message()


def test_disconnect(oai: openai.OpenAI, claude: anthropic.Anthropic) -> None:
    with pytest.raises(openai.APIConnectionError):
        oai.chat.completions.create(model=GPT, messages=user("[[scenario:disconnect]]"))
    stream = oai.chat.completions.create(model=GPT, messages=user("[[scenario:disconnect]]"), stream=True)
    got = []
    with pytest.raises(stream_disconnect_error(openai)) as info:
        for chunk in stream:
            got.append(chunk)
    assert len(got) == 2  # role chunk + first word, then the connection drops
    dropped = info.value.__cause__ if isinstance(info.value, openai.APIConnectionError) else info.value
    assert isinstance(dropped, http_library(openai).RemoteProtocolError)

    with pytest.raises(anthropic.APIConnectionError):
        claude.messages.create(model=CLAUDE, max_tokens=10, messages=user("[[scenario:disconnect]]"))
    events = []
    # The anthropic SDK lets the transport error escape unwrapped from stream iteration.
    with (
        pytest.raises(http_library(anthropic).RemoteProtocolError),
        claude.messages.stream(
            model=CLAUDE, max_tokens=10, messages=user("[[scenario:disconnect]]")
        ) as cstream,
    ):
        for event in cstream:
            events.append(event.type)
    assert events == ["message_start", "content_block_start"]


def test_slow(oai: openai.OpenAI) -> None:
    with pytest.raises(openai.APITimeoutError):
        oai.with_options(timeout=0.2).chat.completions.create(model=GPT, messages=user("[[scenario:slow:3]]"))
    t0 = time.monotonic()
    r = oai.chat.completions.create(model=GPT, messages=user("[[scenario:slow:0.3]]"))
    assert time.monotonic() - t0 >= 0.3
    assert r.choices[0].message.content == REPLY


# --------------------------------------------------------------------------- async clients


@pytest.mark.asyncio
async def test_async_openai_over_http(server: FakeLLMServer) -> None:
    async with openai.AsyncOpenAI(
        base_url=server.openai_base_url, api_key="sk-test", max_retries=0
    ) as client:
        r = await client.chat.completions.create(model=GPT, messages=user(QUESTION))
        assert r.choices[0].message.content == REPLY
        stream = await client.chat.completions.create(
            model=GPT, messages=user(QUESTION), stream=True, stream_options={"include_usage": True}
        )
        chunks = [c async for c in stream]
        assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == REPLY
        assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 6


@pytest.mark.asyncio
async def test_async_anthropic_over_http(server: FakeLLMServer) -> None:
    async with anthropic.AsyncAnthropic(
        base_url=server.anthropic_base_url, api_key="sk-test", max_retries=0
    ) as client:
        m = await client.messages.create(model=CLAUDE, max_tokens=100, messages=user(QUESTION))
        assert m.content[0].type == "text" and m.content[0].text == REPLY
        async with client.messages.stream(model=CLAUDE, max_tokens=100, messages=user(QUESTION)) as stream:
            final = await stream.get_final_message()
        assert (final.usage.input_tokens, final.usage.output_tokens) == (6, 6)


# --------------------------------------------------------------------------- in-process transport


def test_transport_sync_clients() -> None:
    transport = fake_transport()
    oai = openai.OpenAI(
        base_url="http://fake/v1",
        api_key="sk-test",
        max_retries=0,
        http_client=http_library(openai).Client(transport=transport),
    )
    r = oai.chat.completions.create(model=GPT, messages=user(QUESTION))
    assert (r.id, r.choices[0].message.content) == ("chatcmpl-1", REPLY)
    claude = anthropic.Anthropic(
        base_url="http://fake",
        api_key="sk-test",
        max_retries=0,
        http_client=http_library(anthropic).Client(transport=transport),
    )
    with claude.messages.stream(model=CLAUDE, max_tokens=100, messages=user(QUESTION)) as stream:
        assert stream.get_final_message().usage.output_tokens == 6
    with pytest.raises(openai.APITimeoutError):
        oai.with_options(timeout=0.2).chat.completions.create(model=GPT, messages=user("[[scenario:slow:5]]"))
    stream2 = oai.chat.completions.create(model=GPT, messages=user("[[scenario:disconnect]]"), stream=True)
    with pytest.raises(stream_disconnect_error(openai)):
        list(stream2)


@pytest.mark.asyncio
async def test_transport_async_openai() -> None:
    client = openai.AsyncOpenAI(
        base_url="http://fake/v1",
        api_key="sk-test",
        max_retries=0,
        http_client=http_library(openai).AsyncClient(transport=fake_transport()),
    )
    r = await client.chat.completions.create(model=GPT, messages=user(QUESTION), tools=CHAT_TOOLS)
    assert r.choices[0].message.tool_calls is not None
    assert r.choices[0].message.tool_calls[0].id == "call_1"
    stream = await client.chat.completions.create(
        model=GPT, messages=user(QUESTION), stream=True, stream_options={"include_usage": True}
    )
    chunks = [c async for c in stream]
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens == 12
    with pytest.raises(openai.APITimeoutError):
        await client.with_options(timeout=0.2).chat.completions.create(
            model=GPT, messages=user("[[scenario:slow:5]]")
        )
    await client.close()


@pytest.mark.parametrize("library", ["httpx", "httpx2"])
def test_transport_answers_in_the_library_of_the_client(library: str) -> None:
    """One transport for both HTTP libraries: responses and errors are the client's library's own."""
    http = pytest.importorskip(library)
    body = {"model": GPT, "messages": user(QUESTION), "stream": True}
    with http.Client(transport=fake_transport(), base_url="http://fake") as client:
        reply = client.post("/v1/chat/completions", json={**body, "stream": False})
        assert type(reply) is http.Response
        assert reply.json()["choices"][0]["message"]["content"] == REPLY
        body["messages"] = user("[[scenario:disconnect]]")
        with (
            client.stream("POST", "/v1/chat/completions", json=body) as stream,
            pytest.raises(http.RemoteProtocolError),
        ):
            list(stream.iter_bytes())


def test_a_route_may_name_path_segments() -> None:
    """A wire's path may hold ``{name}`` placeholders (Gemini's and Bedrock's model in the path),
    matched up to the next ``/`` or ``:``."""
    from agentotel.testing._fake._router import _pattern

    gemini = _pattern("/v1beta/models/{model}:streamGenerateContent")
    found = gemini.fullmatch("/v1beta/models/gemini-2.5-flash:streamGenerateContent")
    assert found is not None and found.groupdict() == {"model": "gemini-2.5-flash"}
    assert gemini.fullmatch("/v1beta/models/a/b:streamGenerateContent") is None
    bedrock = _pattern("/model/{model}/converse")
    found = bedrock.fullmatch("/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse")
    assert found is not None and found.groupdict() == {"model": "anthropic.claude-3-5-haiku-20241022-v1%3A0"}
    assert bedrock.fullmatch("/model/x/converse-stream") is None
