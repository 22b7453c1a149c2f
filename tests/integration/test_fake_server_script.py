"""Scripted replies of the fake LLM server, in every wire format, through the real SDKs."""

from __future__ import annotations

import json
from typing import Any

import anthropic
import openai
import pytest
from helpers import CLAUDE, CLAUDE_TOOLS, GPT, QUESTION, REPLY, RESP_TOOLS, http_library, user

from agentotel.testing import FakeLLM, FakeLLMServer, Reply, ToolCall, fake_transport

ARGS = {"sku": "A-1", "qty": 2}
STOCK_SCHEMA = {
    "type": "object",
    "properties": {"sku": {"type": "string"}, "warehouse": {"enum": ["north", "south"]}},
    "required": ["sku", "warehouse"],
}
STOCK_TOOLS: Any = [{"type": "function", "function": {"name": "lookup_stock", "parameters": STOCK_SCHEMA}}]


# --------------------------------------------------------------------------- OpenAI chat


def test_chat_replies_in_script_order_then_the_default(
    own_fake_llm: FakeLLMServer, own_openai: openai.OpenAI
) -> None:
    own_fake_llm.script(
        [Reply.tool_call("lookup_stock", ARGS), Reply.text("Two in stock."), "Anything else?"]
    )
    assert own_fake_llm.pending_replies == 3
    first = own_openai.chat.completions.create(model=GPT, messages=user(QUESTION))
    [call] = first.choices[0].message.tool_calls or []
    assert (call.id, call.function.name, json.loads(call.function.arguments)) == (
        "call_1",
        "lookup_stock",
        ARGS,
    )
    assert first.choices[0].finish_reason == "tool_calls"
    assert first.usage is not None and first.usage.completion_tokens == 4  # '{"sku": "A-1", "qty": 2}'
    second = own_openai.chat.completions.create(model=GPT, messages=user(QUESTION))
    assert (second.choices[0].message.content, second.choices[0].finish_reason) == ("Two in stock.", "stop")
    assert second.usage is not None and second.usage.completion_tokens == 3
    third = own_openai.chat.completions.create(model=GPT, messages=user(QUESTION))
    assert third.choices[0].message.content == "Anything else?"
    assert own_fake_llm.pending_replies == 0
    fourth = own_openai.chat.completions.create(model=GPT, messages=user(QUESTION))
    assert fourth.choices[0].message.content == REPLY


def test_chat_stream_of_scripted_text_and_parallel_tool_calls(
    own_fake_llm: FakeLLMServer, own_openai: openai.OpenAI
) -> None:
    own_fake_llm.script(
        [
            Reply.text("Streamed,  exactly as  given."),
            Reply.tool_calls(ToolCall("lookup_stock", ARGS), ToolCall("get_weather", {"city": "Lyon"})),
        ]
    )
    with own_openai.chat.completions.stream(model=GPT, messages=user(QUESTION)) as stream:
        deltas = [e.delta for e in stream if e.type == "content.delta"]
        text = stream.get_final_completion()
    assert "".join(deltas) == text.choices[0].message.content == "Streamed,  exactly as  given."
    with own_openai.chat.completions.stream(model=GPT, messages=user(QUESTION)) as stream:
        final = stream.get_final_completion()
    calls = final.choices[0].message.tool_calls or []
    assert [(c.id, c.function.name, json.loads(c.function.arguments)) for c in calls] == [
        ("call_1", "lookup_stock", ARGS),
        ("call_2", "get_weather", {"city": "Lyon"}),
    ]
    assert final.choices[0].finish_reason == "tool_calls"


def test_a_tool_call_without_arguments_gets_them_from_the_tools_schema(
    own_fake_llm: FakeLLMServer, own_openai: openai.OpenAI
) -> None:
    own_fake_llm.script([Reply.tool_call("lookup_stock"), Reply.tool_call("not_offered")])
    r = own_openai.chat.completions.create(model=GPT, messages=user(QUESTION), tools=STOCK_TOOLS)
    [call] = r.choices[0].message.tool_calls or []
    assert json.loads(call.function.arguments) == {"sku": "sku", "warehouse": "north"}
    r = own_openai.chat.completions.create(model=GPT, messages=user(QUESTION), tools=STOCK_TOOLS)
    [call] = r.choices[0].message.tool_calls or []
    assert (call.function.name, call.function.arguments) == ("not_offered", "{}")


def test_scripted_errors(
    own_fake_llm: FakeLLMServer, own_openai: openai.OpenAI, own_anthropic: anthropic.Anthropic
) -> None:
    own_fake_llm.script([Reply.error("rate_limit"), Reply.error("server_error"), Reply.error("overloaded")])
    with pytest.raises(openai.RateLimitError):
        own_openai.chat.completions.create(model=GPT, messages=user(QUESTION))
    with pytest.raises(openai.InternalServerError) as failed:
        own_openai.responses.create(model=GPT, input=QUESTION)
    assert failed.value.status_code == 500
    with pytest.raises(anthropic.APIStatusError) as overloaded:
        own_anthropic.messages.create(model=CLAUDE, max_tokens=50, messages=user(QUESTION))
    assert overloaded.value.status_code == 529
    assert (
        own_openai.chat.completions.create(model=GPT, messages=user(QUESTION)).choices[0].message.content
        == REPLY
    )


def test_a_scripted_reply_wins_over_an_error_marker_and_other_markers_still_apply(
    own_fake_llm: FakeLLMServer, own_openai: openai.OpenAI
) -> None:
    own_fake_llm.script(["Fine."])
    r = own_openai.chat.completions.create(
        model=GPT, messages=user("[[scenario:rate_limit]] [[scenario:cached:2]] [[scenario:reasoning:3]]")
    )
    assert r.choices[0].message.content == "Fine."
    assert r.usage is not None and r.usage.prompt_tokens_details is not None
    assert (r.usage.prompt_tokens_details.cached_tokens, r.usage.completion_tokens) == (2, 1 + 3)


def test_embeddings_do_not_consume_the_script(own_fake_llm: FakeLLMServer, own_openai: openai.OpenAI) -> None:
    own_fake_llm.script(["Kept."])
    own_openai.embeddings.create(model="text-embedding-3-small", input="hello")
    assert own_fake_llm.pending_replies == 1
    assert (
        own_openai.chat.completions.create(model=GPT, messages=user(QUESTION)).choices[0].message.content
        == "Kept."
    )


# --------------------------------------------------------------------------- OpenAI responses


def test_responses_scripted_text_and_tool_calls(
    own_fake_llm: FakeLLMServer, own_openai: openai.OpenAI
) -> None:
    own_fake_llm.script(
        [
            Reply.tool_calls(ToolCall("lookup_stock", ARGS), ToolCall("get_weather")),
            Reply.text("Done."),
            Reply.tool_call("lookup_stock", ARGS),
            Reply.text("Streamed done."),
        ]
    )
    r = own_openai.responses.create(model=GPT, input=QUESTION, tools=RESP_TOOLS)
    assert [
        (i.type, i.call_id, i.name, json.loads(i.arguments)) for i in r.output if i.type == "function_call"
    ] == [
        ("function_call", "call_1", "lookup_stock", ARGS),
        ("function_call", "call_2", "get_weather", {"city": "Paris"}),  # from RESP_TOOLS' schema
    ]
    assert len(r.output) == 2
    assert own_openai.responses.create(model=GPT, input=QUESTION).output_text == "Done."
    with own_openai.responses.stream(model=GPT, input=QUESTION) as stream:
        final = stream.get_final_response()
    [item] = final.output
    assert item.type == "function_call" and json.loads(item.arguments) == ARGS
    with own_openai.responses.stream(model=GPT, input=QUESTION) as stream:
        deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(deltas) == final.output_text == "Streamed done."


# --------------------------------------------------------------------------- Anthropic messages


def test_anthropic_scripted_text_and_tool_use(
    own_fake_llm: FakeLLMServer, own_anthropic: anthropic.Anthropic
) -> None:
    own_fake_llm.script(
        [
            Reply.tool_calls(ToolCall("lookup_stock", ARGS), ToolCall("get_weather")),
            Reply.text("Two in stock."),
            Reply.tool_call("lookup_stock", ARGS),
            Reply.text("Streamed: two in stock."),
        ]
    )
    r = own_anthropic.messages.create(
        model=CLAUDE, max_tokens=50, messages=user(QUESTION), tools=CLAUDE_TOOLS
    )
    assert [(b.type, b.id, b.name, b.input) for b in r.content if b.type == "tool_use"] == [
        ("tool_use", "toolu_1", "lookup_stock", ARGS),
        ("tool_use", "toolu_2", "get_weather", {"city": "Paris"}),
    ]
    assert (len(r.content), r.stop_reason) == (2, "tool_use")
    r = own_anthropic.messages.create(model=CLAUDE, max_tokens=50, messages=user(QUESTION))
    assert [b.text for b in r.content if b.type == "text"] == ["Two in stock."]
    assert r.usage.output_tokens == 3
    with own_anthropic.messages.stream(model=CLAUDE, max_tokens=50, messages=user(QUESTION)) as stream:
        final = stream.get_final_message()
    [block] = final.content
    assert block.type == "tool_use" and block.input == ARGS
    with own_anthropic.messages.stream(model=CLAUDE, max_tokens=50, messages=user(QUESTION)) as stream:
        text = "".join(stream.text_stream)
    assert text == "Streamed: two in stock."


# --------------------------------------------------------------------------- setting a script


def test_script_by_constructor_appends_and_reset_clears() -> None:
    with FakeLLMServer(script=["one"]) as server:
        server.script([Reply.text("two")])
        with openai.OpenAI(base_url=server.openai_base_url, api_key="sk-test", max_retries=0) as oai:
            got = [oai.chat.completions.create(model=GPT, messages=user(QUESTION)) for _ in range(2)]
        assert [r.choices[0].message.content for r in got] == ["one", "two"]
        server.script(["three"])
        server.state.reset()
        assert server.pending_replies == 0


def test_fake_transport_takes_a_script() -> None:
    state = FakeLLM(script=[Reply.tool_call("lookup_stock", ARGS)])
    oai = openai.OpenAI(
        base_url="http://fake/v1",
        api_key="sk-test",
        max_retries=0,
        http_client=http_library(openai).Client(transport=fake_transport(state)),
    )
    r = oai.chat.completions.create(model=GPT, messages=user(QUESTION))
    [call] = r.choices[0].message.tool_calls or []
    assert json.loads(call.function.arguments) == ARGS
    transport = fake_transport(script=["From the transport."])
    oai = openai.OpenAI(
        base_url="http://fake/v1",
        api_key="sk-test",
        max_retries=0,
        http_client=http_library(openai).Client(transport=transport),
    )
    assert oai.chat.completions.create(model=GPT, messages=user(QUESTION)).choices[0].message.content == (
        "From the transport."
    )


ERROR_KINDS = "'rate_limit', 'server_error', 'overloaded', 'bad_request'"


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: Reply.error("teapot"), ValueError, f"Reply.error: 'teapot' is not one of {ERROR_KINDS}"),
        (lambda: Reply.tool_call(""), ValueError, "ToolCall.name: expected a non-empty string, got ''"),
        (
            lambda: Reply.tool_call("f", ["x"]),
            TypeError,
            "ToolCall.arguments: expected a JSON object (a dict) or None, got ['x']",
        ),
        (
            lambda: Reply.tool_call("f", {"at": object}),
            TypeError,
            "ToolCall.arguments: not JSON-serializable",
        ),
        (lambda: Reply.tool_calls(), ValueError, "Reply.tool_calls: expected at least one ToolCall"),
        (lambda: Reply.text(3), TypeError, "Reply.text: expected a string, got 3"),
        (lambda: FakeLLM(script=[3]), TypeError, "script[0]: expected a Reply or a string, got 3"),
    ],
)
def test_bad_script_entries_are_named(make: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error) as raised:
        make()
    assert str(raised.value).startswith(message)
