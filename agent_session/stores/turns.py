"""What `SessionStore.turn` yields: `LockedTurn`, built from a store's own `lock`, `get` and
`save` (where batching them saves nothing: the memory store), and `UnlockingTurn`, whose commit
writes and ends the turn's lock in one round trip (the networked stores)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from ..errors import VersionConflict
from .base import Session, SessionStore


@dataclass
class LockedTurn:
    store: SessionStore
    session: Session | None

    async def commit(self, session: Session) -> Session:
        return await self.store.save(session, self.session.version if self.session else 0)


@asynccontextmanager
async def locked_turn(store: SessionStore, session_id: str,
                      wait: float) -> AsyncIterator[LockedTurn]:
    async with store.lock(session_id, wait):
        yield LockedTurn(store, await store.get(session_id))


class UnlockingTurn:
    """`write(session, expected_version)` saves and ends the lock; `released` tells the turn's
    end whether it still has to unlock."""

    def __init__(self, session: Session | None,
                 write: Callable[[Session, int], Awaitable[Session]]) -> None:
        self.session = session
        self._write = write
        self.released = False

    async def commit(self, session: Session) -> Session:
        try:
            saved = await self._write(session, self.session.version if self.session else 0)
        except VersionConflict:
            self.released = True  # the write was refused, and the lock went with it
            raise
        self.released = True  # any other failure leaves the unlock to the turn's end
        return saved
