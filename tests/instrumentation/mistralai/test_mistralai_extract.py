"""The Mistral provider's pure functions and stream accumulator, on the SDK's own model objects
(no exporter, no server)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from mistralai.client import Mistral, models
from mistralai.client.types import UNSET

from agentotel.instrumentation._operation import client_secrets
from agentotel.instrumentation.mistralai import content, extract
from agentotel.instrumentation.mistralai.stream import ChatStreamAccumulator, LastEventsAccumulator


def chunk(
    delta: dict[str, Any], finish: str | None = None, usage: dict[str, int] | None = None, index: int = 0
) -> models.CompletionEvent:
    return models.CompletionEvent.model_validate(
        {
            "data": {
                "id": "cmpl-1",
                "model": "mistral-small-latest",
                "choices": [{"index": index, "delta": delta, "finish_reason": finish}],
                **({"usage": usage} if usage else {}),
            }
        }
    )


CALL = {"id": "abc123XYZ", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}, "index": 0}


def test_request_attributes_skip_unset_and_wrong_types() -> None:
    kw = {
        "model": "m",
        "messages": [],
        "temperature": UNSET,
        "max_tokens": "9",
        "random_seed": True,
        "stop": UNSET,
    }
    assert extract.chat_request_attributes(kw) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "m",
    }


def test_response_format_as_the_sdk_model() -> None:
    fmt = models.ResponseFormat(type="json_schema")
    assert (
        extract.chat_request_attributes({"model": "m", "response_format": fmt})["gen_ai.output.type"]
        == "json"
    )
    assert (
        extract.chat_request_attributes({"model": "m", "response_format": {"type": "text"}})[
            "gen_ai.output.type"
        ]
        == "text"
    )


def test_stream_request_attributes_say_stream() -> None:
    assert extract.stream_request_attributes({"model": "m"})["gen_ai.request.stream"] is True


def test_embeddings_request_attributes() -> None:
    kw = {"model": "mistral-embed", "inputs": "x", "output_dimension": 256, "encoding_format": "float"}
    assert extract.embeddings_request_attributes(kw) == {
        "gen_ai.operation.name": "embeddings",
        "gen_ai.request.model": "mistral-embed",
        "gen_ai.embeddings.dimension.count": 256,
        "gen_ai.request.encoding_formats": ["float"],
    }


def test_client_of_reads_key_and_server() -> None:
    client = extract.client_of(Mistral(api_key="k1", server_url="http://h.example:8080/x").chat)
    assert client.api_key == "k1"
    assert extract.secrets_of(client) == ("k1",) == client_secrets(client)  # the engine's reading
    assert dict(client.server) == {
        "gen_ai.provider.name": "mistral_ai",
        "server.address": "h.example",
        "server.port": 8080,
    }
    default = extract.client_of(Mistral(api_key="k2").chat)
    assert (default.api_key, dict(default.server)["server.address"]) == ("k2", "api.mistral.ai")
    us = extract.client_of(Mistral(api_key="k3", server="us").chat)
    assert dict(us.server)["server.address"] == "api.us.mistral.ai"


def test_client_of_follows_a_changed_configuration() -> None:
    sdk = Mistral(api_key="k1", server_url="http://one.example")
    assert dict(extract.client_of(sdk.chat).server)["server.address"] == "one.example"
    sdk.sdk_configuration.server_url = "http://two.example"
    sdk.sdk_configuration.security = models.Security(api_key="k9")
    changed = extract.client_of(sdk.chat)
    assert (changed.api_key, dict(changed.server)["server.address"]) == ("k9", "two.example")
    assert extract.secrets_of(changed) == ("k9",)


def test_client_of_a_key_function_reads_no_key() -> None:
    """A key given as a function is the SDK's to call (per request), not ours."""
    calls: list[int] = []

    def key() -> str:
        calls.append(1)
        return "k"

    client = extract.client_of(Mistral(api_key=key).chat)
    assert (client.api_key, client.secrets) == (None, ())
    assert calls == []


def test_response_attributes_of_a_tool_call() -> None:
    response = models.ChatCompletionResponse.model_validate(
        {
            "id": "cmpl-9",
            "object": "chat.completion",
            "model": "mistral-large-latest",
            "created": 1,
            "usage": {"prompt_tokens": 10, "completion_tokens": 3, "total_tokens": 13},
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "tool_calls",
                    "message": {"role": "assistant", "content": "", "tool_calls": [CALL]},
                }
            ],
        }
    )
    attrs, i, o, model = extract.chat_response_attributes(response)
    assert (i, o, model) == (10, 3, "mistral-large-latest")
    assert attrs == {
        "gen_ai.response.id": "cmpl-9",
        "gen_ai.response.model": "mistral-large-latest",
        "gen_ai.response.finish_reasons": ["tool_calls"],
        "agentotel.response.tool_calls.names": ["get_weather"],
        "agentotel.response.tool_calls.ids": ["abc123XYZ"],
        "gen_ai.usage.input_tokens": 10,
        "gen_ai.usage.output_tokens": 3,
    }
    assert content.chat_output_messages(response) == [
        {
            "role": "assistant",
            "parts": [
                {
                    "type": "tool_call",
                    "id": "abc123XYZ",
                    "name": "get_weather",
                    "arguments": '{"city": "Paris"}',
                }
            ],
            "finish_reason": "tool_calls",
        }
    ]


def test_input_messages_of_every_shape() -> None:
    messages: list[Any] = [
        models.SystemMessage(content="sys"),
        {
            "role": "user",
            "content": [{"type": "text", "text": "a"}, {"type": "image_url", "image_url": "http://i"}],
        },
        models.AssistantMessage(content=UNSET, tool_calls=[models.ToolCall.model_validate(CALL)]),
        models.ToolMessage(tool_call_id="abc123XYZ", name="get_weather", content="sunny"),
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "d", "function": {"name": "f", "arguments": {"x": 1}}}],
        },
    ]
    assert content.input_messages(messages) == [
        {"role": "system", "parts": [{"type": "text", "content": "sys"}]},
        {
            "role": "user",
            "parts": [
                {"type": "text", "content": "a"},
                {"type": "image_url", "content": {"type": "image_url", "image_url": "http://i"}},
            ],
        },
        {
            "role": "assistant",
            "parts": [
                {
                    "type": "tool_call",
                    "id": "abc123XYZ",
                    "name": "get_weather",
                    "arguments": '{"city": "Paris"}',
                }
            ],
        },
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "abc123XYZ", "response": "sunny"}]},
        {
            "role": "assistant",
            "parts": [{"type": "tool_call", "id": "d", "name": "f", "arguments": {"x": 1}}],
        },
    ]
    assert content.tool_results({"messages": messages[:4]}) == [("abc123XYZ", False)]
    assert content.tool_results({"messages": messages}) == []  # answered: the last is the assistant's


def test_accumulator_text_tool_call_and_usage() -> None:
    acc = ChatStreamAccumulator(True)
    for event in (
        chunk({"role": "assistant", "content": ""}),
        chunk({"content": "Hel"}),
        chunk({"content": [{"type": "text", "text": "lo"}]}),
        chunk({"tool_calls": [CALL]}),
        chunk({"content": ""}, "tool_calls", {"prompt_tokens": 4, "completion_tokens": 5, "total_tokens": 9}),
    ):
        acc.process(event)
    attrs, i, o, model = acc.outcome()
    assert (i, o, model) == (4, 5, "mistral-small-latest")
    assert attrs == {
        "gen_ai.response.id": "cmpl-1",
        "gen_ai.response.model": "mistral-small-latest",
        "gen_ai.response.finish_reasons": ["tool_calls"],
        "agentotel.response.tool_calls.names": ["get_weather"],
        "agentotel.response.tool_calls.ids": ["abc123XYZ"],
        "gen_ai.usage.input_tokens": 4,
        "gen_ai.usage.output_tokens": 5,
    }
    assert acc.output_messages() == [
        {
            "role": "assistant",
            "parts": [
                {"type": "text", "content": "Hello"},
                {
                    "type": "tool_call",
                    "id": "abc123XYZ",
                    "name": "get_weather",
                    "arguments": '{"city": "Paris"}',
                },
            ],
            "finish_reason": "tool_calls",
        }
    ]


def test_accumulator_without_capture_keeps_no_text() -> None:
    acc = ChatStreamAccumulator(False)
    acc.process(chunk({"content": "secret"}))
    acc.process(chunk({"content": ""}, "stop"))
    attrs, i, o, _ = acc.outcome()
    assert (i, o) == (None, None)
    assert attrs["gen_ai.response.finish_reasons"] == ["stop"]
    assert acc.output_messages() == []


def test_accumulator_of_nothing() -> None:
    assert ChatStreamAccumulator(False).outcome() == ({}, None, None, None)


def test_embeddings_response_attributes() -> None:
    result = SimpleNamespace(
        model="mistral-embed",
        data=[SimpleNamespace(embedding=[0.1, 0.2, 0.3])],
        usage=SimpleNamespace(prompt_tokens=7),
    )
    assert extract.embeddings_response_attributes(result) == (
        {
            "gen_ai.response.model": "mistral-embed",
            "gen_ai.embeddings.dimension.count": 3,
            "gen_ai.usage.input_tokens": 7,
        },
        7,
        None,
        "mistral-embed",
    )


class _Reads:
    """One of the SDK's models behind a proxy that lists the attributes read on it (and on the
    models and lists of models it gives)."""

    def __init__(self, model: Any, reads: list[str]) -> None:
        self._model = model
        self._reads = reads

    def __getattr__(self, name: str) -> Any:
        self._reads.append(name)
        return _wrap(getattr(self._model, name), self._reads)


def _wrap(value: Any, reads: list[str]) -> Any:
    if isinstance(value, list):
        return [_wrap(v, reads) for v in value]
    return (
        _Reads(value, reads)
        if isinstance(
            value,
            models.CompletionChunk
            | models.CompletionResponseStreamChoice
            | models.DeltaMessage
            | models.CompletionEvent,
        )
        else value
    )


def test_accumulator_reads_five_attributes_of_a_text_event() -> None:
    """Every attribute read on the SDK's pydantic models takes CPython's slow path (their class
    defines ``__getattr__``): a plain text event, the most of a stream, is read for its choices'
    tool calls and finish reasons only; the id, model and usage come from the last event."""
    acc = ChatStreamAccumulator(False)
    reads: list[str] = []
    acc.process(_wrap(chunk({"role": "assistant", "content": ""}), reads))
    assert reads == ["data", "choices", "delta", "tool_calls", "finish_reason"]
    reads.clear()
    acc.process(_wrap(chunk({"content": "Hel"}), reads))
    assert reads == ["data", "choices", "delta", "tool_calls", "finish_reason"]
    acc.process(
        chunk({"content": ""}, "stop", {"prompt_tokens": 4, "completion_tokens": 5, "total_tokens": 9})
    )
    assert acc.outcome() == (
        {
            "gen_ai.response.id": "cmpl-1",
            "gen_ai.response.model": "mistral-small-latest",
            "gen_ai.response.finish_reasons": ["stop"],
            "gen_ai.usage.input_tokens": 4,
            "gen_ai.usage.output_tokens": 5,
        },
        4,
        5,
        "mistral-small-latest",
    )


def test_accumulator_usage_of_a_last_event_without_choices() -> None:
    """Usage on a last event of its own (no choices) is the stream's usage."""
    acc = ChatStreamAccumulator(False)
    acc.process(chunk({"content": "Hi"}))
    acc.process(chunk({"content": ""}, "stop"))
    acc.process(
        models.CompletionEvent.model_validate(
            {
                "data": {
                    "id": "cmpl-1",
                    "model": "mistral-small-latest",
                    "choices": [],
                    "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
                }
            }
        )
    )
    attrs, i, o, _ = acc.outcome()
    assert (i, o, attrs["gen_ai.response.finish_reasons"]) == (3, 2, ["stop"])


def test_one_plain_choice() -> None:
    """Only a request that offers no tools and asks for one choice is read from its last events."""
    assert extract.one_plain_choice({"model": "m", "messages": []}) is True
    assert extract.one_plain_choice({"tools": None, "n": None}) is True
    assert extract.one_plain_choice({"tools": [], "n": 1}) is True
    assert extract.one_plain_choice({"tools": ()}) is True
    assert extract.one_plain_choice({"tools": [{"type": "function"}]}) is False
    assert extract.one_plain_choice({"tools": iter([])}) is False  # not looked into: the app's
    assert extract.one_plain_choice({"tools": UNSET}) is False
    assert extract.one_plain_choice({"n": 2}) is False
    assert extract.one_plain_choice({"n": UNSET}) is False
    assert extract.one_plain_choice({"n": True}) is False


USAGE = {"prompt_tokens": 4, "completion_tokens": 5, "total_tokens": 9}


def _both(events: list[Any]) -> tuple[Any, Any]:
    full, last = ChatStreamAccumulator(False), LastEventsAccumulator(False)
    for event in events:
        full.process(event)
        last.process(event)
    return full.outcome(), last.outcome()


def test_last_events_read_as_every_event_is() -> None:
    """A plain stream's outcome from its last two events is the one every event gives."""
    text = [chunk({"role": "assistant", "content": ""})] + [chunk({"content": w}) for w in "abcdef"]
    usage_event = models.CompletionEvent.model_validate(
        {"data": {"id": "cmpl-1", "model": "mistral-small-latest", "choices": [], "usage": USAGE}}
    )
    shapes = {
        "finished": [*text, chunk({"content": ""}, "stop", USAGE)],
        "cut short": [*text, chunk({"content": "g"}, "length", USAGE)],
        "usage in an event of its own": [*text, chunk({"content": ""}, "stop"), usage_event],
        "left before the end": text,
        "one event": text[:1],
        "none": [],
    }
    for events in shapes.values():
        full, last = _both(events)
        assert last == full
    assert _both(shapes["usage in an event of its own"])[1] == (
        {
            "gen_ai.response.id": "cmpl-1",
            "gen_ai.response.model": "mistral-small-latest",
            "gen_ai.response.finish_reasons": ["stop"],
            "gen_ai.usage.input_tokens": 4,
            "gen_ai.usage.output_tokens": 5,
        },
        4,
        5,
        "mistral-small-latest",
    )


def test_last_events_accumulator_runs_no_python_per_event() -> None:
    """Its ``process`` is the window's C ``append``: no Python frame per event."""
    acc = LastEventsAccumulator(False)
    assert type(acc.process).__name__ == "builtin_function_or_method"
    assert acc.output_messages() == []
