"""Records beside the sessions (what A2A tasks are kept in): put, replace, read, expire."""

from __future__ import annotations

import asyncio


async def test_a_record_is_kept_replaced_and_expires(store, clock):
    assert await store.get_record("a2a:task:1") is None
    await store.put_record("a2a:task:1", '{"state": "working"}', 60)
    assert await store.get_record("a2a:task:1") == '{"state": "working"}'
    await store.put_record("a2a:task:1", '{"state": "completed"}', 60)
    assert await store.get_record("a2a:task:1") == '{"state": "completed"}'
    await store.put_record("a2a:task:2", "short", 0.2)
    clock.advance(1)  # the memory and sqlite stores go by the clock, Redis by its own
    await asyncio.sleep(0.3)
    assert await store.get_record("a2a:task:2") is None
    assert await store.get_record("a2a:task:1") == '{"state": "completed"}'
