"""The overhead benchmark still runs and measures what it claims (no timing is asserted here:
speed lives in benchmarks/overhead.py, never in a timed test)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers import BEDROCK_INSTALLED, GEMINI_INSTALLED, LITELLM_INSTALLED, sdk_installed

ROOT = Path(__file__).resolve().parents[2]
OVERHEAD = ROOT / "benchmarks" / "overhead.py"
PROVIDERS = ROOT / "benchmarks" / "providers.py"
WORKLOADS = [
    "openai_chat",
    "openai_chat_stream",
    "openai_chat_tool",
    "anthropic_messages",
    "anthropic_messages_stream",
    "anthropic_messages_tool",
]
# benchmarks/providers.py: the providers of issues 14 and 17 (botocore_other has no floor: no telemetry).
PROVIDER_WORKLOADS = [
    "gemini_generate",
    "gemini_generate_stream",
    "bedrock_converse",
    "bedrock_converse_stream",
    "litellm_completion",
    "litellm_completion_stream",
    # issue 17's, each measured by a plug-in module (benchmarks/_bench_<provider>.py)
    "mistral_chat",
    "mistral_chat_stream",
    "cohere_chat",
    "cohere_chat_stream",
    "ollama_chat",
    "ollama_chat_stream",
    "groq_chat",
    "groq_chat_stream",
]
# Which SDK each provider workload needs (the majors rows of noxfile.py install none of them).
NEEDS = {
    "gemini": GEMINI_INSTALLED,
    "bedrock": BEDROCK_INSTALLED,
    "litellm": LITELLM_INSTALLED,
    "mistral": sdk_installed("mistralai"),
    "cohere": sdk_installed("cohere"),
    "ollama": sdk_installed("ollama"),
    "groq": sdk_installed("groq"),
}
ALL_PROVIDER_SDKS = all(NEEDS.values())


def _provider_sdk(workload: str) -> pytest.MarkDecorator:
    provider = workload.partition("_")[0]
    return pytest.mark.skipif(
        not NEEDS[provider], reason=f"benchmarks/providers.py {workload}: {provider}'s SDK is not installed"
    )


STREAM_METRICS = [
    "gen_ai.client.operation.duration",
    "gen_ai.client.operation.time_per_output_chunk",
    "gen_ai.client.operation.time_to_first_chunk",
    "gen_ai.client.token.usage",
]


def test_smoke_benchmark_run_measures_every_mode(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [
            sys.executable,
            str(OVERHEAD),
            "--smoke",
            "--no-callgrind",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text())
    workloads = result["cpu_us_per_call"]
    assert sorted(workloads) == sorted(WORKLOADS)
    for name, workload in workloads.items():
        modes = workload["modes"]
        assert sorted(modes) == ["agentotel", "bare", "none", "semconv"], name
        assert modes["none"]["spans_per_call"] == 0.0, name
        assert modes["none"]["metrics"] == [], name
        assert modes["bare"]["spans_per_call"] == 1.0, name
        assert modes["semconv"]["spans_per_call"] == 1.0, name
        assert modes["agentotel"]["spans_per_call"] == 1.0, name
        expected = STREAM_METRICS if name.endswith("_stream") else STREAM_METRICS[::3]
        assert modes["semconv"]["metrics"] == expected, name
        # Both benchmark models (gpt-4o, claude-sonnet-4-6) have a price.
        assert modes["agentotel"]["metrics"] == sorted(["agentotel.llm.cost.usd", *expected]), name
        for key in ("semconv_overhead", "semconv_vs_bare", "vs_semconv"):
            assert key in workload, (name, key)
    memory = result["memory"]
    assert (memory["calls"], memory["spans"]) == (20, 20)
    assert sorted(memory["rss_mib"]) == sorted(memory["gc_objects"]) == ["10", "20"]
    assert "semconv-none" in done.stdout
    assert "vs semconv" in done.stdout
    assert "Memory, agentotel, 20 OpenAI calls" in done.stdout
    assert "Command: " in done.stdout


def _describe(workload: str, mode: str, script: Path = OVERHEAD) -> dict[str, Any]:
    """The benchmark child's ``describe``: what one mode emits, after two calls."""
    sys.path.insert(0, str(OVERHEAD.parent))
    try:
        from overhead import _RESULT_PREFIX, _child_env
    finally:
        sys.path.remove(str(OVERHEAD.parent))
    spec = {"measure": "describe", "workload": workload, "mode": mode}
    done = subprocess.run(
        [sys.executable, str(script), "--child", json.dumps(spec)],
        env={**_child_env(), "LITELLM_LOCAL_MODEL_COST_MAP": "True"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if line.startswith(_RESULT_PREFIX)]
    assert len(lines) == 1, done.stdout
    result: dict[str, Any] = json.loads(lines[0][len(_RESULT_PREFIX) :])
    return result


def _points(metric: dict[str, Any]) -> list[dict[str, Any]]:
    return sorted(metric["points"], key=lambda p: json.dumps(p["attributes"], sort_keys=True))


@pytest.mark.parametrize(
    ("workload", "script"),
    [
        *((w, OVERHEAD) for w in WORKLOADS),
        *(pytest.param(w, PROVIDERS, marks=_provider_sdk(w)) for w in PROVIDER_WORKLOADS),
    ],
)
def test_semconv_floor_emits_what_agentotel_emits(workload: str, script: Path) -> None:
    """The semconv mode is a floor only if it emits agentotel's telemetry, minus agentotel.* extras
    (span attributes; the cost counter, or the unpriced-call counter of a model with no price)."""
    semconv, agent = _describe(workload, "semconv", script), _describe(workload, "agentotel", script)
    s_span, a_span = semconv["span"], agent["span"]
    assert (s_span["name"], s_span["kind"]) == (a_span["name"], a_span["kind"])
    assert s_span["kind"] == "CLIENT"
    a_attrs = {k: v for k, v in a_span["attributes"].items() if not k.startswith("agentotel.")}
    s_attrs = s_span["attributes"]
    assert sorted(s_attrs) == sorted(a_attrs)
    timed = {"gen_ai.response.time_to_first_chunk"}
    for key in timed & set(a_attrs):
        assert a_attrs[key] > 0 and s_attrs[key] > 0, key
    assert {k: v for k, v in s_attrs.items() if k not in timed} == {
        k: v for k, v in a_attrs.items() if k not in timed
    }
    if workload.endswith("_stream"):
        assert "gen_ai.response.time_to_first_chunk" in s_attrs

    a_metrics = {k: v for k, v in agent["metrics"].items() if not k.startswith("agentotel.")}
    s_metrics = semconv["metrics"]
    assert sorted(s_metrics) == sorted(a_metrics)
    expected = STREAM_METRICS if workload.endswith("_stream") else STREAM_METRICS[::3]
    assert sorted(s_metrics) == expected
    for name, a_metric in a_metrics.items():
        s_metric = s_metrics[name]
        assert s_metric["unit"] == a_metric["unit"], name
        s_points, a_points = _points(s_metric), _points(a_metric)
        assert [p["attributes"] for p in s_points] == [p["attributes"] for p in a_points], name
        assert [p["count"] for p in s_points] == [p["count"] for p in a_points] == [2] * len(a_points), name
        if name == "gen_ai.client.token.usage":
            assert [p["sum"] for p in s_points] == [p["sum"] for p in a_points], name
            assert len(s_points) == 2  # input and output


def test_only_names_workloads_by_short_or_full_name() -> None:
    sys.path.insert(0, str(OVERHEAD.parent))
    try:
        from overhead import _only
    finally:
        sys.path.remove(str(OVERHEAD.parent))
    assert _only("anthropic-stream, openai_chat,openai-tool") == [
        "openai_chat",
        "openai_chat_tool",
        "anthropic_messages_stream",
    ]


def test_only_rejects_an_unknown_workload_naming_the_accepted_ones() -> None:
    done = subprocess.run(
        [sys.executable, str(OVERHEAD), "--only", "openai-stream,gemini"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert "argument --only: unknown workload 'gemini'; accepted: anthropic, anthropic-stream," in done.stderr


@pytest.mark.skipif(not ALL_PROVIDER_SDKS, reason="benchmarks/providers.py needs every provider's SDK")
def test_smoke_providers_benchmark_runs_every_mode(tmp_path: Path) -> None:
    """benchmarks/providers.py: every workload runs in its modes with one span per LLM call, the
    floor's metrics are the conventions' (3 for a call, 5 for a stream), and a botocore call to
    another service makes no span and no metric point, instrumented or not."""
    out = tmp_path / "providers.json"
    done = subprocess.run(
        [sys.executable, str(PROVIDERS), "--smoke", "--no-callgrind", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    workloads = json.loads(out.read_text())["cpu_us_per_call"]
    assert sorted(workloads) == sorted([*PROVIDER_WORKLOADS, "botocore_other"])
    for name in PROVIDER_WORKLOADS:
        modes = workloads[name]["modes"]
        assert sorted(modes) == ["agentotel", "none", "semconv"], name
        assert [modes[m]["spans_per_call"] for m in ("none", "semconv", "agentotel")] == [0.0, 1.0, 1.0]
        expected = STREAM_METRICS if name.endswith("_stream") else STREAM_METRICS[::3]
        assert modes["none"]["metrics"] == [], name
        assert modes["semconv"]["metrics"] == expected, name
        extras = [m for m in modes["agentotel"]["metrics"] if m.startswith("agentotel.")]
        assert sorted(modes["agentotel"]["metrics"]) == sorted([*expected, *extras]), name
    other = workloads["botocore_other"]["modes"]
    assert sorted(other) == ["agentotel", "none"]
    assert [other[m]["spans_per_call"] for m in ("none", "agentotel")] == [0.0, 0.0]
    assert other["none"]["metrics"] == other["agentotel"]["metrics"] == []
    assert "agentotel/floor" in done.stdout
    assert "Command: " in done.stdout
