"""Durable session store in one SQLite file (WAL): the default for one machine, safe for several
processes sharing the file.

- A turn's commit (the save, compare-and-swap on `version`, and dropping its lease) is one
  all-or-nothing call: after a crash the session is as before the turn or as after it. The calls
  that turns send in the same loop iteration go in one trip to the connection's thread and
  commit together (`sqlite_thread.py`).
- Turns are serialized within the process by an asyncio lock and across processes by a lease
  row (`sqlite_leases.py`), which a turn takes together with reading the session.
- Listing is keyset-paginated over `(user_id, updated_us, session_id)`; expiry deletes by the
  `expires_us` index. Times are integer microseconds since the epoch, exact for cursors.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from ..clock import Clock, to_us, wall_us
from ..errors import VersionConflict
from . import sqlite_outbox as outbox
from .base import Session, decode_cursor, encode_cursor
from .locks import KeyedLocks, lease_tokens
from .outbox import ExpiryEvent, OutboxEvent
from .sqlite_leases import cancel as cancel_turn
from .sqlite_leases import leased_turn
from .sqlite_schema import (
    COLUMNS,
    DROP_CANCEL,
    DROP_LEASE,
    DROP_RECORDS,
    GET_RECORD,
    INSERT,
    PUT_RECORD,
    SELECT,
    UPDATE,
    data_of,
    to_session,
)
from .sqlite_thread import SqliteThread, path_of
from .turns import UnlockingTurn


def write(conn: sqlite3.Connection, session: Session, expected_version: int, now_us: int,
          lease: tuple[str, str] | None, events: Sequence[OutboxEvent] = ()) -> int:
    """On the connection's thread, inside one call's savepoint: the save (new, over an expired
    row, or version-checked) with the turn's outbox events, then the turn's lease dropped when
    given; how many session rows were written (0: a conflict, and no events)."""
    data = data_of(session, expected_version + 1)
    if expected_version == 0:
        cursor = conn.execute(INSERT, (session.session_id, *data, now_us))
    else:
        cursor = conn.execute(UPDATE, (*data, session.session_id, expected_version, now_us))
    if cursor.rowcount == 1 and events:
        outbox.add(conn, events)
    if lease is not None:
        conn.execute(DROP_LEASE, lease)
        conn.execute(DROP_CANCEL, lease)  # a cancel that came too late goes with the lease
    return cursor.rowcount


def fetch(conn: sqlite3.Connection, sql: str, params: tuple) -> list[tuple]:
    return conn.execute(sql, params).fetchall()


def delete_row(conn: sqlite3.Connection, session_id: str) -> list[tuple]:
    return conn.execute("DELETE FROM sessions WHERE session_id = ? RETURNING expires_us",
                        (session_id,)).fetchall()


def delete_expired_rows(conn: sqlite3.Connection, now_us: int,
                        on_expiry: ExpiryEvent | None) -> int:
    """The expired rows go; with `on_expiry`, each leaves its event in the same transaction
    (only then are the rows read back)."""
    if on_expiry is None:
        removed = conn.execute("DELETE FROM sessions WHERE expires_us <= ?", (now_us,)).rowcount
    else:
        rows = conn.execute(f"DELETE FROM sessions WHERE expires_us <= ? RETURNING "
                            f"{', '.join(COLUMNS)}", (now_us,)).fetchall()
        if rows:
            outbox.add(conn, [on_expiry(row[0], to_session(row)) for row in rows])
        removed = len(rows)
    conn.execute("DELETE FROM turn_locks WHERE expires_us <= ?", (wall_us(),))
    return removed


class SqliteSessionStore:
    def __init__(self, url: str, clock: Clock, lease_seconds: float = 60.0) -> None:
        self._thread = SqliteThread(path_of(url))
        self._clock = clock
        self._lease_us = int(lease_seconds * 1_000_000)
        self._locks = KeyedLocks()
        self._tokens = lease_tokens()

    def _now_us(self) -> int:
        return to_us(self._clock.now())

    async def get(self, session_id: str) -> Session | None:
        rows = await self._thread.call(fetch, f"{SELECT} WHERE session_id = ? AND "
                                              "expires_us > ?", (session_id, self._now_us()))
        return to_session(rows[0]) if rows else None

    async def _write(self, session: Session, expected_version: int,
                     lease: tuple[str, str] | None = None,
                     events: Sequence[OutboxEvent] = ()) -> Session:
        written = await self._thread.batch(write, session, expected_version, self._now_us(),
                                           lease, events)
        if written != 1:
            raise VersionConflict("The session was changed by another turn; retry.")
        return session.model_copy(update={"version": expected_version + 1})

    async def delete(self, session_id: str) -> bool:
        rows = await self._thread.call(delete_row, session_id)
        return bool(rows) and rows[0][0] > self._now_us()

    async def list(self, user_id: str | None, limit: int,
                   cursor: str | None) -> tuple[list[Session], str | None]:
        where, params = ["expires_us > ?"], [self._now_us()]
        if user_id is not None:
            where.append("user_id = ?")
            params.append(user_id)
        if cursor is not None:
            stamp, last_id = decode_cursor(cursor)
            where.append("(updated_us < ? OR (updated_us = ? AND session_id < ?))")
            params += [to_us(stamp), to_us(stamp), last_id]
        rows = await self._thread.call(
            fetch, f"{SELECT} WHERE {' AND '.join(where)} "
                   "ORDER BY updated_us DESC, session_id DESC LIMIT ?", (*params, limit + 1))
        found = [to_session(row) for row in rows]
        page = found[:limit]
        more = len(found) > limit
        next_cursor = encode_cursor(page[-1].updated_at, page[-1].session_id) if more else None
        return page, next_cursor

    async def count_live(self) -> int:
        rows = await self._thread.call(fetch, "SELECT COUNT(*) FROM sessions WHERE "
                                              "expires_us > ?", (self._now_us(),))
        return int(rows[0][0]) if rows else 0

    async def delete_expired(self, on_expiry: ExpiryEvent | None = None) -> int:
        # In a transaction of its own: the deletes and their events commit together.
        return await self._thread.batch(delete_expired_rows, self._now_us(), on_expiry)

    async def claim_events(self, owner: str, lease_seconds: float, limit: int,
                           session_id: str | None = None) -> list[OutboxEvent]:
        return await self._thread.batch(outbox.claim, owner, int(lease_seconds * 1e6), limit,
                                        session_id)

    async def event_delivered(self, event: OutboxEvent, owner: str) -> None:
        await self._thread.batch(outbox.delivered, event, owner)

    async def event_failed(self, event: OutboxEvent, owner: str, retry_in: float) -> None:
        await self._thread.batch(outbox.failed, event, owner, int(retry_in * 1e6))

    async def outbox_backlog(self) -> tuple[int, int | None]:
        return await self._thread.call(outbox.backlog)

    @asynccontextmanager
    async def _turn(self, session_id: str, wait: float) -> AsyncIterator[UnlockingTurn]:
        """This process's lock on the session first (its turns queue here, not on the file),
        then the lease for the rest of `wait`."""
        started = asyncio.get_running_loop().time()
        async with self._locks.hold(session_id, wait):
            left = max(0.0, wait - (asyncio.get_running_loop().time() - started))
            async with leased_turn(self._thread, session_id, self._tokens(), self._lease_us,
                                   self._now_us, left, self._write) as turn:
                yield turn

    def turn(self, session_id: str, wait: float) -> AbstractAsyncContextManager[UnlockingTurn]:
        return self._turn(session_id, wait)

    async def cancel(self, session_id: str) -> bool:
        return await self._thread.batch(cancel_turn, session_id)

    async def put_record(self, key: str, value: str, ttl_seconds: float) -> None:
        now = self._now_us()

        def put(conn: sqlite3.Connection) -> None:
            conn.execute(DROP_RECORDS, (now,))
            conn.execute(PUT_RECORD, (key, value, now + int(ttl_seconds * 1_000_000)))

        await self._thread.batch(put)

    async def get_record(self, key: str) -> str | None:
        rows = await self._thread.call(lambda conn: conn.execute(
            GET_RECORD, (key, self._now_us())).fetchall())
        return rows[0][0] if rows else None

    async def ping(self) -> None:
        await self._thread.call(fetch, "SELECT 1", ())

    async def close(self) -> None:
        await self._thread.close()
