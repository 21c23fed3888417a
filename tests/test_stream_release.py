"""A `/chat/stream` client that goes away before its first event must not keep the session:
the next turn on it gets in at once, not after a lease or a 409."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from urllib.parse import urlsplit

import httpx
import pytest

from agent_session.main import create_app
from agent_session.services import Overrides

from .conftest import make_settings
from .fakes.scripted_llm import ScriptedLLM, call
from .fakes.server import serve


def slow_question(seconds: float):
    async def step(request):
        await asyncio.sleep(seconds)
        return [call("prompt_user", question="Where from?")]
    return step


def open_and_drop_stream(url: str, session_id: str) -> None:
    """Send a whole `/chat/stream` request on a raw socket and close it before any answer."""
    parts = urlsplit(url)
    body = json.dumps({"session_id": session_id, "query": "stream me"}).encode()
    with socket.create_connection((parts.hostname, parts.port)) as sock:
        sock.sendall(b"POST /chat/stream HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
                     b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        time.sleep(0.1)


@pytest.mark.parametrize("store", ["memory", "sqlite"])
def test_a_stream_dropped_before_its_first_event_releases_the_session(store, tmp_path):
    url_of = {"memory": "memory", "sqlite": f"sqlite:///{tmp_path}/s.db"}
    llm = ScriptedLLM([slow_question(1.0), slow_question(1.0), slow_question(0.0),
                       slow_question(0.0)])
    app = create_app(make_settings(session_store=url_of[store], turn_wait_seconds=20),
                     Overrides(llm=llm))
    with serve(app, lifespan=True) as url:
        # A turn holds the session, so the stream's request waits for it (no event yet)...
        first = httpx.AsyncClient(base_url=url, timeout=30)

        async def scenario() -> tuple[int, int, float]:
            holding = asyncio.create_task(first.post("/chat", json={"session_id": "s",
                                                                    "query": "hold"}))
            await asyncio.sleep(0.3)
            await asyncio.to_thread(open_and_drop_stream, url, "s")  # ...and leaves meanwhile
            held = (await holding).status_code
            await asyncio.sleep(1.5)  # the dropped stream's turn, if it ran, is over by now
            started = time.monotonic()
            after = await first.post("/chat", json={"session_id": "s", "query": "next"})
            await first.aclose()
            return held, after.status_code, time.monotonic() - started

        held, status, seconds = asyncio.run(scenario())
    assert held == 200
    assert status == 200 and seconds < 1.0, (status, seconds)


def test_a_stream_dropped_during_its_turn_cancels_it_and_frees_the_session():
    """The stream holds the session and its model call takes 3 s; the client leaves after 0.3 s:
    the turn is cancelled (nothing saved) and the next turn gets in at once."""
    llm = ScriptedLLM([slow_question(3.0), slow_question(0.0)])
    app = create_app(make_settings(turn_wait_seconds=20), Overrides(llm=llm))
    with serve(app, lifespan=True) as url:
        async def scenario() -> tuple[int, float, dict]:
            async with httpx.AsyncClient(base_url=url, timeout=30) as client:
                async def stream() -> None:
                    async with client.stream("POST", "/chat/stream", json={
                            "session_id": "d", "query": "stream me"}) as response:
                        async for _ in response.aiter_lines():
                            pass

                task = asyncio.create_task(stream())
                await asyncio.sleep(0.3)
                task.cancel()  # the client goes away before the first event
                await asyncio.gather(task, return_exceptions=True)
                started = time.monotonic()
            async with httpx.AsyncClient(base_url=url, timeout=30) as client:
                after = await client.post("/chat", json={"session_id": "d", "query": "next"})
                seconds = time.monotonic() - started
                stored = (await client.get("/session/d")).json()
            return after.status_code, seconds, stored

        status, seconds, stored = asyncio.run(scenario())
    assert status == 200 and seconds < 1.0, (status, seconds)
    assert [m["content"] for m in stored["messages"] if m["role"] == "user"] == ["next"]
