"""Every `SessionStore` backend runs the same conformance suite through this fixture."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from agent_session.clock import FakeClock
from agent_session.stores.base import SessionStore
from agent_session.stores.factory import build_session_store

STORES = ["memory"]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=STORES)
async def store(request, clock) -> AsyncIterator[SessionStore]:
    built = build_session_store(request.param, clock)
    try:
        yield built
    finally:
        await built.close()
