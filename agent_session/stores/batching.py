"""Calls made in the same event-loop iteration, sent to the sqlite store's thread together.

A trip to the sqlite connection's thread (a future, a thread hand-off and a wake-up) costs the
event loop about as much as the statement it carries, and each trip was its own WAL commit. The
burst of turns that decides latency reaches the store within one loop iteration; batched, their
calls share one trip and one commit. A lone call costs one extra loop iteration (`call_soon`),
nothing more. Measured worth keeping on sqlite only (`bench/README.md`, "Speed tricks").
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

Item = TypeVar("Item")


class IterationBatcher(Generic[Item]):
    """`send(items)` answers a batch: one reply per item, an `Exception` instance where that
    item failed; raising fails the whole batch."""

    def __init__(self, send: Callable[[list[Item]], Awaitable[list[Any]]]) -> None:
        self._send = send
        self._queue: list[tuple[Item, asyncio.Future[Any]]] = []
        self._sending: set[asyncio.Task[None]] = set()

    async def run(self, item: Item) -> Any:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._queue.append((item, future))
        if len(self._queue) == 1:
            loop.call_soon(self._flush)
        return await future

    def _flush(self) -> None:
        batch, self._queue = self._queue, []
        task = asyncio.create_task(self._answer(batch))
        self._sending.add(task)  # a reference until it ends (the loop keeps only weak ones)
        task.add_done_callback(self._sending.discard)

    async def _answer(self, batch: list[tuple[Item, asyncio.Future[Any]]]) -> None:
        try:
            replies = await self._send([item for item, _ in batch])
        except BaseException as exc:  # the round trip failed: every caller hears of it
            for _, future in batch:
                if future.done():
                    continue
                if isinstance(exc, asyncio.CancelledError):
                    future.cancel()
                else:
                    future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        for (_, future), reply in zip(batch, replies, strict=True):
            if future.done():  # its caller was cancelled
                continue
            if isinstance(reply, Exception):
                future.set_exception(reply)
            else:
                future.set_result(reply)

    async def close(self) -> None:
        for task in list(self._sending):
            task.cancel()
        if self._sending:
            await asyncio.gather(*self._sending, return_exceptions=True)
