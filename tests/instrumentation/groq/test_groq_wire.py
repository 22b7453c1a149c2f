"""The fake server's Groq wire (``agentotel.testing._fake.groq_chat``), byte for byte where Groq
differs from OpenAI: the path, the usage block with its timings, ``x_groq`` on a completion and on
a stream's first and last chunks, and Groq's error body."""

from __future__ import annotations

import json
from typing import Any

from agentotel.testing._fake import FakeLLM, handle_request
from agentotel.testing._fake.groq_chat import QUEUE_TIME

PATH = "/openai/v1/chat/completions"
MODEL = "llama-3.3-70b-versatile"


def post(body: dict[str, Any], state: FakeLLM | None = None) -> Any:
    return handle_request("POST", PATH, {}, json.dumps(body).encode(), state)


def events(resp: Any) -> list[Any]:
    out = []
    for raw in resp.chunks:
        data = raw.decode().removeprefix("data: ").strip()
        out.append(data if data == "[DONE]" else json.loads(data))
    return out


def test_completion() -> None:
    resp = post({"model": MODEL, "messages": [{"role": "user", "content": "hi there"}]})

    assert resp.status == 200
    assert resp.headers["x-request-id"] == "req_1"
    assert json.loads(b"".join(resp.chunks)) == {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1700000000,
        "model": MODEL,
        "service_tier": "on_demand",
        "system_fingerprint": "fp_fake",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hello from the fake LLM server."},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "queue_time": QUEUE_TIME,
            "prompt_tokens": 2,
            "prompt_time": 0.0002,
            "completion_tokens": 6,
            "completion_time": 0.006,
            "total_tokens": 8,
            "total_time": 0.0062,
        },
        "x_groq": {"id": "req_1"},
    }


def test_stream_carries_usage_in_the_last_chunks_x_groq() -> None:
    found = events(
        post({"model": MODEL, "stream": True, "messages": [{"role": "user", "content": "[[words:2]]"}]})
    )

    assert found[-1] == "[DONE]"
    chunks = found[:-1]
    assert [c["choices"][0]["delta"] for c in chunks] == [
        {"role": "assistant", "content": ""},
        {"content": "w1 "},
        {"content": "w2"},
        {},
    ]
    assert [c.get("x_groq") for c in chunks[:-1]] == [{"id": "req_1"}, None, None]
    usage = {
        "queue_time": QUEUE_TIME,
        "prompt_tokens": 1,
        "prompt_time": 0.0001,
        "completion_tokens": 2,
        "completion_time": 0.002,
        "total_tokens": 3,
        "total_time": 0.0021,
    }
    assert chunks[-1]["x_groq"] == {"id": "req_1", "usage": usage}
    assert all("usage" not in c for c in chunks)
    assert {c["model"] for c in chunks} == {MODEL}


def test_stream_with_include_usage_has_it_in_the_last_chunk_too() -> None:
    body = {
        "model": MODEL,
        "stream": True,
        "stream_options": {"include_usage": True},
        "messages": [{"role": "user", "content": "hi"}],
    }
    chunks = events(post(body))[:-1]

    assert all(c["choices"] for c in chunks)  # no separate usage chunk
    assert chunks[-1]["usage"] == chunks[-1]["x_groq"]["usage"]
    assert chunks[-1]["usage"]["completion_tokens"] == 6


def test_errors_in_groq_format() -> None:
    resp = post({"model": MODEL, "messages": [{"role": "user", "content": "[[scenario:rate_limit]]"}]})

    assert (resp.status, resp.headers["retry-after"]) == (429, "0")
    assert json.loads(b"".join(resp.chunks)) == {
        "error": {
            "message": (
                "Rate limit reached on tokens per minute (TPM) (fake LLM server). Please try again in 0s."
            ),
            "type": "tokens",
            "code": "rate_limit_exceeded",
        }
    }
    bad = post({"model": MODEL})
    assert bad.status == 400
    assert json.loads(b"".join(bad.chunks)) == {
        "error": {"message": "'messages' must be an array", "type": "invalid_request_error", "code": None}
    }
