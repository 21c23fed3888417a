"""Store conformance, the outbox (webhook events): written with the turn's commit or not at all,
handed out oldest first per session, leased to one sender at a time, retried after a delay,
written by the expiry sweep with what the session was; counted for the metrics."""

from __future__ import annotations

import asyncio
import json

import pytest

from agent_session.delivery.events import expiry_event, session_event
from agent_session.errors import VersionConflict
from agent_session.stores import redis_outbox
from agent_session.stores.base import SessionStore

from .sessions import new_session, put

LEASE = 0.3


@pytest.fixture(autouse=True)
def quick_due_index(monkeypatch):
    """A store may look at a session's new events up to `LOOK_AGAIN_US` later when the sender
    does not name the session (Redis's due index); shortened here so the scan is tested."""
    monkeypatch.setattr(redis_outbox, "LOOK_AGAIN_US", 100_000)


def event(clock, sid: str, kind: str = "session.completed", result: dict | None = None):
    return session_event(kind, sid, "tables", "u1", result or {"n": 1}, clock.now())


async def committed(store: SessionStore, clock, sid: str, *events) -> None:
    async with store.turn(sid, wait=1) as held:
        session = held.session or new_session(clock, sid)
        await held.commit(session.model_copy(update={"result": {"n": len(events)}}), events)


async def scan(store: SessionStore, owner: str = "a", limit: int = 10):
    await asyncio.sleep(0.15)
    return await store.claim_events(owner, LEASE, limit)


async def test_events_are_written_with_the_commit_and_handed_out_in_order(store, clock):
    first, second = event(clock, "s1"), event(clock, "s1", "session.handoff")
    await committed(store, clock, "s1", first)
    await committed(store, clock, "s1", second)
    other = event(clock, "s2")
    await committed(store, clock, "s2", other)
    claimed = await scan(store)
    assert sorted(e.id for e in claimed) == sorted([first.id, other.id])  # s1's second waits
    assert {e.id: e for e in claimed}[first.id] == first  # the same id and bytes
    assert await store.claim_events("a", LEASE, 10, "s1") == []  # leased
    await store.event_delivered(first, "a")
    [then] = await store.claim_events("a", LEASE, 10, "s1")
    assert then == second
    await store.event_delivered(second, "a")
    await store.event_delivered(other, "a")
    assert await scan(store) == []
    assert await store.outbox_backlog() == (0, None)


async def test_a_refused_commit_writes_no_event(store, clock):
    await put(store, new_session(clock, "s1"))
    async with store.turn("s1", wait=1) as held:
        await store.delete("s1")  # behind the turn's back: its version check refuses it
        with pytest.raises(VersionConflict):
            await held.commit(held.session, [event(clock, "s1")])
    assert await scan(store) == []
    assert await store.outbox_backlog() == (0, None)


async def test_a_lease_keeps_other_senders_off_until_it_lapses(store, clock):
    mine = event(clock, "s1")
    await committed(store, clock, "s1", mine)
    assert [e.id for e in await scan(store, "a")] == [mine.id]
    assert await store.claim_events("b", LEASE, 10) == []
    assert await store.claim_events("b", LEASE, 10, "s1") == []
    await asyncio.sleep(LEASE + 0.1)  # sender a died mid-attempt
    assert [e.id for e in await store.claim_events("b", LEASE, 10, "s1")] == [mine.id]
    await store.event_delivered(mine, "a")  # a's late word changes nothing: b holds it now
    assert (await store.outbox_backlog())[0] == 1
    await store.event_delivered(mine, "b")
    assert await store.outbox_backlog() == (0, None)


async def test_a_failed_attempt_waits_for_its_retry_and_counts(store, clock):
    mine = event(clock, "s1")
    await committed(store, clock, "s1", mine)
    [claimed] = await store.claim_events("a", 5, 10, "s1")
    await store.event_failed(claimed, "a", 0.4)
    assert await store.claim_events("b", LEASE, 10, "s1") == []
    count, oldest = await store.outbox_backlog()
    assert count == 1 and oldest == mine.created_us
    await asyncio.sleep(0.5)
    [again] = await scan(store, "b")
    assert (again.id, again.payload, again.attempts) == (mine.id, mine.payload, 1)


async def test_the_sweep_writes_an_expiry_event_with_what_the_session_was(store, clock):
    await put(store, new_session(clock, "old", user="u9", ttl=10).model_copy(
        update={"agent": "tables", "result": {"guests": 2}}))
    await put(store, new_session(clock, "young", ttl=100))
    clock.advance(11)
    assert await store.delete_expired(expiry_event(clock.now(), "cab-booking")) == 1
    [expired] = await scan(store)
    assert expired.type == "session.expired" and expired.session_id == "old"
    body = json.loads(expired.payload)
    assert body["type"] == "session.expired"
    assert body["data"] == {"session_id": "old", "agent": "tables", "user_id": "u9",
                            "result": {"guests": 2}}
    await store.event_delivered(expired, "a")
    clock.advance(100)
    assert await store.delete_expired() == 1  # without a builder: no event
    assert await scan(store) == []
