"""Every `SessionStore` backend runs the same conformance suite through the `store` fixture."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from agent_session.stores.base import SessionStore
from agent_session.stores.factory import build_session_store

from ..fakes.clock import FakeClock
from ..redis_server import flush

STORES = ["memory", "sqlite", "redis", "redis_cluster"]


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
    elif request.param == "redis_cluster":
        url = request.getfixturevalue("redis_cluster_url")
    else:
        url = "memory"
    if request.param.startswith("redis"):
        await flush(url)
    built = build_session_store(url, clock)
    try:
        yield built
    finally:
        await built.close()


from .backends import (  # noqa: E402,F401 (the other protocols' backends, as fixtures)
    local_model,
    model,
    openai_fake,
    places,
    speech_fake,
    stt,
    tts,
    watsonx_fake,
)
