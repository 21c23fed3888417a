"""`SessionStore.turn` from a store's own `lock`, `get` and `save`, for stores where batching
them saves nothing (the memory store)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

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
