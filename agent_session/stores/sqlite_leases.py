"""Turn leases in the sqlite file, so processes sharing it serialize their turns: a row in
`turn_locks` naming its owner, renewed while the turn runs and taken over once it lapses (its
holder died). Leases follow the wall clock, never an injected one: they are shared between
processes."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager

from ..clock import wall_us
from .base import Session
from .locks import Renewal, busy
from .outbox import OutboxEvent
from .sqlite_schema import (
    CANCEL,
    CANCELLED,
    DATA,
    DROP_CANCEL,
    DROP_LEASE,
    RENEW_LEASE,
    TAKE_LEASE,
    to_session,
)
from .sqlite_thread import SqliteThread
from .turns import UnlockingTurn

POLL_SECONDS = 0.02
Write = Callable[[Session, int, tuple[str, str], Sequence[OutboxEvent]], Awaitable[Session]]


def take(conn: sqlite3.Connection, session_id: str, owner: str, lease_us: int,
         now_us: int) -> Session | None | bool:
    """The lease and the live session in one statement: the session (None when new or
    expired), or False when another owner holds the lease."""
    wall = wall_us()
    rows = conn.execute(TAKE_LEASE, (session_id, owner, wall + lease_us, wall,
                                     *[now_us] * len(DATA))).fetchall()
    if not rows:
        return False
    row = rows[0]
    return None if row[-1] is None else to_session((session_id, *row))


def renew(conn: sqlite3.Connection, session_id: str, owner: str, lease_us: int) -> bool:
    """Whether the lease was still this owner's (and is now extended)."""
    return conn.execute(RENEW_LEASE, (wall_us() + lease_us, session_id, owner)).rowcount > 0


def drop(conn: sqlite3.Connection, session_id: str, owner: str) -> None:
    conn.execute(DROP_LEASE, (session_id, owner))
    conn.execute(DROP_CANCEL, (session_id, owner))


def cancel(conn: sqlite3.Connection, session_id: str) -> bool:
    return conn.execute(CANCEL, (session_id, wall_us())).rowcount > 0


def cancelled(conn: sqlite3.Connection, session_id: str, owner: str) -> bool:
    return conn.execute(CANCELLED, (session_id, owner)).fetchone() is not None


@asynccontextmanager
async def leased_turn(thread: SqliteThread, session_id: str, owner: str, lease_us: int,
                      now_us: Callable[[], int], wait: float,
                      write: Write) -> AsyncIterator[UnlockingTurn]:
    """Take the lease (polling until `wait` runs out, else `SessionBusy`) with the session,
    renew it every third of its length, and drop it at the end unless the commit did
    (`write(session, expected_version, (session_id, owner), events)` saves and drops it at
    once)."""
    deadline = asyncio.get_running_loop().time() + wait
    while (session := await thread.batch(take, session_id, owner, lease_us, now_us())) is False:
        if asyncio.get_running_loop().time() >= deadline:
            raise busy()
        await asyncio.sleep(POLL_SECONDS)

    async def keep() -> bool:
        return await thread.batch(renew, session_id, owner, lease_us)

    turn = UnlockingTurn(session, lambda new, version, events: write(
        new, version, (session_id, owner), events))

    async def asked_to_stop() -> bool:
        return await thread.batch(cancelled, session_id, owner)

    turn.cancel_check = asked_to_stop
    try:
        with Renewal(keep, lease_us / 3_000_000) as renewal:
            turn.renewal = renewal
            yield turn
    finally:
        if not turn.released:
            await thread.batch(drop, session_id, owner)
