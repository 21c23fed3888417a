"""The session record and the small async protocol every session store implements."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel, Field

from ..events import Event
from .outbox import ExpiryEvent, Outbox, OutboxEvent


class Session(BaseModel):
    """One conversation: its owner, its events in order, and the last structured result."""

    session_id: str
    user_id: str | None = None
    agent: str | None = None  # the agent the session belongs to (None: saved before agents)
    created_at: datetime
    updated_at: datetime
    expires_at: datetime
    messages: list[Event] = Field(default_factory=list)
    result: dict[str, Any] | None = None
    version: int = 0


class StoreTurn(Protocol):
    """One turn's hold on a session: what was stored when it began, and its one write."""

    session: Session | None
    """The session as read under the turn lock; None when new (or expired)."""

    @property
    def lost(self) -> bool:
        """The turn's hold lapsed and another holder may have the session: stop the turn."""
        ...

    async def cancelled(self) -> bool:
        """Whether `SessionStore.cancel` asked this turn to stop (from any process)."""
        ...

    async def commit(self, session: Session, events: Sequence[OutboxEvent] = ()) -> Session:
        """Save the turn's result if the stored version is still the one read (else
        `VersionConflict`), with the events it caused in the store's outbox (`outbox.py`),
        all or nothing: the turn's last write, so a store may end the turn lock with it."""
        ...


class SessionStore(Outbox, Protocol):
    """Persistence for sessions and their outbox. Every method is safe to call concurrently."""

    async def get(self, session_id: str) -> Session | None:
        """The stored session, or None when unknown or expired."""
        ...

    async def delete(self, session_id: str) -> bool:
        """Remove a session; False when it did not exist (or had expired)."""
        ...

    async def list(
        self, user_id: str | None, limit: int, cursor: str | None
    ) -> tuple[list[Session], str | None]:
        """Live sessions, newest update first, optionally of one user; and the next cursor."""
        ...

    async def count_live(self) -> int:
        """How many sessions have not expired (for the active-sessions gauge)."""
        ...

    async def delete_expired(self, on_expiry: ExpiryEvent | None = None) -> int:
        """Remove expired sessions without loading the live ones; returns how many went. With
        `on_expiry`, each removed session leaves its event in the outbox, written with the
        removal."""
        ...

    def turn(self, session_id: str, wait: float) -> AbstractAsyncContextManager[StoreTurn]:
        """The only way to write: hold the session's turn lock (waiting up to `wait` seconds,
        else `SessionBusy`; across processes for the shared stores), with the session as read
        under it, and `commit` the turn's one write. One call, so a networked store can take
        the lock and read in one round trip, and write and unlock in another."""
        ...

    async def cancel(self, session_id: str) -> bool:
        """Ask the turn running on the session, in whichever process holds it, to stop; False
        when no turn is running. The request names that turn, so it never stops a later one."""
        ...

    async def put_record(self, key: str, value: str, ttl_seconds: float) -> None:
        """Keep a small record beside the sessions (an A2A task), shared by every replica as
        the sessions are, until `ttl_seconds` pass; a later put replaces it."""
        ...

    async def get_record(self, key: str) -> str | None:
        """The record, or None when unknown or expired."""
        ...

    async def ping(self) -> None:
        """Raise when the store cannot serve requests."""
        ...

    async def close(self) -> None: ...


def encode_cursor(updated_at: datetime, session_id: str) -> str:
    """An opaque cursor naming the last row of a page (newest-first order)."""
    raw = f"{updated_at.isoformat()}|{session_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """Inverse of `encode_cursor`; ValueError on anything else."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        stamp, session_id = base64.urlsafe_b64decode(padded.encode()).decode().split("|", 1)
        return datetime.fromisoformat(stamp), session_id
    except Exception as exc:  # any malformed cursor is the caller's error
        raise ValueError("The cursor is not one this service returned.") from exc
