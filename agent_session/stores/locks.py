"""Per-key asyncio locks for one process, created on demand and dropped when unused."""

from __future__ import annotations

import asyncio
import itertools
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from ..errors import SessionBusy

log = logging.getLogger(__name__)


def busy() -> SessionBusy:
    return SessionBusy("Another turn is still running on this session; retry when it has "
                       "finished.")


def lease_tokens() -> Callable[[], str]:
    """Tokens that name one turn's lease among every process: a random prefix for this store
    and a counter (a uuid4 per turn cost more than the rest of the token handling)."""
    prefix = uuid.uuid4().hex
    counter = itertools.count()
    return lambda: f"{prefix}:{next(counter)}"


class Renewal:
    """Calls `renew` every `every` seconds while the `with` block runs: a lease held by a live
    turn never lapses, and one held by a crashed process does. A timer, not a task per turn
    (turns are far shorter than a lease); a failed renewal is logged and tried again. A renewal
    that answers False (the lease is someone else's now) marks it `lost`: the turn stops before
    its next step (`turn_budget.check`)."""

    def __init__(self, renew: Callable[[], Awaitable[object]], every: float) -> None:
        self._renew = renew
        self._every = every
        self.lost = False
        self._timer: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[None] | None = None
        self._held = False

    def __enter__(self) -> Renewal:
        self._held = True
        self._schedule()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._held = False
        if self._timer is not None:
            self._timer.cancel()
        if self._task is not None:
            self._task.cancel()

    def _schedule(self) -> None:
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(self._every, self._due, loop)

    def _due(self, loop: asyncio.AbstractEventLoop) -> None:
        self._task = loop.create_task(self._run())

    async def _run(self) -> None:
        try:
            if await self._renew() is False:
                self.lost = True
                log.warning("a turn's lease was lost: another holder has the session")
                return
        except Exception:
            log.warning("renewing a turn's lease failed; trying again", exc_info=True)
        if self._held:
            self._schedule()


class KeyedLocks:
    """One `asyncio.Lock` per key, freed once nobody holds or awaits it (no unbounded growth)."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    def __len__(self) -> int:
        return len(self._locks)

    @asynccontextmanager
    async def hold(self, key: str, wait: float) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (None, 0))
        if lock is None:
            lock = asyncio.Lock()
        self._locks[key] = (lock, users + 1)
        try:
            if users:
                try:  # in this task (wait_for would start another)
                    async with asyncio.timeout(wait):
                        await lock.acquire()
                except TimeoutError:
                    raise busy() from None
            else:  # nobody holds or awaits it: taken at once, no deadline to set up
                await lock.acquire()
            try:
                yield
            finally:
                lock.release()
        finally:
            current, count = self._locks[key]
            if count <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (current, count - 1)
