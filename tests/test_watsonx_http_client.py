"""The watsonx SDK's HTTP client (httpx on pyreqwest's transport): requests, TLS checks and
failures must look to the SDK as httpx's own would."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from agent_session.llm.http_client import async_client

from .fakes.server import free_port, serve


@pytest.fixture(scope="module")
def echo_url(tls) -> Iterator[str]:
    """An HTTPS server that answers every request with what it received."""
    async def echo(request: Request) -> JSONResponse:
        return JSONResponse({"method": request.method, "path": request.url.path,
                             "query": dict(request.query_params),
                             "headers": dict(request.headers),
                             "body": (await request.body()).decode()},
                            status_code=int(request.query_params.get("status", 200)))

    app = Starlette(routes=[Route("/{path:path}", echo, methods=["GET", "POST", "PUT"])])
    with serve(app, *tls) as url:
        yield url


async def test_the_chat_post_and_other_calls_reach_the_server_as_sent(tls, echo_url):
    client = async_client(4, str(tls[0]), httpx.Timeout(5))
    try:
        response = await client.post(f"{echo_url}/ml/v1/text/chat", params={"version": "v1"},
                                     json={"messages": []}, headers={"Authorization": "Bearer t"})
        seen = response.json()
        assert response.status_code == 200 and response.request.method == "POST"
        assert (seen["path"], seen["query"], seen["body"].replace(" ", "")) == (
            "/ml/v1/text/chat", {"version": "v1"}, '{"messages":[]}')
        assert seen["headers"]["authorization"] == "Bearer t"
        assert seen["headers"]["content-type"] == "application/json"
        response.close()  # the SDK's retry loop closes read responses synchronously
        form = await client.post(f"{echo_url}/token", data={"grant_type": "x"})
        assert form.json()["body"] == "grant_type=x"
        put = await client.put(f"{echo_url}/thing?status=503", content=b"abc")
        assert put.status_code == 503 and put.json()["method"] == "PUT"
        failed = await client.post(f"{echo_url}/chat?status=429", content="{}")
        assert failed.status_code == 429
    finally:
        await client.aclose()


async def test_tls_is_verified_against_the_configured_bundle_only_when_asked(tls, echo_url):
    trusting = async_client(2, str(tls[0]), httpx.Timeout(5))
    default_roots = async_client(2, True, httpx.Timeout(5))
    unverified = async_client(2, False, httpx.Timeout(5))
    try:
        assert (await trusting.post(echo_url, content="{}")).status_code == 200
        with pytest.raises(httpx.ConnectError):  # the fake's certificate is nobody's
            await default_roots.post(echo_url, content="{}")
        assert (await unverified.post(echo_url, content="{}")).status_code == 200
    finally:
        for client in (trusting, default_roots, unverified):
            await client.aclose()


async def test_refused_and_slow_servers_raise_httpx_errors(tls):
    client = async_client(2, str(tls[0]), httpx.Timeout(0.5))
    gone = f"https://127.0.0.1:{free_port()}/chat"
    try:
        with pytest.raises(httpx.ConnectError):
            await client.post(gone, content="{}")

        async def slow(request: Request) -> JSONResponse:
            await asyncio.sleep(3)
            return JSONResponse({})

        slow_app = Starlette(routes=[Route("/chat", slow, methods=["POST"])])
        with serve(slow_app, *tls) as url, pytest.raises(httpx.TimeoutException):
            await client.post(f"{url}/chat", content="{}")
    finally:
        await client.aclose()


async def test_a_cancelled_call_frees_its_slot_and_its_request_ends_by_the_timeout():
    """pyreqwest runs an abandoned request on in Rust: the slot is ours and freed at once,
    and the request dies within the read timeout rather than holding a connection."""
    closed: list[float] = []

    async def serve_http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        await reader.readexactly(2)
        if b"/fast" in head:
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}")
            await writer.drain()
        if await reader.read(1) == b"":  # the client closed the connection
            closed.append(loop.time() - started)

    loop = asyncio.get_running_loop()
    server = await asyncio.start_server(serve_http, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    client = async_client(1, True, httpx.Timeout(1.0))
    try:
        started = loop.time()
        with pytest.raises(TimeoutError):  # a turn's deadline ends the call that never answers
            await asyncio.wait_for(client.post(f"{url}/slow", content="{}"), 0.2)
        fast = await asyncio.wait_for(client.post(f"{url}/fast", content="{}"), 0.5)
        assert fast.status_code == 200  # the only slot was free again at once
        await asyncio.sleep(1.2)
        assert closed and 0.9 <= closed[0] <= 1.5  # the abandoned request, at its timeout
    finally:
        await client.aclose()
        server.close()
