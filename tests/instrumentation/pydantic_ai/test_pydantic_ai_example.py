"""``examples/pydantic_ai_agent.py`` runs offline under ``opentelemetry-instrument`` and gives the
tree the manual shows."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
VENV_BIN = Path(sys.executable).parent
KEYS = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY", "AWS_ACCESS_KEY_ID")


def _spans(text: str) -> list[dict[str, Any]]:
    """The console exporter's span objects in ``text`` (one JSON object after another)."""
    decoder = json.JSONDecoder()
    found: list[dict[str, Any]] = []
    index = text.find("{")
    while index != -1:
        try:
            value, end = decoder.raw_decode(text, index)
        except json.JSONDecodeError:
            index = text.find("{", index + 1)
            continue
        if isinstance(value, dict) and "context" in value:
            found.append(value)
        index = text.find("{", end)
    return found


def test_the_example_runs_offline_and_gives_the_tree() -> None:
    environ = {
        k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AGENTOTEL_")) and k not in KEYS
    }
    environ.update(ANTHROPIC_OPEN_TELEMETRY="false")
    done = subprocess.run(
        [
            str(VENV_BIN / "opentelemetry-instrument"),
            "--traces_exporter",
            "console",
            "--metrics_exporter",
            "none",
            "--logs_exporter",
            "none",
            sys.executable,
            "examples/pydantic_ai_agent.py",
        ],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )

    assert "Sunny in Paris." in done.stdout.splitlines()
    spans = _spans(done.stdout)
    by_id = {s["context"]["span_id"]: s["name"] for s in spans}
    tree = sorted((s["start_time"], s["name"], by_id.get(s["parent_id"])) for s in spans)
    run = "invoke_agent weather"
    assert [(name, parent) for _, name, parent in tree] == [
        (run, None),
        ("chat gpt-4o-mini", run),
        ("execute_tool get_weather", run),
        ("chat gpt-4o-mini", run),
    ]
    tool = next(s for s in spans if s["name"] == "execute_tool get_weather")
    assert "gen_ai.tool.call.arguments" not in tool["attributes"]  # content capture is off by default
