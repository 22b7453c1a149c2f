"""Bedrock API keys: botocore's bearer-token auth (``AWS_BEARER_TOKEN_BEDROCK``) sends the key in
``Authorization: Bearer <key>``. The key never appears in anything agentotel records, even when a
prompt or an error message repeats it bare (without the ``Bearer`` scheme that the credential
shapes catch).

botocore sends a bearer key over HTTPS only, so the fake API is served here over TLS (a
self-signed certificate made for the test, trusted by the client alone).
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import logging
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import boto3
import botocore.utils
import pytest
from bedrock_helpers import ACCESS_KEY, NOVA, SECRET_KEY, SESSION_TOKEN, said
from botocore.config import Config
from botocore.exceptions import ClientError
from helpers import instrumented

from agentotel.instrumentation.bedrock import BedrockInstrumentor
from agentotel.processors import AuditSpanProcessor, RunStoreSpanProcessor
from agentotel.testing._capture import TelemetryCapture
from agentotel.testing._fake import FakeLLM, handle_request

CAPTURE = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
QUESTION = "What is the weather in Paris?"
# No known credential shape: only knowing the client's key can keep it out.
BEARER = "fakeBedrockApiKey0123456789BEARERsecretXYZ"

pytestmark = pytest.mark.skipif(
    not hasattr(botocore.utils, "get_token_from_environment"),
    reason="Bedrock bearer-token auth (AWS_BEARER_TOKEN_BEDROCK): botocore>=1.39.0",
)


REFUSE = "[[refuse]]"


class _Api(BaseHTTPRequestHandler):
    """The fake API (``handle_request``); a request whose body holds :data:`REFUSE` is refused
    with a message that repeats the bearer key it was sent, bare."""

    seen: ClassVar[list[str]] = []
    state: ClassVar[FakeLLM] = FakeLLM()

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        authorization = self.headers.get("authorization") or ""
        self.seen.append(authorization.partition(" ")[0])
        if REFUSE.encode() in body:
            key = authorization.partition(" ")[2]
            status, chunks = 403, [json.dumps({"message": f"The API key {key} is not valid"}).encode()]
            headers = {
                "x-amzn-ErrorType": "UnrecognizedClientException:http://internal.amazon.com/coral/",
                "content-type": "application/json",
            }
        else:
            answer = handle_request("POST", self.path, {}, body, state=self.state)
            status, headers, chunks = answer.status, answer.headers, answer.chunks
        data = b"".join(chunks)
        self.send_response(status)
        for name, value in headers.items():
            if name.lower() not in ("content-length", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


def _certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key, as PEM files."""
    crypto = pytest.importorskip("cryptography", reason="a TLS test certificate: cryptography")
    del crypto
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_file, key_file


@pytest.fixture
def https_api(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The fake API over TLS on 127.0.0.1: its URL and the certificate to trust."""
    _Api.seen.clear()
    _Api.state = FakeLLM()
    cert_file, key_file = _certificate(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Api)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{httpd.server_address[1]}", cert_file
    httpd.shutdown()
    httpd.server_close()


def _client(endpoint: str, cert_file: Path) -> Any:
    """A ``bedrock-runtime`` client with no credentials in code: botocore takes the bearer key
    from the environment."""
    return boto3.session.Session().client(
        "bedrock-runtime",
        region_name="us-east-1",
        endpoint_url=endpoint,
        verify=str(cert_file),
        config=Config(retries={"max_attempts": 1}),
    )


def test_the_bearer_key_is_never_recorded(
    agent_layer: TelemetryCapture,
    https_api: tuple[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    cap = agent_layer
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", BEARER)
    monkeypatch.setenv(CAPTURE, "SPAN_AND_EVENT")
    caplog.set_level(logging.DEBUG, logger="agentotel")
    audit = AuditSpanProcessor(tmp_path / "audit.jsonl", llm_calls=True, meter_provider=cap.meter_provider)
    store = RunStoreSpanProcessor(tmp_path / "runs", meter_provider=cap.meter_provider)
    cap.tracer_provider.add_span_processor(audit)
    cap.tracer_provider.add_span_processor(store)
    bedrock = _client(*https_api)
    try:
        with instrumented(cap, BedrockInstrumentor):
            # The prompt repeats the key, as a leaked one would be.
            leak = f"{QUESTION} {BEARER}"
            bedrock.converse(modelId=NOVA, messages=said(leak))
            list(bedrock.converse_stream(modelId=NOVA, messages=said(leak))["stream"])
            with pytest.raises(ClientError) as info:
                bedrock.converse(modelId=NOVA, messages=said(f"{QUESTION} {REFUSE}"))
        audit.force_flush()
        store.force_flush()
        texts = {
            "spans": "\n".join(s.to_json() for s in cap.spans()),
            "logs": "\n".join(r.to_json() for r in cap.log_exporter.get_finished_logs()),
            "metrics": json.dumps(
                [
                    dict(p.attributes)
                    for name in ("gen_ai.client.operation.duration", "gen_ai.client.token.usage")
                    for p in cap.metric_points(name)
                ]
            ),
            "audit": (tmp_path / "audit.jsonl").read_text(),
            "runs": "\n".join(p.read_text() for p in sorted((tmp_path / "runs").rglob("*")) if p.is_file()),
            "our log lines": caplog.text,
        }
    finally:
        audit.shutdown()
        store.shutdown()

    assert _Api.seen == ["Bearer"] * 3  # botocore authenticated with the key, not SigV4
    assert BEARER in str(info.value)  # the app's own exception is untouched
    assert [s.name for s in cap.spans()] == [f"chat {NOVA}"] * 3
    assert QUESTION in texts["spans"]  # content capture is on
    assert "The API key [REDACTED] is not valid" in texts["spans"], texts["spans"][-3000:]
    for sink, text in texts.items():
        assert BEARER not in text, f"the bearer key leaked into {sink}"


def test_a_bearer_key_beside_static_credentials_is_never_recorded(
    cap: TelemetryCapture,
    https_api: tuple[str, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A client made with a secret key and a session token in code still takes the key from the
    environment: the third credential it holds, kept out of what is recorded like the other two."""
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", BEARER)
    monkeypatch.setenv(CAPTURE, "SPAN_AND_EVENT")
    endpoint, cert_file = https_api
    bedrock = boto3.session.Session().client(
        "bedrock-runtime",
        region_name="us-east-1",
        endpoint_url=endpoint,
        verify=str(cert_file),
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        aws_session_token=SESSION_TOKEN,
        config=Config(retries={"max_attempts": 1}),
    )
    with instrumented(cap, BedrockInstrumentor):
        bedrock.converse(modelId=NOVA, messages=said(f"{QUESTION} {BEARER} {SECRET_KEY} {SESSION_TOKEN}"))

    [span] = cap.spans()
    recorded = span.to_json() + "\n".join(r.to_json() for r in cap.log_exporter.get_finished_logs())
    assert QUESTION in recorded  # content capture is on
    for secret in (BEARER, SECRET_KEY, SESSION_TOKEN):
        assert secret not in recorded, secret
