"""The httpx transport under the watsonx SDK: aiohttp's connection pool (`httpx-aiohttp`).

The SDK speaks httpx; httpx's own pool (httpcore) is slow under concurrency (encode/httpx#3215:
one pool with 64 requests in flight reached 30 requests/s against a 500 ms server) and costs
about twice aiohttp's CPU per request (1.7 against 0.9 ms measured here), which on a busy event
loop is latency for every other session."""

from __future__ import annotations

import ssl

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport


class PooledTransport(AiohttpTransport):
    """`max_connections` kept-alive connections; a refused or failed connection is reported as
    httpx's ConnectError (httpx-aiohttp calls it a ConnectTimeout, which would read as a slow
    service rather than an unreachable one)."""

    def __init__(self, max_connections: int, verify: bool | ssl.SSLContext = True) -> None:
        super().__init__(verify=verify, limits=httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await super().handle_async_request(request)
        except httpx.ConnectTimeout as exc:
            if isinstance(exc.__cause__, aiohttp.ClientConnectorError):
                raise httpx.ConnectError(str(exc.__cause__), request=request) from exc.__cause__
            raise
