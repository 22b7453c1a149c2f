"""Bedrock instrumentor: the tool loop (inferred ``execute_tool`` spans from ``toolUse`` /
``toolResult`` blocks), content capture off by default and on, and the credentials that never
appear in anything recorded."""

from __future__ import annotations

import gc
import json
import logging
import threading
import weakref
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
from bedrock_helpers import (
    ACCESS_KEY,
    CLAUDE,
    LLAMA,
    NOVA,
    SECRET_KEY,
    SESSION_TOKEN,
    WEATHER_TOOL,
    anthropic_body,
    make_client,
    said,
)
from botocore.config import Config
from botocore.credentials import RefreshableCredentials
from botocore.exceptions import ClientError
from helpers import REPLY, attrs_of, instrumented
from opentelemetry.trace import StatusCode

from agentotel.instrumentation.bedrock import BedrockInstrumentor
from agentotel.processors import AuditSpanProcessor, RunStoreSpanProcessor
from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture

CAPTURE = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
QUESTION = "What is the weather in Paris?"
TOOL_CONFIG = {"tools": [WEATHER_TOOL]}
CONTENT_KEYS = (
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "gen_ai.system_instructions",
    "gen_ai.tool.definitions",
)


def _names(cap: TelemetryCapture) -> list[str]:
    return [s.name for s in cap.spans()]


def _tool_loop(client: Any, *, stream: bool, error: bool = False) -> None:
    """Ask, get a toolUse, send its toolResult back (as the app's tool loop does)."""
    messages = said(QUESTION)
    if stream:
        events = list(
            client.converse_stream(modelId=NOVA, messages=messages, toolConfig=TOOL_CONFIG)["stream"]
        )
        start = next(e["contentBlockStart"]["start"]["toolUse"] for e in events if "contentBlockStart" in e)
        use = {"toolUseId": start["toolUseId"], "name": start["name"], "input": {"city": "Paris"}}
    else:
        reply = client.converse(modelId=NOVA, messages=messages, toolConfig=TOOL_CONFIG)
        use = reply["output"]["message"]["content"][0]["toolUse"]
    result: dict[str, Any] = {"toolUseId": use["toolUseId"], "content": [{"text": "Sunny, 21 C"}]}
    if error:
        result["status"] = "error"
    messages += [
        {"role": "assistant", "content": [{"toolUse": use}]},
        {"role": "user", "content": [{"toolResult": result}]},
    ]
    client.converse(modelId=NOVA, messages=messages, toolConfig=TOOL_CONFIG)


@pytest.mark.parametrize("stream", [False, True], ids=["converse", "converse_stream"])
def test_tool_loop_makes_an_inferred_tool_span(
    bedrock_instrumented: TelemetryCapture, bedrock: Any, fresh_fake_llm: FakeLLMServer, stream: bool
) -> None:
    _tool_loop(bedrock, stream=stream)

    assert _names(bedrock_instrumented) == [f"chat {NOVA}", "execute_tool get_weather", f"chat {NOVA}"]
    first, tool, second = bedrock_instrumented.spans()
    assert attrs_of(tool) == {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "get_weather",
        "gen_ai.tool.call.id": "tooluse_1",
        "gen_ai.tool.type": "function",
        "agentotel.tool.inferred": True,
    }
    assert tool.context.trace_id == first.context.trace_id or tool.parent is None
    assert attrs_of(second)["gen_ai.response.finish_reasons"] == ("end_turn",)
    assert len(fresh_fake_llm.requests) == 2


def test_tool_result_with_error_status(bedrock_instrumented: TelemetryCapture, bedrock: Any) -> None:
    _tool_loop(bedrock, stream=False, error=True)

    tool = bedrock_instrumented.spans()[1]
    assert tool.status.status_code is StatusCode.ERROR
    assert attrs_of(tool)["error.type"] == "tool_error"


def test_invoke_model_anthropic_tool_loop(bedrock_instrumented: TelemetryCapture, bedrock: Any) -> None:
    tools = [{"name": "get_weather", "input_schema": WEATHER_TOOL["toolSpec"]["inputSchema"]["json"]}]
    first = json.loads(
        bedrock.invoke_model(modelId=CLAUDE, body=anthropic_body(QUESTION, tools=tools))["body"].read()
    )
    use = first["content"][0]
    messages = [
        {"role": "user", "content": QUESTION},
        {"role": "assistant", "content": [use]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use["id"], "content": "Sunny"}]},
    ]
    body = json.dumps(
        {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 100, "messages": messages, "tools": tools}
    )
    bedrock.invoke_model(modelId=CLAUDE, body=body)

    assert _names(bedrock_instrumented) == [f"chat {CLAUDE}", "execute_tool get_weather", f"chat {CLAUDE}"]
    assert attrs_of(bedrock_instrumented.spans()[0])["agentotel.response.tool_calls.ids"] == ("toolu_1",)
    assert attrs_of(bedrock_instrumented.spans()[1])["gen_ai.tool.call.id"] == "toolu_1"


# --- content capture -------------------------------------------------------------------------------
def test_content_is_off_by_default(bedrock_instrumented: TelemetryCapture, bedrock: Any) -> None:
    bedrock.converse(
        modelId=NOVA, messages=said(QUESTION), system=[{"text": "Be brief."}], toolConfig=TOOL_CONFIG
    )
    list(bedrock.converse_stream(modelId=NOVA, messages=said(QUESTION))["stream"])
    bedrock.invoke_model(modelId=LLAMA, body=json.dumps({"prompt": QUESTION}))

    for span in bedrock_instrumented.spans():
        assert not set(CONTENT_KEYS) & set(attrs_of(span)), span.name
        assert QUESTION not in json.dumps(attrs_of(span), default=str)
    assert bedrock_instrumented.logs() == []


def _content(span: Any) -> dict[str, Any]:
    return {k: json.loads(v) for k, v in attrs_of(span).items() if k in CONTENT_KEYS}


def test_converse_content_on_the_span(
    cap: TelemetryCapture, bedrock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CAPTURE, "SPAN_ONLY")
    with instrumented(cap, BedrockInstrumentor):
        bedrock.converse(modelId=NOVA, messages=said(QUESTION), system=[{"text": "Be brief."}])

    [span] = cap.spans()
    assert _content(span) == {
        "gen_ai.system_instructions": [{"type": "text", "content": "Be brief."}],
        "gen_ai.input.messages": [{"role": "user", "parts": [{"type": "text", "content": QUESTION}]}],
        "gen_ai.output.messages": [
            {"role": "assistant", "parts": [{"type": "text", "content": REPLY}], "finish_reason": "end_turn"}
        ],
    }


def test_converse_stream_tool_call_content(
    cap: TelemetryCapture, bedrock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CAPTURE, "SPAN_ONLY")
    with instrumented(cap, BedrockInstrumentor):
        list(bedrock.converse_stream(modelId=NOVA, messages=said(QUESTION), toolConfig=TOOL_CONFIG)["stream"])

    [span] = cap.spans()
    content = _content(span)
    assert content["gen_ai.output.messages"] == [
        {
            "role": "assistant",
            "parts": [
                {
                    "type": "tool_call",
                    "id": "tooluse_1",
                    "name": "get_weather",
                    "arguments": {"city": "Paris"},
                }
            ],
            "finish_reason": "tool_use",
        }
    ]
    assert content["gen_ai.tool.definitions"] == [WEATHER_TOOL]


@pytest.mark.parametrize(
    ("model", "body", "output"),
    [
        pytest.param(CLAUDE, anthropic_body(QUESTION), [{"type": "text", "content": REPLY}], id="anthropic"),
        pytest.param(
            NOVA,
            json.dumps({"schemaVersion": "messages-v1", "messages": said(QUESTION)}),
            [{"type": "text", "content": REPLY}],
            id="nova",
        ),
        pytest.param(
            LLAMA, json.dumps({"prompt": QUESTION}), [{"type": "text", "content": REPLY}], id="llama"
        ),
    ],
)
@pytest.mark.parametrize("stream", [False, True], ids=["invoke", "invoke_stream"])
def test_invoke_content_on_the_span(
    cap: TelemetryCapture,
    bedrock: Any,
    monkeypatch: pytest.MonkeyPatch,
    model: str,
    body: str,
    output: list[dict[str, Any]],
    stream: bool,
) -> None:
    monkeypatch.setenv(CAPTURE, "SPAN_ONLY")
    with instrumented(cap, BedrockInstrumentor):
        if stream:
            list(bedrock.invoke_model_with_response_stream(modelId=model, body=body)["body"])
        else:
            bedrock.invoke_model(modelId=model, body=body)["body"].read()

    content = _content(cap.spans()[0])
    assert content["gen_ai.input.messages"] == [
        {"role": "user", "parts": [{"type": "text", "content": QUESTION}]}
    ]
    [message] = content["gen_ai.output.messages"]
    assert message["parts"] == output


# --- credentials -----------------------------------------------------------------------------------
def test_credentials_never_recorded(
    cap: TelemetryCapture, bedrock: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(CAPTURE, "SPAN_AND_EVENT")
    caplog.set_level(logging.DEBUG, logger="agentotel")
    with instrumented(cap, BedrockInstrumentor):
        # The prompt repeats the secrets, as a leaked one would be.
        leak = f"{QUESTION} {SECRET_KEY} {SESSION_TOKEN}"
        bedrock.converse(modelId=NOVA, messages=said(leak), toolConfig=TOOL_CONFIG)
        list(bedrock.converse_stream(modelId=NOVA, messages=said(leak))["stream"])
        bedrock.invoke_model(modelId=CLAUDE, body=anthropic_body(leak))
        with pytest.raises(bedrock.exceptions.ThrottlingException):
            bedrock.converse(modelId=NOVA, messages=said(f"{leak} [[scenario:rate_limit]]"))

    assert len(cap.spans()) == 4
    recorded = (
        json.dumps(
            [[dict(s.attributes or {}), [dict(e.attributes or {}) for e in s.events]] for s in cap.spans()]
            + [dict(r.attributes or {}) for r in cap.logs()]
            + [
                dict(p.attributes)
                for name in ("gen_ai.client.operation.duration", "gen_ai.client.token.usage")
                for p in cap.metric_points(name)
            ],
            default=str,
        )
        + caplog.text
    )
    assert QUESTION in recorded  # content capture is on
    for secret in (
        SECRET_KEY,
        SESSION_TOKEN,
        ACCESS_KEY,
        "AWS4-HMAC-SHA256",
        "X-Amz-Security-Token",
        "Signature=",
    ):
        assert secret not in recorded, secret


def _refreshing_client(server: FakeLLMServer, refreshed: list[dict[str, str]]) -> Any:
    """A client whose credentials expired: botocore refreshes them when it signs the first request,
    to the next of ``refreshed`` (as an assumed role's or an SSO session's credentials do)."""

    def refresh() -> dict[str, str]:
        ahead = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
        return {**refreshed.pop(0), "expiry_time": ahead}

    session = botocore.session.get_session()
    session._credentials = RefreshableCredentials.create_from_metadata(
        {
            "access_key": ACCESS_KEY,
            "secret_key": SECRET_KEY,
            "token": SESSION_TOKEN,
            "expiry_time": (datetime.now(timezone.utc) - timedelta(minutes=1)).isoformat(),
        },
        refresh_using=refresh,
        method="test-refresh",
    )
    return boto3.Session(botocore_session=session).client(
        "bedrock-runtime",
        region_name="us-east-1",
        endpoint_url=server.base_url,
        config=Config(retries={"max_attempts": 1}),
    )


def test_refreshed_credentials_are_never_recorded(
    cap: TelemetryCapture, fresh_fake_llm: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Credentials that change under a client (a refresh) are redacted from its next call on: the
    instrumentor reads them again when they change, never only once per client."""
    secret, token = "fakeRefreshedSecret0123456789NEWabcdefgh", "fakeRefreshedToken0123456789NEWxyz"
    monkeypatch.setenv(CAPTURE, "SPAN_AND_EVENT")
    client = _refreshing_client(
        fresh_fake_llm, [{"access_key": ACCESS_KEY, "secret_key": secret, "token": token}]
    )
    with instrumented(cap, BedrockInstrumentor):
        client.converse(modelId=NOVA, messages=said(QUESTION))  # signed with the refreshed ones
        client.converse(modelId=NOVA, messages=said(f"{QUESTION} {secret} {token}"))

    [_, second] = cap.spans()
    recorded = json.dumps(dict(second.attributes or {}), default=str)
    assert QUESTION in recorded  # content capture is on
    assert "[REDACTED]" in recorded
    for leaked in (secret, token):
        assert leaked not in recorded, leaked


def test_a_client_gone_leaves_nothing_of_its_credentials_behind(
    cap: TelemetryCapture, fresh_fake_llm: FakeLLMServer
) -> None:
    with instrumented(cap, BedrockInstrumentor):
        client = make_client(fresh_fake_llm)
        client.converse(modelId=NOVA, messages=said(QUESTION))
        credentials = weakref.ref(client._request_signer._credentials)
        del client
        gc.collect()

        assert credentials() is None
    assert len(cap.spans()) == 1


class _Echo(BaseHTTPRequestHandler):
    """An endpoint refusing every request with a message that repeats the client's secrets."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        body = json.dumps({"message": f"invalid token {SESSION_TOKEN} for key {SECRET_KEY}"}).encode()
        self.send_response(403)
        self.send_header("x-amzn-ErrorType", "UnrecognizedClientException:http://internal.amazon.com/coral/")
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def echo_endpoint() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_credentials_never_reach_the_audit_log_or_the_run_store(
    agent_layer: TelemetryCapture,
    bedrock: Any,
    echo_endpoint: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cap = agent_layer
    monkeypatch.setenv(CAPTURE, "SPAN_AND_EVENT")
    audit = AuditSpanProcessor(tmp_path / "audit.jsonl", llm_calls=True, meter_provider=cap.meter_provider)
    store = RunStoreSpanProcessor(tmp_path / "runs", meter_provider=cap.meter_provider)
    cap.tracer_provider.add_span_processor(audit)
    cap.tracer_provider.add_span_processor(store)
    refusing = boto3.session.Session().client(
        "bedrock-runtime",
        region_name="us-east-1",
        endpoint_url=echo_endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        aws_session_token=SESSION_TOKEN,
        config=Config(retries={"max_attempts": 1}),
    )
    try:
        with instrumented(cap, BedrockInstrumentor):
            bedrock.converse(modelId=NOVA, messages=said(f"{QUESTION} {SECRET_KEY}"))
            with pytest.raises(ClientError) as info:
                refusing.converse(modelId=NOVA, messages=said(QUESTION))
        audit.force_flush()
        store.force_flush()
        texts = {
            "spans": "\n".join(s.to_json() for s in cap.spans()),
            "logs": "\n".join(r.to_json() for r in cap.log_exporter.get_finished_logs()),
            "audit": (tmp_path / "audit.jsonl").read_text(),
            "runs": "\n".join(p.read_text() for p in sorted((tmp_path / "runs").rglob("*")) if p.is_file()),
        }
    finally:
        audit.shutdown()
        store.shutdown()

    assert SESSION_TOKEN in str(info.value)  # the app's own exception is untouched
    assert [s.name for s in cap.spans()] == [f"chat {NOVA}"] * 2
    assert attrs_of(cap.spans()[1])["error.type"] == "botocore.exceptions.ClientError"
    assert texts["audit"].count("\n") == 2
    for sink, text in texts.items():
        assert text, sink
        for secret in (SECRET_KEY, SESSION_TOKEN, ACCESS_KEY, "AWS4-HMAC-SHA256", "Signature="):
            assert secret not in text, f"{secret} leaked into {sink}"
