"""``agentotel gateway``: a forwarding LLM gateway for agents in any language.

An agent points its OpenAI / Anthropic / Gemini base URL at the gateway
(``http://127.0.0.1:4000/openai/v1``, ``http://127.0.0.1:4000/anthropic``,
``http://127.0.0.1:4000/gemini``); the gateway forwards each request to the real upstream, exactly,
and records the call from the wire with the same functions the SDK instrumentors use: the same
GenAI CLIENT span and metric points, cost, inferred tool spans, audit and run-store records, plus
its own ``agentotel.gateway.*`` metrics and span events. An incoming ``traceparent`` continues the
caller's trace. Content capture follows ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT``;
credentials pass through and are never recorded.

Built on ``uvicorn`` with ``httptools`` and ``uvloop`` (the server side) and ``aiohttp`` (the
upstream side: a connection pool with keep-alive, bytes forwarded as they arrive). Install with
``pip install "agentotel[gateway]"``.
See ``docs/gateway.md``.
"""

from __future__ import annotations

from typing import Any

from agentotel.gateway._app import Gateway
from agentotel.gateway._config import GatewayConfig, Upstream, load

__all__ = ["Gateway", "GatewayConfig", "Upstream", "load", "serve", "uvicorn_config"]


def uvicorn_config(config: GatewayConfig, app: Any = None, **overrides: Any) -> Any:
    """The ``uvicorn.Config`` that serves ``app`` (a new :class:`Gateway` of ``config`` when None)."""
    import uvicorn

    options: dict[str, Any] = {
        "host": config.host,
        "port": config.port,
        "lifespan": "on",
        "access_log": False,
        "log_level": "warning",
        "server_header": False,
        "date_header": False,
        "timeout_keep_alive": 30,
        # The gateway reads neither the client's address nor the scheme: no X-Forwarded-* rewriting
        # layer on every request.
        "proxy_headers": False,
    }
    options.update(overrides)
    return uvicorn.Config(app if app is not None else Gateway(config), **options)


def serve(config: GatewayConfig) -> None:
    """Serve until interrupted (``config.workers`` processes when more than one)."""
    import uvicorn

    if config.workers > 1:
        # uvicorn's workers import the app by name, each building its own gateway and SDK set-up.
        from agentotel.gateway import _worker

        _worker.remember(config)
        uvicorn.run(
            "agentotel.gateway._worker:app",
            factory=True,
            host=config.host,
            port=config.port,
            workers=config.workers,
            lifespan="on",
            access_log=False,
            log_level="warning",
            server_header=False,
            date_header=False,
            proxy_headers=False,
        )
        return
    uvicorn.Server(uvicorn_config(config)).run()
