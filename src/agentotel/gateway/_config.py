"""The gateway's configuration: where it listens, its upstreams and its limits.

Read from an optional TOML file (``agentotel gateway --config FILE``) over the defaults; the
command line's ``--listen`` / ``--workers`` win over the file. A value that cannot be understood
raises :class:`~agentotel.config.ConfigError` naming the key and what it accepts, at start-up.

    listen = "127.0.0.1:4000"
    max_body_bytes = 33554432        # a larger request gets 413, in the route's error format
    max_concurrent = 256             # upstream requests at once; more wait their turn
    connect_timeout = 10.0           # seconds; then 504 (or 502 when refused)
    read_timeout = 600.0             # seconds between two bytes of the upstream's answer
    workers = 1

    [upstreams.vllm]                 # served under /vllm
    url = "http://127.0.0.1:8000"
    wire = "openai"                  # openai | anthropic | gemini
    provider = "vllm"                # gen_ai.provider.name (default: from the wire and host)

The default upstreams, ``/openai``, ``/anthropic`` and ``/gemini``, are the public APIs; an
``[upstreams.openai]`` table replaces the default one of that name.
"""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from agentotel.config import ConfigError
from agentotel.gateway._wire import WIRES

# tomllib from Python 3.11; tomli (the same code, the gateway extra installs it) on 3.10.
tomllib: Any = importlib.import_module("tomllib" if sys.version_info >= (3, 11) else "tomli")
DEFAULT_LISTEN = "127.0.0.1:4000"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class Upstream:
    """One upstream, served under ``/<name>``."""

    name: str
    url: str
    """Base URL, no trailing slash: ``/<name>/v1/chat/completions`` goes to ``<url>/v1/chat/completions``."""
    wire: str
    provider: str | None = None
    """``gen_ai.provider.name``; None: the wire's (OpenAI: by host, as the ``openai`` instrumentor does)."""

    @property
    def scheme(self) -> str:
        return urlsplit(self.url).scheme

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def port(self) -> int:
        parts = urlsplit(self.url)
        return parts.port if parts.port is not None else (443 if parts.scheme == "https" else 80)


DEFAULT_UPSTREAMS: dict[str, Upstream] = {
    "openai": Upstream("openai", "https://api.openai.com", "openai"),
    "anthropic": Upstream("anthropic", "https://api.anthropic.com", "anthropic"),
    "gemini": Upstream("gemini", "https://generativelanguage.googleapis.com", "gemini"),
}


@dataclass(frozen=True)
class GatewayConfig:
    """Everything the gateway reads at start-up."""

    host: str = "127.0.0.1"
    port: int = 4000
    upstreams: Mapping[str, Upstream] = field(default_factory=lambda: dict(DEFAULT_UPSTREAMS))
    max_body_bytes: int = 32 * 1024 * 1024
    max_concurrent: int = 256
    connect_timeout: float = 10.0
    read_timeout: float = 600.0
    workers: int = 1


def parse_listen(value: Any, where: str = "listen") -> tuple[str, int]:
    """``host:port`` (``[::1]:4000`` for IPv6) -> ``(host, port)``."""
    if isinstance(value, str):
        host, colon, port = value.rpartition(":")
        host = host.strip("[]")
        if colon and host and port.isdigit() and 0 <= int(port) <= 65535:
            return host, int(port)
    raise ConfigError(f"{where}: {value!r} is not HOST:PORT (e.g. 127.0.0.1:4000; port 0 to 65535)")


def _number(table: Mapping[str, Any], key: str, default: float, kind: type) -> Any:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ConfigError(f"{key}: {value!r} is not a positive number")
    if kind is int and not isinstance(value, int):
        raise ConfigError(f"{key}: {value!r} is not a positive whole number")
    return kind(value)


def _upstream(name: str, table: Any) -> Upstream:
    where = f"upstreams.{name}"
    if not _NAME.match(name):
        raise ConfigError(
            f"{where}: the name must be letters, digits, '_', '.' or '-' (it is the route /{name})"
        )
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where}: expected a table with url, wire and optionally provider")
    unknown = set(table) - {"url", "wire", "provider"}
    if unknown:
        raise ConfigError(f"{where}: unknown keys {sorted(unknown)}; accepted: url, wire, provider")
    url = table.get("url")
    parts = urlsplit(url) if isinstance(url, str) else None
    if (
        not isinstance(url, str)
        or parts is None
        or parts.scheme not in ("http", "https")
        or not parts.hostname
    ):
        raise ConfigError(f"{where}.url: {url!r} is not an http:// or https:// URL")
    wire = table.get("wire", "openai")
    if wire not in WIRES:
        raise ConfigError(f"{where}.wire: {wire!r}; accepted: {', '.join(WIRES)}")
    provider = table.get("provider")
    if provider is not None and (not isinstance(provider, str) or not provider):
        raise ConfigError(f"{where}.provider: {provider!r} is not a non-empty string")
    return Upstream(name, url.rstrip("/"), wire, provider)


_KEYS = {
    "listen",
    "max_body_bytes",
    "max_concurrent",
    "connect_timeout",
    "read_timeout",
    "workers",
    "upstreams",
}


def from_mapping(data: Mapping[str, Any]) -> GatewayConfig:
    """A configuration from a parsed TOML document (see the module docstring)."""
    unknown = set(data) - _KEYS
    if unknown:
        raise ConfigError(
            f"gateway config: unknown keys {sorted(unknown)}; accepted: {', '.join(sorted(_KEYS))}"
        )
    host, port = parse_listen(data.get("listen", DEFAULT_LISTEN))
    upstreams = dict(DEFAULT_UPSTREAMS)
    tables = data.get("upstreams", {})
    if not isinstance(tables, Mapping):
        raise ConfigError("upstreams: expected tables [upstreams.<name>]")
    for name, table in tables.items():
        upstreams[name] = _upstream(name, table)
    return GatewayConfig(
        host=host,
        port=port,
        upstreams=upstreams,
        max_body_bytes=_number(data, "max_body_bytes", GatewayConfig.max_body_bytes, int),
        max_concurrent=_number(data, "max_concurrent", GatewayConfig.max_concurrent, int),
        connect_timeout=_number(data, "connect_timeout", GatewayConfig.connect_timeout, float),
        read_timeout=_number(data, "read_timeout", GatewayConfig.read_timeout, float),
        workers=_number(data, "workers", GatewayConfig.workers, int),
    )


def load(path: Path | None = None, listen: str | None = None, workers: int | None = None) -> GatewayConfig:
    """The file at ``path`` (if any) over the defaults, then the command line's values."""
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"--config: cannot read {path}: {exc.strerror or exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"--config: {path} is not valid TOML: {exc}") from None
    config = from_mapping(data)
    if listen is not None:
        host, port = parse_listen(listen, "--listen")
        config = replace(config, host=host, port=port)
    if workers is not None:
        if workers < 1:
            raise ConfigError(f"--workers: {workers} is not a positive whole number")
        config = replace(config, workers=workers)
    return config
