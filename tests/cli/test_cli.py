"""The ``agentotel`` command: the demo prints the whole trace; doctor reports configuration."""

from __future__ import annotations

import re

import pytest
from helpers import sdk_installed

from agentotel.cli import main

DEMO_TREE = [
    # (depth, span name, what the demo prints after the duration)
    # The MCP client's handshake with the venues server, before the agent runs: a trace of its own.
    (0, "server/discover", ""),
    (1, "server/discover", "mcp server=venues"),
    (0, "invoke_agent planner", "tokens in=70 out=8  conversation=demo-conversation"),
    (1, "guardrail prompt-policy", "outcome=allowed"),
    (1, "assemble_context", "context tokens=460"),
    (1, "plan planner", "tokens in=70 out=8  steps=4"),
    (2, "step research", ""),
    (3, "execute_tool search_docs", ""),
    (2, "step ask model", ""),
    (3, "chat gpt-4o-mini", "tokens in=32 out=2  tool calls: get_weather"),
    (3, "execute_tool get_weather", "call=call_1"),
    (3, "chat gpt-4o-mini", "tokens in=38 out=6"),
    (2, "step book", ""),
    (3, "approval book_table", "outcome=approved"),
    (3, "execute_tool book_table", "ERROR TimeoutError"),
    (3, "execute_tool book_table", ""),
    (2, "step venue lookup", ""),
    (3, "tools/call venue_info", "mcp server=venues"),  # the MCP client's span, then the server's
    (4, "tools/call venue_info", "mcp server=venues"),
    (3, "tools/list", "mcp server=venues"),  # the client reads the tool's output schema
    (4, "tools/list", "mcp server=venues"),
    (0, "invoke_agent planner", "conversation=demo-conversation"),
    (1, "guardrail prompt-policy", "outcome=blocked"),
    (0, "invoke_workflow plain sdk agent", "tokens in=70 out=41"),
    (1, "chat gpt-4o-mini", "tokens in=6 out=2  tool calls: get_weather"),
    (1, "execute_tool get_weather", "call=call_2  inferred"),
    (1, "chat gpt-4o-mini", "tokens in=12 out=6"),
    (1, "chat gpt-4o-mini", "tokens in=8 out=20  stream exhausted"),
    (1, "chat gpt-4o-mini", "ERROR openai.RateLimitError"),
    (1, "embeddings text-embedding-3-small", "tokens in=20 out=-"),
    (1, "chat claude-opus-5", "tokens in=6 out=2  tool calls: get_weather"),
    (1, "execute_tool get_weather", "call=toolu_1  inferred"),
    (1, "chat claude-opus-5", "tokens in=12 out=6"),
    (1, "chat claude-opus-5", "tokens in=6 out=5  stream exhausted"),
    # One call through each other provider (each 6 words in, the 6-word default reply out); LiteLLM's
    # openai/ route is its own span, the openai SDK call inside it makes none.
    (0, "invoke_workflow one call per provider", "tokens in=42 out=42"),
    (1, "generate_content gemini-2.5-flash", "tokens in=6 out=6"),
    (1, "chat amazon.nova-lite-v1:0", "tokens in=6 out=6"),
    (1, "chat mistral-small-latest", "tokens in=6 out=6"),
    (1, "chat command-r-08-2024", "tokens in=6 out=6"),
    (1, "chat llama3.2", "tokens in=6 out=6"),
    (1, "chat llama-3.3-70b-versatile", "tokens in=6 out=6"),
    (1, "chat gpt-4o-mini", "tokens in=6 out=6"),
]


def test_demo_prints_every_span_of_the_planner_and_the_plain_agent(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # one line per span
    monkeypatch.setenv("ANTHROPIC_OPEN_TELEMETRY", "false")
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "planner: venue info: Le Bistro: open 12:00-14:30, seats 40" in out
    assert "planner: Hello from the fake LLM server. — booked Le Bistro for 6" in out
    assert "planner: I can't help with that (asks for credentials)." in out
    assert "agent: Hello from the fake LLM server." in out
    assert "agent (streamed): " + " ".join(f"w{i}" for i in range(1, 21)) in out
    assert "agent: rate limited (429), carrying on" in out
    assert "claude: w1 w2 w3 w4 w5" in out
    for provider in ("gemini", "bedrock", "mistral", "cohere", "ollama", "groq", "litellm"):
        assert f"{provider}: Hello from the fake LLM server." in out
    assert "skipped" not in out
    spans = re.findall(r"^(.*?)── (.+?)  \d+\.\d ms(.*)$", out, flags=re.MULTILINE)
    assert [(len(prefix) // 4, name, rest.strip()) for prefix, name, rest in spans] == DEMO_TREE
    # Five traces: the MCP handshake, the two agent rounds of the session, the plain agent's
    # workflow, the providers'.
    assert len(re.findall(r"^trace [0-9a-f]{16}", out, flags=re.MULTILINE)) == 5
    assert re.search(r"agentotel\.session\.messages\s+│ completed\s+│\s+1 │\s+2 │", out)


def test_demo_leaves_the_sdks_uninstrumented(capsys: pytest.CaptureFixture[str]) -> None:
    from openai.resources.chat.completions.completions import Completions

    original = Completions.__dict__["create"]
    assert main(["demo"]) == 0
    assert Completions.__dict__["create"] is original


def test_doctor_lists_instrumentors_and_configuration(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "span_only")
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    # Each instrumentor whose library is installed here (the nox rows have fewer), in name order.
    libraries = {
        "agentotel_anthropic": "anthropic",
        "agentotel_bedrock": "botocore",
        "agentotel_cohere": "cohere",
        "agentotel_crewai": "crewai",
        "agentotel_google_genai": "google-genai",
        "agentotel_groq": "groq",
        "agentotel_langchain": "langchain-core",
        "agentotel_litellm": "litellm",
        "agentotel_llama_index": "llama-index-core",
        "agentotel_mcp": "mcp",
        "agentotel_mistralai": "mistralai",
        "agentotel_ollama": "ollama",
        "agentotel_openai": "openai",
        "agentotel_openai_agents": "openai-agents",
        "agentotel_pydantic_ai": "pydantic-ai-slim",
    }
    listed = re.search(r"instrumentors: ((?:agentotel_[a-z_]+(?:, )?)+)", " ".join(out.split()))
    assert listed is not None
    assert listed.group(1).strip(" ,") == ", ".join(
        name for name, lib in libraries.items() if sdk_installed(lib)
    )
    assert re.search(r"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT\s*│\s*SPAN_ONLY", out)


def test_doctor_fails_on_a_bad_value_and_names_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENTOTEL_CONTENT_MAX_LENGTH", "lots")
    assert main(["doctor"]) == 1
    out = " ".join(capsys.readouterr().out.split())
    assert "AGENTOTEL_CONTENT_MAX_LENGTH='lots' is not valid: expected a whole number of at least 1" in out


def test_doctor_lists_every_agentotel_variable_and_never_a_secret(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from agentotel import config

    declared = sorted(
        value
        for name, value in vars(config).items()
        if name.isupper() and isinstance(value, str) and value.startswith("AGENTOTEL_")
    )
    monkeypatch.setenv("AGENTOTEL_RUNS_IDLE_GAP", "45")
    monkeypatch.setenv("AGENTOTEL_AUDIT_HMAC_KEY", "hmac-secret-value")
    monkeypatch.setenv("SENTRY_DSN", "https://dsn-secret@sentry.example/1")
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    rows = dict(re.findall(r"^│ (\S+)\s+│ (.*?)\s+│$", out, flags=re.MULTILINE))
    assert sorted(name for name in rows if name.startswith("AGENTOTEL_")) == declared
    assert (rows["AGENTOTEL_RUNS_IDLE_GAP"], rows["AGENTOTEL_AUDIT_HMAC_KEY"], rows["SENTRY_DSN"]) == (
        "45",
        "(set)",
        "(set)",
    )
    assert "secret" not in out


def test_demo_trees_show_span_names_and_attributes_literally() -> None:
    from rich.console import Console

    from agentotel.cli._demo import render
    from agentotel.testing._capture import TelemetryCapture

    cap = TelemetryCapture()
    tracer = cap.providers["tracer_provider"].get_tracer("test")
    with (
        tracer.start_as_current_span("plan [/] [bold]x[/bold]"),
        tracer.start_as_current_span(":smile: [[words:5]]") as child,
    ):
        child.set_attribute("error.type", "[red]Boom[/]")
    console = Console(record=True, width=200)
    render(cap.spans(), console)
    out = console.export_text()
    assert "plan [/] [bold]x[/bold]" in out
    assert ":smile: [[words:5]]" in out
    assert "ERROR [red]Boom[/]" in out
    cap.shutdown()
