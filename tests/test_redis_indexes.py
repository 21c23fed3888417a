"""The Redis store's cluster-safe layout: one session's keys share a hash slot, and the indexes
(updated by their own commands just before the save script) are repaired or harmless when a
crash separates the two writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from redis.crc import key_slot

from agent_session.clock import to_us
from agent_session.stores.base import Session
from agent_session.stores.redis import (
    ALL_KEY,
    EXPIRY_KEY,
    RedisSessionStore,
    connect,
    lock_key,
    session_key,
    user_key,
)

from .fakes.clock import FakeClock
from .redis_server import flush


def test_one_session_s_keys_share_a_slot():
    for sid in ("s1", "a.b:c@d-e", "x" * 128):
        assert key_slot(session_key(sid).encode()) == key_slot(lock_key(sid).encode())


@pytest.fixture(params=["redis_url", "redis_cluster_url"])
async def stores(request):
    url = request.getfixturevalue(request.param)
    await flush(url)
    clock = FakeClock(datetime.now(UTC))
    store, raw = RedisSessionStore(url, clock), connect(url)
    yield store, raw, clock
    await store.close()
    await raw.aclose()


def session(clock: FakeClock, sid: str, user: str = "u1") -> Session:
    now = clock.now()
    return Session(session_id=sid, user_id=user, created_at=now, updated_at=now,
                   expires_at=now + timedelta(seconds=60))


async def commit(store: RedisSessionStore, value: Session) -> Session:
    async with store.turn(value.session_id, 1) as held:
        return await held.commit(value)


async def test_index_entries_left_by_a_crash_before_the_save_are_dropped(stores):
    store, raw, clock = stores
    await commit(store, session(clock, "real"))
    now = to_us(clock.now())
    # What a crash between the index commands and the save script leaves: entries for a
    # session that was never written.
    for key in (ALL_KEY, user_key("u1")):
        await raw.zadd(key, {"ghost": now + 5})
    await raw.zadd(EXPIRY_KEY, {"ghost": now - 1})
    listed, _ = await store.list("u1", 10, None)
    assert [s.session_id for s in listed] == ["real"]
    assert await raw.zscore(user_key("u1"), "ghost") is None  # dropped by the listing
    assert await store.delete_expired() == 1  # the sweep drops the expiry entry
    assert await raw.zscore(EXPIRY_KEY, "ghost") is None
    assert await store.count_live() == 1


async def test_a_session_whose_index_update_was_lost_is_served_and_listed_again(stores):
    store, raw, clock = stores
    saved = await commit(store, session(clock, "unlisted"))
    for key in (ALL_KEY, EXPIRY_KEY, user_key("u1")):  # as if those commands never ran
        await raw.zrem(key, "unlisted")
    assert await store.get("unlisted") == saved  # served by id all the same
    assert (await store.list("u1", 10, None))[0] == []
    clock.advance(1)
    async with store.turn("unlisted", 1) as held:  # its next turn repairs the indexes
        await held.commit(held.session.model_copy(update={"updated_at": clock.now()}))
    assert [s.session_id for s in (await store.list("u1", 10, None))[0]] == ["unlisted"]
    assert await store.count_live() == 1


async def test_a_commit_after_another_writer_is_refused_and_unlocks(stores):
    """As when a turn's lease lapsed and another replica wrote meanwhile."""
    from agent_session.errors import VersionConflict
    from agent_session.events import UserMessage

    store, raw, clock = stores
    await commit(store, session(clock, "moved"))
    with pytest.raises(VersionConflict):
        async with store.turn("moved", 1) as held:
            await raw.hincrby(session_key("moved"), "version", 1)  # the other writer
            await held.commit(held.session.model_copy(update={"messages": [
                UserMessage(content="lost")]}))
    assert (await store.get("moved")).messages == []
    async with store.turn("moved", 0.1):  # the refused commit ended the lock too
        pass
