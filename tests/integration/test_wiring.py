"""The audit log and the run store attach themselves from the environment, whatever set up the
providers: our configurator, opentelemetry-distro's, or the app's own code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from agentotel.processors.audit import verify

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
APP = Path(__file__).with_name("wiring_app.py")


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AGENTOTEL_"))}
    env.update(
        OTEL_TRACES_EXPORTER="none",
        OTEL_METRICS_EXPORTER="none",
        OTEL_LOGS_EXPORTER="none",
        AGENTOTEL_AUDIT_PATH=str(tmp_path / "audit" / "audit.jsonl"),
        AGENTOTEL_RUNS_DIR=str(tmp_path / "runs"),
        PYTHONPATH=str(APP.parent),
    )
    env.update(extra)
    return env


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=120, check=False)


def _assert_recorded(tmp_path: Path) -> None:
    audit = tmp_path / "audit" / "audit.jsonl"
    records = [json.loads(line) for line in audit.read_text().splitlines()]
    assert [(r["event_type"], r["resource"], r["outcome"], r["actor"]["agent"]) for r in records] == [
        ("tool_call", "lookup", "success", "wired")
    ]
    assert oct(audit.stat().st_mode & 0o777) == "0o600"
    assert verify([str(audit)]).ok
    [run] = os.listdir(tmp_path / "runs")
    summary = json.loads((tmp_path / "runs" / run / "summary.json").read_text())
    assert (summary["status"], summary["tool_calls"]) == ("ok", {"ok": 1, "failed": 0})
    events = [json.loads(line)["name"] for line in (tmp_path / "runs" / run / "events.jsonl").open()]
    assert events == ["execute_tool lookup", "invoke_agent wired"]


@pytest.mark.parametrize(
    ("distro", "configurator"), [("agentotel", "agentotel"), ("distro", "configurator")], ids=["ours", "otel"]
)
def test_opentelemetry_instrument_attaches_both_processors(
    tmp_path: Path, distro: str, configurator: str
) -> None:
    env = _env(tmp_path, OTEL_PYTHON_DISTRO=distro, OTEL_PYTHON_CONFIGURATOR=configurator)
    done = _run(
        [str(BIN / "opentelemetry-instrument"), sys.executable, str(APP), "opentelemetry-instrument"], env
    )

    assert done.returncode == 0, done.stderr
    _assert_recorded(tmp_path)


def test_our_configurator_on_an_sdk_without_config_files(tmp_path: Path) -> None:
    """opentelemetry-sdk 1.42 (which crewai 1.15.0-1.15.20 pin) has no OTEL_CONFIG_FILE: our
    configurator still sets the SDK up and wires both processors (it failed on that import)."""
    script = (
        "import runpy, sys\n"
        "from agentotel.distro import AgentotelConfigurator\n"
        "import opentelemetry.sdk.environment_variables as sdk_env\n"
        "del sdk_env.OTEL_CONFIG_FILE  # as in opentelemetry-sdk 1.42 (the SDK's own modules loaded)\n"
        "AgentotelConfigurator().configure()\n"
        f"sys.argv = [{str(APP)!r}, 'opentelemetry-instrument']\n"
        f"runpy.run_path({str(APP)!r}, run_name='__main__')\n"
    )
    done = _run([sys.executable, "-c", script], _env(tmp_path))

    assert done.returncode == 0, done.stderr
    _assert_recorded(tmp_path)


@pytest.mark.parametrize("mode", ["instrument-providers", "set-later"])
def test_providers_from_the_apps_code_get_both_processors(tmp_path: Path, mode: str) -> None:
    done = _run([sys.executable, str(APP), mode], _env(tmp_path))

    assert done.returncode == 0, done.stderr
    _assert_recorded(tmp_path)


def test_an_unusable_audit_path_fails_at_start_up_naming_the_variable(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    env = _env(tmp_path, AGENTOTEL_AUDIT_PATH=str(blocker / "audit.jsonl"))
    done = _run([sys.executable, str(APP), "instrument-providers"], env)

    assert done.returncode == 1
    assert (
        f"agentotel.config.ConfigError: AGENTOTEL_AUDIT_PATH: cannot use '{blocker / 'audit.jsonl'}'"
        in done.stderr
    )


def test_a_sampler_that_drops_spans_is_warned_about_once(tmp_path: Path) -> None:
    env = _env(
        tmp_path,
        OTEL_PYTHON_DISTRO="agentotel",
        OTEL_PYTHON_CONFIGURATOR="agentotel",
        OTEL_TRACES_SAMPLER="traceidratio",
        OTEL_TRACES_SAMPLER_ARG="0.5",
    )
    done = _run(
        [str(BIN / "opentelemetry-instrument"), sys.executable, str(APP), "opentelemetry-instrument"], env
    )

    assert done.returncode == 0, done.stderr
    assert (
        done.stderr.count(
            "agentotel: the tracer provider's sampler is TraceIdRatioBased{0.5}, not ALWAYS_ON: "
            "spans it does not record are missing from the audit log"
        )
        == 1
    ), done.stderr


@pytest.mark.parametrize("mode", ["instrument-providers", "set-later"])
def test_otel_sdk_disabled_wires_nothing_onto_the_apps_providers(tmp_path: Path, mode: str) -> None:
    done = _run([sys.executable, str(APP), mode], _env(tmp_path, OTEL_SDK_DISABLED="true"))

    assert (done.returncode, done.stderr) == (0, "")
    assert list(tmp_path.iterdir()) == []  # no audit file, no runs dir
