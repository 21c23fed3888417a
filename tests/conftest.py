"""Shared fixtures: settings without the developer's environment, a fake clock, the app under a
scripted LLM, and an httpx client over ASGI with the lifespan running."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from agent_session.config import Settings
from agent_session.main import create_app
from agent_session.services import Overrides

from .fakes.clock import FakeClock
from .fakes.scripted_llm import ScriptedLLM
from .fakes.tls import make_certificate
from .redis_server import redis_cluster, redis_server

TZ = "Asia/Kolkata"


def make_settings(**overrides: Any) -> Settings:
    base: dict[str, Any] = {"log_file": "", "timezone": TZ, "llm_backend": "none",
                            "places_backend": "offline"}
    base.update(overrides)
    return Settings(_env_file=None, **base)


@asynccontextmanager
async def running(app) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


class Harness:
    """One app under test: its client, scripted model and clock."""

    def __init__(self, client: httpx.AsyncClient, app, llm: ScriptedLLM, clock: FakeClock):
        self.client, self.app, self.llm, self.clock = client, app, llm, clock

    @property
    def services(self):
        return self.app.state.services

    async def chat(self, query: str, session_id: str | None = None,
                   user_id: str | None = None, **headers: str) -> httpx.Response:
        body: dict[str, Any] = {"query": query}
        if session_id is not None:
            body["session_id"] = session_id
        if user_id is not None:
            body["user_id"] = user_id
        return await self.client.post("/chat", json=body, headers=headers)


@pytest.fixture
def harness_factory() -> Callable[..., Any]:
    @asynccontextmanager
    async def factory(**settings: Any) -> AsyncIterator[Harness]:
        llm, clock = ScriptedLLM(), FakeClock()
        app = create_app(make_settings(**settings), Overrides(llm=llm, clock=clock))
        async with running(app) as client:
            yield Harness(client, app, llm, clock)

    return factory


@pytest.fixture
async def harness(harness_factory) -> AsyncIterator[Harness]:
    async with harness_factory() as h:
        yield h


@pytest.fixture(scope="session")
def tls(tmp_path_factory) -> tuple:
    """(certificate, key) of a TLS server certificate for 127.0.0.1 the fakes serve with."""
    return make_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """One real redis-server for the whole suite (tests pick their own database or flush)."""
    with redis_server() as url:
        yield url


@pytest.fixture(scope="session")
def redis_cluster_url() -> Iterator[str]:
    """One real Redis Cluster of three masters for the whole suite."""
    with redis_cluster() as url:
        yield url
