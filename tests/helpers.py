"""What the test modules share: the fake server's standard question and reply, tool definitions,
metric names, and small span / metric / error helpers; also a quiet local HTTP server on a thread.

Imported as ``from helpers import ...``: ``tests/`` has no ``__init__.py``, so pytest puts this
folder (the root ``conftest.py``'s) on ``sys.path`` (rootdir-based import).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
import json
import os
import re
import socket
import subprocess
import sys
import threading
import traceback
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor

from agentotel.instrumentation._base import AgentotelInstrumentor
from agentotel.instrumentation.anthropic import AnthropicInstrumentor
from agentotel.instrumentation.openai import OpenAIInstrumentor
from agentotel.testing._capture import TelemetryCapture

QUESTION = "What is the weather in Paris?"  # 6 tokens
REPLY = "Hello from the fake LLM server."  # 6 tokens: the fake server's default reply
GPT = "gpt-4o"
CLAUDE = "claude-haiku-4-5"
EMBEDDING_MODEL = "text-embedding-3-small"

FAKE_OPENAI_KEY = "sk-test-0123456789abcdefSECRET"
FAKE_ANTHROPIC_KEY = "sk-ant-test-0123456789abcdefSECRET"

INSTRUMENTORS: list[type[AgentotelInstrumentor]] = [OpenAIInstrumentor, AnthropicInstrumentor]

# Metric names.
TOKENS = "gen_ai.client.token.usage"
DURATION = "gen_ai.client.operation.duration"
TIME_TO_FIRST_CHUNK = "gen_ai.client.operation.time_to_first_chunk"
TIME_PER_OUTPUT_CHUNK = "gen_ai.client.operation.time_per_output_chunk"
TELEMETRY_ERRORS = "agentotel.telemetry.errors"

# The fake server calls ``get_weather`` with {"city": "Paris"} whenever a request offers it.
CHAT_TOOLS: Any = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]
RESP_TOOLS: Any = [
    {
        "type": "function",
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    }
]
CLAUDE_TOOLS: Any = [
    {
        "name": "get_weather",
        "description": "Weather for a city",
        "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
    }
]


def sdk_installed(distribution: str) -> bool:
    """Whether a distribution is installed. Not ``find_spec(<module>)``: pytest puts
    ``tests/instrumentation/`` on ``sys.path``, where ``tests/instrumentation/litellm/`` is a namespace
    package named ``litellm`` (and ``google`` is protobuf's namespace without google-genai)."""
    try:
        importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


GEMINI_INSTALLED = sdk_installed("google-genai")
BEDROCK_INSTALLED = sdk_installed("boto3")
LITELLM_INSTALLED = sdk_installed("litellm")


@dataclass(frozen=True)
class DemoProvider:
    """One call of the demo's and ``examples/agent.py``'s other providers
    (``agentotel.cli._demo_providers``), in the order they run: each 6 words in, 6 out."""

    said: str  # the name the demo prints ("gemini: ...")
    extra: str  # the extra that installs its SDK
    installed: bool
    span: str
    provider: str  # gen_ai.provider.name
    operation: str
    model: str
    response_model: str | None  # None: the answer names no model (Bedrock Converse, Cohere)


DEMO_PROVIDERS = [
    DemoProvider(
        "gemini", "google-genai", GEMINI_INSTALLED, "generate_content gemini-2.5-flash", "gcp.gemini",
        "generate_content", "gemini-2.5-flash", "gemini-2.5-flash-001",
    ),
    DemoProvider(
        "bedrock", "bedrock", BEDROCK_INSTALLED, "chat amazon.nova-lite-v1:0", "aws.bedrock", "chat",
        "amazon.nova-lite-v1:0", None,
    ),
    DemoProvider(
        "mistral", "mistralai", sdk_installed("mistralai"), "chat mistral-small-latest", "mistral_ai", "chat",
        "mistral-small-latest", "mistral-small-latest",
    ),
    DemoProvider(
        "cohere", "cohere", sdk_installed("cohere"), "chat command-r-08-2024", "cohere", "chat",
        "command-r-08-2024", None,
    ),
    DemoProvider(
        "ollama", "ollama", sdk_installed("ollama"), "chat llama3.2", "ollama", "chat", "llama3.2", "llama3.2"
    ),
    DemoProvider(
        "groq", "groq", sdk_installed("groq"), "chat llama-3.3-70b-versatile", "groq", "chat",
        "llama-3.3-70b-versatile", "llama-3.3-70b-versatile",
    ),
    DemoProvider(
        "litellm", "litellm", LITELLM_INSTALLED, "chat gpt-4o-mini", "openai", "chat", "gpt-4o-mini",
        "gpt-4o-mini-2024-08-06",
    ),
]  # fmt: skip
"""LiteLLM's call goes through the ``openai`` SDK (one span, LiteLLM's)."""
# The LlamaIndex tests drive its OpenAI LLM class (llama-index-llms-openai needs openai<3: not in .venv).
LLAMA_INDEX_INSTALLED = sdk_installed("llama-index-core") and sdk_installed("llama-index-llms-openai")
CREWAI_INSTALLED = sdk_installed("crewai")  # not in .venv: its own venv and nox row (crewai needs mcp<2)


def http_library(sdk: ModuleType) -> Any:
    """``httpx2`` or ``httpx``: the HTTP library the installed major of ``sdk`` (the ``openai`` or
    ``anthropic`` module) is built on, so a test raises, expects and builds that library's classes."""
    base = importlib.import_module(f"{sdk.__name__}._base_client")
    return getattr(base, "httpx2", None) or base.httpx


def sdk_major(sdk: ModuleType) -> int:
    """The installed major version of ``sdk``."""
    return int(sdk.__version__.partition(".")[0])


def stream_disconnect_error(sdk: ModuleType) -> Any:
    """What iterating a stream of ``sdk`` raises when the connection drops mid-stream: ``openai``
    from 3.14.0 wraps the transport's error in ``openai.APIConnectionError``; ``openai`` 1.x, 2.x
    and 3.0 to 3.13 and every ``anthropic`` major let the HTTP library's ``RemoteProtocolError``
    through unwrapped."""
    minor = tuple(int(part) for part in sdk.__version__.split(".")[:2])
    if sdk.__name__ == "openai" and minor >= (3, 14):
        return sdk.APIConnectionError
    return http_library(sdk).RemoteProtocolError


def openai_status_text(status: int, body: Any) -> str:
    """``str()`` of the ``openai`` status error for an error response whose JSON is ``body``:
    3.x shows only the error's message, 1.x/2.x the whole decoded body."""
    import openai

    detail = body["error"]["message"] if sdk_major(openai) >= 3 else body
    return f"Error code: {status} - {detail}"


OPENAI_RATE_LIMIT_BODY = {
    "error": {
        "message": "Rate limit reached (fake LLM server).",
        "type": "requests",
        "param": None,
        "code": "rate_limit_exceeded",
    }
}
"""What the fake server answers an OpenAI request with ``[[scenario:rate_limit]]`` (status 429)."""


def openai_rate_limit_text() -> str:
    """``str()`` of the ``openai.RateLimitError`` the fake server's 429 raises, on the installed major."""
    return openai_status_text(429, OPENAI_RATE_LIMIT_BODY)


def _has_responses_api() -> bool:
    import openai

    return hasattr(openai.OpenAI, "responses")


RESPONSES_API = pytest.mark.skipif(not _has_responses_api(), reason="Responses API: openai>=1.66.0")
"""Marks a test of the OpenAI Responses API, which openai 1.40 to 1.65 lack."""


def user(text: str) -> Any:
    """A one-message conversation."""
    return [{"role": "user", "content": text}]


# --------------------------------------------------------------------------- spans and metrics


def only_span(cap: TelemetryCapture) -> ReadableSpan:
    spans = cap.spans()
    assert len(spans) == 1, [s.name for s in spans]
    return spans[0]


def attrs_of(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


def token_sums(cap: TelemetryCapture) -> dict[str, float]:
    """Token usage by ``gen_ai.token.type``."""
    return {dict(p.attributes)["gen_ai.token.type"]: p.sum for p in cap.metric_points(TOKENS)}


@contextmanager
def instrumented(cap: TelemetryCapture, *instrumentors: type[Any]) -> Iterator[TelemetryCapture]:
    """The given instrumentors active on ``cap``'s providers for the block only (settings read now)."""
    active = [cls() for cls in instrumentors]
    for instrumentor in active:
        instrumentor.instrument(**cap.providers)
    try:
        yield cap
    finally:
        for instrumentor in active:
            instrumentor.uninstrument()


# --------------------------------------------------------------------------- errors


@dataclass(frozen=True)
class Failure:
    """A failure the fake server is asked for with ``marker``, and what the caller must see."""

    marker: str
    error: type[BaseException]
    error_type: str  # error.type on the span and on the duration metric
    event_type: str | None = None  # exception.type of the exception event, when not error_type
    timeout: float | None = None

    @property
    def exception_type(self) -> str:
        return self.event_type or self.error_type

    @property
    def options(self) -> dict[str, Any]:
        """The request options this failure needs (a short timeout)."""
        return {"timeout": self.timeout} if self.timeout is not None else {}


def raised_by(call: Callable[[], Any]) -> BaseException:
    with pytest.raises(BaseException) as info:
        call()
    return info.value


async def araised_by(call: Callable[[], Awaitable[Any]]) -> BaseException:
    with pytest.raises(BaseException) as info:
        await call()
    return info.value


async def resolve(value: Any) -> Any:
    """``value``, awaited if an async client returned an awaitable (one test body for both clients)."""
    return await value if inspect.isawaitable(value) else value


def frame_modules(exc: BaseException) -> list[str]:
    """The module (``__name__``) each frame of ``exc``'s traceback runs in, outermost first.

    Frames are judged by module identity, never by file path: the checkout (and its ``.venv``) may
    sit in a folder named ``agentotel``, which puts that word in every SDK frame's file name.
    """
    return [str(frame.f_globals.get("__name__", "")) for frame, _ in traceback.walk_tb(exc.__traceback__)]


def in_package(module: str, package: str) -> bool:
    """``module`` is ``package`` itself or one of its submodules."""
    return module == package or module.startswith(package + ".")


def assert_raised_outside_agentotel(exc: BaseException) -> None:
    """``exc`` was raised by someone else's code: the innermost frame of its traceback is not ours."""
    modules = frame_modules(exc)
    assert modules, "no traceback"
    assert not in_package(modules[-1], "agentotel"), modules


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --------------------------------------------------------------------------- a local HTTP server


class QuietHandler(BaseHTTPRequestHandler):
    """HTTP/1.1, no access log on stderr."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def reply(self, status: int, content_type: str, body: bytes) -> None:
        """Send a whole response with ``body``."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class LocalHTTPServer(ThreadingHTTPServer):
    """Listens on 127.0.0.1 at a random port; never waits for its handler threads."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(("127.0.0.1", 0), handler)


def serve_in_background(httpd: ThreadingHTTPServer, name: str | None = None) -> threading.Thread:
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name=name, daemon=True
    )
    thread.start()
    return thread


def stop_serving(httpd: ThreadingHTTPServer, thread: threading.Thread) -> None:
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


class StartedSpans(SpanProcessor):
    """The name of every span started (ended or not): a span never ended is never exported, but its
    start already reached the run store and the audit log's processors."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def on_start(self, span: Any, parent_context: Any = None) -> None:
        self.names.append(span.name)


def recorded_metrics(cap: TelemetryCapture) -> list[str]:
    """The names of the metrics with at least one data point."""
    data = cap.metric_reader.get_metrics_data()
    return sorted(
        m.name
        for rm in (data.resource_metrics if data else ())
        for sm in rm.scope_metrics
        for m in sm.metrics
        if m.data.data_points
    )


ROOT = Path(__file__).resolve().parent.parent


def console_spans(stdout: str) -> tuple[list[str], list[dict[str, Any]]]:
    """The lines an app printed and the spans the console exporter printed between them."""
    lines: list[str] = []
    spans: list[dict[str, Any]] = []
    decoder = json.JSONDecoder()
    text = stdout
    while text:
        text = text.lstrip()
        if text.startswith("{"):
            span, end = decoder.raw_decode(text)
            spans.append(span)
            text = text[end:]
        elif text:
            line, _, text = text.partition("\n")
            lines.append(line)
    return lines, spans


def run_example(
    example: str, *, drop: tuple[str, ...] = (), timeout: int = 180, **env: str
) -> tuple[list[str], list[dict[str, Any]], str]:
    """``examples/<example>`` offline under the real ``opentelemetry-instrument`` with the console
    span exporter (no OTEL_*/AGENTOTEL_*/OPENAI_* variables of the caller's, nor those starting
    with ``drop``; ``env`` added): the lines it printed, the spans and its stderr, once it exited 0."""
    environ = {
        k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AGENTOTEL_", "OPENAI_", *drop))
    }
    environ.update(AGENTOTEL_EXAMPLE_OFFLINE="1", PYTHONUNBUFFERED="1", **env)
    exporters = ("--traces_exporter", "console", "--metrics_exporter", "none", "--logs_exporter", "none")
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "opentelemetry-instrument"), *exporters, sys.executable,
         str(ROOT / "examples" / example)],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return (*console_spans(proc.stdout), proc.stderr)


# List prices (USD per million tokens: input, output, cache read) of the models the tests call,
# written out here so the tests check the product's cost arithmetic, not reuse it.
TEST_PRICES = {
    "gpt-4o": (2.5, 10.0, 1.25),
    "gpt-4o-mini": (0.15, 0.6, 0.075),
    "o3-mini": (1.1, 4.4, 0.55),
    "text-embedding-3-small": (0.02, 0.0, 0.02),
    "claude-opus-5": (5.0, 25.0, 0.5),
}


def expected_cost(model: str, input_tokens: int, output_tokens: int, cache_read: int = 0) -> float:
    """USD of one call at :data:`TEST_PRICES` (``input_tokens`` includes the cached ones)."""
    p_in, p_out, p_cache = TEST_PRICES[re.sub(r"-\d{4}-\d{2}-\d{2}$", "", model)]
    return ((input_tokens - cache_read) * p_in + cache_read * p_cache + output_tokens * p_out) / 1e6


def priced(expected: dict[str, Any]) -> dict[str, Any]:
    """``expected`` span attributes plus the ``agentotel.usage.cost_usd`` a priced call with that
    usage must carry (none without usage or for a model the tests have no price for)."""
    model = str(expected.get("gen_ai.response.model") or expected.get("gen_ai.request.model") or "")
    i, o = expected.get("gen_ai.usage.input_tokens"), expected.get("gen_ai.usage.output_tokens")
    if (i is None and o is None) or re.sub(r"-\d{4}-\d{2}-\d{2}$", "", model) not in TEST_PRICES:
        return expected
    cache = expected.get("gen_ai.usage.cache_read.input_tokens") or 0
    cost = expected_cost(model, i or 0, o or 0, cache)
    return {**expected, "agentotel.usage.cost_usd": pytest.approx(cost, rel=1e-12, abs=1e-15)}


def calls_into(package: str, read: Callable[[], Any]) -> int:
    """How many Python functions whose file path contains ``package`` run while ``read()`` runs."""
    seen = 0

    def profile(frame: Any, event: str, arg: Any) -> None:
        nonlocal seen
        if event == "call" and package in frame.f_code.co_filename:
            seen += 1

    sys.setprofile(profile)
    try:
        read()
    finally:
        sys.setprofile(None)
    return seen
