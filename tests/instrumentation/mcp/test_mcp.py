"""The MCP instrumentor against a real MCP client and server (in-memory transport, and stdio)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mcp_types as types
import pytest
from helpers import attrs_of, instrumented
from mcp import Client, MCPError, StdioServerParameters
from mcp.client.session import ClientSession
from mcp.server.lowlevel.server import Server
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.runner import ServerRunner
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.instrumentation.dependencies import get_dependency_conflicts
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode

import agentotel
from agentotel.instrumentation.mcp import MCPInstrumentor, extract
from agentotel.testing._capture import TelemetryCapture

TOOL_DURATION = "agentotel.tool.duration"
TELEMETRY_ERRORS = "agentotel.telemetry.errors"
CAPTURE_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
SERVER_APP = Path(__file__).with_name("mcp_server_app.py")
CLIENT_APP = Path(__file__).with_name("mcp_client_app.py")
WEATHER = "weather-server"
LOWLEVEL = "lowlevel-server"


# --------------------------------------------------------------------------- servers


def weather_server() -> MCPServer:
    """An ``MCPServer``: ``get_weather`` answers, ``forecast`` raises ``ToolError`` (which the
    server turns into an ``isError`` result)."""
    server = MCPServer(WEATHER)

    @server.tool()
    def get_weather(city: str) -> str:
        """Weather for a city."""
        return f"Sunny in {city}"

    @server.tool()
    def forecast(city: str) -> str:
        """Always fails."""
        raise ToolError(f"no forecast for {city}")

    return server


def lowlevel_server(seen_meta: list[dict[str, Any]]) -> Server[Any]:
    """A low-level ``Server``: ``echo`` answers, ``crash`` raises; each call's ``_meta`` is kept."""

    async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        schema = {"type": "object"}
        return types.ListToolsResult(
            tools=[
                types.Tool(name="echo", input_schema=schema),
                types.Tool(name="crash", input_schema=schema),
            ]
        )

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        seen_meta.append(dict(ctx.meta or {}))
        if params.name == "crash":
            raise RuntimeError("disk on fire")
        return types.CallToolResult(content=[types.TextContent(type="text", text="echo")])

    return Server(LOWLEVEL, on_list_tools=list_tools, on_call_tool=call_tool)


# --------------------------------------------------------------------------- helpers


@pytest.fixture(params=["auto", "legacy"], ids=["direct", "json-rpc"])
def mode(request: pytest.FixtureRequest) -> str:
    """How ``Client`` reaches an in-process server: ``auto`` dispatches each request directly (no
    framing; ``server/discover``); ``legacy`` speaks JSON-RPC over memory streams to the server's
    own task, after an ``initialize`` handshake. Both carry the caller's contextvars to the
    handler, so only the stdio tests show the trace crossing a process boundary."""
    return str(request.param)


@pytest.fixture
def mcp_cap(agent_layer: TelemetryCapture) -> Iterator[TelemetryCapture]:
    """The MCP instrumentor active on ``cap``'s providers (settings read from the env now)."""
    with instrumented(agent_layer, MCPInstrumentor):
        yield agent_layer


TOOL_KEYS = (
    "gen_ai.operation.name",
    "gen_ai.tool.name",
    "gen_ai.tool.type",
    "agentotel.mcp.server.name",
    "error.type",
    "rpc.response.status_code",
    "gen_ai.tool.call.arguments",
    "gen_ai.tool.call.result",
)
"""The keys these tests look at (test_mcp_conventions.py pins every key of every span)."""


def tool_spans(cap: TelemetryCapture, tool: str) -> list[ReadableSpan]:
    """The ``tools/call {tool}`` spans, in end order."""
    return [span for span in cap.spans() if span.name == f"tools/call {tool}"]


def client_and_server(cap: TelemetryCapture, tool: str = "get_weather") -> tuple[ReadableSpan, ReadableSpan]:
    """The CLIENT and the SERVER ``tools/call`` span of one in-process call."""
    spans = {span.kind: span for span in tool_spans(cap, tool)}
    assert len(spans) == 2 == len(tool_spans(cap, tool))
    return spans[SpanKind.CLIENT], spans[SpanKind.SERVER]


def tool_view(span: ReadableSpan) -> dict[str, Any]:
    """The span's attributes among :data:`TOOL_KEYS`."""
    return {k: v for k, v in attrs_of(span).items() if k in TOOL_KEYS}


def tool_attrs(tool: str, server: str) -> dict[str, Any]:
    return {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": tool,
        "gen_ai.tool.type": "extension",
        "agentotel.mcp.server.name": server,
    }


def duration_counts(cap: TelemetryCapture) -> dict[tuple[str, str, str | None], int]:
    """``agentotel.tool.duration`` counts by (tool name, tool type, error type)."""
    counts: dict[tuple[str, str, str | None], int] = {}
    for point in cap.metric_points(TOOL_DURATION):
        a = dict(point.attributes)
        counts[(a["gen_ai.tool.name"], a["gen_ai.tool.type"], a.get("error.type"))] = int(point.count)
    return counts


def traceparent(span: ReadableSpan) -> str:
    ctx = span.get_span_context()
    return f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-{ctx.trace_flags:02x}"


# --------------------------------------------------------------------------- spans


async def test_call_tool_makes_one_tools_call_span_on_each_side(mcp_cap: TelemetryCapture, mode: str) -> None:
    async with Client(weather_server(), mode=mode) as client:
        result = await client.call_tool("get_weather", {"city": "Paris"})

    assert result.content == [types.TextContent(type="text", text="Sunny in Paris")]
    client_span, server_span = client_and_server(mcp_cap)
    assert (client_span.kind, server_span.kind) == (SpanKind.CLIENT, SpanKind.SERVER)
    for span in (client_span, server_span):
        assert span.status.status_code is StatusCode.UNSET
        assert tool_view(span) == tool_attrs("get_weather", WEATHER)


async def test_the_server_span_continues_the_clients_trace(mcp_cap: TelemetryCapture, mode: str) -> None:
    async with Client(weather_server(), mode=mode) as client:
        await client.call_tool("get_weather", {"city": "Paris"})

    client_span, server_span = client_and_server(mcp_cap)
    assert client_span.parent is None
    assert server_span.parent is not None
    assert server_span.parent.span_id == client_span.get_span_context().span_id
    assert server_span.parent.is_remote
    assert server_span.get_span_context().trace_id == client_span.get_span_context().trace_id


async def test_the_client_span_is_a_child_of_the_callers_span(mcp_cap: TelemetryCapture, mode: str) -> None:
    tracer = mcp_cap.tracer_provider.get_tracer("test")
    async with Client(weather_server(), mode=mode) as client:
        with tracer.start_as_current_span("agent turn") as turn:
            await client.call_tool("get_weather", {"city": "Paris"})

    client_span, _ = client_and_server(mcp_cap)
    assert client_span.parent is not None and client_span.parent.span_id == turn.get_span_context().span_id
    # The handshake ran before the turn, in a trace of its own; the rest in the turn's.
    in_turn = [s for s in mcp_cap.spans() if s.name not in ("initialize", "server/discover")]
    assert len(in_turn) == 5  # the turn, tools/call and tools/list on each side
    assert {s.get_span_context().trace_id for s in in_turn} == {turn.get_span_context().trace_id}


async def test_the_request_meta_carries_the_client_spans_traceparent(
    mcp_cap: TelemetryCapture, mode: str
) -> None:
    seen: list[dict[str, Any]] = []
    async with Client(lowlevel_server(seen), mode=mode) as client:
        await client.call_tool("echo", {})

    client_span, _ = client_and_server(mcp_cap, "echo")
    [meta] = seen
    assert meta["traceparent"] == traceparent(client_span)


async def test_the_callers_own_meta_is_sent_and_left_unchanged(mcp_cap: TelemetryCapture, mode: str) -> None:
    seen: list[dict[str, Any]] = []
    mine = {"request-origin": "planner", "attempt": 2}
    async with Client(lowlevel_server(seen), mode=mode) as client:
        await client.session.call_tool("echo", {}, meta=mine)

    assert mine == {"request-origin": "planner", "attempt": 2}
    [meta] = seen
    assert meta["request-origin"] == "planner"
    assert meta["attempt"] == 2
    assert meta["traceparent"] == traceparent(client_and_server(mcp_cap, "echo")[0])


async def test_the_server_name_is_each_sides_server(mcp_cap: TelemetryCapture, mode: str) -> None:
    async with Client(lowlevel_server([]), mode=mode) as client:
        await client.call_tool("echo", {})

    client_span, server_span = client_and_server(mcp_cap, "echo")
    assert tool_view(client_span) == tool_attrs("echo", LOWLEVEL)
    assert tool_view(server_span) == tool_attrs("echo", LOWLEVEL)


# --------------------------------------------------------------------------- metrics and errors


async def test_tool_duration_is_recorded_once_per_span(mcp_cap: TelemetryCapture, mode: str) -> None:
    async with Client(weather_server(), mode=mode) as client:
        await client.call_tool("get_weather", {"city": "Paris"})
        await client.call_tool("get_weather", {"city": "Oslo"})

    assert duration_counts(mcp_cap) == {("get_weather", "extension", None): 4}


@pytest.fixture
def latest_mcp_cap(
    monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Iterator[TelemetryCapture]:
    """``mcp_cap`` in the latest conventions' mode (set before the holder is built)."""
    monkeypatch.setenv("OTEL_SEMCONV_STABILITY_OPT_IN", "gen_ai_latest_experimental")
    cap: TelemetryCapture = request.getfixturevalue("agent_layer")
    with instrumented(cap, MCPInstrumentor):
        yield cap


async def test_an_in_process_server_call_is_one_tool_call_of_the_callers_agent_round(
    latest_mcp_cap: TelemetryCapture, mode: str
) -> None:
    # The server's tools/call span runs inside the caller's context (in-process transport): it
    # is the server executing the call the client's span already counted for the agent.
    with agentotel.agent("planner"):
        async with Client(weather_server(), mode=mode) as client:
            await client.call_tool("get_weather", {"city": "Paris"})

    [point] = latest_mcp_cap.metric_points("gen_ai.invoke_agent.tool_calls")
    assert (dict(point.attributes)["gen_ai.agent.name"], point.sum) == ("planner", 1)
    client_span, server_span = client_and_server(latest_mcp_cap)
    assert attrs_of(client_span)["gen_ai.agent.name"] == "planner"
    assert "gen_ai.agent.name" not in attrs_of(server_span)


async def test_an_is_error_result_fails_both_spans_and_is_returned(
    mcp_cap: TelemetryCapture, mode: str
) -> None:
    async with Client(weather_server(), mode=mode) as client:
        result = await client.call_tool("forecast", {"city": "Atlantis"})

    assert result.is_error is True
    assert result.content == [
        types.TextContent(type="text", text="Error executing tool forecast: no forecast for Atlantis")
    ]
    for span in client_and_server(mcp_cap, "forecast"):
        assert span.status.status_code is StatusCode.ERROR
        assert tool_view(span) == {**tool_attrs("forecast", WEATHER), "error.type": "tool_error"}
        assert span.events == ()
    assert duration_counts(mcp_cap) == {("forecast", "extension", "tool_error"): 2}


async def test_an_unknown_tool_is_a_failed_tool_call(mcp_cap: TelemetryCapture, mode: str) -> None:
    async with Client(weather_server(), mode=mode) as client:
        result = await client.call_tool("no_such_tool", {})

    assert result.is_error is True
    for span in client_and_server(mcp_cap, "no_such_tool"):
        assert span.status.status_code is StatusCode.ERROR
        assert tool_view(span) == {**tool_attrs("no_such_tool", WEATHER), "error.type": "tool_error"}
    assert duration_counts(mcp_cap) == {("no_such_tool", "extension", "tool_error"): 2}


async def test_a_handler_that_raises_fails_the_server_span_and_the_call(
    mcp_cap: TelemetryCapture, mode: str
) -> None:
    async with Client(lowlevel_server([]), mode=mode) as client:
        with pytest.raises(MCPError) as info:
            await client.session.call_tool("crash", {})

    client_span, server_span = client_and_server(mcp_cap, "crash")
    assert tool_view(server_span) == {**tool_attrs("crash", LOWLEVEL), "error.type": "RuntimeError"}
    assert server_span.status.status_code is StatusCode.ERROR
    [event] = server_span.events
    assert event.name == "exception"
    assert dict(event.attributes or {})["exception.message"] == "disk on fire"
    # The client sees the JSON-RPC error the server answered with: its code, its message.
    code = str(info.value.code)
    assert tool_view(client_span) == {
        **tool_attrs("crash", LOWLEVEL),
        "error.type": code,
        "rpc.response.status_code": code,
    }
    assert client_span.status.status_code is StatusCode.ERROR
    assert client_span.status.description == info.value.error.message
    assert client_span.events == ()
    assert duration_counts(mcp_cap) == {
        ("crash", "extension", "RuntimeError"): 1,
        ("crash", "extension", code): 1,
    }


async def test_a_client_side_failure_propagates_and_fails_the_span(
    mcp_cap: TelemetryCapture, mode: str
) -> None:
    async with Client(weather_server(), mode=mode) as client:
        session = client.session
    with pytest.raises(MCPError) as info:
        await session.call_tool("get_weather", {"city": "Paris"})  # the connection is closed

    assert (info.value.code, info.value.message) == (types.CONNECTION_CLOSED, "Connection closed")
    [span] = tool_spans(mcp_cap, "get_weather")
    assert span.kind is SpanKind.CLIENT
    # The SDK's own closed-connection error: no response carried a code, so an exception.
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "mcp.MCPError: Connection closed"
    assert tool_view(span) == {**tool_attrs("get_weather", WEATHER), "error.type": "mcp.MCPError"}
    [event] = span.events
    assert dict(event.attributes or {})["exception.message"] == "Connection closed"
    assert duration_counts(mcp_cap) == {("get_weather", "extension", "mcp.MCPError"): 1}


async def test_an_error_of_ours_costs_only_the_span(
    mcp_cap: TelemetryCapture, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(session: Any) -> Any:
        raise RuntimeError("a bug of ours")

    monkeypatch.setattr(extract, "session_server_name", broken)
    async with Client(weather_server(), mode=mode) as client:
        result = await client.call_tool("get_weather", {"city": "Paris"})

    assert result.content == [types.TextContent(type="text", text="Sunny in Paris")]
    assert {span.kind for span in mcp_cap.spans()} == {SpanKind.SERVER}  # the client's cost us
    # One per client request: the handshake (initialize or server/discover), tools/call, tools/list.
    assert [(dict(p.attributes), p.value) for p in mcp_cap.metric_points(TELEMETRY_ERRORS)] == [
        ({"agentotel.component": "mcp", "error.type": "RuntimeError"}, 3)
    ]


# --------------------------------------------------------------------------- content


async def test_no_arguments_or_result_without_content_capture(mcp_cap: TelemetryCapture, mode: str) -> None:
    async with Client(weather_server(), mode=mode) as client:
        await client.call_tool("get_weather", {"city": "Paris"})

    for span in mcp_cap.spans():
        assert "gen_ai.tool.call.arguments" not in attrs_of(span)
        assert "gen_ai.tool.call.result" not in attrs_of(span)


async def test_arguments_and_result_with_span_content_capture(
    agent_layer: TelemetryCapture, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    monkeypatch.setenv(CAPTURE_ENV, "SPAN_ONLY")
    with instrumented(agent_layer, MCPInstrumentor):
        async with Client(weather_server(), mode=mode) as client:
            await client.call_tool("get_weather", {"city": "Paris"})

    result = {
        "content": [{"type": "text", "text": "Sunny in Paris"}],
        "structuredContent": {"result": "Sunny in Paris"},
        "isError": False,
    }
    for span in client_and_server(agent_layer):
        attrs = tool_view(span)
        # The client reads the result model, the server the wire dict: the same JSON, keys in
        # another order.
        assert json.loads(attrs.pop("gen_ai.tool.call.result")) == result
        assert attrs == {
            **tool_attrs("get_weather", WEATHER),
            "gen_ai.tool.call.arguments": '{"city":"Paris"}',
        }


# --------------------------------------------------------------------------- lifecycle


async def test_suppressed_instrumentation_makes_no_span_and_no_traceparent(
    mcp_cap: TelemetryCapture, mode: str
) -> None:
    seen: list[dict[str, Any]] = []
    with suppress_instrumentation():
        async with Client(lowlevel_server(seen), mode=mode) as client:
            result = await client.call_tool("echo", {})

    assert result.content == [types.TextContent(type="text", text="echo")]
    assert mcp_cap.spans() == []
    [meta] = seen
    assert "traceparent" not in meta
    assert mcp_cap.metric_points(TOOL_DURATION) == []


def patched_values() -> list[Any]:
    """What each patch point holds now (the class's or module's own attribute)."""
    values = []
    for patch in MCPInstrumentor().patches:
        owner = patch.owner()
        assert owner is not None, patch
        values.append(vars(owner[0])[owner[1]])
    return values


async def test_uninstrument_restores_the_original_methods(agent_layer: TelemetryCapture, mode: str) -> None:
    originals = patched_values()
    instrumentor = MCPInstrumentor()
    instrumentor.instrument(
        tracer_provider=agent_layer.tracer_provider, meter_provider=agent_layer.meter_provider
    )
    assert all(now is not before for now, before in zip(patched_values(), originals, strict=True))
    instrumentor.uninstrument()

    assert all(now is before for now, before in zip(patched_values(), originals, strict=True))
    async with Client(weather_server(), mode=mode) as client:
        await client.call_tool("get_weather", {"city": "Paris"})
    assert agent_layer.spans() == []


def test_patch_points_are_the_requests_the_sdk_spans_the_sessions_and_the_transports() -> None:
    patches = MCPInstrumentor().patches
    assert [(p.module, p.name) for p in patches] == [
        ("mcp.client.session", "ClientSession.send_request"),
        ("mcp.client.session", "ClientSession.send_discover"),
        ("mcp.server.runner", "ServerRunner._on_request"),
        ("mcp.server.session", "ServerSession.send_request"),
        ("mcp.client.session", "ClientSession._on_request"),
        ("mcp.shared.jsonrpc_dispatcher", "otel_span"),
        ("mcp.server._otel", "otel_span"),
        ("mcp.client.session", "ClientSession.__aenter__"),
        ("mcp.client.session", "ClientSession.__aexit__"),
        ("mcp.server.connection", "Connection.for_loop"),
        ("mcp.client.streamable_http", "StreamableHTTPTransport.__init__"),
        ("mcp.client.stdio", "stdio_client"),
        ("mcp.client.streamable_http", "streamable_http_client"),
        ("mcp.server.stdio", "stdio_server"),
        ("mcp.client.client", "stdio_client"),
        ("mcp.client.client", "streamable_http_client"),
        ("mcp", "stdio_client"),
        ("mcp", "stdio_server"),
    ]
    assert [p.owner() for p in patches][:3] == [
        (ClientSession, "send_request"),
        (ClientSession, "send_discover"),
        (ServerRunner, "_on_request"),
    ]
    assert all(p.owner() is not None and p.expected() for p in patches)


def test_instrumentation_dependencies_match_the_installed_sdk() -> None:
    assert MCPInstrumentor().instrumentation_dependencies() == ("mcp >= 2.3, < 3",)
    assert get_dependency_conflicts(MCPInstrumentor().instrumentation_dependencies()) is None


class _FutureMCPInstrumentor(MCPInstrumentor):
    """The same instrumentor, pinned to a range the installed ``mcp`` is outside of."""

    _instance = None  # BaseInstrumentor keeps one instance per class
    requirements = ("mcp >= 3, < 4",)


@pytest.mark.parametrize("skip_dep_check", [False, True], ids=["instrument()", "opentelemetry-instrument"])
def test_an_out_of_range_version_is_skipped_with_one_message(
    cap: TelemetryCapture, caplog: pytest.LogCaptureFixture, skip_dep_check: bool
) -> None:
    send_request = vars(ClientSession)["send_request"]
    instrumentor = _FutureMCPInstrumentor()
    with caplog.at_level(logging.WARNING):
        instrumentor.instrument(tracer_provider=cap.tracer_provider, skip_dep_check=skip_dep_check)
    try:
        assert vars(ClientSession)["send_request"] is send_request
        [record] = caplog.records
        assert record.levelno >= logging.WARNING
        assert '"mcp >= 3, < 4"' in record.getMessage()
        assert '"mcp 2.3.0"' in record.getMessage()
    finally:
        instrumentor.uninstrument()


# --------------------------------------------------------------------------- stdio


async def call_stdio_server(sdk_spans: str, spans_file: Path) -> types.CallToolResult:
    env = {"MCP_TEST_SPANS_FILE": str(spans_file), "MCP_TEST_SDK_SPANS": sdk_spans}
    params = StdioServerParameters(command=sys.executable, args=[str(SERVER_APP)], env=env)
    async with Client(params, mode="legacy") as client:
        return await client.call_tool("get_weather", {"city": "Paris"})


def read_spans(spans_file: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in spans_file.read_text().splitlines()]


@pytest.mark.parametrize("sdk_spans", ["no-op", "recording", "off"])
async def test_a_stdio_server_makes_one_server_span_per_request_with_or_without_a_global_provider(
    mcp_cap: TelemetryCapture, tmp_path: Path, sdk_spans: str
) -> None:
    """``recording``: the server's tracer provider is also the global one, so the SDK's own
    middleware would record a second SERVER span per request; it is switched off."""
    spans_file = tmp_path / "server-spans.jsonl"
    result = await call_stdio_server(sdk_spans, spans_file)

    assert result.content == [types.TextContent(type="text", text="Sunny in Paris")]
    client_spans = {span.name: span for span in mcp_cap.spans()}
    assert sorted(client_spans) == ["initialize", "tools/call get_weather", "tools/list"]
    # With a global provider the SDK's middleware still spans notifications, which we leave alone.
    server_spans = [span for span in read_spans(spans_file) if not span["name"].startswith("notifications/")]
    assert sorted((span["name"], span["kind"]) for span in server_spans) == [
        ("initialize", "SERVER"),
        ("tools/call get_weather", "SERVER"),
        ("tools/list", "SERVER"),
    ]
    for server_span in server_spans:
        context = client_spans[server_span["name"]].get_span_context()
        assert server_span["trace_id"] == f"{context.trace_id:032x}"
        assert server_span["parent_span_id"] == f"{context.span_id:016x}"
        assert server_span["status"] == "UNSET"
    [tool_span] = [span for span in server_spans if span["name"] == "tools/call get_weather"]
    assert tool_span["attributes"] == {
        **tool_attrs("get_weather", "stdio-weather"),
        "mcp.method.name": "tools/call",
        "jsonrpc.request.id": "2",
        "mcp.protocol.version": attrs_of(client_spans["tools/call get_weather"])["mcp.protocol.version"],
        "network.transport": "pipe",
    }
    assert tool_view(client_spans["tools/call get_weather"]) == tool_attrs("get_weather", "stdio-weather")


# --------------------------------------------------------------------------- extractors


def test_request_reads_the_target_of_each_method() -> None:
    call = types.CallToolRequestParams(name="echo", arguments={"a": 1})
    assert extract.request("tools/call", call) == extract.Request(
        "tools/call", tool="echo", arguments={"a": 1}
    )
    assert extract.request("prompts/get", {"name": "review"}) == extract.Request(
        "prompts/get", prompt="review"
    )
    assert extract.request("resources/read", {"uri": "file:///a"}) == extract.Request(
        "resources/read", uri="file:///a"
    )
    assert extract.request("tools/list", None) == extract.Request("tools/list")
    assert extract.request("tools/call", {}).span_name == "tools/call"
    assert extract.request("tools/call", {"name": "echo"}).span_name == "tools/call echo"
    with pytest.raises(TypeError):
        extract.request(None, None)


def test_jsonrpc_error_reads_an_mcp_error_and_a_params_validation_error() -> None:
    assert extract.jsonrpc_error(MCPError(code=-32601, message="Method not found")) == (
        "-32601",
        "Method not found",
    )
    with pytest.raises(ValueError) as info:
        types.CallToolRequestParams.model_validate({"arguments": {}})
    assert extract.jsonrpc_error(info.value) == ("-32602", "Invalid request parameters")
    assert extract.jsonrpc_error(RuntimeError("x")) is None


def test_is_error_result_reads_models_and_wire_dicts() -> None:
    assert extract.is_error_result(types.CallToolResult(content=[], is_error=True)) is True
    assert extract.is_error_result(types.CallToolResult(content=[])) is False
    assert extract.is_error_result({"content": [], "isError": True}) is True
    assert extract.is_error_result({"content": [], "isError": "true"}) is False
    assert extract.is_error_result(None) is False


def test_result_content_drops_the_protocol_envelope() -> None:
    result = types.CallToolResult(
        content=[types.TextContent(type="text", text="hi")], _meta={"k": "v"}, result_type="complete"
    )
    assert extract.result_content(result) == {"content": [{"type": "text", "text": "hi"}], "isError": False}
    assert extract.result_content({"content": [], "_meta": {}, "resultType": "complete"}) == {"content": []}


def test_remote_parent_is_the_meta_span() -> None:
    remote = trace.SpanContext(0xABC, 0xDEF, is_remote=True, trace_flags=trace.TraceFlags(1))
    meta = {"traceparent": f"00-{0xABC:032x}-{0xDEF:016x}-01"}
    empty = otel_context.Context()

    parent = extract.remote_parent(meta, empty)
    assert parent is not None
    assert trace.get_current_span(parent).get_span_context() == remote
    assert extract.remote_parent(None, empty) is None
    assert extract.remote_parent({"traceparent": "garbage"}, empty) is None


# --------------------------------------------------------------------------- a global SDK provider


@pytest.mark.parametrize("sdk_spans", ["no-op", "recording"])
def test_one_span_per_request_per_side_with_or_without_a_global_provider_in_both_processes(
    tmp_path: Path, sdk_spans: str
) -> None:
    """Both processes instrumented; ``recording`` also makes each one's provider the global one, so
    the SDK's own spans (``MCP send ...``, its middleware's SERVER span) would be recorded too."""
    client_file, server_file = tmp_path / "client.jsonl", tmp_path / "server.jsonl"
    env = {
        **os.environ,
        "MCP_TEST_SPANS_FILE": str(client_file),
        "MCP_TEST_SERVER_SPANS_FILE": str(server_file),
        "MCP_TEST_SDK_SPANS": sdk_spans,
    }
    subprocess.run([sys.executable, str(CLIENT_APP)], env=env, check=True, timeout=120)

    client_spans = {span["name"]: span for span in read_spans(client_file)}
    assert sorted((span["name"], span["kind"]) for span in client_spans.values()) == [
        ("initialize", "CLIENT"),
        ("tools/call get_weather", "CLIENT"),
        ("tools/list", "CLIENT"),
    ]
    assert len(read_spans(client_file)) == 3
    # The SDK's middleware still spans notifications when it records: we give them none.
    server_spans = [span for span in read_spans(server_file) if not span["name"].startswith("notifications/")]
    assert sorted((span["name"], span["kind"]) for span in server_spans) == [
        ("initialize", "SERVER"),
        ("tools/call get_weather", "SERVER"),
        ("tools/list", "SERVER"),
    ]
    for server_span in server_spans:
        client_span = client_spans[server_span["name"]]
        assert server_span["parent_span_id"] == client_span["span_id"]
        assert server_span["trace_id"] == client_span["trace_id"]
    assert client_spans["tools/call get_weather"]["attributes"]["network.transport"] == "pipe"
