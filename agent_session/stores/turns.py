"""`UnlockingTurn`, what the networked stores' `turn` yields: its commit writes and ends the
turn's lock in one round trip."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from ..errors import VersionConflict
from .base import Session
from .locks import Renewal
from .outbox import OutboxEvent


class UnlockingTurn:
    """`write(session, expected_version, events)` saves (with the turn's outbox events) and
    ends the lock; `released` tells the turn's end whether it still has to unlock."""

    def __init__(self, session: Session | None,
                 write: Callable[[Session, int, Sequence[OutboxEvent]], Awaitable[Session]],
                 ) -> None:
        self.session = session
        self._write = write
        self.released = False
        self.renewal: Renewal | None = None  # set by a store whose lock is a renewed lease
        self.cancel_check: Callable[[], Awaitable[bool]] | None = None  # set by the store

    async def cancelled(self) -> bool:
        return await self.cancel_check() if self.cancel_check is not None else False

    @property
    def lost(self) -> bool:
        """The lease lapsed and another holder took the session: the turn must stop."""
        return self.renewal is not None and self.renewal.lost

    async def commit(self, session: Session, events: Sequence[OutboxEvent] = ()) -> Session:
        try:
            saved = await self._write(session, self.session.version if self.session else 0,
                                      events)
        except VersionConflict:
            self.released = True  # the write was refused, and the lock went with it
            raise
        self.released = True  # any other failure leaves the unlock to the turn's end
        return saved
