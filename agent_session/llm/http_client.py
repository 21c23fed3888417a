"""The async HTTP client handed to the watsonx SDK, on aiohttp's connection pool.

The SDK speaks httpx, but httpx costs the event loop dearly: its own pool (httpcore) is slow under
concurrency (encode/httpx#3215: 64 requests in flight reached 30 requests/s against a 500 ms
server), and its per-request machinery (the URL parsed twice, headers normalised, cookies
extracted, auth and redirect hooks) cost 0.7 ms of CPU per chat call here, more than aiohttp's
whole request over TLS. That CPU is latency for every other session on the loop.

So the SDK's chat call, one `post(url, content=..., headers=..., params=...)`, is answered
straight on aiohttp; it still returns an `httpx.Response`, so the SDK's retries, status handling
and errors work as before. Every other call (streams, other verbs, unusual arguments) goes
through httpx, on the same aiohttp pool (`httpx-aiohttp`'s transport).
"""

from __future__ import annotations

import contextlib
import json as jsonlib
import ssl
from collections.abc import Iterator, Mapping
from typing import Any

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport
from httpx_aiohttp.transport import map_aiohttp_exceptions
from ibm_watsonx_ai._wrappers.httpx.client.httpx_async_client import HTTPXAsyncClient
from ibm_watsonx_ai.utils.utils import NumpyTypeEncoder

TARGET_CACHE_SIZE = 64


@contextlib.contextmanager
def transport_errors(request: httpx.Request) -> Iterator[None]:
    """aiohttp failures as httpx's exceptions. A refused connection is a ConnectError (the
    mapping of `httpx-aiohttp` calls it a ConnectTimeout, which would read as a slow service
    rather than an unreachable one)."""
    try:
        with map_aiohttp_exceptions():
            yield
    except httpx.ConnectTimeout as exc:
        if isinstance(exc.__cause__, aiohttp.ClientConnectorError):
            raise httpx.ConnectError(str(exc.__cause__), request=request) from exc.__cause__
        raise
    except TimeoutError as exc:  # a deadline inside aiohttp that it did not wrap
        raise httpx.ReadTimeout(str(exc) or "timed out", request=request) from exc


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


class PooledTransport(AiohttpTransport):
    """httpx over aiohttp with `max_connections` kept-alive connections."""

    def __init__(self, max_connections: int, verify: bool | ssl.SSLContext = True) -> None:
        super().__init__(verify=verify, limits=httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections))

    def session(self) -> aiohttp.ClientSession:
        """The aiohttp session (created on first use, on the running loop)."""
        if not isinstance(self.client, aiohttp.ClientSession):
            self.client = self.get_client()
        return self.client

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        with transport_errors(request):
            return await super().handle_async_request(request)


class WatsonxHttpClient(HTTPXAsyncClient):
    """The SDK's async client."""

    def __init__(self, max_connections: int, verify: bool | ssl.SSLContext,
                 timeout: httpx.Timeout) -> None:
        self._pool = PooledTransport(max_connections, verify=verify)
        super().__init__(transport=self._pool, timeout=timeout)
        self._aiohttp_timeout = aiohttp.ClientTimeout(
            sock_connect=timeout.connect, sock_read=timeout.read, connect=timeout.pool)
        # aiohttp offers the encodings it can decode itself.
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
        with transport_errors(request):
            async with self._pool.session().post(
                    target, data=body, headers=merged, timeout=self._aiohttp_timeout,
                    allow_redirects=False) as answer:
                raw = await answer.read()  # decoded (gzip, deflate) by aiohttp
        return read_response(answer.status, answer.raw_headers, raw, request)

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

