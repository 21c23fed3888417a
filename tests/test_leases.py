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
    assert held >= 3  # renewed again and again, and on after the failed second one
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
    async with second.turn("crash", 5):  # free once the lease lapses
        pass
    await second.close()


@pytest.fixture(params=["sqlite", "redis"])
def replica_store(request, tmp_path) -> tuple[str, str]:
    if request.param == "sqlite":
        return "sqlite", f"sqlite:///{tmp_path / 'lost.db'}"
    return "redis", request.getfixturevalue("redis_url")


async def take_over(kind: str, url: str, session_id: str) -> None:
    """What another replica does once a lease has lapsed: the lock is someone else's."""
    if kind == "sqlite":
        import sqlite3

        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            assert conn.execute("UPDATE turn_locks SET owner = 'another-replica' "
                                "WHERE session_id = ?", (session_id,)).rowcount == 1
        return
    from redis.asyncio import from_url

    from agent_session.stores.redis import lock_key

    client = from_url(url)
    assert await client.set(lock_key(session_id), "another-replica", xx=True)
    await client.aclose()


async def test_a_turn_whose_lease_is_lost_stops_before_its_next_action(replica_store):
    """The model call outlives the lost lease; the place search after it never runs, the
    turn answers 409 and nothing is saved."""
    from agent_session.main import create_app
    from agent_session.services import Overrides

    from .conftest import make_settings, running
    from .fakes.scripted_llm import ScriptedLLM

    kind, url = replica_store
    store = store_for(replica_store)  # a 0.3 s lease, renewed every 0.1 s

    lost = asyncio.Event()

    async def slow_extraction(request):
        await take_over(kind, url, "lost-1")
        await asyncio.wait_for(lost.wait(), 10)  # the holder's next renewal finds it gone
        return {"pickup_location": "MG Road"}

    app = create_app(make_settings(agent_strategy="form"),
                     Overrides(llm=ScriptedLLM([slow_extraction]), store=store))
    searched: list[str] = []
    loop = asyncio.get_running_loop()
    handler = logging.Handler()
    handler.emit = lambda record: (  # type: ignore[method-assign]
        loop.call_soon_threadsafe(lost.set) if "lease was lost" in record.getMessage()
        else None)
    logging.getLogger("agent_session.stores.locks").addHandler(handler)
    try:
        async with running(app) as client:
            places = app.state.services.places
            original = places.search

            async def search(text: str):
                searched.append(text)
                return await original(text)

            places.search = search
            response = await client.post("/chat", json={"session_id": "lost-1",
                                                        "query": "from MG Road"})
            assert response.status_code == 409, response.text
            assert "took this session over" in response.json()["detail"]
            assert searched == []  # stopped before the action
            assert (await client.get("/session/lost-1")).status_code == 404  # nothing saved
    finally:
        logging.getLogger("agent_session.stores.locks").removeHandler(handler)


async def test_a_renewal_that_finds_the_lease_gone_marks_it_lost():
    answers = [True, False]
    gone = asyncio.Event()
    calls = []

    async def renew() -> bool:
        calls.append(1)
        answer = answers.pop(0) if answers else True
        if answer is False:
            gone.set()
        return answer

    with Renewal(renew, 0.02) as renewal:
        await asyncio.wait_for(gone.wait(), 5)
        await asyncio.sleep(0.1)
        assert renewal.lost
    assert len(calls) == 2  # no renewal after the lost one
