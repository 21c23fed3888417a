"""Every `SessionStore` backend runs the same conformance suite through the `store` fixture."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import pytest

from agent_session.clock import FakeClock
from agent_session.stores.base import SessionStore
from agent_session.stores.factory import build_session_store

from ..redis_server import redis_server

STORES = ["memory", "sqlite", "redis"]


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    with redis_server() as url:
        yield url


@pytest.fixture
def clock() -> FakeClock:
    # Real "now": Redis expires keys by its own clock, so store times must not be in the past.
    return FakeClock(datetime.now(UTC))


@pytest.fixture(params=STORES)
async def store(request, clock, tmp_path) -> AsyncIterator[SessionStore]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'sessions.db'}"
    elif request.param == "redis":
        base = request.getfixturevalue("redis_url")
        url = base.rsplit("/", 1)[0] + f"/{uuid.uuid4().int % 16}"
    else:
        url = "memory"
    built = build_session_store(url, clock)
    if request.param == "redis":
        await built._redis.flushdb()
    try:
        yield built
    finally:
        await built.close()
