"""The session store contract, run against every backend."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from agent_session.errors import SessionBusy, VersionConflict
from agent_session.stores.base import Session


def new_session(clock, sid="s1", user="u1", ttl=60, messages=None) -> Session:
    now = clock.now()
    return Session(session_id=sid, user_id=user, created_at=now, updated_at=now,
                   expires_at=now + timedelta(seconds=ttl), messages=messages or [])


async def test_create_get_and_versions(store, clock):
    assert await store.get("s1") is None
    saved = await store.save(new_session(clock, messages=[{"role": "user", "content": "hi"}]), 0)
    assert saved.version == 1
    got = await store.get("s1")
    assert got == saved
    got.messages.append({"role": "assistant", "content": "hello"})
    assert (await store.get("s1")).messages == [{"role": "user", "content": "hi"}]
    again = await store.save(got, 1)
    assert again.version == 2 and len((await store.get("s1")).messages) == 2


async def test_version_conflict_keeps_the_stored_session(store, clock):
    await store.save(new_session(clock), 0)
    with pytest.raises(VersionConflict):
        await store.save(new_session(clock, messages=[{"role": "user", "content": "x"}]), 0)
    with pytest.raises(VersionConflict):
        await store.save(new_session(clock), 5)
    assert (await store.get("s1")).messages == []


async def test_delete(store, clock):
    await store.save(new_session(clock), 0)
    assert await store.delete("s1") is True
    assert await store.get("s1") is None
    assert await store.delete("s1") is False


async def test_expiry_and_cleanup(store, clock):
    await store.save(new_session(clock, "short", ttl=10), 0)
    await store.save(new_session(clock, "long", ttl=100), 0)
    clock.advance(11)
    assert await store.get("short") is None
    assert await store.delete("short") is False
    assert [s.session_id for s in (await store.list(None, 10, None))[0]] == ["long"]
    # An expired id may be created again from version 0.
    await store.save(new_session(clock, "short", ttl=10), 0)
    clock.advance(11)
    assert await store.delete_expired() == 1
    assert await store.get("long") is not None


async def test_an_expired_id_taken_by_another_user_leaves_the_first_users_list(store, clock):
    await store.save(new_session(clock, "shared", user="first", ttl=10), 0)
    clock.advance(11)
    await store.save(new_session(clock, "shared", user="second", ttl=10), 0)
    assert (await store.list("first", 10, None))[0] == []
    assert [s.user_id for s in (await store.list("second", 10, None))[0]] == ["second"]


async def test_list_pagination_newest_first(store, clock):
    for i in range(7):
        await store.save(new_session(clock, f"s{i}", user="a" if i % 2 == 0 else "b"), 0)
        clock.advance(1)
    seen, cursor = [], None
    while True:
        page, cursor = await store.list("a", 2, cursor)
        seen += [s.session_id for s in page]
        if cursor is None:
            break
    assert seen == ["s6", "s4", "s2", "s0"]
    everyone = (await store.list(None, 100, None))[0]
    assert [s.session_id for s in everyone] == [f"s{i}" for i in reversed(range(7))]
    with pytest.raises(ValueError):
        await store.list(None, 2, "not-a-cursor")


async def test_lock_serializes_and_times_out(store):
    order = []

    async def holder():
        async with store.lock("s1", wait=1):
            order.append("first in")
            await asyncio.sleep(0.1)
            order.append("first out")

    task = asyncio.create_task(holder())
    await asyncio.sleep(0.01)
    with pytest.raises(SessionBusy):
        async with store.lock("s1", wait=0.02):
            pass
    async with store.lock("s1", wait=1):
        order.append("second in")
    await task
    assert order == ["first in", "first out", "second in"]
    async with store.lock("other", wait=0):
        pass


async def test_concurrent_turns_are_each_kept_once(store, clock):
    await store.save(new_session(clock), 0)

    async def turn(i):
        async with store.lock("s1", wait=5):
            current = await store.get("s1")
            await asyncio.sleep(0)
            current.messages.append({"role": "user", "content": f"m{i}"})
            await store.save(current, current.version)

    await asyncio.gather(*(turn(i) for i in range(20)))
    final = await store.get("s1")
    assert sorted(m["content"] for m in final.messages) == sorted(f"m{i}" for i in range(20))
    assert final.version == 21


async def test_ping(store):
    await store.ping()


async def test_turn_reads_under_the_lock_and_commits(store, clock):
    async with store.turn("s1", wait=1) as turn:
        assert turn.session is None  # new
        first = await turn.commit(new_session(clock, messages=[{"role": "user", "content": "a"}]))
    assert first.version == 1
    async with store.turn("s1", wait=1) as turn:
        assert turn.session == first
        with pytest.raises(SessionBusy):  # held until the block ends
            async with store.lock("s1", wait=0.02):
                pass
        changed = turn.session.model_copy(update={
            "messages": [*turn.session.messages, {"role": "user", "content": "b"}]})
        second = await turn.commit(changed)
    assert second.version == 2
    assert [m["content"] for m in (await store.get("s1")).messages] == ["a", "b"]
    async with store.turn("s1", wait=0):  # and free afterwards
        pass


async def test_turn_that_fails_changes_nothing_and_unlocks(store, clock):
    saved = await store.save(new_session(clock), 0)
    with pytest.raises(RuntimeError):
        async with store.turn("s1", wait=1) as turn:
            assert turn.session == saved
            raise RuntimeError("the agent failed")
    assert await store.get("s1") == saved
    async with store.turn("s1", wait=0) as turn:
        assert turn.session == saved


async def test_turn_commit_conflicts_when_the_session_moved_on(store, clock):
    await store.save(new_session(clock), 0)
    with pytest.raises(VersionConflict):
        async with store.turn("s1", wait=1) as turn:
            moved = await store.save(turn.session, turn.session.version)  # a write not in turn
            await turn.commit(turn.session)
    assert (await store.get("s1")).version == moved.version
    async with store.turn("s1", wait=0):
        pass


async def test_concurrent_turn_blocks_are_each_kept_once(store, clock):
    await store.save(new_session(clock), 0)

    async def one(i):
        async with store.turn("s1", wait=5) as turn:
            await asyncio.sleep(0)
            await turn.commit(turn.session.model_copy(update={
                "messages": [*turn.session.messages, {"role": "user", "content": f"m{i}"}]}))

    await asyncio.gather(*(one(i) for i in range(20)))
    final = await store.get("s1")
    assert sorted(m["content"] for m in final.messages) == sorted(f"m{i}" for i in range(20))
    assert final.version == 21
