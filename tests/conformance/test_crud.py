"""Store conformance, reading and deleting: what a turn commits is what a read returns, and a
read's copy never changes the store."""

from __future__ import annotations

from agent_session.events import Question

from .sessions import new_session, put, said


async def test_a_commit_is_read_back_with_its_version(store, clock):
    assert await store.get("s1") is None
    saved = await put(store, new_session(clock, messages=[{"role": "user", "content": "hi"}]))
    assert saved.version == 1
    got = await store.get("s1")
    assert got == saved
    got.messages.append(Question(content="hello"))  # the caller's copy only
    assert said(await store.get("s1")) == ["hi"]
    again = await put(store, got)
    assert again.version == 2 and said(await store.get("s1")) == ["hi", "hello"]


async def test_delete(store, clock):
    await put(store, new_session(clock))
    assert await store.delete("s1") is True
    assert await store.get("s1") is None
    assert await store.delete("s1") is False


async def test_ping(store):
    await store.ping()
