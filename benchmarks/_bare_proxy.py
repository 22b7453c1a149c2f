"""The gateway benchmark's floor: a pass-through on the gateway's own stack and nothing else.

    python benchmarks/_bare_proxy.py --port P --upstream http://127.0.0.1:U

uvicorn (httptools, uvloop) serves, one pooled ``aiohttp`` session forwards (``auto_decompress``
off, no automatic headers, no cookie jar) with the gateway's uvicorn options, as ``agentotel
gateway`` does: the request's method, path (less its first segment, the route), query, headers
(less hop-by-hop ones, ``host`` and ``content-length``) and body go upstream; the upstream's status,
headers (less hop-by-hop ones) and body chunks come back as they arrive. No span, no metric, no
header read for telemetry, no client watch: what any forwarding process on this stack costs, so
``benchmarks/gateway.py`` can show how much of the gateway's added latency is the hop itself.
"""

from __future__ import annotations

import argparse
from typing import Any

import aiohttp
import uvicorn

from agentotel.gateway._http import HOP_BY_HOP, NOT_FORWARDED  # the gateway's own header sets


class BareProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.session: aiohttp.ClientSession | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                while (message := await receive())["type"] != "lifespan.shutdown":
                    await send({"type": "lifespan.startup.complete"})
                await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["path"] == "/readyz":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"ok"})
            return
        if self.session is None:
            self.session = aiohttp.ClientSession(
                auto_decompress=False,
                skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
                connector=aiohttp.TCPConnector(limit=0),
                cookie_jar=aiohttp.DummyCookieJar(),
                trust_env=False,
            )
        parts = []
        more = True
        while more:
            message = await receive()
            parts.append(message.get("body", b""))
            more = message.get("more_body", False)
        rest = "/" + scope["path"][1:].partition("/")[2]
        query = scope.get("query_string", b"")
        url = self.upstream + rest + ("?" + query.decode("latin-1") if query else "")
        headers = [
            (k.decode("latin-1"), v.decode("latin-1"))
            for k, v in scope["headers"]
            if k.lower() not in NOT_FORWARDED
        ]
        async with self.session.request(
            scope["method"], url, headers=headers, data=b"".join(parts), allow_redirects=False
        ) as response:
            head = [(k, v) for k, v in response.raw_headers if k.lower() not in HOP_BY_HOP]
            await send({"type": "http.response.start", "status": response.status, "headers": head})
            async for chunk in response.content.iter_any():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True)
    args = parser.parse_args()
    uvicorn.run(
        BareProxy(args.upstream),
        host="127.0.0.1",
        port=args.port,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=False,
        log_level="warning",
        server_header=False,
        date_header=False,
        timeout_keep_alive=30,
        proxy_headers=False,
    )


if __name__ == "__main__":
    main()
