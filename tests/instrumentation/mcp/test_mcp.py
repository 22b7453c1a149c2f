"""The MCP instrumentor against a real MCP client and server (in-memory transport, and stdio)."""

from __future__ import annotations

import json
import logging
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
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.instrumentation.dependencies import get_dependency_conflicts
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode
from pydantic import ValidationError

from agentotel.instrumentation.mcp import MCPInstrumentor, extract
from agentotel.testing._capture import TelemetryCapture

TOOL_DURATION = "agentotel.tool.duration"
TELEMETRY_ERRORS = "agentotel.telemetry.errors"
CAPTURE_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
SERVER_APP = Path(__file__).with_name("mcp_server_app.py")
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


def client_and_server(cap: TelemetryCapture) -> tuple[ReadableSpan, ReadableSpan]:
    """The two spans of one in-process call: the server's ends first."""
    server_span, client_span = cap.spans()
    return client_span, server_span


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


async def test_call_tool_makes_one_execute_tool_span_on_each_side(
    mcp_cap: TelemetryCapture, mode: str
) -> None:
    async with Client(weather_server(), mode=mode) as client:
        result = await client.call_tool("get_weather", {"city": "Paris"})

    assert result.content == [types.TextContent(type="text", text="Sunny in Paris")]
    client_span, server_span = client_and_server(mcp_cap)
    for span in (client_span, server_span):
        assert span.name == "execute_tool get_weather"
        assert span.kind is SpanKind.INTERNAL
        assert span.status.status_code is StatusCode.UNSET
        assert attrs_of(span) == tool_attrs("get_weather", WEATHER)


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

    server_span, client_span, turn_span = mcp_cap.spans()
    assert client_span.parent is not None and client_span.parent.span_id == turn.get_span_context().span_id
    trace_ids = {s.get_span_context().trace_id for s in (server_span, client_span, turn_span)}
    assert trace_ids == {turn.get_span_context().trace_id}


async def test_the_request_meta_carries_the_client_spans_traceparent(
    mcp_cap: TelemetryCapture, mode: str
) -> None:
    seen: list[dict[str, Any]] = []
    async with Client(lowlevel_server(seen), mode=mode) as client:
        await client.call_tool("echo", {})

    client_span, _ = client_and_server(mcp_cap)
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
    assert meta["traceparent"] == traceparent(client_and_server(mcp_cap)[0])


async def test_the_server_name_is_each_sides_server(mcp_cap: TelemetryCapture, mode: str) -> None:
    async with Client(lowlevel_server([]), mode=mode) as client:
        await client.call_tool("echo", {})

    client_span, server_span = client_and_server(mcp_cap)
    assert attrs_of(client_span) == tool_attrs("echo", LOWLEVEL)
    assert attrs_of(server_span) == tool_attrs("echo", LOWLEVEL)


# --------------------------------------------------------------------------- metrics and errors


async def test_tool_duration_is_recorded_once_per_span(mcp_cap: TelemetryCapture, mode: str) -> None:
    async with Client(weather_server(), mode=mode) as client:
        await client.call_tool("get_weather", {"city": "Paris"})
        await client.call_tool("get_weather", {"city": "Oslo"})

    assert duration_counts(mcp_cap) == {("get_weather", "extension", None): 4}


async def test_an_is_error_result_fails_both_spans_and_is_returned(
    mcp_cap: TelemetryCapture, mode: str
) -> None:
    async with Client(weather_server(), mode=mode) as client:
        result = await client.call_tool("forecast", {"city": "Atlantis"})

    assert result.is_error is True
    assert result.content == [
        types.TextContent(type="text", text="Error executing tool forecast: no forecast for Atlantis")
    ]
    for span in client_and_server(mcp_cap):
        assert span.name == "execute_tool forecast"
        assert span.status.status_code is StatusCode.ERROR
        assert attrs_of(span) == {**tool_attrs("forecast", WEATHER), "error.type": "tool_error"}
        assert span.events == ()
    assert duration_counts(mcp_cap) == {("forecast", "extension", "tool_error"): 2}


async def test_an_unknown_tool_is_a_failed_tool_call(mcp_cap: TelemetryCapture, mode: str) -> None:
    async with Client(weather_server(), mode=mode) as client:
        result = await client.call_tool("no_such_tool", {})

    assert result.is_error is True
    for span in client_and_server(mcp_cap):
        assert span.name == "execute_tool no_such_tool"
        assert span.status.status_code is StatusCode.ERROR
        assert attrs_of(span) == {**tool_attrs("no_such_tool", WEATHER), "error.type": "tool_error"}
    assert duration_counts(mcp_cap) == {("no_such_tool", "extension", "tool_error"): 2}


async def test_a_handler_that_raises_fails_the_server_span_and_the_call(
    mcp_cap: TelemetryCapture, mode: str
) -> None:
    async with Client(lowlevel_server([]), mode=mode) as client:
        with pytest.raises(MCPError) as info:
            await client.session.call_tool("crash", {})

    client_span, server_span = client_and_server(mcp_cap)
    assert attrs_of(server_span) == {**tool_attrs("crash", LOWLEVEL), "error.type": "RuntimeError"}
    assert server_span.status.status_code is StatusCode.ERROR
    [event] = server_span.events
    assert event.name == "exception"
    assert dict(event.attributes or {})["exception.message"] == "disk on fire"
    assert attrs_of(client_span) == {**tool_attrs("crash", LOWLEVEL), "error.type": "mcp.MCPError"}
    assert client_span.status.status_code is StatusCode.ERROR
    [event] = client_span.events
    assert dict(event.attributes or {})["exception.message"] == str(info.value)
    assert duration_counts(mcp_cap) == {
        ("crash", "extension", "RuntimeError"): 1,
        ("crash", "extension", "mcp.MCPError"): 1,
    }


async def test_a_client_side_failure_propagates_and_fails_the_span(
    mcp_cap: TelemetryCapture, mode: str
) -> None:
    async with Client(weather_server(), mode=mode) as client:
        session = client.session
    with pytest.raises(MCPError) as info:
        await session.call_tool("get_weather", {"city": "Paris"})  # the connection is closed

    assert (info.value.code, info.value.message) == (types.CONNECTION_CLOSED, "Connection closed")
    [span] = mcp_cap.spans()
    assert span.name == "execute_tool get_weather"
    assert span.status.status_code is StatusCode.ERROR
    assert attrs_of(span) == {**tool_attrs("get_weather", WEATHER), "error.type": "mcp.MCPError"}
    [event] = span.events
    assert dict(event.attributes or {})["exception.message"] == "Connection closed"
    assert duration_counts(mcp_cap) == {("get_weather", "extension", "mcp.MCPError"): 1}


async def test_an_error_of_ours_costs_only_the_span(mcp_cap: TelemetryCapture, mode: str) -> None:
    # A tool name that is not a string: our extractor raises, the SDK gets the call unchanged
    # and rejects it with its own error.
    async with Client(weather_server(), mode=mode) as client:
        with pytest.raises(ValidationError):
            await client.session.call_tool(42, {})  # type: ignore[arg-type]

    assert mcp_cap.spans() == []
    assert [(dict(p.attributes), p.value) for p in mcp_cap.metric_points(TELEMETRY_ERRORS)] == [
        ({"agentotel.component": "mcp", "error.type": "TypeError"}, 1)
    ]


# --------------------------------------------------------------------------- content


async def test_no_arguments_or_result_without_content_capture(mcp_cap: TelemetryCapture, mode: str) -> None:
    async with Client(weather_server(), mode=mode) as client:
        await client.call_tool("get_weather", {"city": "Paris"})

    for span in client_and_server(mcp_cap):
        assert "gen_ai.tool.call.arguments" not in attrs_of(span)
        assert "gen_ai.tool.call.result" not in attrs_of(span)


async def test_arguments_and_result_with_span_content_capture(
    agent_layer: TelemetryCapture, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    monkeypatch.setenv(CAPTURE_ENV, "SPAN_ONLY")
    with instrumented(agent_layer, MCPInstrumentor):
        async with Client(weather_server(), mode=mode) as client:
            await client.call_tool("get_weather", {"city": "Paris"})

    result = (
        '{"content":[{"type":"text","text":"Sunny in Paris"}],'
        '"structuredContent":{"result":"Sunny in Paris"},"isError":false}'
    )
    for span in client_and_server(agent_layer):
        assert attrs_of(span) == {
            **tool_attrs("get_weather", WEATHER),
            "gen_ai.tool.call.arguments": '{"city":"Paris"}',
            "gen_ai.tool.call.result": result,
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


async def test_uninstrument_restores_the_original_methods(agent_layer: TelemetryCapture, mode: str) -> None:
    call_tool = vars(ClientSession)["call_tool"]
    get_request_handler = vars(Server)["get_request_handler"]
    instrumentor = MCPInstrumentor()
    instrumentor.instrument(
        tracer_provider=agent_layer.tracer_provider, meter_provider=agent_layer.meter_provider
    )
    assert vars(ClientSession)["call_tool"] is not call_tool
    assert vars(Server)["get_request_handler"] is not get_request_handler
    instrumentor.uninstrument()

    assert vars(ClientSession)["call_tool"] is call_tool
    assert vars(Server)["get_request_handler"] is get_request_handler
    async with Client(weather_server(), mode=mode) as client:
        await client.call_tool("get_weather", {"city": "Paris"})
    assert agent_layer.spans() == []


def test_patch_points_are_the_client_call_and_the_server_handler_lookup() -> None:
    patches = MCPInstrumentor().patches
    assert [(p.module, p.name) for p in patches] == [
        ("mcp.client.session", "ClientSession.call_tool"),
        ("mcp.server.lowlevel.server", "Server.get_request_handler"),
    ]
    assert [p.owner() for p in patches] == [(ClientSession, "call_tool"), (Server, "get_request_handler")]


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
    call_tool = vars(ClientSession)["call_tool"]
    instrumentor = _FutureMCPInstrumentor()
    with caplog.at_level(logging.WARNING):
        instrumentor.instrument(tracer_provider=cap.tracer_provider, skip_dep_check=skip_dep_check)
    try:
        assert vars(ClientSession)["call_tool"] is call_tool
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
    async with Client(params) as client:
        return await client.call_tool("get_weather", {"city": "Paris"})


def read_spans(spans_file: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in spans_file.read_text().splitlines()]


@pytest.mark.parametrize("sdk_spans", ["no-op", "off"])
async def test_a_stdio_server_instrumented_with_us_continues_the_trace(
    mcp_cap: TelemetryCapture, tmp_path: Path, sdk_spans: str
) -> None:
    spans_file = tmp_path / "server-spans.jsonl"
    result = await call_stdio_server(sdk_spans, spans_file)

    assert result.content == [types.TextContent(type="text", text="Sunny in Paris")]
    [client_span] = mcp_cap.spans()
    assert attrs_of(client_span) == tool_attrs("get_weather", "stdio-weather")
    [server_span] = read_spans(spans_file)
    context = client_span.get_span_context()
    assert server_span == {
        "name": "execute_tool get_weather",
        "trace_id": f"{context.trace_id:032x}",
        "span_id": server_span["span_id"],
        "parent_span_id": f"{context.span_id:016x}",
        "kind": "INTERNAL",
        "status": "UNSET",
        "attributes": tool_attrs("get_weather", "stdio-weather"),
    }


async def test_a_stdio_servers_tool_span_nests_under_the_sdks_recording_server_span(
    mcp_cap: TelemetryCapture, tmp_path: Path
) -> None:
    spans_file = tmp_path / "server-spans.jsonl"
    await call_stdio_server("recording", spans_file)

    [client_span] = mcp_cap.spans()
    spans = {span["name"]: span for span in read_spans(spans_file)}  # also discover, tools/list
    tool_span, sdk_span = spans["execute_tool get_weather"], spans["tools/call get_weather"]
    context = client_span.get_span_context()
    assert sdk_span["kind"] == "SERVER"
    assert sdk_span["parent_span_id"] == f"{context.span_id:016x}"
    assert tool_span["parent_span_id"] == sdk_span["span_id"]
    assert {tool_span["trace_id"], sdk_span["trace_id"]} == {f"{context.trace_id:032x}"}


# --------------------------------------------------------------------------- extractors


def test_client_call_binds_name_and_arguments() -> None:
    assert extract.client_call(("echo",), {}) == ("echo", None)
    assert extract.client_call(("echo", {"a": 1}), {"meta": {}}) == ("echo", {"a": 1})
    assert extract.client_call((), {"name": "echo", "arguments": {"a": 1}}) == ("echo", {"a": 1})


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


def test_remote_parent_is_the_meta_span_unless_already_in_its_trace() -> None:
    remote = trace.SpanContext(0xABC, 0xDEF, is_remote=True, trace_flags=trace.TraceFlags(1))
    meta = {"traceparent": f"00-{0xABC:032x}-{0xDEF:016x}-01"}
    empty = otel_context.Context()

    parent = extract.remote_parent(meta, empty)
    assert parent is not None
    assert trace.get_current_span(parent).get_span_context() == remote
    assert extract.remote_parent(None, empty) is None
    assert extract.remote_parent({"traceparent": "garbage"}, empty) is None
    in_trace = trace.set_span_in_context(trace.NonRecordingSpan(remote), empty)
    assert extract.remote_parent(meta, in_trace) is None
