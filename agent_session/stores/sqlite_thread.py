"""One SQLite connection on a thread of its own (the stdlib's `sqlite3`), with the statements
that turns send in the same loop iteration run in one trip to it and committed together.

Why a thread of our own rather than aiosqlite: a trip to the connection's thread costs the event
loop about as much as the statement itself, so the turn path sends a batch of functions in one
trip (`run_batch`); aiosqlite has no public way to run a function on its thread.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from ..worker import Worker
from .batching import IterationBatcher
from .sqlite_schema import SCHEMA

T = TypeVar("T")
Call = tuple[Callable[..., Any], tuple[Any, ...]]
WAL_RETRY_SECONDS = 0.02


def path_of(url: str) -> Path:
    """`sqlite:///relative.db` or `sqlite:////absolute/path.db`."""
    if not url.startswith("sqlite:///"):
        raise ValueError("SESSION_STORE for sqlite is sqlite:///relative.db or "
                         "sqlite:////absolute/path.db.")
    return Path(url.removeprefix("sqlite:///"))


def open_database(path: Path, wait: float = 30.0) -> sqlite3.Connection:
    """The file in WAL mode with the schema. Two processes opening a new file at once: the
    switch to WAL needs a lock SQLite does not wait for ("database is locked" at once), so it
    is tried again until `wait` runs out."""
    if path.parent != Path("."):
        path.parent.mkdir(parents=True, exist_ok=True)
    # Autocommit (isolation_level=None): `run_batch` opens the transactions itself.
    conn = sqlite3.connect(path, isolation_level=None, timeout=wait, check_same_thread=False)
    deadline = time.monotonic() + wait
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            break
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                conn.close()
                raise
            time.sleep(WAL_RETRY_SECONDS)
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(f"PRAGMA busy_timeout={int(wait * 1000)}")
    conn.executescript(SCHEMA)
    return conn


def run_batch(conn: sqlite3.Connection, calls: list[Call]) -> list[Any]:
    """On the connection's thread: every call of one batch in one transaction (group commit:
    one WAL commit for the batch instead of one per statement, a third of the store's CPU per
    turn). Each call runs in a savepoint, so it is all-or-nothing on its own: a call that fails
    is undone alone and answers its error. Nothing is answered before the commit; if the
    transaction itself fails, every call fails with it and nothing is written."""
    replies: list[Any] = []
    try:
        conn.execute("BEGIN IMMEDIATE")
        for function, args in calls:
            conn.execute("SAVEPOINT call")
            try:
                replies.append(function(conn, *args))
                conn.execute("RELEASE call")
            except Exception as exc:
                if not conn.in_transaction:  # SQLite rolled the whole transaction back
                    raise
                conn.execute("ROLLBACK TO call")
                conn.execute("RELEASE call")
                replies.append(exc)
        conn.execute("COMMIT")
    except Exception as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        return [exc] * len(calls)
    return replies


class SqliteThread:
    """`call(fn, *args)` runs `fn(conn, *args)` on the connection's thread; `batch(fn, *args)`
    does the same as part of this loop iteration's batch (see `run_batch`)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._worker = Worker("sqlite")
        self._conn: sqlite3.Connection | None = None
        self._batcher: IterationBatcher[Call] = IterationBatcher(self._send)

    async def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            # On the worker: concurrent first calls queue there, and the first one opens.
            conn = await self._worker.run(self._open_once)
            self._conn = conn
        return self._conn

    def _open_once(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = open_database(self._path)
        return self._conn

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        conn = await self._connection()
        return await self._worker.run(fn, conn, *args)

    async def batch(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await self._batcher.run((fn, args))

    async def _send(self, calls: list[Call]) -> list[Any]:
        conn = await self._connection()
        return await self._worker.run(run_batch, conn, calls)

    async def close(self) -> None:
        await self._batcher.close()
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await self._worker.run(conn.close)
        self._worker.close()
