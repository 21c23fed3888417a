"""Per-key asyncio locks for one process, created on demand and dropped when unused."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from ..errors import SessionBusy


def busy() -> SessionBusy:
    return SessionBusy("Another turn is still running on this session; retry when it has "
                       "finished.")


@asynccontextmanager
async def renewing(renew: Callable[[], Awaitable[object]], every: float) -> AsyncIterator[None]:
    """Call `renew` every `every` seconds while the block runs: a lease held by a live turn
    never lapses, and one held by a crashed process does."""

    async def loop() -> None:
        while True:
            await asyncio.sleep(every)
            await renew()

    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


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
            try:
                # In this task (wait_for would start another); a free lock is taken even with
                # wait=0, since the acquire completes before an expired timeout fires.
                async with asyncio.timeout(wait):
                    await lock.acquire()
            except TimeoutError:
                raise busy() from None
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
