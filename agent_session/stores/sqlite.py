"""Durable session store in one SQLite file (aiosqlite, WAL): the default for one machine, safe
for several processes sharing the file.

- Every write is one statement: after a crash the session is as before a turn or as after it.
  Saves are compare-and-swap on `version`. The statements that turns send in the same loop
  iteration run in one trip to the connection's thread and commit together.
- Turns are serialized within the process by an asyncio lock and across processes by a lease
  row (`turn_locks`), renewed while the turn runs and expiring when its holder dies. A turn
  takes the lease and reads the session in one statement (`RETURNING` subqueries): each trip
  to the connection's thread costs the event loop about as much as the statement itself.
- Listing is keyset-paginated over `(user_id, updated_us, session_id)`; expiry deletes by the
  `expires_us` index. Times are integer microseconds since the epoch, exact for cursors.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from ..clock import Clock, from_us, to_us, wall_us
from ..errors import VersionConflict
from .base import Session, decode_cursor, encode_cursor
from .batching import IterationBatcher
from .locks import KeyedLocks, Renewal, busy, lease_tokens
from .turns import UnlockingTurn

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    session_id TEXT PRIMARY KEY,
    user_id TEXT,
    created_us INTEGER NOT NULL,
    updated_us INTEGER NOT NULL,
    expires_us INTEGER NOT NULL,
    version INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_by_user ON sessions (user_id, updated_us DESC, session_id DESC);
CREATE INDEX IF NOT EXISTS sessions_by_update ON sessions (updated_us DESC, session_id DESC);
CREATE INDEX IF NOT EXISTS sessions_by_expiry ON sessions (expires_us);
CREATE TABLE IF NOT EXISTS turn_locks (
    session_id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    expires_us INTEGER NOT NULL
);
"""
POLL_SECONDS = 0.02
COLUMNS = ("user_id", "created_us", "updated_us", "expires_us", "version", "body")
# Take the lease (new, or over an expired one) and return the live session's columns with it;
# no row back means another holder has the lease.
TAKE_LEASE = (
    "INSERT INTO turn_locks (session_id, owner, expires_us) VALUES (?, ?, ?) "
    "ON CONFLICT(session_id) DO UPDATE SET owner=excluded.owner, "
    "expires_us=excluded.expires_us WHERE turn_locks.expires_us <= ? RETURNING "
    + ", ".join(f"(SELECT {column} FROM sessions WHERE sessions.session_id = "
                "turn_locks.session_id AND sessions.expires_us > ?)" for column in COLUMNS))


def path_of(url: str) -> Path:
    """`sqlite:///relative.db` or `sqlite:////absolute/path.db`."""
    if not url.startswith("sqlite:///"):
        raise ValueError("SESSION_STORE for sqlite is sqlite:///relative.db or "
                         "sqlite:////absolute/path.db.")
    return Path(url.removeprefix("sqlite:///"))


def _write_rows(conn: sqlite3.Connection, session_id: str, values: tuple,
                expected_version: int, now: int, lease: tuple[str, str] | None) -> int:
    """On the connection's thread: save (new, over an expired row, or version-checked), then
    drop the turn's lease if given; how many session rows were written."""
    if expected_version == 0:
        # New, or replacing an expired row under the same id; a live row is a conflict.
        cursor = conn.execute(
            "INSERT INTO sessions (session_id, user_id, created_us, updated_us, expires_us,"
            " version, body) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(session_id) DO UPDATE"
            " SET user_id=excluded.user_id, created_us=excluded.created_us,"
            " updated_us=excluded.updated_us, expires_us=excluded.expires_us,"
            " version=excluded.version, body=excluded.body WHERE sessions.expires_us <= ?",
            (session_id, *values, now))
    else:
        cursor = conn.execute(
            "UPDATE sessions SET user_id=?, created_us=?, updated_us=?, expires_us=?,"
            " version=?, body=? WHERE session_id=? AND version=? AND expires_us > ?",
            (*values, session_id, expected_version, now))
    if lease is not None:
        conn.execute("DELETE FROM turn_locks WHERE session_id = ? AND owner = ?", lease)
    return cursor.rowcount


async def _enable_wal(db: aiosqlite.Connection, wait: float = 30.0) -> None:
    """Switch the file to WAL. Two processes opening a new file at once: the switch needs a lock
    SQLite does not wait for (it answers "database is locked" at once), so try again."""
    deadline = asyncio.get_running_loop().time() + wait
    while True:
        try:
            await db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(POLL_SECONDS)


def _take_lease(conn: sqlite3.Connection, params: tuple) -> list[tuple]:
    return conn.execute(TAKE_LEASE, params).fetchall()


def _renew_lease(conn: sqlite3.Connection, expires_us: int, session_id: str, owner: str) -> None:
    conn.execute("UPDATE turn_locks SET expires_us = ? WHERE session_id = ? AND owner = ?",
                 (expires_us, session_id, owner))


def _drop_lease(conn: sqlite3.Connection, session_id: str, owner: str) -> None:
    conn.execute("DELETE FROM turn_locks WHERE session_id = ? AND owner = ?", (session_id, owner))


Call = tuple[Callable[..., Any], tuple[Any, ...]]


def _run_all(conn: sqlite3.Connection, calls: list[Call]) -> list[Any]:
    """On the connection's thread: every call of one batch, each failing on its own, in one
    transaction (group commit: one WAL commit for the batch instead of one per statement, a
    third of the store's CPU per turn). Each call is still all-or-nothing (a failed statement
    is undone by itself), and nothing is answered before the commit; if the transaction itself
    fails, every call of the batch fails with it."""
    if len(calls) == 1:
        function, args = calls[0]
        try:
            return [function(conn, *args)]
        except Exception as exc:
            return [exc]
    replies: list[Any] = []
    try:
        conn.execute("BEGIN IMMEDIATE")
        for function, args in calls:
            try:
                replies.append(function(conn, *args))
            except sqlite3.Error as exc:
                if not conn.in_transaction:  # SQLite rolled the whole transaction back
                    raise
                replies.append(exc)
            except Exception as exc:
                replies.append(exc)
        conn.execute("COMMIT")
    except Exception as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        return [exc] * len(calls)
    return replies


class SqliteSessionStore:
    def __init__(self, url: str, clock: Clock, lease_seconds: float = 60.0) -> None:
        self._path = path_of(url)
        self._clock = clock
        self._lease_us = int(lease_seconds * 1_000_000)
        self._db: aiosqlite.Connection | None = None
        self._open_lock = asyncio.Lock()
        self._locks = KeyedLocks()
        self._tokens = lease_tokens()
        self._batch: IterationBatcher[Call] = IterationBatcher(self._send)

    async def _conn(self) -> aiosqlite.Connection:
        if self._db is None:
            async with self._open_lock:
                if self._db is None:
                    if self._path.parent != Path("."):
                        self._path.parent.mkdir(parents=True, exist_ok=True)
                    db = await aiosqlite.connect(self._path, isolation_level=None, timeout=30)
                    await _enable_wal(db)
                    await db.execute("PRAGMA synchronous=NORMAL")
                    await db.execute("PRAGMA busy_timeout=30000")
                    await db.executescript(SCHEMA)
                    self._db = db
        return self._db

    async def _send(self, calls: list[Call]) -> list[Any]:
        """A batch of the turn path's statements in one trip to the connection's thread
        (aiosqlite's `_execute` runs a function there; its own `execute` is built on it)."""
        db = await self._conn()
        return await db._execute(_run_all, db._conn, calls)

    def _now_us(self) -> int:
        return to_us(self._clock.now())

    @staticmethod
    def _row_to_session(row: aiosqlite.Row | tuple) -> Session:
        session_id, user_id, created, updated, expires, version, body = row
        data = json.loads(body)
        return Session(session_id=session_id, user_id=user_id, created_at=from_us(created),
                       updated_at=from_us(updated), expires_at=from_us(expires),
                       version=version, messages=data["messages"], result=data["result"])

    async def get(self, session_id: str) -> Session | None:
        db = await self._conn()
        rows = await db.execute_fetchall(  # one trip to the connection's thread, not three
            "SELECT session_id, user_id, created_us, updated_us, expires_us, version, body "
            "FROM sessions WHERE session_id = ? AND expires_us > ?",
            (session_id, self._now_us()))
        return self._row_to_session(next(iter(rows))) if rows else None

    async def save(self, session: Session, expected_version: int) -> Session:
        return await self._write(session, expected_version)

    async def _write(self, session: Session, expected_version: int,
                     lease: tuple[str, str] | None = None) -> Session:
        """The compare-and-swap save; with `lease` (session id, owner), a turn's commit, the
        lease row goes in the same trip to the connection's thread."""
        body = json.dumps({"messages": session.messages, "result": session.result},
                          separators=(",", ":"))
        values = (session.user_id, to_us(session.created_at), to_us(session.updated_at),
                  to_us(session.expires_at), expected_version + 1, body)
        written = await self._batch.run((_write_rows, (
            session.session_id, values, expected_version, self._now_us(), lease)))
        if written != 1:
            raise VersionConflict("The session was changed by another turn; retry.")
        return session.model_copy(update={"version": expected_version + 1})

    async def delete(self, session_id: str) -> bool:
        db = await self._conn()
        cursor = await db.execute(
            "DELETE FROM sessions WHERE session_id = ? RETURNING expires_us", (session_id,))
        rows = await cursor.fetchall()
        return bool(rows) and rows[0][0] > self._now_us()

    async def list(self, user_id: str | None, limit: int,
                   cursor: str | None) -> tuple[list[Session], str | None]:
        db = await self._conn()
        where, params = ["expires_us > ?"], [self._now_us()]
        if user_id is not None:
            where.append("user_id = ?")
            params.append(user_id)
        if cursor is not None:
            stamp, last_id = decode_cursor(cursor)
            where.append("(updated_us < ? OR (updated_us = ? AND session_id < ?))")
            params += [to_us(stamp), to_us(stamp), last_id]
        async with db.execute(
            "SELECT session_id, user_id, created_us, updated_us, expires_us, version, body "
            f"FROM sessions WHERE {' AND '.join(where)} "
            "ORDER BY updated_us DESC, session_id DESC LIMIT ?", (*params, limit + 1),
        ) as rows:
            found = [self._row_to_session(row) for row in await rows.fetchall()]
        page = found[:limit]
        more = len(found) > limit
        next_cursor = encode_cursor(page[-1].updated_at, page[-1].session_id) if more else None
        return page, next_cursor

    async def count_live(self) -> int:
        db = await self._conn()
        async with db.execute("SELECT COUNT(*) FROM sessions WHERE expires_us > ?",
                              (self._now_us(),)) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def delete_expired(self) -> int:
        db = await self._conn()
        now = self._now_us()
        cursor = await db.execute("DELETE FROM sessions WHERE expires_us <= ?", (now,))
        await db.execute("DELETE FROM turn_locks WHERE expires_us <= ?", (wall_us(),))
        return cursor.rowcount

    # -- turn locking --------------------------------------------------------------------------

    async def _try_lease(self, session_id: str, token: str) -> Session | None | bool:
        """The session read with the lease (None when new or expired); False when the lease
        is held by another turn."""
        now = wall_us()
        rows = await self._batch.run((_take_lease, ((
            session_id, token, now + self._lease_us, now, *[self._now_us()] * len(COLUMNS)),)))
        if not rows:
            return False
        row = rows[0]
        return None if row[-1] is None else self._row_to_session((session_id, *row))

    @asynccontextmanager
    async def _lease(self, session_id: str, wait: float) -> AsyncIterator[UnlockingTurn]:
        token = self._tokens()
        deadline = asyncio.get_running_loop().time() + wait
        while (session := await self._try_lease(session_id, token)) is False:
            if asyncio.get_running_loop().time() >= deadline:
                raise busy()
            await asyncio.sleep(POLL_SECONDS)

        async def renew() -> None:
            await self._batch.run((_renew_lease, (wall_us() + self._lease_us, session_id, token)))

        turn = UnlockingTurn(session, lambda new, version: self._write(
            new, version, (session_id, token)))
        try:
            with Renewal(renew, self._lease_us / 3_000_000):
                yield turn
        finally:
            if not turn.released:
                await self._batch.run((_drop_lease, (session_id, token)))

    @asynccontextmanager
    async def _both(self, session_id: str, wait: float) -> AsyncIterator[UnlockingTurn]:
        started = asyncio.get_running_loop().time()
        async with self._locks.hold(session_id, wait):
            left = max(0.0, wait - (asyncio.get_running_loop().time() - started))
            async with self._lease(session_id, left) as turn:
                yield turn

    @asynccontextmanager
    async def _locked(self, session_id: str, wait: float) -> AsyncIterator[None]:
        async with self._both(session_id, wait):
            yield

    def lock(self, session_id: str, wait: float) -> AbstractAsyncContextManager[None]:
        return self._locked(session_id, wait)

    def turn(self, session_id: str, wait: float) -> AbstractAsyncContextManager[UnlockingTurn]:
        return self._both(session_id, wait)

    async def ping(self) -> None:
        db = await self._conn()
        await db.execute("SELECT 1")

    async def close(self) -> None:
        await self._batch.close()
        if self._db is not None:
            await self._db.close()
            self._db = None
