"""The fake server's Mistral wire format (``_fake/mistral_chat.py``), byte level: Mistral's error
envelope, its 422 validation body, usage only on the last stream chunk, embeddings' ``input``."""

from __future__ import annotations

import json
from typing import Any

from agentotel.testing._fake import FakeLLM, handle_request

CHAT = "/mistral/v1/chat/completions"


def post(path: str, body: dict[str, Any]) -> Any:
    return handle_request("POST", path, {}, json.dumps(body).encode(), state=FakeLLM())


def test_rate_limit_is_mistrals_error_envelope() -> None:
    resp = post(CHAT, {"model": "m", "messages": [{"role": "user", "content": "[[scenario:rate_limit]]"}]})
    assert resp.status == 429
    assert resp.headers["retry-after"] == "0"
    assert json.loads(b"".join(resp.chunks)) == {
        "object": "error",
        "message": "Rate limit exceeded",
        "type": "rate_limited",
        "param": None,
        "code": "1300",
    }


def test_missing_messages_is_a_422_with_fastapis_detail() -> None:
    resp = post(CHAT, {"model": "m"})
    assert resp.status == 422
    body = json.loads(b"".join(resp.chunks))
    assert body["object"] == "error"
    assert body["type"] == "invalid_request_error"
    [detail] = body["message"]["detail"]
    assert (detail["type"], detail["loc"], detail["msg"]) == (
        "missing",
        ["body", "messages"],
        "Field required",
    )


def test_stream_usage_only_on_the_last_chunk() -> None:
    resp = post(CHAT, {"model": "m", "stream": True, "messages": [{"role": "user", "content": "hi"}]})
    events = [c.decode() for c in resp.chunks]
    assert events[-1] == "data: [DONE]\n\n"
    chunks = [json.loads(e[len("data: ") :]) for e in events[:-1]]
    assert ["usage" in c for c in chunks] == [False] * (len(chunks) - 1) + [True]
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["usage"] == {"prompt_tokens": 1, "completion_tokens": 6, "total_tokens": 7}


def test_embeddings_read_input() -> None:
    resp = post(
        "/mistral/v1/embeddings", {"model": "mistral-embed", "input": ["a b", "c"], "output_dimension": 2}
    )
    body = json.loads(b"".join(resp.chunks))
    assert [d["embedding"] for d in body["data"]] == [[0.001, 0.002], [0.002, 0.004]]
    assert body["usage"] == {"prompt_tokens": 3, "completion_tokens": 0, "total_tokens": 3}
