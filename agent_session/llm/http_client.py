"""The async HTTP client handed to the watsonx SDK, on pyreqwest (Rust: reqwest, hyper, rustls).

The SDK speaks httpx, but every CPU millisecond an HTTP client spends on the event loop is latency
for every other session on it. httpx's own pool is slow under concurrency (encode/httpx#3215: 64
requests in flight reached 30 requests/s against a 500 ms server) and its request machinery cost
0.7 ms of CPU per chat call here; aiohttp's whole request over TLS still cost 0.30-0.38 ms of the
loop's time. pyreqwest does the connection pool, HTTP and TLS on its own thread: 54-62 µs of the
loop's time per request (161-181 µs of CPU in all), measured with 64 requests in flight.

So the SDK's chat call, one `post(url, content=..., headers=..., params=...)`, is answered
straight on pyreqwest; it still returns an `httpx.Response`, so the SDK's retries, status handling
and errors work as before. Every other call (streams, other verbs, unusual arguments) goes
through httpx, on the same pyreqwest pool (pyreqwest's httpx transport). Failures are httpx's
exceptions, by that transport's own mapping (a private helper of the pinned version), so both
paths map alike: a refused connection is a ConnectError, a deadline a timeout.
"""

from __future__ import annotations

import asyncio
import json as jsonlib
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from ibm_watsonx_ai._wrappers.httpx.client.httpx_async_client import HTTPXAsyncClient
from ibm_watsonx_ai.utils.utils import NumpyTypeEncoder
from pyreqwest.client import Client, ClientBuilder
from pyreqwest.compatibility.httpx import HttpxTransport
from pyreqwest.compatibility.httpx._internal import map_exception  # private; version pinned
from pyreqwest.exceptions import PyreqwestError

TARGET_CACHE_SIZE = 64


def read_response(status: int, headers: Any, content: bytes,
                  request: httpx.Request) -> httpx.Response:
    """An already-read `httpx.Response`. `httpx.Response(content=...)` would re-read the body
    through its decoder chain (31 µs against 5 µs measured); the content is set as `read()`
    itself sets it (httpx is pinned, and capped below 0.29 by the SDK)."""
    response = httpx.Response(status, headers=headers, stream=httpx.ByteStream(content),
                              request=request)
    response._content = content
    response.is_stream_consumed = response.is_closed = True
    return response


def build_pool(max_connections: int, verify: bool | str, timeout: httpx.Timeout) -> Client:
    """The pyreqwest client: `verify` is True (the built-in public roots), False (no checks) or
    a CA bundle file that is trusted as well. Redirects are never followed (httpx decides).

    A request whose caller was cancelled (the turn's deadline, a client gone) is not aborted: it
    runs on in Rust until it ends. So no request outlives the read timeout in all, and the limit
    on requests in flight is ours (`WatsonxHttpClient`), freed at once by a cancelled caller;
    pyreqwest's own limit kept its slot until the abandoned request ended."""
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


class WatsonxHttpClient(HTTPXAsyncClient):
    """The SDK's async client."""

    def __init__(self, max_connections: int, verify: bool | str, timeout: httpx.Timeout) -> None:
        self._pool = build_pool(max_connections, verify, timeout)
        self._in_flight = asyncio.Semaphore(max_connections)
        super().__init__(transport=HttpxTransport(self._pool), timeout=timeout)
        # reqwest offers and decodes the encodings it supports itself.
        self._default_headers = {k.lower(): v for k, v in self.headers.items()
                                 if k.lower() != "accept-encoding"}
        self._targets: dict[tuple[str, tuple[tuple[str, Any], ...]],
                            tuple[httpx.Request, str]] = {}
        self._tools_for: list[Any] | None = None
        self._tools_json = ""

    async def send(self, request: httpx.Request, *, stream: bool = False,
                   **kwargs: Any) -> httpx.Response:
        """Read responses also accept the synchronous `close()` that the SDK's retry loop calls
        before each retry (an async stream refuses it, which ended the retries at once)."""
        async with self._in_flight:
            response = await super().send(request, stream=stream, **kwargs)
        if not stream:
            response.stream = httpx.ByteStream(response.content)
        return response

    def _target(self, url: str, params: Mapping[str, Any] | None) -> tuple[httpx.Request, str]:
        """The absolute URL with its query, parsed once per (url, params) (the SDK sends the
        same few), and the `httpx.Request` that responses name (the SDK's errors quote its
        method and URL)."""
        key = (url, tuple(params.items()) if params else ())
        target = self._targets.get(key)
        if target is None:
            if len(self._targets) >= TARGET_CACHE_SIZE:
                self._targets.clear()
            parsed = self._merge_url(url)
            if params:
                parsed = parsed.copy_merge_params(params)
            target = self._targets[key] = (httpx.Request("POST", parsed), str(parsed))
        return target

    async def _post(self, url: Any, *, content: Any = None, headers: Any = None,
                    params: Any = None, **other: Any) -> httpx.Response:
        direct = (not other and isinstance(url, str) and isinstance(content, str | bytes)
                  and (headers is None or isinstance(headers, Mapping))
                  and (params is None or isinstance(params, Mapping)))
        if not direct:
            return await httpx.AsyncClient.post(self, url, content=content, headers=headers,
                                                params=params, **other)
        request, target = self._target(url, params)
        merged = dict(self._default_headers)
        for name, value in (headers or {}).items():
            merged[name.lower()] = value
        body = content.encode() if isinstance(content, str) else content
        try:
            async with self._in_flight:
                answer = await (self._pool.post(target).headers(merged).body_bytes(body)
                                .build().send())
                raw = bytes(await answer.bytes())  # decoded (gzip, deflate, ...) by reqwest
        except PyreqwestError as exc:
            mapped = map_exception(exc, request)
            if mapped is None:
                raise
            raise mapped from exc
        return read_response(answer.status, list(answer.headers.items()), raw, request)

    async def post(self, url: Any, *, json: Any = None, content: Any = None,  # type: ignore[override]
                   headers: Any = None, **other: Any) -> httpx.Response:
        """`json=` encoded as the SDK's own wrapper encodes it (numpy-aware), except that the
        chat payload's `tools`, the same list every call, is encoded once: 64 -> 20 µs a call."""
        if json is not None and content is None:
            content = self._encode(json)
            if isinstance(headers, Mapping) and not any(
                    name.lower() == "content-type" for name in headers):
                headers = {**headers, "Content-Type": "application/json"}
        return await self._post(url, content=content, headers=headers, **other)

    def _encode(self, payload: Any) -> str:
        tools = payload.get("tools") if isinstance(payload, dict) else None
        if not isinstance(tools, list) or not tools:
            return jsonlib.dumps(payload, cls=NumpyTypeEncoder)
        if tools is not self._tools_for:
            self._tools_json = jsonlib.dumps(tools, cls=NumpyTypeEncoder)
            self._tools_for = tools
        rest = jsonlib.dumps({k: v for k, v in payload.items() if k != "tools"},
                             cls=NumpyTypeEncoder)
        joint = ", " if rest != "{}" else ""
        return f'{rest[:-1]}{joint}"tools": {self._tools_json}}}'
