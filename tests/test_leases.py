"""Turn leases shared between processes (sqlite, Redis): renewed while a turn runs, so a turn
longer than the lease stays exclusive (a killed holder's lapsing is in test_replicas.py)."""

from __future__ import annotations

import asyncio
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent_session.errors import SessionBusy
from agent_session.stores.locks import Renewal, lease_tokens
from agent_session.stores.redis import RedisSessionStore
from agent_session.stores.sqlite import SqliteSessionStore

from .fakes.clock import FakeClock

ROOT = Path(__file__).resolve().parents[1]



async def test_renewal_repeats_while_held_survives_a_failure_and_stops_after(caplog):
    calls = []

    async def renew() -> None:
        calls.append(asyncio.get_running_loop().time())
        if len(calls) == 2:
            raise ConnectionError("store away")

    with caplog.at_level(logging.WARNING), Renewal(renew, 0.05):
        await asyncio.sleep(0.28)
    held = len(calls)
    assert 4 <= held <= 6  # every 0.05 s, and on after the failed second one
    assert "renewing a turn's lease failed" in caplog.text
    await asyncio.sleep(0.15)
    assert len(calls) == held  # stopped with the block


def test_lease_tokens_are_unique_per_store_and_turn():
    first, second = lease_tokens(), lease_tokens()
    tokens = {first() for _ in range(1000)} | {second() for _ in range(1000)}
    assert len(tokens) == 2000


@pytest.fixture(params=["sqlite", "redis", "redis_cluster"])
def backend(request, tmp_path) -> tuple[str, str]:
    if request.param == "sqlite":
        return "sqlite", f"sqlite:///{tmp_path / 'leases.db'}"
    return "redis", request.getfixturevalue(f"{request.param}_url")


def store_for(backend: tuple[str, str]) -> SqliteSessionStore | RedisSessionStore:
    """One replica's store, with a 0.3 s lease."""
    kind, url = backend
    store_class = SqliteSessionStore if kind == "sqlite" else RedisSessionStore
    return store_class(url, FakeClock(datetime.now(UTC)), lease_seconds=0.3)


async def test_a_turn_longer_than_its_lease_stays_exclusive(backend):
    two_processes = first, second = store_for(backend), store_for(backend)
    async with first.turn("long", 1):
        await asyncio.sleep(0.8)  # more than twice the lease
        with pytest.raises(SessionBusy):
            async with second.turn("long", 0.05):
                pass
    async with second.turn("long", 0.5) as held:  # free once the turn ended
        assert held.session is None
    for store in two_processes:
        await store.close()


HOLDER = """
import asyncio, sys
from agent_session.clock import SystemClock
from agent_session.stores.redis import RedisSessionStore
from agent_session.stores.sqlite import SqliteSessionStore

async def main():
    kind, url = sys.argv[1], sys.argv[2]
    store = (SqliteSessionStore if kind == "sqlite" else RedisSessionStore)(
        url, SystemClock(), lease_seconds=0.3)
    async with store.turn("crash", 5):
        print("held", flush=True)
        await asyncio.sleep(60)

asyncio.run(main())
"""


async def test_a_killed_holders_lease_lapses(backend):
    """A process killed inside a turn (no release, no renewal): the turn is free again once
    its lease runs out, not before."""
    second = store_for(backend)
    holder = await asyncio.create_subprocess_exec(
        sys.executable, "-c", HOLDER, *backend, stdout=asyncio.subprocess.PIPE,
        cwd=ROOT)
    assert (await asyncio.wait_for(holder.stdout.readline(), 30)) == b"held\n"
    holder.kill()
    await holder.wait()
    with pytest.raises(SessionBusy):  # still leased
        async with second.turn("crash", 0.05):
            pass
    started = asyncio.get_running_loop().time()
    async with second.turn("crash", 2):
        waited = asyncio.get_running_loop().time() - started
    assert waited < 1.0
    await second.close()
