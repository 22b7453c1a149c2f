"""The fake server's Bedrock wire format, pure (no socket): the event-stream framing decodes with
botocore's own decoder, errors carry ``x-amzn-ErrorType``, the model comes from the path."""

from __future__ import annotations

import json

import pytest
from botocore.eventstream import ChecksumMismatch, EventStreamBuffer

from agentotel.testing._fake import handle_request
from agentotel.testing._fake.bedrock_runtime import ERRORS, frame


def test_a_frame_decodes_with_botocores_decoder() -> None:
    buffer = EventStreamBuffer()
    buffer.add_data(frame({":event-type": "chunk", ":message-type": "event"}, b'{"bytes":"e30="}'))

    [message] = list(buffer)
    assert message.headers == {":event-type": "chunk", ":message-type": "event"}
    assert message.payload == b'{"bytes":"e30="}'


def test_the_malformed_event_fails_its_checksum() -> None:
    buffer = EventStreamBuffer()
    buffer.add_data(ERRORS.malformed_event)
    with pytest.raises(ChecksumMismatch):
        list(buffer)


def test_converse_stream_is_an_event_stream_of_converse_events() -> None:
    body = json.dumps({"messages": [{"role": "user", "content": [{"text": "[[words:2]]"}]}]}).encode()
    resp = handle_request("POST", "/model/amazon.nova-pro-v1%3A0/converse-stream", {}, body)

    assert resp.status == 200
    assert resp.headers["content-type"] == "application/vnd.amazon.eventstream"
    assert resp.is_stream
    buffer = EventStreamBuffer()
    buffer.add_data(resp.body)
    kinds = [m.headers[":event-type"] for m in buffer]
    assert kinds == [
        "messageStart",
        "contentBlockDelta",
        "contentBlockDelta",
        "contentBlockStop",
        "messageStop",
        "metadata",
    ]


def test_an_error_names_its_type_in_the_header() -> None:
    body = json.dumps(
        {"messages": [{"role": "user", "content": [{"text": "[[scenario:rate_limit]]"}]}]}
    ).encode()
    resp = handle_request("POST", "/model/m/converse", {}, body)

    assert resp.status == 429
    assert resp.headers["x-amzn-ErrorType"].split(":")[0] == "ThrottlingException"
    assert json.loads(resp.body) == {"message": "Too many requests, please wait before trying again."}


def test_invoke_anthropic_body_names_the_model_of_the_path() -> None:
    body = json.dumps(
        {
            "anthropic_version": "bedrock-2023-05-31",
            "max_tokens": 5,
            "messages": [{"role": "user", "content": "hi"}],
        }
    )
    resp = handle_request("POST", "/model/anthropic.claude-3-haiku-20240307-v1%3A0/invoke", {}, body.encode())

    assert json.loads(resp.body)["model"] == "claude-3-haiku-20240307-v1:0"
    assert resp.headers["X-Amzn-Bedrock-Input-Token-Count"] == "1"
