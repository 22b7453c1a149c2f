"""What each of ``--workers N`` processes runs: the configuration travels in the environment."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from typing import Any

from agentotel.gateway._app import Gateway
from agentotel.gateway._config import GatewayConfig, Upstream

_ENV = "AGENTOTEL_GATEWAY_WORKER_CONFIG"


def remember(config: GatewayConfig) -> None:
    """Put ``config`` where the worker processes (started by uvicorn) find it."""
    data = asdict(config)
    os.environ[_ENV] = json.dumps(data)


def app() -> Any:
    """The application of one worker: the SDK set up from ``OTEL_*``, then a gateway."""
    from agentotel.gateway._setup import ensure_sdk

    data = json.loads(os.environ[_ENV])
    upstreams = {name: Upstream(**u) for name, u in data.pop("upstreams").items()}
    ensure_sdk()
    return Gateway(GatewayConfig(upstreams=upstreams, **data))
