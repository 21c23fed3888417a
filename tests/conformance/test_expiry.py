"""Store conformance, expiry: an expired session is gone for every read, its id may start a
new session, and the sweep removes only expired ones."""

from __future__ import annotations

from .sessions import new_session, put


async def test_expiry_and_cleanup(store, clock):
    await put(store, new_session(clock, "short", ttl=10))
    await put(store, new_session(clock, "long", ttl=100))
    clock.advance(11)
    assert await store.get("short") is None
    assert await store.delete("short") is False
    assert [s.session_id for s in (await store.list(None, 10, None))[0]] == ["long"]
    assert await store.count_live() == 1
    async with store.turn("short", wait=1) as held:  # an expired id starts anew
        assert held.session is None
        assert (await held.commit(new_session(clock, "short", ttl=10))).version == 1
    clock.advance(11)
    assert await store.delete_expired() == 1
    assert await store.get("long") is not None


async def test_an_expired_id_taken_by_another_user_leaves_the_first_users_list(store, clock):
    await put(store, new_session(clock, "shared", user="first", ttl=10))
    clock.advance(11)
    await put(store, new_session(clock, "shared", user="second", ttl=10))
    assert (await store.list("first", 10, None))[0] == []
    assert [s.user_id for s in (await store.list("second", 10, None))[0]] == ["second"]
