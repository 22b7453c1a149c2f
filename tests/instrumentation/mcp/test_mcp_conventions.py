"""The MCP instrumentor against the MCP semantic conventions, pinned key by key.

Source: open-telemetry/semantic-conventions-genai, ``docs/gen-ai/mcp.md`` (Status: Development),
sections "Spans" ("Context propagation", "Client", "Server"), "Metrics" (the four
``Metric: ...`` sections) and "Recording MCP transport". The table the tests below are written
against (RL: requirement level; CR: conditionally required; R: recommended; O: opt-in):

Spans ("Client", "Server")
  name    ``{mcp.method.name} {target}``, target = ``gen_ai.tool.name`` or ``gen_ai.prompt.name``
          when applicable, else ``{mcp.method.name}``; ``mcp.resource.uri`` not in the name by
          default
  kind    CLIENT (the side that sends the request: the client, or the server "when server
          initiates the operation") / SERVER (the side that handles it)
  status  ERROR when ``error.type`` is set; description = ``JSONRPCError.message``
  ------------------------------------------------------------------------------------------------
  key                        RL  when / value
  mcp.method.name            Required  the request method
  error.type                 CR  iff the operation fails: the JSON-RPC error code as a string;
                                 ``tool_error`` for a CallToolResult with ``isError: true``;
                                 a timeout or transport error: the general error.type guidance
                                 (model/mcp/common.yaml, ``mcp.common.attributes``)
  gen_ai.prompt.name         CR  the operation is about a prompt (``prompts/get``)
  gen_ai.tool.name           CR  the operation is about a tool (``tools/call``)
  jsonrpc.request.id         CR  a request (not for a null or missing id)
  mcp.resource.uri           CR  the request has a resource URI (``resources/read``,
                                 ``resources/subscribe``, ``resources/unsubscribe``)
  rpc.response.status_code   CR  the response carries an error code. Client: every code is an
                                 error. Server: -32700, -32600, -32601, -32602, -32002 (the
                                 caller's fault) are not (model/mcp/common.yaml,
                                 ``mcp.client.status.attributes`` / ``mcp.server.status.attributes``;
                                 the rendered mcp.md of an older commit still says every code)
  gen_ai.operation.name      R   ``execute_tool`` for a tool call, not set otherwise
  jsonrpc.protocol.version   R   only when not ``2.0`` (never here)
  mcp.protocol.version       R   the negotiated MCP version
  mcp.session.id             R   when the request is part of a session
  network.transport          R   ``pipe`` for stdio, ``tcp`` for HTTP
  network.protocol.name/.version, server.address/.port (client), client.address/.port (server)
                             R   when applicable (not recorded: the SDK does not expose them)
  gen_ai.tool.call.arguments / gen_ai.tool.call.result
                             O   (content capture on only)
  gen_ai.prompt.variable.<argument>
                             O   each ``prompts/get`` argument as a string (model/mcp/spans.yaml;
                                 content capture on only)
  Client only: "MCP tool call execution spans are compatible with GenAI execute_tool spans. If the
  MCP instrumentation can reliably detect that outer GenAI instrumentation is already tracing the
  tool execution, it SHOULD NOT create a separate span. Instead, it SHOULD add MCP-specific
  attributes to the existing tool execution span. Instrumentations that support this behavior MAY
  provide a configuration option to enable it." Issue 16 asks for a child span instead; agentotel
  makes it a child that carries the MCP attributes and ``gen_ai.tool.name`` but no
  ``gen_ai.operation.name`` (note [6]: set only when the span describes the tool call, which the
  app's span does), so one call is one ``execute_tool``
  (``test_inside_an_app_tool_span_the_mcp_span_is_its_child_and_no_second_execute_tool``).
  Notifications: the conventions cover them; agentotel (issue 16) gives them no span.

Context propagation: the configured propagators write ``traceparent``, ``tracestate`` and
``baggage`` unprefixed into ``params._meta``; the server's span takes the extracted context as
parent and links the ambient one.

Metrics ("Metrics"): histograms, unit ``s``, ``ExplicitBucketBoundaries``
``[0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300]``
  mcp.client.operation.duration / mcp.server.operation.duration:
      Required mcp.method.name; CR error.type, gen_ai.prompt.name, gen_ai.tool.name,
      rpc.response.status_code; R gen_ai.operation.name (execute_tool for tool calls),
      mcp.protocol.version, network.transport (+ network.protocol.*, server.* on the client);
      O mcp.resource.uri (not recorded)
  mcp.client.session.duration / mcp.server.session.duration:
      CR error.type (iff the session ends with an error); R mcp.protocol.version, network.transport
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mcp_types as types
import pytest
import uvicorn
from helpers import attrs_of, instrumented
from mcp import Client, MCPError, StdioServerParameters
from mcp.server.lowlevel.server import Server
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from opentelemetry import baggage, trace
from opentelemetry import context as otel_context
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode

import agentotel
from agentotel.cli._demo_agent import TOOLS
from agentotel.instrumentation.mcp import MCPInstrumentor, extract
from agentotel.instrumentation.openai import OpenAIInstrumentor
from agentotel.processors.audit import AuditSpanProcessor
from agentotel.processors.audit._derive import TOOL_CALL, derive
from agentotel.testing._capture import TelemetryCapture

SERVER = "conventions-server"
BUCKETS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
METRICS = (
    "mcp.client.operation.duration",
    "mcp.server.operation.duration",
    "mcp.client.session.duration",
    "mcp.server.session.duration",
)
SERVER_APP = Path(__file__).with_name("mcp_server_app.py")


def conventions_server() -> MCPServer:
    server = MCPServer(SERVER)

    @server.tool()
    def get_weather(city: str) -> str:
        """Weather for a city."""
        return f"Sunny in {city}"

    @server.tool()
    def forecast(city: str) -> str:
        """Always fails."""
        raise ToolError(f"no forecast for {city}")

    @server.prompt()
    def review(code: str) -> str:
        """Review code."""
        return f"Review {code}"

    @server.resource("file:///notes.txt")
    def notes() -> str:
        return "notes"

    return server


@pytest.fixture
def mcp_cap(agent_layer: TelemetryCapture) -> Iterator[TelemetryCapture]:
    with instrumented(agent_layer, MCPInstrumentor):
        yield agent_layer


def kinds(names: Any) -> set[tuple[str, SpanKind]]:
    """A client and a server span for each name."""
    return {(name, kind) for name in names for kind in (SpanKind.CLIENT, SpanKind.SERVER)}


def by_name(cap: TelemetryCapture) -> dict[tuple[str, SpanKind], ReadableSpan]:
    """The spans by (name, kind); fails on two spans of one name and kind."""
    found: dict[tuple[str, SpanKind], ReadableSpan] = {}
    for span in cap.spans():
        key = (span.name, span.kind)
        assert key not in found, f"two {key} spans"
        found[key] = span
    return found


def by_name_without_http(cap: TelemetryCapture) -> dict[tuple[str, SpanKind], ReadableSpan]:
    """:func:`by_name` of the MCP spans only (an HTTP server span per request is left out)."""
    return {(s.name, s.kind): s for s in cap.spans() if s.name not in ("POST", "GET", "DELETE")}


def handshake_version() -> str:
    from mcp_types.version import LATEST_HANDSHAKE_VERSION

    return str(LATEST_HANDSHAKE_VERSION)


# --------------------------------------------------------------------------- spans, JSON-RPC


async def test_every_request_is_one_client_and_one_server_span_with_the_conventions_attributes(
    mcp_cap: TelemetryCapture,
) -> None:
    async with Client(conventions_server(), mode="legacy") as client:
        await client.call_tool("get_weather", {"city": "Paris"})  # tools/call, then tools/list
        await client.get_prompt("review", {"code": "x"})
        await client.read_resource("file:///notes.txt")

    version = handshake_version()
    common = {"mcp.protocol.version": version, "agentotel.mcp.server.name": SERVER}
    tool = {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "get_weather",
        "gen_ai.tool.type": "extension",
        "mcp.method.name": "tools/call",
    }
    expected = {
        "initialize": {
            "mcp.method.name": "initialize",
            "jsonrpc.request.id": "1",
            "mcp.protocol.version": version,
        },
        "tools/call get_weather": {**tool, **common, "jsonrpc.request.id": "2"},
        "tools/list": {"mcp.method.name": "tools/list", **common, "jsonrpc.request.id": "3"},
        "prompts/get review": {
            "mcp.method.name": "prompts/get",
            "gen_ai.prompt.name": "review",
            **common,
            "jsonrpc.request.id": "4",
        },
        "resources/read": {
            "mcp.method.name": "resources/read",
            "mcp.resource.uri": "file:///notes.txt",
            **common,
            "jsonrpc.request.id": "5",
        },
    }
    spans = by_name(mcp_cap)
    assert set(spans) == kinds(expected)
    for name, attrs in expected.items():
        client, server = spans[(name, SpanKind.CLIENT)], spans[(name, SpanKind.SERVER)]
        # The client learns the server's name from the initialize result: not on that request.
        assert attrs_of(client) == attrs, name
        assert attrs_of(server) == {**attrs, "agentotel.mcp.server.name": SERVER}, name
        for span in (client, server):
            assert span.status.status_code is StatusCode.UNSET
        assert server.parent is not None and server.parent.span_id == client.context.span_id
        assert server.context.trace_id == client.context.trace_id


@pytest.mark.filterwarnings("ignore:ping is removed as of 2026-07-28")
async def test_notifications_get_no_span(mcp_cap: TelemetryCapture) -> None:
    async with Client(conventions_server(), mode="legacy") as client:  # notifications/initialized
        await client.send_ping()

    names = [span.name for span in mcp_cap.spans()]
    assert sorted(names) == ["initialize", "initialize", "ping", "ping"]


async def test_the_in_process_path_has_the_same_spans_without_a_client_request_id(
    mcp_cap: TelemetryCapture,
) -> None:
    async with Client(conventions_server()) as client:  # server/discover, no JSON-RPC framing
        await client.call_tool("get_weather", {"city": "Paris"})
        version = client.protocol_version

    spans = by_name(mcp_cap)
    assert set(spans) == kinds(("server/discover", "tools/call get_weather", "tools/list"))
    client_span = spans[("tools/call get_weather", SpanKind.CLIENT)]
    assert attrs_of(client_span) == {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "get_weather",
        "gen_ai.tool.type": "extension",
        "mcp.method.name": "tools/call",
        "mcp.protocol.version": version,
        "agentotel.mcp.server.name": SERVER,
    }
    # The SDK numbers in-process requests for its handler: the server span has that id.
    assert attrs_of(spans[("tools/call get_weather", SpanKind.SERVER)])["jsonrpc.request.id"] == "2"
    assert attrs_of(spans[("server/discover", SpanKind.CLIENT)]) == {
        "mcp.method.name": "server/discover",
        "mcp.protocol.version": version,
    }


@pytest.mark.filterwarnings("ignore:The .* capability is deprecated as of 2026-07-28")
async def test_requests_the_server_sends_are_a_client_span_there_and_a_server_span_on_the_client(
    mcp_cap: TelemetryCapture,
) -> None:
    server = MCPServer(SERVER)

    @server.tool()
    async def summarize(text: str, ctx: Context) -> str:
        message = types.SamplingMessage(role="user", content=types.TextContent(type="text", text=text))
        reply = await ctx.session.create_message(messages=[message], max_tokens=10)
        roots = await ctx.session.list_roots()
        return f"{reply.content.text} {len(roots.roots)}"  # type: ignore[union-attr]

    async def sampling(ctx: Any, params: Any) -> types.CreateMessageResult:
        return types.CreateMessageResult(
            role="assistant", content=types.TextContent(type="text", text="short"), model="m"
        )

    async def roots(ctx: Any) -> types.ListRootsResult:
        return types.ListRootsResult(roots=[types.Root(uri="file:///a")])

    async with Client(server, mode="legacy", sampling_callback=sampling, list_roots_callback=roots) as client:
        result = await client.call_tool("summarize", {"text": "long"})

    assert result.content == [types.TextContent(type="text", text="short 1")]
    spans = by_name(mcp_cap)
    assert set(spans) == kinds(
        ("initialize", "tools/call summarize", "tools/list", "sampling/createMessage", "roots/list")
    )
    tool = spans[("tools/call summarize", SpanKind.SERVER)]
    version = handshake_version()
    for name, request_id in (("sampling/createMessage", "1"), ("roots/list", "2")):
        sent, handled = spans[(name, SpanKind.CLIENT)], spans[(name, SpanKind.SERVER)]
        assert sent.parent is not None and sent.parent.span_id == tool.context.span_id
        assert handled.parent is not None and handled.parent.span_id == sent.context.span_id
        method = {"mcp.method.name": name, "jsonrpc.request.id": request_id, "mcp.protocol.version": version}
        assert attrs_of(sent) == method
        assert attrs_of(handled) == {**method, "agentotel.mcp.server.name": SERVER}


@pytest.mark.parametrize("capture", ["NO_CONTENT", "SPAN_ONLY"])
async def test_prompt_arguments_are_prompt_variables_only_with_content_capture(
    agent_layer: TelemetryCapture, monkeypatch: pytest.MonkeyPatch, capture: str
) -> None:
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", capture)
    with instrumented(agent_layer, MCPInstrumentor):
        async with Client(conventions_server(), mode="legacy") as client:
            await client.get_prompt("review", {"code": "print(1)"})

    spans = by_name(agent_layer)
    expected = {"gen_ai.prompt.variable.code": "print(1)"} if capture == "SPAN_ONLY" else {}
    for kind in (SpanKind.CLIENT, SpanKind.SERVER):
        attrs = attrs_of(spans[("prompts/get review", kind)])
        assert {k: v for k, v in attrs.items() if k.startswith("gen_ai.prompt.variable")} == expected


# --------------------------------------------------------------------------- errors


async def test_a_caller_fault_code_is_an_error_of_the_client_span_not_of_the_server_span(
    mcp_cap: TelemetryCapture,
) -> None:
    server: Server[Any] = Server(SERVER)  # serves no prompts: prompts/get is METHOD_NOT_FOUND
    async with Client(server, mode="legacy") as client:
        with pytest.raises(MCPError) as info:
            await client.get_prompt("review")

    assert info.value.code == types.METHOD_NOT_FOUND
    spans = by_name(mcp_cap)
    common = {
        "mcp.method.name": "prompts/get",
        "gen_ai.prompt.name": "review",
        "jsonrpc.request.id": "2",
        "mcp.protocol.version": handshake_version(),
        "agentotel.mcp.server.name": SERVER,
        "rpc.response.status_code": "-32601",
    }
    client, server_span = (
        spans[("prompts/get review", SpanKind.CLIENT)],
        spans[("prompts/get review", SpanKind.SERVER)],
    )
    assert attrs_of(client) == {**common, "error.type": "-32601"}
    assert client.status.status_code is StatusCode.ERROR
    assert client.status.description == "Method not found"
    assert attrs_of(server_span) == common  # the caller's fault, not the server's
    assert server_span.status.status_code is StatusCode.UNSET
    for span in (client, server_span):
        assert span.events == ()


async def test_a_server_error_code_is_an_error_on_both_sides(mcp_cap: TelemetryCapture) -> None:
    async def get_prompt(ctx: Any, params: Any) -> Any:
        raise MCPError(code=types.INTERNAL_ERROR, message="prompt store down")

    async with Client(Server(SERVER, on_get_prompt=get_prompt), mode="legacy") as client:
        with pytest.raises(MCPError):
            await client.get_prompt("review")

    spans = by_name(mcp_cap)
    for kind in (SpanKind.CLIENT, SpanKind.SERVER):
        span = spans[("prompts/get review", kind)]
        assert attrs_of(span)["error.type"] == attrs_of(span)["rpc.response.status_code"] == "-32603"
        assert span.status.status_code is StatusCode.ERROR
        assert span.status.description == "prompt store down"


async def test_an_is_error_tool_result_is_a_tool_error_on_both_sides(mcp_cap: TelemetryCapture) -> None:
    async with Client(conventions_server(), mode="legacy") as client:
        result = await client.call_tool("forecast", {"city": "Atlantis"})

    assert result.is_error is True
    spans = by_name(mcp_cap)
    for kind in (SpanKind.CLIENT, SpanKind.SERVER):
        span = spans[("tools/call forecast", kind)]
        assert attrs_of(span)["error.type"] == "tool_error"
        assert "rpc.response.status_code" not in attrs_of(span)
        assert span.status.status_code is StatusCode.ERROR


# --------------------------------------------------------------------------- nesting and records


async def test_inside_an_app_tool_span_the_mcp_span_is_its_child_and_no_second_execute_tool(
    mcp_cap: TelemetryCapture,
) -> None:
    async with Client(conventions_server(), mode="legacy") as client:

        @agentotel.tool()
        async def weather(city: str) -> str:
            result = await client.call_tool("get_weather", {"city": city})
            return str(result.content[0].text)  # type: ignore[union-attr]

        assert await weather("Paris") == "Sunny in Paris"

    spans = by_name(mcp_cap)
    outer = spans[("execute_tool weather", SpanKind.INTERNAL)]
    client = spans[("tools/call get_weather", SpanKind.CLIENT)]
    server = spans[("tools/call get_weather", SpanKind.SERVER)]
    assert client.parent is not None and client.parent.span_id == outer.context.span_id
    assert attrs_of(client) == {
        "gen_ai.tool.name": "get_weather",
        "mcp.method.name": "tools/call",
        "jsonrpc.request.id": "2",
        "mcp.protocol.version": handshake_version(),
        "agentotel.mcp.server.name": SERVER,
    }
    client_side = [s for s in mcp_cap.spans() if s.kind is not SpanKind.SERVER]
    assert [s.name for s in client_side if attrs_of(s).get("gen_ai.operation.name") == "execute_tool"] == [
        "execute_tool weather"
    ]
    # One audit record per tool call on each side: the app's tool, the server's tool.
    records = [r for r in map(derive, mcp_cap.spans()) if r is not None]
    assert sorted((r.event_type, r.action, r.resource) for r in records) == [
        (TOOL_CALL, "execute_tool", "get_weather"),
        (TOOL_CALL, "execute_tool", "weather"),
    ]
    assert server.parent is not None and server.parent.span_id == client.context.span_id
    tool_counts = {
        dict(p.attributes)["gen_ai.tool.name"]: p.count
        for p in mcp_cap.metric_points("agentotel.tool.duration")
    }
    assert tool_counts == {"weather": 1, "get_weather": 1}


async def test_a_standalone_tool_call_is_one_audited_execute_tool_per_side(mcp_cap: TelemetryCapture) -> None:
    async with Client(conventions_server(), mode="legacy") as client:
        await client.call_tool("get_weather", {"city": "Paris"})

    records = [r for r in map(derive, mcp_cap.spans()) if r is not None]
    assert [(r.event_type, r.action, r.resource, r.outcome) for r in records] == [
        (TOOL_CALL, "execute_tool", "get_weather", "success"),
        (TOOL_CALL, "execute_tool", "get_weather", "success"),
    ]


async def test_a_tools_call_answering_an_llm_tool_call_takes_its_id_and_no_span_is_inferred(
    agent_layer: TelemetryCapture, async_openai_client: Any, fresh_fake_llm: Any
) -> None:
    messages: list[dict[str, Any]] = [{"role": "user", "content": "Weather in Paris?"}]
    with instrumented(agent_layer, OpenAIInstrumentor, MCPInstrumentor):
        chat = async_openai_client.chat.completions
        reply = await chat.create(model="gpt-4o-mini", messages=messages, tools=TOOLS)
        message = reply.choices[0].message
        messages.append(message.model_dump(exclude_none=True))
        async with Client(conventions_server(), mode="legacy") as client:
            [call] = message.tool_calls
            result = await client.call_tool(call.function.name, json.loads(call.function.arguments))
            messages.append({"role": "tool", "tool_call_id": call.id, "content": result.content[0].text})
        await chat.create(model="gpt-4o-mini", messages=messages, tools=TOOLS)

    tools = [s for s in agent_layer.spans() if attrs_of(s).get("gen_ai.operation.name") == "execute_tool"]
    assert sorted((s.name, s.kind.name, attrs_of(s).get("gen_ai.tool.call.id")) for s in tools) == [
        ("tools/call get_weather", "CLIENT", call.id),  # no inferred "execute_tool get_weather"
        ("tools/call get_weather", "SERVER", None),
    ]


async def test_a_bug_of_ours_on_either_side_leaves_the_call_and_is_counted(
    mcp_cap: TelemetryCapture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(method: Any, params: Any) -> Any:
        raise RuntimeError("a bug of ours")

    monkeypatch.setattr(extract, "request", broken)  # reads every request, on both sides
    async with Client(conventions_server(), mode="legacy") as client:
        result = await client.call_tool("get_weather", {"city": "Paris"})
        prompt = await client.get_prompt("review", {"code": "x"})

    assert result.content == [types.TextContent(type="text", text="Sunny in Paris")]
    assert prompt.messages[0].content == types.TextContent(type="text", text="Review x")
    assert mcp_cap.spans() == []
    # initialize, tools/call, tools/list, prompts/get: each on both sides.
    [point] = mcp_cap.metric_points("agentotel.telemetry.errors")
    assert (dict(point.attributes), point.value) == (
        {"agentotel.component": "mcp", "error.type": "RuntimeError"},
        8,
    )


async def test_the_audit_log_has_one_tool_record_per_call_and_side(
    mcp_cap: TelemetryCapture, tmp_path: Path
) -> None:
    path = tmp_path / "audit.jsonl"
    audit = AuditSpanProcessor(path, meter_provider=mcp_cap.meter_provider)
    mcp_cap.tracer_provider.add_span_processor(audit)
    async with Client(conventions_server(), mode="legacy") as client:

        @agentotel.tool()
        async def weather(city: str) -> str:
            result = await client.call_tool("get_weather", {"city": city})
            return str(result.content[0].text)  # type: ignore[union-attr]

        await weather("Paris")  # nested: the app's tool, the server's tool
        await client.call_tool("forecast", {"city": "Oslo"})  # standalone: the client's, the server's
    audit.shutdown()

    found = [json.loads(line) for line in path.read_bytes().splitlines()]
    mcp = {"gen_ai.tool.type": "extension", "agentotel.mcp.server.name": SERVER}
    failed = {**mcp, "error.type": "tool_error"}
    assert [(r["event_type"], r["resource"], r["outcome"], r["metadata"]) for r in found] == [
        (TOOL_CALL, "get_weather", "success", mcp),  # the server's, under the client's tools/call
        (TOOL_CALL, "weather", "success", {"gen_ai.tool.type": "function"}),  # the app's tool
        (TOOL_CALL, "forecast", "failure", failed),  # the server's
        (TOOL_CALL, "forecast", "failure", failed),  # the client's
    ]


# --------------------------------------------------------------------------- context propagation


async def test_meta_carries_traceparent_tracestate_and_baggage(mcp_cap: TelemetryCapture) -> None:
    seen: list[dict[str, Any]] = []

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        seen.append(dict(ctx.meta or {}))
        return types.CallToolResult(content=[])

    async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        return types.ListToolsResult(tools=[types.Tool(name="echo", input_schema={"type": "object"})])

    server: Server[Any] = Server(SERVER, on_list_tools=list_tools, on_call_tool=call_tool)
    parent = trace.SpanContext(
        0xABC,
        0xDEF,
        is_remote=True,
        trace_flags=trace.TraceFlags(1),
        trace_state=trace.TraceState([("rojo", "00f067aa0ba902b7")]),
    )
    ctx = baggage.set_baggage("user", "alice", trace.set_span_in_context(trace.NonRecordingSpan(parent)))
    token = otel_context.attach(ctx)
    try:
        async with Client(server, mode="legacy") as client:
            await client.session.call_tool("echo", {})
    finally:
        otel_context.detach(token)

    client_span = by_name(mcp_cap)[("tools/call echo", SpanKind.CLIENT)]
    [meta] = seen
    assert meta["traceparent"] == f"00-{0xABC:032x}-{client_span.context.span_id:016x}-01"
    assert meta["tracestate"] == "rojo=00f067aa0ba902b7"
    assert meta["baggage"] == "user=alice"


# --------------------------------------------------------------------------- metrics


def histograms(cap: TelemetryCapture) -> dict[str, Any]:
    found: dict[str, Any] = {}
    data = cap.metric_reader.get_metrics_data()
    for rm in data.resource_metrics if data is not None else ():
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                if metric.name in METRICS:
                    found[metric.name] = metric
    return found


async def test_the_four_histograms_have_the_conventions_unit_buckets_and_attributes(
    mcp_cap: TelemetryCapture,
) -> None:
    async with Client(conventions_server(), mode="legacy") as client:
        await client.call_tool("get_weather", {"city": "Paris"})
        await client.call_tool("forecast", {"city": "Atlantis"})

    found = histograms(mcp_cap)
    assert sorted(found) == sorted(METRICS)
    for metric in found.values():
        assert metric.unit == "s"
        for point in metric.data.data_points:
            assert tuple(point.explicit_bounds) == BUCKETS
    version = handshake_version()

    def points(name: str) -> list[tuple[dict[str, Any], int]]:
        return sorted(
            ((dict(p.attributes), p.count) for p in found[name].data.data_points),
            key=lambda x: sorted(x[0].items()),
        )

    def tool(name: str) -> dict[str, Any]:
        return {
            "mcp.method.name": "tools/call",
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": name,
        }

    operations = sorted(
        [
            ({"mcp.method.name": "initialize", "mcp.protocol.version": version}, 1),
            ({**tool("get_weather"), "mcp.protocol.version": version}, 1),
            ({**tool("forecast"), "mcp.protocol.version": version, "error.type": "tool_error"}, 1),
            ({"mcp.method.name": "tools/list", "mcp.protocol.version": version}, 1),
        ],
        key=lambda x: sorted(x[0].items()),
    )
    assert points("mcp.client.operation.duration") == operations
    assert points("mcp.server.operation.duration") == operations
    assert points("mcp.client.session.duration") == [({"mcp.protocol.version": version}, 1)]
    assert points("mcp.server.session.duration") == [({"mcp.protocol.version": version}, 1)]


async def test_a_json_rpc_error_is_on_the_operation_metrics(mcp_cap: TelemetryCapture) -> None:
    async with Client(Server(SERVER), mode="legacy") as client:
        with pytest.raises(MCPError):
            await client.get_prompt("review")

    expected = {
        "mcp.method.name": "prompts/get",
        "gen_ai.prompt.name": "review",
        "mcp.protocol.version": handshake_version(),
        "rpc.response.status_code": "-32601",
    }
    for name, error in (
        ("mcp.client.operation.duration", {"error.type": "-32601"}),
        ("mcp.server.operation.duration", {}),
    ):
        [point] = [
            p for p in mcp_cap.metric_points(name) if dict(p.attributes)["mcp.method.name"] == "prompts/get"
        ]
        assert dict(point.attributes) == {**expected, **error}


async def test_a_session_without_a_handshake_records_no_session_duration(mcp_cap: TelemetryCapture) -> None:
    async with Client(conventions_server()) as client:  # 2026-07-28: server/discover, no session
        await client.call_tool("get_weather", {"city": "Paris"})

    assert mcp_cap.metric_points("mcp.client.session.duration") == []
    assert mcp_cap.metric_points("mcp.server.session.duration") == []
    assert len(mcp_cap.metric_points("mcp.client.operation.duration")) == 3


async def test_a_session_left_by_an_exception_records_its_error_type(mcp_cap: TelemetryCapture) -> None:
    with pytest.raises(Exception) as info:
        async with Client(conventions_server(), mode="legacy"):
            raise KeyError("app")

    assert info.group_contains(KeyError)

    [point] = mcp_cap.metric_points("mcp.client.session.duration")
    assert dict(point.attributes) == {"mcp.protocol.version": handshake_version(), "error.type": "KeyError"}


# --------------------------------------------------------------------------- stdio: network.transport


async def test_stdio_spans_and_session_are_on_a_pipe(mcp_cap: TelemetryCapture, tmp_path: Path) -> None:
    env = {"MCP_TEST_SPANS_FILE": str(tmp_path / "spans.jsonl"), "MCP_TEST_SDK_SPANS": "no-op"}
    params = StdioServerParameters(command=sys.executable, args=[str(SERVER_APP)], env=env)
    async with Client(params, mode="legacy") as client:
        await client.call_tool("get_weather", {"city": "Paris"})

    assert {attrs_of(span)["network.transport"] for span in mcp_cap.spans()} == {"pipe"}
    assert {span.name for span in mcp_cap.spans()} == {"initialize", "tools/call get_weather", "tools/list"}
    [point] = mcp_cap.metric_points("mcp.client.session.duration")
    assert dict(point.attributes) == {
        "mcp.protocol.version": handshake_version(),
        "network.transport": "pipe",
    }


# --------------------------------------------------------------------------- Streamable HTTP: tcp, session id


def serve_http(app: Any) -> Iterator[str]:
    """``app`` on 127.0.0.1 (uvicorn in a thread) while the generator is open; yields its MCP URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/mcp"
    server.should_exit = True
    thread.join(30)


@pytest.fixture
def http_url(mcp_cap: TelemetryCapture) -> Iterator[str]:
    """``conventions_server()`` over Streamable HTTP, in this process, so both sides' spans are
    in ``mcp_cap``."""
    yield from serve_http(conventions_server().streamable_http_app())


@pytest.fixture
def http_url_with_http_spans(mcp_cap: TelemetryCapture) -> Iterator[str]:
    """The same, behind an ASGI middleware that makes a ``POST`` SERVER span per HTTP request, as
    an HTTP server instrumentation would."""
    inner = conventions_server().streamable_http_app()
    tracer = mcp_cap.tracer_provider.get_tracer("http")

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await inner(scope, receive, send)
        with tracer.start_as_current_span(scope["method"], kind=SpanKind.SERVER):
            await inner(scope, receive, send)

    yield from serve_http(app)


async def test_streamable_http_spans_are_tcp_with_the_session_id(
    mcp_cap: TelemetryCapture, http_url: str
) -> None:
    async with Client(http_url, mode="legacy") as client:
        await client.call_tool("get_weather", {"city": "Paris"})

    spans = by_name(mcp_cap)
    assert set(spans) == kinds(("initialize", "tools/call get_weather", "tools/list"))
    session_ids = {attrs_of(span)["mcp.session.id"] for span in spans.values()}
    [session_id] = session_ids
    assert len(session_id) == 32
    for span in spans.values():
        assert attrs_of(span)["network.transport"] == "tcp"
    # The server closes the session while answering the client's closing DELETE, in its own task.
    deadline = time.monotonic() + 30
    while not mcp_cap.metric_points("mcp.server.session.duration") and time.monotonic() < deadline:
        time.sleep(0.05)
    for name in ("mcp.client.session.duration", "mcp.server.session.duration"):
        [point] = mcp_cap.metric_points(name)
        assert dict(point.attributes) == {
            "mcp.protocol.version": handshake_version(),
            "network.transport": "tcp",
        }


async def test_the_2026_revision_over_http_has_no_session(mcp_cap: TelemetryCapture, http_url: str) -> None:
    async with Client(http_url) as client:  # server/discover: the 2026-07-28 revision
        await client.call_tool("get_weather", {"city": "Paris"})

    spans = by_name(mcp_cap)
    assert set(spans) == kinds(("server/discover", "tools/call get_weather", "tools/list"))
    for span in spans.values():
        assert "mcp.session.id" not in attrs_of(span)
        assert attrs_of(span)["network.transport"] == "tcp"
    assert mcp_cap.metric_points("mcp.client.session.duration") == []
    assert mcp_cap.metric_points("mcp.server.session.duration") == []


async def test_the_server_span_is_the_client_spans_child_and_links_the_http_span(
    mcp_cap: TelemetryCapture, http_url_with_http_spans: str
) -> None:
    async with Client(http_url_with_http_spans, mode="legacy") as client:
        await client.call_tool("get_weather", {"city": "Paris"})

    http_spans = {
        span.context.span_id: span for span in mcp_cap.spans() if span.name in ("POST", "GET", "DELETE")
    }
    client = by_name_without_http(mcp_cap)[("tools/call get_weather", SpanKind.CLIENT)]
    server = by_name_without_http(mcp_cap)[("tools/call get_weather", SpanKind.SERVER)]
    assert server.parent is not None and server.parent.span_id == client.context.span_id
    [link] = server.links
    assert http_spans[link.context.span_id].name == "POST"
