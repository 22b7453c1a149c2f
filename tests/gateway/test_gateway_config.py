"""The gateway's configuration file and command line: defaults, upstreams, and clear errors."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from helpers import GPT, closed_port

from agentotel.config import ConfigError
from agentotel.gateway import load
from agentotel.gateway._config import DEFAULT_UPSTREAMS, Upstream, from_mapping
from agentotel.testing import FakeLLMServer


def test_defaults() -> None:
    config = load()
    assert (config.host, config.port, config.workers) == ("127.0.0.1", 4000, 1)
    assert config.upstreams == DEFAULT_UPSTREAMS
    assert [u.url for u in config.upstreams.values()] == [
        "https://api.openai.com",
        "https://api.anthropic.com",
        "https://generativelanguage.googleapis.com",
    ]


def test_a_file_adds_upstreams_and_the_command_line_wins(tmp_path: Path) -> None:
    path = tmp_path / "gateway.toml"
    path.write_text(
        'listen = "0.0.0.0:5000"\nread_timeout = 30\nmax_concurrent = 8\n'
        '[upstreams.vllm]\nurl = "http://10.0.0.5:8000/"\nprovider = "vllm"\n'
        '[upstreams.openai]\nurl = "https://example.openai.azure.com"\n'
    )
    config = load(path, listen="127.0.0.1:4100", workers=3)
    assert (config.host, config.port, config.workers) == ("127.0.0.1", 4100, 3)
    assert (config.read_timeout, config.max_concurrent, config.connect_timeout) == (30.0, 8, 10.0)
    assert config.upstreams["vllm"] == Upstream("vllm", "http://10.0.0.5:8000", "openai", "vllm")
    assert config.upstreams["openai"] == Upstream("openai", "https://example.openai.azure.com", "openai")
    assert config.upstreams["anthropic"] == DEFAULT_UPSTREAMS["anthropic"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"listen": "4000"}, "listen: '4000' is not HOST:PORT (e.g. 127.0.0.1:4000; port 0 to 65535)"),
        ({"read_timeout": 0}, "read_timeout: 0 is not a positive number"),
        ({"max_concurrent": 2.5}, "max_concurrent: 2.5 is not a positive whole number"),
        (
            {"upstreams": {"x": {"url": "ftp://h"}}},
            "upstreams.x.url: 'ftp://h' is not an http:// or https:// URL",
        ),
        (
            {"upstreams": {"x": {"url": "http://h", "wire": "grpc"}}},
            "upstreams.x.wire: 'grpc'; accepted: openai, anthropic, gemini",
        ),
        (
            {"upstreams": {"x": {"url": "http://h", "key": "k"}}},
            "upstreams.x: unknown keys ['key']; accepted: url, wire, provider",
        ),
        (
            {"timeout": 3},
            "gateway config: unknown keys ['timeout']; accepted: connect_timeout, listen, max_body_bytes, "
            "max_concurrent, read_timeout, upstreams, workers",
        ),
    ],
)
def test_a_bad_value_names_the_key_and_what_it_accepts(data: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        from_mapping(data)
    assert str(info.value) == message


def test_an_unreadable_or_invalid_file_fails_at_start_up(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^--config: cannot read .*missing\.toml"):
        load(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("listen = ")
    with pytest.raises(ConfigError, match=r"^--config: .*bad\.toml is not valid TOML"):
        load(bad)


def test_the_command_serves_and_exports(tmp_path: Path, fresh_fake_llm: FakeLLMServer) -> None:
    """``agentotel gateway`` on its own: it sets the SDK up from OTEL_* (console exporter here),
    forwards, and prints the call's span when stopped."""
    import openai

    port = closed_port()
    config = tmp_path / "gw.toml"
    config.write_text(f'[upstreams.openai]\nurl = "{fresh_fake_llm.base_url}"\nprovider = "openai"\n')
    env = {
        **os.environ,
        "OTEL_TRACES_EXPORTER": "console",
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
    }
    cli = [
        sys.executable,
        "-m",
        "agentotel.cli",
        "gateway",
        "--listen",
        f"127.0.0.1:{port}",
        "--config",
        str(config),
    ]
    proc = subprocess.Popen(cli, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, (
                proc.stderr.read() if proc.stderr else ""
            )
            time.sleep(0.1)
        c = openai.OpenAI(
            base_url=f"http://127.0.0.1:{port}/openai/v1", api_key="sk-cli-0123456789", max_retries=0
        )
        reply = c.chat.completions.create(model=GPT, messages=[{"role": "user", "content": "hi [[words:3]]"}])
        assert reply.usage is not None and reply.usage.completion_tokens == 3
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=20)
    assert f"agentotel gateway on http://127.0.0.1:{port}" in out
    assert '"name": "chat gpt-4o"' in out
    assert '"gen_ai.usage.output_tokens": 3' in out
    assert "sk-cli-0123456789" not in out + err


def test_a_bad_config_stops_the_command_with_the_message(tmp_path: Path) -> None:
    config = tmp_path / "gw.toml"
    config.write_text('[upstreams.x]\nurl = "http://h"\nwire = "soap"\n')
    done = subprocess.run(
        [sys.executable, "-m", "agentotel.cli", "gateway", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert (
        done.stderr.strip()
        == "agentotel gateway: upstreams.x.wire: 'soap'; accepted: openai, anthropic, gemini"
    )


def test_workers_serve_in_processes_of_their_own(tmp_path: Path, fresh_fake_llm: FakeLLMServer) -> None:
    """``--workers 2``: two processes serve the port, each records the calls it forwarded."""
    import openai

    port = closed_port()
    config = tmp_path / "gw.toml"
    config.write_text(f'[upstreams.openai]\nurl = "{fresh_fake_llm.base_url}"\nprovider = "openai"\n')
    env = {
        **os.environ,
        "OTEL_TRACES_EXPORTER": "console",
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
    }
    cli = [
        sys.executable,
        "-m",
        "agentotel.cli",
        "gateway",
        "--listen",
        f"127.0.0.1:{port}",
        "--config",
        str(config),
    ]
    proc = subprocess.Popen(
        [*cli, "--workers", "2"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
        workers = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        c = openai.OpenAI(
            base_url=f"http://127.0.0.1:{port}/openai/v1", api_key="sk-cli-0123456789", max_retries=0
        )
        for _ in range(12):
            c.chat.completions.create(model=GPT, messages=[{"role": "user", "content": "hi [[words:3]]"}])
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=60)
    assert len(workers) >= 2  # uvicorn's two workers (and perhaps multiprocessing's resource tracker)
    # Each worker exported the spans of its calls when it stopped: none is lost.
    assert out.count('"name": "chat gpt-4o"') == 12
