"""The sqlite store's schema and statements, with the session table's columns named once."""

from __future__ import annotations

import json
from collections.abc import Sequence

from ..clock import from_us, to_us
from .base import Session

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
CREATE TABLE IF NOT EXISTS records (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    expires_us INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS turn_cancels (
    session_id TEXT PRIMARY KEY,
    owner TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS turn_locks (
    session_id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    expires_us INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL,
    event TEXT NOT NULL,
    created_us INTEGER NOT NULL,
    due_us INTEGER NOT NULL,
    owner TEXT
);
CREATE INDEX IF NOT EXISTS outbox_by_session ON outbox (session_id, seq);
CREATE INDEX IF NOT EXISTS outbox_by_due ON outbox (due_us);
"""
# The session table's columns in the order every statement and `to_session` use.
COLUMNS = ("session_id", "user_id", "created_us", "updated_us", "expires_us", "version", "body")
DATA = COLUMNS[1:]  # what a save writes besides the key
SELECT = f"SELECT {', '.join(COLUMNS)} FROM sessions"
# A new session, or one replacing an expired row under the same id; a live row stays (0 rows).
INSERT = (f"INSERT INTO sessions ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
          " ON CONFLICT(session_id) DO UPDATE SET "
          + ", ".join(f"{c}=excluded.{c}" for c in DATA) + " WHERE sessions.expires_us <= ?")
# The version-checked save of a live session.
UPDATE = (f"UPDATE sessions SET {', '.join(f'{c}=?' for c in DATA)}"
          " WHERE session_id=? AND version=? AND expires_us > ?")
# Take the turn lease (new, or over an expired one) and return the live session's data with it;
# no row back means another holder has the lease.
TAKE_LEASE = (
    "INSERT INTO turn_locks (session_id, owner, expires_us) VALUES (?, ?, ?) "
    "ON CONFLICT(session_id) DO UPDATE SET owner=excluded.owner, "
    "expires_us=excluded.expires_us WHERE turn_locks.expires_us <= ? RETURNING "
    + ", ".join(f"(SELECT {column} FROM sessions WHERE sessions.session_id = "
                "turn_locks.session_id AND sessions.expires_us > ?)" for column in DATA))
RENEW_LEASE = "UPDATE turn_locks SET expires_us = ? WHERE session_id = ? AND owner = ?"
DROP_LEASE = "DELETE FROM turn_locks WHERE session_id = ? AND owner = ?"
# A cancel names the lease holder of the moment, so it can only stop that turn.
CANCEL = ("INSERT OR REPLACE INTO turn_cancels (session_id, owner) SELECT session_id, owner "
          "FROM turn_locks WHERE session_id = ? AND expires_us > ?")
CANCELLED = "SELECT 1 FROM turn_cancels WHERE session_id = ? AND owner = ?"
PUT_RECORD = "INSERT OR REPLACE INTO records (key, value, expires_us) VALUES (?, ?, ?)"
GET_RECORD = "SELECT value FROM records WHERE key = ? AND expires_us > ?"
DROP_RECORDS = "DELETE FROM records WHERE expires_us <= ?"
DROP_CANCEL = "DELETE FROM turn_cancels WHERE session_id = ? AND owner = ?"


def data_of(session: Session, version: int) -> tuple:
    """The values of `DATA` for `session` saved as `version`."""
    body = session.model_dump_json(include={"messages", "result", "agent"})
    return (session.user_id, to_us(session.created_at), to_us(session.updated_at),
            to_us(session.expires_at), version, body)


def to_session(row: Sequence) -> Session:
    """A row of `COLUMNS`."""
    session_id, user_id, created, updated, expires, version, body = row
    data = json.loads(body)
    return Session(session_id=session_id, user_id=user_id, created_at=from_us(created),
                   updated_at=from_us(updated), expires_at=from_us(expires),
                   version=version, messages=data["messages"], result=data["result"],
                   agent=data.get("agent"))
