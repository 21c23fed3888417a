"""The sqlite store's batches: the statements of one loop iteration's turns commit together,
each still failing on its own, and a batch whose transaction fails fails whole."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from agent_session.errors import VersionConflict
from agent_session.stores.base import Session
from agent_session.stores.batching import IterationBatcher
from agent_session.stores.sqlite import SqliteSessionStore
from agent_session.stores.sqlite_schema import SCHEMA
from agent_session.stores.sqlite_thread import run_batch

from .fakes.clock import FakeClock


def insert(conn: sqlite3.Connection, owner: str) -> int:
    return conn.execute("INSERT INTO turn_locks VALUES (?, ?, 0)", (owner, owner)).rowcount


def refuse(conn: sqlite3.Connection) -> None:
    raise ValueError("refused")


def owners(path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return sorted(row[0] for row in conn.execute("SELECT owner FROM turn_locks"))


@pytest.fixture
def conn(tmp_path):
    path = tmp_path / "batch.db"
    conn = sqlite3.connect(path, isolation_level=None, timeout=0.2)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.executescript(SCHEMA)
    yield conn, path
    conn.close()


def insert_then_refuse(conn: sqlite3.Connection, owner: str) -> None:
    insert(conn, owner)
    raise ValueError("refused after writing")


def test_a_failing_call_is_undone_alone_and_the_rest_commit(conn):
    db, path = conn
    statements = []
    db.set_trace_callback(statements.append)
    replies = run_batch(db, [(insert, ("a",)), (insert, ("a",)), (refuse, ()), (insert, ("b",))])
    assert statements[0] == "BEGIN IMMEDIATE" and statements[-1] == "COMMIT"  # one commit
    assert statements.count("COMMIT") == 1
    assert replies[0] == 1 and replies[3] == 1
    assert isinstance(replies[1], sqlite3.IntegrityError)  # duplicate key, that call only
    assert isinstance(replies[2], ValueError)
    assert not db.in_transaction
    assert owners(path) == ["a", "b"]


def test_a_call_is_all_or_nothing_on_its_own(conn):
    """A call that wrote and then failed leaves none of its writes (its savepoint)."""
    db, path = conn
    replies = run_batch(db, [(insert_then_refuse, ("half",)), (insert, ("whole",))])
    assert isinstance(replies[0], ValueError) and replies[1] == 1
    assert owners(path) == ["whole"]


def test_a_batch_that_cannot_commit_fails_every_call_and_writes_nothing(conn):
    db, path = conn
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock past the timeout
    try:
        replies = run_batch(db, [(insert, ("a",)), (insert, ("b",))])
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert len(replies) == 2 and all(isinstance(r, sqlite3.OperationalError) for r in replies)
    assert not db.in_transaction
    assert owners(path) == []
    assert run_batch(db, [(insert, ("a",)), (insert, ("b",))]) == [1, 1]  # usable again


async def test_turns_of_one_burst_all_commit_and_a_conflict_stays_its_own(tmp_path):
    """The burst's leases and writes share trips (`IterationBatcher`, tested below); each
    turn's write still succeeds or fails on its own."""
    clock = FakeClock(datetime.now(UTC))
    path = tmp_path / "s.db"
    store = SqliteSessionStore(f"sqlite:///{path}", clock)
    now = clock.now()

    def session(session_id: str, messages: list) -> Session:
        return Session(session_id=session_id, user_id="u", created_at=now, updated_at=now,
                       expires_at=now + timedelta(minutes=5), messages=messages)

    async with store.turn("stale", 1) as held:
        await held.commit(session("stale", []))
    async def turn(session_id: str) -> None:
        async with store.turn(session_id, 5) as held:
            if session_id == "stale":  # another process writes it meanwhile, without awaiting
                with sqlite3.connect(path) as other:
                    other.execute("UPDATE sessions SET version = version + 1")
            await held.commit(session(session_id, [{"role": "user", "content": session_id}]))

    results = await asyncio.gather(*(turn(f"s{i}") for i in range(20)), turn("stale"),
                                   return_exceptions=True)
    assert results[:20] == [None] * 20
    assert isinstance(results[20], VersionConflict)
    for i in range(20):
        assert [m.model_dump() for m in (await store.get(f"s{i}")).messages] == [
            {"role": "user", "content": f"s{i}"}]
    assert (await store.get("stale")).messages == []
    async with store.turn("stale", 0.1) as held:  # its lease went with the refused write
        assert held.session is not None
    await store.close()


async def test_the_calls_of_one_loop_iteration_go_in_one_send_and_fail_alone():
    sent: list[list[int]] = []

    async def send(items: list[int]) -> list:
        sent.append(list(items))
        return [ValueError(f"no {i}") if i == 3 else i * 2 for i in items]

    batcher = IterationBatcher(send)
    results = await asyncio.gather(*(batcher.run(i) for i in range(6)), return_exceptions=True)
    assert sent == [[0, 1, 2, 3, 4, 5]]
    assert results[:3] == [0, 2, 4] and results[4:] == [8, 10]
    assert isinstance(results[3], ValueError)
    assert await batcher.run(7) == 14 and sent[-1] == [7]  # a lone call goes alone

    async def broken(items: list[int]) -> list:
        raise OSError("the trip failed")

    failing = IterationBatcher(broken)
    both = await asyncio.gather(failing.run(1), failing.run(2), return_exceptions=True)
    assert all(isinstance(r, OSError) for r in both)  # every caller of the batch hears of it
    await batcher.close()
    await failing.close()
