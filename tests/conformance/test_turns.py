"""Store conformance, turns: one turn at a time per session (others wait, then 409), the
session read under the lock, one commit, and a failed turn that changes nothing."""

from __future__ import annotations

import asyncio

import pytest

from agent_session.errors import SessionBusy
from agent_session.events import UserMessage

from .sessions import new_session, put, said


async def test_turns_serialize_and_a_waiting_turn_times_out(store):
    order = []
    inside = asyncio.Event()

    async def holder():
        async with store.turn("s1", wait=1):
            order.append("first in")
            inside.set()
            await asyncio.sleep(0.1)
            order.append("first out")

    task = asyncio.create_task(holder())
    await inside.wait()
    with pytest.raises(SessionBusy):
        async with store.turn("s1", wait=0.02):
            pass
    async with store.turn("s1", wait=1):
        order.append("second in")
    await task
    assert order == ["first in", "first out", "second in"]
    async with store.turn("other", wait=0):  # other sessions are never held up
        pass


async def test_turn_reads_under_the_lock_and_commits(store, clock):
    async with store.turn("s1", wait=1) as turn:
        assert turn.session is None  # new
        first = await turn.commit(new_session(clock, messages=[{"role": "user", "content": "a"}]))
    assert first.version == 1
    async with store.turn("s1", wait=1) as turn:
        assert turn.session == first
        with pytest.raises(SessionBusy):  # held until the block ends
            async with store.turn("s1", wait=0.02):
                pass
        changed = turn.session.model_copy(update={
            "messages": [*turn.session.messages, UserMessage(content="b")]})
        second = await turn.commit(changed)
    assert second.version == 2
    assert said(await store.get("s1")) == ["a", "b"]
    async with store.turn("s1", wait=0):  # and free afterwards
        pass


async def test_turn_that_fails_changes_nothing_and_unlocks(store, clock):
    saved = await put(store, new_session(clock))
    with pytest.raises(RuntimeError):
        async with store.turn("s1", wait=1) as turn:
            assert turn.session == saved
            raise RuntimeError("the agent failed")
    assert await store.get("s1") == saved
    async with store.turn("s1", wait=0) as turn:
        assert turn.session == saved


async def test_concurrent_turns_are_each_kept_once(store, clock):
    await put(store, new_session(clock))

    async def one(i):
        async with store.turn("s1", wait=5) as turn:
            await asyncio.sleep(0)
            await turn.commit(turn.session.model_copy(update={
                "messages": [*turn.session.messages, UserMessage(content=f"m{i}")]}))

    await asyncio.gather(*(one(i) for i in range(20)))
    final = await store.get("s1")
    assert sorted(said(final)) == sorted(f"m{i}" for i in range(20))
    assert final.version == 21
