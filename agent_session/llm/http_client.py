"""HTTP for the remote model backends on pyreqwest (Rust: reqwest, hyper, rustls), through public
APIs only.

Why pyreqwest: every CPU millisecond an HTTP client spends on the event loop is latency for every
other session on it. httpx's own pool is slow under concurrency (encode/httpx#3215: 64 requests in
flight reached 30 requests/s against a 500 ms server); pyreqwest does the pool, HTTP and TLS on
its own thread. The openai backend uses the pool directly (`build_pool`); the watsonx SDK speaks
httpx, so it gets an `httpx.AsyncClient` on pyreqwest's own httpx transport (`async_client`).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from pyreqwest.client import Client, ClientBuilder
from pyreqwest.compatibility.httpx import HttpxTransport


def build_pool(max_connections: int, verify: bool | str, timeout: httpx.Timeout) -> Client:
    """The pyreqwest client: `verify` is True (the built-in public roots), False (no checks) or
    a CA bundle file that is trusted as well. Redirects are never followed (httpx decides).

    A request whose caller was cancelled (the turn's deadline, a client gone) is not aborted: it
    runs on in Rust until it ends. So no request outlives the read timeout in all, and the limit
    on requests in flight is the caller's, freed at once by a cancelled call; pyreqwest's own
    limit kept its slot until the abandoned request ended."""
    builder = (ClientBuilder().follow_redirects(False).max_connections(None)
               .pool_max_idle_per_host(max_connections))
    if timeout.connect is not None:
        builder = builder.connect_timeout(timedelta(seconds=timeout.connect))
    if timeout.read is not None:
        builder = builder.read_timeout(timedelta(seconds=timeout.read))
        builder = builder.timeout(timedelta(seconds=timeout.read))
    if timeout.pool is not None:
        builder = builder.pool_timeout(timedelta(seconds=timeout.pool))
    if verify is False:
        builder = builder.danger_accept_invalid_certs(True)
    elif isinstance(verify, str):
        builder = builder.add_root_certificate_pem(Path(verify).read_bytes())
    return builder.build()


class SDKAsyncClient(httpx.AsyncClient):
    """httpx's client with a bound on requests in flight (see `build_pool`) and responses that
    accept the synchronous `close()`: the SDK's retry loop calls it on each failed response
    before it retries, and httpx's async responses refuse it (the retries ended at once). A
    response read whole is over bytes, which accept both."""

    def __init__(self, max_in_flight: int, **options: Any) -> None:
        super().__init__(**options)
        self.in_flight = asyncio.Semaphore(max_in_flight)

    async def send(self, request: httpx.Request, *, stream: bool = False,
                   **options: Any) -> httpx.Response:
        async with self.in_flight:
            response = await super().send(request, stream=stream, **options)
        if not stream:
            response.stream = httpx.ByteStream(response.content)
        return response


def async_client(max_connections: int, verify: bool | str,
                 timeout: httpx.Timeout) -> httpx.AsyncClient:
    """The `httpx.AsyncClient` handed to the watsonx SDK (`APIClient(async_httpx_client=...)`):
    `max_connections` requests in flight on one pyreqwest pool, and no retry transport, so the
    only retry layer is the SDK's own (two stacked layers retried a 503 44 times)."""
    transport = HttpxTransport(build_pool(max_connections, verify, timeout))
    return SDKAsyncClient(max_connections, transport=transport, timeout=timeout)


def parse_verify(value: str) -> bool | str:
    lowered = value.strip().lower()
    if lowered in ("true", "1", "yes", ""):
        return True
    if lowered in ("false", "0", "no"):
        return False
    return value
