"""The sqlite store's outbox (`outbox.py`): a table written in the same transaction as the
turn's save (or the expiry sweep's delete). A row's `due_us` is when it may be claimed: a claim
moves it to the lease's end, a failed attempt to the retry time, so one column orders both."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from .outbox import OutboxEvent, now_us

INSERT = "INSERT INTO outbox (session_id, event, created_us, due_us) VALUES (?, ?, ?, ?)"
# The oldest row of each session, when due (a session's later rows wait for it).
HEADS = ("SELECT seq, event FROM outbox AS o WHERE due_us <= ? AND seq = "
         "(SELECT MIN(seq) FROM outbox WHERE session_id = o.session_id) {where} "
         "ORDER BY due_us LIMIT ?")
LEASE = "UPDATE outbox SET owner = ?, due_us = ? WHERE seq = ?"
DELIVERED = ("DELETE FROM outbox WHERE session_id = ? AND owner = ? AND seq = "
             "(SELECT MIN(seq) FROM outbox WHERE session_id = ?) AND "
             "json_extract(event, '$.id') = ?")
FAILED = ("UPDATE outbox SET owner = NULL, due_us = ?, event = ? WHERE session_id = ? AND "
          "owner = ? AND seq = (SELECT MIN(seq) FROM outbox WHERE session_id = ?) AND "
          "json_extract(event, '$.id') = ?")
BACKLOG = "SELECT COUNT(*), MIN(created_us) FROM outbox"


def add(conn: sqlite3.Connection, events: Sequence[OutboxEvent]) -> None:
    """Inside the caller's transaction (the turn's save, the sweep's delete)."""
    conn.executemany(INSERT, [(e.session_id, e.model_dump_json(), e.created_us, e.created_us)
                              for e in events])


def claim(conn: sqlite3.Connection, owner: str, lease_us: int, limit: int,
          session_id: str | None) -> list[OutboxEvent]:
    now = now_us()
    if session_id is None:
        rows = conn.execute(HEADS.format(where=""), (now, limit)).fetchall()
    else:
        rows = conn.execute(HEADS.format(where="AND session_id = ?"),
                            (now, session_id, limit)).fetchall()
    conn.executemany(LEASE, [(owner, now + lease_us, seq) for seq, _ in rows])
    return [OutboxEvent.model_validate_json(event) for _, event in rows]


def delivered(conn: sqlite3.Connection, event: OutboxEvent, owner: str) -> None:
    conn.execute(DELIVERED, (event.session_id, owner, event.session_id, event.id))


def failed(conn: sqlite3.Connection, event: OutboxEvent, owner: str, retry_us: int) -> None:
    again = event.model_copy(update={"attempts": event.attempts + 1})
    conn.execute(FAILED, (now_us() + retry_us, again.model_dump_json(), event.session_id, owner,
                          event.session_id, event.id))


def backlog(conn: sqlite3.Connection) -> tuple[int, int | None]:
    count, oldest = conn.execute(BACKLOG).fetchone()
    return int(count), oldest
