"""Bedrock instrumentor, calls that do not stream: ``converse`` and ``invoke_model`` (Anthropic,
Nova, Llama and an unknown family), errors and retries, and every other AWS call left alone,
driving real botocore against the fake server over HTTP."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import botocore.client
import pytest
import wrapt
from bedrock_helpers import (
    CLAUDE,
    LLAMA,
    NOVA,
    OTHER,
    anthropic_body,
    converse_usage,
    make_client,
    nova_pro_cost,
    request_attrs,
    requires_converse_cache,
    said,
)
from botocore.exceptions import ClientError
from botocore.model import OperationNotFoundError
from helpers import DURATION, REPLY, attrs_of, instrumented, only_span, token_sums
from opentelemetry.trace import SpanKind, StatusCode

from agentotel.instrumentation.bedrock import BedrockInstrumentor
from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture

QUESTION = "What is the weather in Paris?"  # 6 tokens


def usage(i: int, o: int, *, cache: bool = True) -> dict[str, Any]:
    found: dict[str, Any] = {"gen_ai.usage.input_tokens": i, "gen_ai.usage.output_tokens": o}
    if cache:
        found |= {"gen_ai.usage.cache_read.input_tokens": 0, "gen_ai.usage.cache_creation.input_tokens": 0}
    return found


# --- converse --------------------------------------------------------------------------------------
def test_converse_makes_one_client_span_with_usage_and_stop_reason(
    bedrock_instrumented: TelemetryCapture, bedrock: Any, fresh_fake_llm: FakeLLMServer
) -> None:
    response = bedrock.converse(
        modelId=CLAUDE,
        messages=said(QUESTION),
        inferenceConfig={"maxTokens": 50, "temperature": 0.5, "topP": 0.9, "stopSequences": ["END"]},
    )

    assert response["output"]["message"]["content"] == [{"text": REPLY}]
    span = only_span(bedrock_instrumented)
    assert span.name == f"chat {CLAUDE}"
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    assert attrs_of(span) == {
        **request_attrs(
            fresh_fake_llm,
            CLAUDE,
            **{
                "gen_ai.request.max_tokens": 50,
                "gen_ai.request.temperature": 0.5,
                "gen_ai.request.top_p": 0.9,
                "gen_ai.request.stop_sequences": ("END",),
            },
        ),
        "gen_ai.response.finish_reasons": ("end_turn",),
        **converse_usage(6, 6),
    }
    assert token_sums(bedrock_instrumented) == {"input": 6, "output": 6}
    assert bedrock_instrumented.metric_count(DURATION, {"gen_ai.provider.name": "aws.bedrock"}) == 1
    assert [r.path for r in fresh_fake_llm.requests] == [
        "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse"
    ]


@requires_converse_cache
def test_converse_input_tokens_include_the_cache(
    bedrock_instrumented: TelemetryCapture, bedrock: Any
) -> None:
    bedrock.converse(
        modelId=NOVA, messages=said(f"{QUESTION} [[scenario:cached:2]] [[scenario:cache_write:1]]")
    )

    attrs = attrs_of(only_span(bedrock_instrumented))
    # 8 prompt tokens (the two markers are words too): inputTokens 5, 2 read, 1 written.
    assert {k: v for k, v in attrs.items() if k.startswith("gen_ai.usage")} == {
        "gen_ai.usage.input_tokens": 8,
        "gen_ai.usage.cache_read.input_tokens": 2,
        "gen_ai.usage.cache_creation.input_tokens": 1,
        "gen_ai.usage.output_tokens": 6,
    }


# --- invoke_model ----------------------------------------------------------------------------------
INVOKES = [
    pytest.param(
        CLAUDE,
        anthropic_body(QUESTION, temperature=0.2),
        {
            "gen_ai.request.max_tokens": 100,
            "gen_ai.request.temperature": 0.2,
            "gen_ai.response.id": "msg_1",
            "gen_ai.response.model": "claude-3-5-sonnet-20240620-v1:0",
            "gen_ai.response.finish_reasons": ("end_turn",),
            **usage(6, 6),
        },
        id="anthropic",
    ),
    pytest.param(
        NOVA,
        json.dumps(
            {
                "schemaVersion": "messages-v1",
                "messages": said(QUESTION),
                "inferenceConfig": {"max_new_tokens": 40, "topP": 0.5},
            }
        ),
        {
            "gen_ai.request.max_tokens": 40,
            "gen_ai.request.top_p": 0.5,
            "gen_ai.response.finish_reasons": ("end_turn",),
            **usage(6, 6),
            **nova_pro_cost(6, 6),
        },
        id="nova",
    ),
    pytest.param(
        LLAMA,
        json.dumps({"prompt": QUESTION, "max_gen_len": 3, "temperature": 0.1}),
        {
            "gen_ai.request.max_tokens": 3,
            "gen_ai.request.temperature": 0.1,
            "gen_ai.response.finish_reasons": ("length",),
            **usage(6, 3, cache=False),
        },
        id="llama",
    ),
    # A family we do not read: the request attributes, and the tokens of Bedrock's headers.
    pytest.param(OTHER, json.dumps({"inputText": QUESTION}), usage(6, 6, cache=False), id="unknown-family"),
]


@pytest.mark.parametrize(("model", "body", "expected"), INVOKES)
def test_invoke_model_reads_each_family_and_leaves_the_body_to_the_app(
    cap: TelemetryCapture,
    bedrock: Any,
    fresh_fake_llm: FakeLLMServer,
    model: str,
    body: str,
    expected: dict[str, Any],
) -> None:
    plain = bedrock.invoke_model(modelId=model, body=body)["body"].read()
    fresh_fake_llm.state.reset()
    with instrumented(cap, BedrockInstrumentor):
        response = bedrock.invoke_model(modelId=model, body=body)

    assert response["body"].read() == plain
    span = only_span(cap)
    assert span.name == f"chat {model}"
    assert attrs_of(span) == {**request_attrs(fresh_fake_llm, model), **expected}


def test_invoke_model_body_can_be_streamed_by_the_app(
    bedrock_instrumented: TelemetryCapture, bedrock: Any
) -> None:
    response = bedrock.invoke_model(modelId=LLAMA, body=json.dumps({"prompt": QUESTION}))

    assert (
        b"".join(response["body"].iter_chunks(chunk_size=7))
        == json.dumps(
            {
                "generation": REPLY,
                "prompt_token_count": 6,
                "generation_token_count": 6,
                "stop_reason": "stop",
            },
            separators=(",", ":"),
        ).encode()
    )


def test_invoke_model_with_a_file_body_is_sent_whole(
    bedrock_instrumented: TelemetryCapture, bedrock: Any, fresh_fake_llm: FakeLLMServer, tmp_path: Any
) -> None:
    path = tmp_path / "body.json"
    path.write_text(anthropic_body(QUESTION))
    with path.open("rb") as body:
        bedrock.invoke_model(modelId=CLAUDE, body=body)

    assert fresh_fake_llm.requests[0].body["messages"] == [{"role": "user", "content": QUESTION}]
    # The file is never read by us: the request attributes are the ones the model id gives.
    assert attrs_of(only_span(bedrock_instrumented))["gen_ai.request.model"] == CLAUDE
    assert "gen_ai.request.max_tokens" not in attrs_of(only_span(bedrock_instrumented))


# --- errors ----------------------------------------------------------------------------------------
ERRORS = [
    pytest.param("rate_limit", "ThrottlingException", 429, id="throttling"),
    pytest.param("bad_request", "ValidationException", 400, id="validation"),
    pytest.param("server_error", "InternalServerException", 500, id="internal"),
    pytest.param("overloaded", "ServiceUnavailableException", 503, id="unavailable"),
]


@pytest.mark.parametrize(("scenario", "code", "status"), ERRORS)
def test_error_ends_the_span_with_the_class_the_app_sees(
    bedrock_instrumented: TelemetryCapture, bedrock: Any, scenario: str, code: str, status: int
) -> None:
    with pytest.raises(ClientError) as info:
        bedrock.converse(modelId=CLAUDE, messages=said(f"[[scenario:{scenario}]]"))

    exc = info.value
    # A code the installed botocore does not model (ServiceUnavailableException before 1.34.149)
    # raises botocore's ClientError itself.
    cls = bedrock.exceptions.from_code(code)
    expected = "botocore.exceptions.ClientError" if cls is ClientError else f"botocore.errorfactory.{code}"
    assert type(exc) is cls
    assert exc.response["Error"]["Code"] == code
    assert exc.response["ResponseMetadata"]["HTTPStatusCode"] == status
    span = only_span(bedrock_instrumented)
    assert span.status.status_code is StatusCode.ERROR
    assert attrs_of(span)["error.type"] == expected
    assert [e.attributes["exception.type"] for e in span.events] == [expected]
    assert bedrock_instrumented.metric_count(DURATION, {"error.type": expected}) == 1


def test_retries_are_inside_the_one_span(cap: TelemetryCapture, fresh_fake_llm: FakeLLMServer) -> None:
    client = make_client(fresh_fake_llm, attempts=3)
    fresh_fake_llm.clear()
    with pytest.raises(client.exceptions.ThrottlingException):
        client.converse(modelId=CLAUDE, messages=said("[[scenario:rate_limit]]"))
    plain_requests = len(fresh_fake_llm.requests)
    fresh_fake_llm.clear()

    with instrumented(cap, BedrockInstrumentor), pytest.raises(client.exceptions.ThrottlingException):
        client.converse(modelId=CLAUDE, messages=said("[[scenario:rate_limit]]"))

    assert plain_requests > 1
    assert len(fresh_fake_llm.requests) == plain_requests
    assert attrs_of(only_span(cap))["error.type"] == "botocore.errorfactory.ThrottlingException"


def test_one_span_per_call(
    bedrock_instrumented: TelemetryCapture, bedrock: Any, fresh_fake_llm: FakeLLMServer
) -> None:
    for _ in range(3):
        bedrock.converse(modelId=NOVA, messages=said(QUESTION))
    bedrock.invoke_model(modelId=LLAMA, body=json.dumps({"prompt": QUESTION}))

    assert len(fresh_fake_llm.requests) == 4
    assert [s.name for s in bedrock_instrumented.spans()] == [f"chat {NOVA}"] * 3 + [f"chat {LLAMA}"]


def test_uninstrument_leaves_no_span(cap: TelemetryCapture, bedrock: Any) -> None:
    with instrumented(cap, BedrockInstrumentor):
        pass
    bedrock.converse(modelId=NOVA, messages=said(QUESTION))

    assert cap.spans() == []
    assert not isinstance(botocore.client.BaseClient.__dict__["_make_api_call"], wrapt.FunctionWrapper)


# --- every other AWS call --------------------------------------------------------------------------
_BUCKETS = (
    b'<?xml version="1.0" encoding="UTF-8"?><ListAllMyBucketsResult>'
    b"<Owner><ID>abc</ID><DisplayName>me</DisplayName></Owner>"
    b"<Buckets><Bucket><Name>logs</Name><CreationDate>2026-01-02T03:04:05.000Z</CreationDate></Bucket></Buckets>"
    b"</ListAllMyBucketsResult>"
)


class _S3(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "application/xml")
        self.send_header("content-length", str(len(_BUCKETS)))
        self.send_header("x-amz-request-id", "s3req1")
        self.end_headers()
        self.wfile.write(_BUCKETS)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def s3_endpoint() -> Iterator[str]:
    """An S3-like endpoint answering ``ListBuckets``."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _S3)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _s3_call(endpoint: str) -> Any:
    import boto3

    client = boto3.session.Session().client(
        "s3", region_name="us-east-1", endpoint_url=endpoint, aws_access_key_id="a", aws_secret_access_key="b"
    )
    found = client.list_buckets()
    del found["ResponseMetadata"]["HTTPHeaders"]["date"]
    return found


def test_other_aws_calls_get_no_span_and_the_same_result(cap: TelemetryCapture, s3_endpoint: str) -> None:
    plain = _s3_call(s3_endpoint)
    with instrumented(cap, BedrockInstrumentor):
        assert isinstance(botocore.client.BaseClient.__dict__["_make_api_call"], wrapt.FunctionWrapper)
        traced = _s3_call(s3_endpoint)

    assert traced == plain
    assert [b["Name"] for b in traced["Buckets"]] == ["logs"]
    assert cap.spans() == []
    assert cap.metric_points(DURATION) == []


def test_a_bedrock_operation_name_on_another_service_gets_no_span(
    bedrock_instrumented: TelemetryCapture, fresh_fake_llm: FakeLLMServer
) -> None:
    # The name check comes first; the service check makes sure a same-named call elsewhere is left alone.
    client = make_client(fresh_fake_llm, "s3")

    with pytest.raises(OperationNotFoundError, match="InvokeModel"):
        client._make_api_call("InvokeModel", {"modelId": CLAUDE})

    assert bedrock_instrumented.spans() == []


class _TornBody(BaseHTTPRequestHandler):
    """An InvokeModel answer whose body stops halfway (the connection drops)."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", "100")
        self.end_headers()
        self.wfile.write(b'{"generation": "Hel')
        self.wfile.flush()
        self.connection.shutdown(2)

    def log_message(self, *args: Any) -> None:
        pass


def test_invoke_model_body_torn_midway_fails_the_apps_read_the_same(cap: TelemetryCapture) -> None:
    import boto3

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _TornBody)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    client = boto3.session.Session().client(
        "bedrock-runtime",
        region_name="us-east-1",
        endpoint_url=f"http://127.0.0.1:{httpd.server_address[1]}",
        aws_access_key_id="a",
        aws_secret_access_key="b",
    )
    body = json.dumps({"prompt": QUESTION})
    try:
        plain = client.invoke_model(modelId=LLAMA, body=body)["body"]
        with pytest.raises(Exception) as first:
            plain.read()
        with instrumented(cap, BedrockInstrumentor):
            traced = client.invoke_model(modelId=LLAMA, body=body)["body"]
        with pytest.raises(type(first.value)) as second:
            traced.read()
    finally:
        httpd.shutdown()
        httpd.server_close()

    assert str(second.value) == str(first.value)
    span = only_span(cap)
    assert span.status.status_code is StatusCode.ERROR
    assert attrs_of(span)["error.type"] == f"{type(first.value).__module__}.{type(first.value).__name__}"
